"use strict";

// The "clone" extension (docs/PROTOCOL-EXTENSIONS.md): between two rs peers
// joined by a Node MessagePort or Worker, a large answer made of plain data
// crosses as a structured clone instead of QSON text. The text path costs
// JSON.stringify, a copy of the text into the port, the engine's scan and
// JSON.parse; V8's serializer and deserializer do the same work in one
// pass each way, faster than the two JSON steps (bench/ payload).
//
// The message is the object { envelope, value }: `envelope` is the resolve
// envelope the text path would send, with `null` as its resolution (so the
// engine routes, counts and limits it as usual), and `value` the answer.

const { MessagePort, Worker } = require("worker_threads");
const { registerExtension } = require("./index");
const { cloneableData } = require("../qson-text");
const { debugEnabled } = require("../trace");

const CLONE = "clone";
registerExtension(CLONE);

// Smaller answers go as text: below this many arrays and objects the
// text is short and the check walk would cost more than it saves.
const MIN_OBJECTS = 256;

const RESOLVE_PREFIX = '{"type":"resolve",';

/**
 * The extension names a connection offers on `port`, from `names` (what
 * its `extensions` option asks for): "clone" only on a Node MessagePort or
 * Worker, whose messages are structured clones (not on duck-typed
 * postMessage ports, which may carry only text), and not while tracing,
 * whose hooks see texts.
 */
function offeredOn(names, port, options) {
  if (!names.includes(CLONE)) return names;
  const clonable = port instanceof MessagePort || port instanceof Worker;
  const tracing = typeof options.trace === "function" || debugEnabled(process.env.DEBUG);
  return clonable && !tracing ? names : names.filter((name) => name !== CLONE);
}

/**
 * The clone message answering with `value` under the resolve envelope
 * `head` (Engine.answerHead), or null when `value` must go as text: it is
 * not plain data, or too small to gain. `negativeZeroIsSpecial` is true
 * unless the peer agreed on richer values (which keep -0, as a clone does).
 */
function cloneMessage(head, value, maxDepth, negativeZeroIsSpecial) {
  const objects = cloneableData(value, maxDepth, negativeZeroIsSpecial);
  if (objects < MIN_OBJECTS) return null;
  return { envelope: head + "null}", value };
}

/**
 * The answer of a received clone message, checked as the sender checks it:
 * plain data, nested less than `maxDepth`, at most CLONE_BUDGET arrays and
 * objects (lib/qson-text.js), and no -0 when `negativeZeroIsSpecial`. So a
 * clone gives the receiver nothing the text path would not (no Map, no
 * typed array, no deeper value). Throws a TypeError otherwise.
 */
function checkedClone(value, maxDepth, negativeZeroIsSpecial) {
  if (typeof value !== "object" || value === null || cloneableData(value, maxDepth, negativeZeroIsSpecial) < 0) {
    throw new TypeError("a cloned answer must be plain data within the depth and size limits");
  }
  return value;
}

/** True for what `cloneMessage` makes (anything else from the port is malformed). */
function isCloneMessage(data) {
  return (
    data !== null &&
    typeof data === "object" &&
    Object.getPrototypeOf(data) === Object.prototype &&
    typeof data.envelope === "string" &&
    data.envelope.startsWith(RESOLVE_PREFIX) &&
    Object.prototype.hasOwnProperty.call(data, "value")
  );
}

module.exports = { CLONE, offeredOn, cloneMessage, checkedClone, isCloneMessage };
