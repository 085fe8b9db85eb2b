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
//
// It also writes the head of the answer to a call (`answerHead`) without a
// crossing when it can: see there.

const KIND = 0, SLOT = 1, OP = 2, PAYLOAD = 3, ANSWER_TO = 5, ANSWERED = 7, KEEP = 8, REPLACED = 9;
const REVIVAL = 10, RELEASED_COUNT = 11, RELEASED_SLOTS = 12;
const ABSENT = 0xffffffff;
const REFUSED = 5;
// Room for the slots freed by the releases one call carries (a peer sends
// those queued since its last call: usually one, the last answer's).
const RELEASED_ROOM = 32;
// What the engine's `answerHead` writes around an id that needs no escapes
// (src/protocol/message.rs settle_head, push_json_string).
const RESOLVE_HEAD = '{"type":"resolve","to":"';
const RESOLVE_REST = '","resolution":';

const NO_KEEPER = { offer: () => ABSENT, kept() {} };

/**
 * The engine's reader for a connection: `{ receive, answerHead, uncountedAnswers }`.
 *
 * `receive(text)` gives the delivery `engine.receive(text)` would, plus
 * `verbatim` (true when the asker's id was a verbatim range of the text)
 * and `kept` (below). `release(slot)` is called for each slot freed by
 * releases that a call carried (docs/PROTOCOL-EXTENSIONS.md, release).
 * `keeper`, for the answers of a pipelining peer: `offer()` gives a free
 * slot (or ABSENT) that the engine may keep a call's answer in, instead of
 * a `keepAnswer` crossing per call; when it did, `kept(slot, replaced)`
 * must fill that slot (before any slot is freed, so the numbers stay as
 * the engine saw them) and free `replaced` unless ABSENT, and the
 * delivery's `kept` is the slot (else ABSENT).
 */
function makeReceive(engine, release = () => {}, keeper = NO_KEEPER) {
  const meta = new Uint32Array(RELEASED_SLOTS + RELEASED_ROOM);
  const handle = engine.handle;
  function receive(text) {
    meta[KEEP] = keeper.offer();
    const escapedAnswerTo = binding.engineReceiveInto(handle, text, meta);
    const kept = meta[KEEP];
    if (kept !== ABSENT) keeper.kept(kept, meta[REPLACED]);
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
      // What the engine's parse learnt for the decoder (lib/qson.js decodeText).
      revival: payload !== undefined ? meta[REVIVAL] : undefined,
      answerTo:
        escapedAnswerTo != null
          ? escapedAnswerTo
          : meta[ANSWER_TO] === ABSENT
            ? undefined
            : text.slice(meta[ANSWER_TO], meta[ANSWER_TO + 1]),
      verbatim: escapedAnswerTo == null,
      kept,
    };
  }

  /**
   * The `resolve` envelope answering the call `delivery`, up to its
   * resolution (`engine.answerHead(delivery.answerTo)`). An id that was a
   * verbatim range of the call's text holds no quote, backslash or control
   * character (JSON forbids them raw), so the engine would copy it as it
   * is: the head is written here, and the engine counts the answer (its
   * bound on calls served at once) from `meta` at the next receive, before
   * it looks at that bound. Other ids go to the engine.
   */
  function answerHead(delivery) {
    if (!delivery.verbatim) return binding.engineAnswerHead(handle, delivery.answerTo);
    meta[ANSWERED]++;
    return RESOLVE_HEAD + delivery.answerTo + RESOLVE_REST;
  }

  /** Answers written by `answerHead` that the engine has not counted yet. */
  function uncountedAnswers() {
    return meta[ANSWERED];
  }

  return { receive, answerHead, uncountedAnswers };
}

module.exports = { makeReceive, ABSENT };
