"use strict";

const binding = require("../binding.js");

// The hot-path reader of incoming messages: Engine.receiveInto writes
// numbers into a Uint32Array instead of building an object and copying
// strings (src/napi/binding_engine_fast.rs says why); this turns them back
// into the delivery shape Engine.receive returns, slicing payload and asker
// id out of the text the port gave us. It calls the plain function
// engineReceiveInto with the engine's handle rather than the method (napi-rs
// adds ~1,600 instructions of class bookkeeping to every method call: see
// src/napi/binding_engine_handle.rs), looked up on the binding at each call
// so that a test can wrap it.

const KIND = 0, SLOT = 1, OP = 2, PAYLOAD = 3, ANSWER_TO = 5, RELEASED_COUNT = 7, RELEASED_SLOTS = 8;
const ABSENT = 0xffffffff;
const REFUSED = 5;
const LARGE_PAYLOAD = 4096; // UTF-16 units
// Room for the slots freed by the releases one call carries (a peer sends
// those queued since its last call: usually one, the last answer's).
const RELEASED_ROOM = 32;

/**
 * A function text -> delivery, equivalent to `engine.receive(text)`.
 * `release(slot)` is called first for each slot freed by releases that a
 * call carried (docs/PROTOCOL-EXTENSIONS.md, release).
 */
function makeReceive(engine, release) {
  const meta = new Uint32Array(RELEASED_SLOTS + RELEASED_ROOM);
  const handle = engine.handle;
  return function receive(text) {
    const escapedAnswerTo = binding.engineReceiveInto(handle, text, meta);
    const released = meta[RELEASED_COUNT];
    if (released === ABSENT) for (const slot of engine.takeReleased()) release(slot);
    else for (let i = 0; i < released; i++) release(meta[RELEASED_SLOTS + i]);
    const kind = meta[KIND];
    if (kind === REFUSED) return engine.takeRefusal();
    const payload = meta[PAYLOAD] === ABSENT ? undefined : text.slice(meta[PAYLOAD], meta[PAYLOAD + 1]);
    return {
      kind,
      slot: meta[SLOT],
      op: meta[OP],
      payload,
      // For a large payload, what the engine's scan learnt for the decoder
      // (lib/qson.js decodeText); a small one is searched in JS, cheaper
      // than one more napi call.
      revival: payload !== undefined && payload.length > LARGE_PAYLOAD ? engine.payloadRevival : undefined,
      answerTo:
        escapedAnswerTo != null
          ? escapedAnswerTo
          : meta[ANSWER_TO] === ABSENT
            ? undefined
            : text.slice(meta[ANSWER_TO], meta[ANSWER_TO + 1]),
    };
  };
}

module.exports = { makeReceive };
