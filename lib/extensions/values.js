"use strict";

// Richer values (docs/PROTOCOL-EXTENSIONS.md, "values"): encodings 0.6.1 does
// not have, sent only to a peer that agreed on "values" and always
// understood on receipt. Every form is a {"%": name, ...} object, which a
// 0.6.1 peer would decode as a rejected promise, so it is never sent to one.

const BYTES = {
  Uint8Array, Int8Array, Uint8ClampedArray, Uint16Array, Int16Array, Uint32Array,
  Int32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array,
};
const ERRORS = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

const hasOwn = Object.prototype.hasOwnProperty;

function defineOwn(object, key, value, enumerable) {
  Object.defineProperty(object, key, { value, enumerable, writable: true, configurable: true });
}

/**
 * The encoder for `makeCodec`'s `encodeSpecial` hook. `stacks: false` sends
 * an Error's stack as its first line only (as lib/qson.js does).
 */
function encodeSpecial(value, encodeChild, stacks) {
  switch (typeof value) {
    case "bigint":
      return { "%": "bigint", v: value.toString() };
    case "number":
      return { "%": "-0" }; // only -0 is handed over
    default:
      break;
  }
  if (value instanceof Date) {
    const time = value.getTime();
    return { "%": "date", v: time === time ? time : null };
  }
  if (value instanceof Map) {
    let i = 0;
    const entries = [];
    for (const [k, v] of value) {
      entries.push([encodeChild(k, `/v/${i}/0`), encodeChild(v, `/v/${i}/1`)]);
      i++;
    }
    return { "%": "map", v: entries };
  }
  if (value instanceof Set) {
    let i = 0;
    const items = [];
    for (const item of value) items.push(encodeChild(item, `/v/${i++}`));
    return { "%": "set", v: items };
  }
  if (value instanceof ArrayBuffer) {
    return { "%": "bytes", t: "ArrayBuffer", v: Buffer.from(value).toString("base64") };
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const t = Buffer.isBuffer(value) ? "Buffer" : value.constructor && value.constructor.name;
    if (t !== "Buffer" && BYTES[t] !== value.constructor) return undefined;
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return { "%": "bytes", t, v: bytes.toString("base64") };
  }
  if (value instanceof Error) {
    const tree = { "%": "error", name: String(value.name), message: String(value.message) };
    const stack = typeof value.stack === "string" ? value.stack : "";
    tree.stack = stacks === false ? stack.split("\n")[0] : stack;
    if (hasOwn.call(value, "cause")) tree.cause = encodeChild(value.cause, "/cause");
    const props = {};
    for (const key of Object.keys(value)) if (key !== "cause") props[key] = value[key];
    tree.props = encodeChild(props, "/props");
    return tree;
  }
  return undefined;
}

/** The decoder for `makeCodec`'s `decodeSpecial` hook; undefined when not ours. */
function decodeSpecial(tree, decodeChild, remember) {
  const v = tree.v;
  switch (tree["%"]) {
    case "bigint":
      return typeof v === "string" && /^-?\d{1,100000}$/.test(v) ? BigInt(v) : undefined;
    case "-0":
      return -0;
    case "date":
      return v === null || typeof v === "number" ? new Date(v === null ? NaN : v) : undefined;
    case "map": {
      if (!Array.isArray(v)) return undefined;
      const map = new Map();
      remember(map);
      v.forEach((pair, i) => {
        if (Array.isArray(pair)) map.set(decodeChild(pair[0], `/v/${i}/0`), decodeChild(pair[1], `/v/${i}/1`));
      });
      return map;
    }
    case "set": {
      if (!Array.isArray(v)) return undefined;
      const set = new Set();
      remember(set);
      v.forEach((item, i) => set.add(decodeChild(item, `/v/${i}`)));
      return set;
    }
    case "bytes":
      return typeof v === "string" ? decodeBytes(tree.t, Buffer.from(v, "base64")) : undefined;
    case "error":
      return decodeError(tree, decodeChild, remember);
    default:
      return undefined;
  }
}

function decodeBytes(t, buffer) {
  if (t === "Buffer") return buffer;
  const copy = buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
  if (t === "ArrayBuffer") return copy;
  const View = hasOwn.call(BYTES, t) ? BYTES[t] : null;
  if (!View || copy.byteLength % View.BYTES_PER_ELEMENT !== 0) return undefined;
  return new View(copy);
}

// A real instance of the named class (Error for a name we do not build),
// with name, message, stack, cause and the own properties sent.
function decodeError(tree, decodeChild, remember) {
  const name = typeof tree.name === "string" ? tree.name : "Error";
  const Class = hasOwn.call(ERRORS, name) ? ERRORS[name] : Error;
  const error = new Class(typeof tree.message === "string" ? tree.message : "");
  if (error.name !== name) defineOwn(error, "name", name, false);
  defineOwn(error, "stack", typeof tree.stack === "string" ? tree.stack : `${name}: ${error.message}`, false);
  remember(error);
  if (hasOwn.call(tree, "cause")) defineOwn(error, "cause", decodeChild(tree.cause, "/cause"), false);
  const props = hasOwn.call(tree, "props") ? decodeChild(tree.props, "/props") : null;
  if (props !== null && typeof props === "object") {
    for (const key of Object.keys(props)) defineOwn(error, key, props[key], true);
  }
  return error;
}

module.exports = { encodeSpecial, decodeSpecial };
