"use strict";

// The hot-path reader of incoming messages: Engine.receiveInto writes
// numbers into a Uint32Array instead of building an object and copying
// strings (src/napi/binding_engine_fast.rs says why); this turns them back
// into the delivery shape Engine.receive returns, slicing payload and asker
// id out of the text the port gave us.

const KIND = 0, SLOT = 1, OP = 2, PAYLOAD = 3, ANSWER_TO = 5;
const ABSENT = 0xffffffff;
const REFUSED = 5;

/** A function text -> delivery, equivalent to `engine.receive(text)`. */
function makeReceive(engine) {
  const meta = new Uint32Array(8);
  return function receive(text) {
    const escapedAnswerTo = engine.receiveInto(text, meta);
    const kind = meta[KIND];
    if (kind === REFUSED) return engine.takeRefusal();
    return {
      kind,
      slot: meta[SLOT],
      op: meta[OP],
      payload: meta[PAYLOAD] === ABSENT ? undefined : text.slice(meta[PAYLOAD], meta[PAYLOAD + 1]),
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
