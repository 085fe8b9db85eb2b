"use strict";

// The "batch" extension (docs/PROTOCOL-EXTENSIONS.md): once both peers have
// agreed to it, every envelope sent in one tick goes in one port message,
// the envelopes joined by "\n" behind a leading "\n". Envelopes are
// JSON.stringify-shaped text, which never holds a raw newline, so splitting
// needs no parsing; an envelope that does hold one is sent alone. Each piece
// is then received exactly as if it had come in its own message.
//
// Why: each port message costs a postMessage, a structured clone and a
// receive task on the far thread (bench/ port-flight); 10,000 calls in
// flight cost 10,000 of each without batching.

const { registerExtension } = require("./extensions");

const BATCH = "batch";
const SEPARATOR = "\n";
const NEWLINE = 10;
// A batch is flushed early past this many UTF-16 units, so one message stays
// well under the default message limits of every port and of the peer.
const MAX_BATCH = 64 * 1024;
// Pieces taken from one incoming batch. Ours hold at most ~1,500 (envelopes
// are over 40 units long and a batch closes past MAX_BATCH); a hostile one of
// "\n\n\n..." would otherwise cost an engine call and an error report per
// byte. Past the bound the rest goes to the engine as one text, refused once.
const MAX_PIECES = 4096;
// Flushes are scheduled as reactions to this: a microtask like
// queueMicrotask's, without the AsyncResource that queueMicrotask makes and
// runs each one in (one flush per message when calls are sequential:
// ~1,000 instructions a round trip, callgrind).
const SETTLED = Promise.resolve();

registerExtension(BATCH);

/**
 * Replaces `channel.send` (and wraps `channel.close`, which flushes first)
 * so that, once `negotiation.peerHas("batch")`, texts sent in one tick are
 * sent as one message from a microtask. Except the first: a text sent
 * while nothing is queued and nothing went out since the last incoming
 * message (`newTurn()`, which the receiving side calls for each) goes out
 * at once. A sequential call, or the answer to one, is then never delayed
 * by a microtask (~1,000 instructions each way, callgrind), and a burst
 * still costs two messages, the first and the batch. Order is kept: a text
 * sent unbatched flushes the queue before it, and only an empty queue is
 * overtaken. Returns `{ newTurn }`.
 */
function batchOutbound(channel, negotiation) {
  // A stream port frames messages by newline and turns a newline inside a
  // message into a space, so a batch would arrive as one unparsable line.
  if (channel.kind === "stream") return { newTurn() {} };
  const send = channel.send;
  const close = channel.close;
  let queue = [];
  let length = 0;
  let scheduled = false;
  // Agreement never changes once made, so it is looked up until true only.
  let agreed = false;
  let sentThisTurn = false;

  // From the microtask: a throw stays an uncaught exception, as it was
  // from queueMicrotask, not a rejection of the reaction's promise.
  function flushScheduled() {
    try {
      flush();
    } catch (error) {
      process.nextTick(() => {
        throw error;
      });
    }
  }

  function flush() {
    scheduled = false;
    const texts = queue;
    queue = [];
    length = 0;
    if (texts.length === 1) send.call(channel, texts[0]);
    else if (texts.length > 1) send.call(channel, SEPARATOR + texts.join(SEPARATOR));
  }

  channel.send = function sendBatched(text) {
    if (!agreed) agreed = negotiation.peerHas(BATCH);
    // A clone message (lib/extensions/clone.js) is not text: sent alone.
    if (!agreed || typeof text !== "string" || text.indexOf(SEPARATOR) !== -1) {
      if (queue.length) flush();
      send.call(channel, text);
      return;
    }
    if (!sentThisTurn && queue.length === 0) {
      sentThisTurn = true;
      send.call(channel, text);
      return;
    }
    if (length + text.length > MAX_BATCH && queue.length) flush();
    queue.push(text);
    length += text.length + 1;
    if (!scheduled) {
      scheduled = true;
      SETTLED.then(flushScheduled);
    }
  };
  channel.close = function closeFlushed(reason) {
    if (queue.length) flush();
    return close.call(channel, reason);
  };
  return {
    newTurn() {
      sentThisTurn = false;
    },
  };
}

/**
 * Wraps a message handler so that a batch is handed over piece by piece,
 * while `isOpen()`; anything else passes through unchanged. Batches are
 * understood whether or not we offered the extension (receiving is always
 * understood), and 0.6.1 never sends a text starting with a newline.
 * `newTurn()` is called first for each port message.
 */
function splitBatches(receive, isOpen, newTurn) {
  return function receiveBatch(data) {
    newTurn();
    if (typeof data !== "string" || data.charCodeAt(0) !== NEWLINE) {
      receive(data);
      return;
    }
    let start = 1;
    for (let pieces = 0; start <= data.length && isOpen(); pieces++) {
      const end = pieces < MAX_PIECES ? data.indexOf(SEPARATOR, start) : -1;
      receive(end === -1 ? data.slice(start) : data.slice(start, end));
      if (end === -1) return;
      start = end + 1;
    }
  };
}

module.exports = { BATCH, batchOutbound, splitBatches };
