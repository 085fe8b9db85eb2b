"use strict";

// The guard on incoming operations: what a peer may reach through a local
// value it was given. A peer reaches the value's own properties and the
// members of its class (own properties of its prototypes, stopping before
// Object.prototype and Function.prototype), never the names that lead to
// shared machinery: `__proto__`, `constructor`, `prototype`, or anything
// inherited from Object.prototype or Function.prototype (`toString`,
// `__defineGetter__`, `call`, `bind`, ...), unless the value holds that name
// as its own property. A function's own `prototype` is refused too: JS
// gives every function one, so it was never "given" on purpose, and writing
// to it would change every instance of the class.
//
// The guard only decides; lib/dispatch.js applies the operation.

const hasOwn = Object.prototype.hasOwnProperty;

/** Names refused unless the target holds them as own properties. */
const SHARED_NAMES = new Set(["__proto__", "constructor", "prototype"]);

/** Prototypes whose members belong to everyone, not to the value's class. */
const SHARED_PROTOTYPES = new Set([Object.prototype, Function.prototype]);

/** The rejection reason for a refused name; `code` is stable for tests and logs. */
function unreachable(name) {
  const error = new TypeError(`property ${JSON.stringify(String(name))} is not reachable`);
  error.code = "EUNREACHABLE";
  return error;
}

/**
 * A property name as the wire may carry it: a string, or a number (an array
 * index). Throws a TypeError for anything else (an object's `toString` would
 * run peer-chosen code paths, and a symbol cannot arrive from JSON anyway).
 */
function propertyName(name) {
  if (typeof name === "string") return name;
  if (typeof name === "number" && Number.isFinite(name)) return String(name);
  throw new TypeError(`property name must be a string, not ${name === null ? "null" : typeof name}`);
}

/**
 * Whether a peer may reach `name` on `target` (any value but null/undefined).
 * A name found nowhere is reachable: reading it gives `undefined`, writing it
 * makes a new own property, as on an ordinary object.
 */
function isReachable(target, name) {
  const object = Object(target);
  if (hasOwn.call(object, name)) {
    return !(name === "prototype" && typeof object === "function");
  }
  if (SHARED_NAMES.has(name)) return false;
  for (let proto = Object.getPrototypeOf(object); proto !== null; proto = Object.getPrototypeOf(proto)) {
    if (SHARED_PROTOTYPES.has(proto)) return !(name in proto);
    if (hasOwn.call(proto, name)) return true;
  }
  return true;
}

/**
 * Returns `name` as a string if the peer may reach it on `target`; throws the
 * rejection reason otherwise (including for a null or undefined target).
 */
function reach(target, name) {
  if (target === null || target === undefined) {
    throw new TypeError(`cannot reach property ${JSON.stringify(String(name))} of ${target}`);
  }
  const key = propertyName(name);
  if (!isReachable(target, key)) throw unreachable(key);
  return key;
}

module.exports = { reach, isReachable, unreachable };
