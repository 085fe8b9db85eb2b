"use strict";

// What a promise for a far object fulfils to. 0.6.1 fulfilled such a promise
// to itself, so `await` (which adopts every thenable) looped forever; a
// FarReference has no `then`, so `await` settles on it, yet it still takes
// the Q message methods and can be sent back as an argument, where it is
// encoded as the reference it stands for.

const PROMISE = Symbol("q-connection-rs.promise");

class FarReference {
  /** @param promise the Q promise whose messages go to the far object. */
  constructor(promise) {
    Object.defineProperty(this, PROMISE, { value: promise });
    Object.freeze(this);
  }

  get(name) { return this[PROMISE].get(name); }
  set(name, value) { return this[PROMISE].set(name, value); }
  del(name) { return this[PROMISE].del(name); }
  delete(name) { return this[PROMISE].delete(name); }
  post(name, args) { return this[PROMISE].post(name, args); }
  invoke(name, ...args) { return this[PROMISE].post(name, args); }
  fapply(args) { return this[PROMISE].fapply(args); }
  fcall(...args) { return this[PROMISE].fapply(args); }
  keys() { return this[PROMISE].keys(); }
  dispatch(op, args) { return this[PROMISE].dispatch(op, args); }
  /** The Q promise for the far object, for use with Q's combinators. */
  promise() { return this[PROMISE]; }
}

/** The promise behind a FarReference, or the value itself. */
function unwrapFarReference(value) {
  return value instanceof FarReference ? value[PROMISE] : value;
}

module.exports = { FarReference, unwrapFarReference };
