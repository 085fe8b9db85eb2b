"use strict";

// Applies one incoming operation to a local value.
//
// Guarded (the default): the operation reaches only what lib/guard.js allows.
// A local value that is a promise is waited for and the guard applies to what
// it settles to; a promise for a far object (one of ours or 0.6.1's: Q says
// its state is "unknown") and a FarReference are forwarded untouched, since
// the far side guards its own values.
//
// Unguarded (`guard: false`, for peers trusted like local code): every
// operation goes through Q's dispatch, exactly as in 0.6.1.

const Q = require("q");
const { FarReference } = require("./far-reference");
const { reach } = require("./guard");

/**
 * @param target the local value the message was sent to.
 * @param op one of get, set, delete, post, apply, keys.
 * @param args the decoded `args` array.
 * @param options the connection's options; `guard: false` turns the guard off.
 * @returns a Q promise for the operation's result; never throws.
 */
function dispatchLocal(target, op, args, options) {
  try {
    checkArguments(args);
  } catch (error) {
    return Q.reject(error);
  }
  if (options && options.guard === false) return Q(target).dispatch(op, args);
  return guardedDispatch(target, op, args);
}

/** What `dispatchPlain` returns when it did not apply the operation. */
const NOT_PLAIN = Symbol("not plain");

/**
 * The synchronous case of `dispatchLocal`, which answers most calls without a
 * Q promise per result: under the guard, on a target that is neither a
 * promise, a thenable nor a FarReference, applies the operation now and
 * returns its result (possibly itself a promise or thenable, which the
 * caller coerces with Q), or throws its error. Returns NOT_PLAIN, having done
 * nothing, for any other target or with `guard: false`; the caller then uses
 * `dispatchLocal`, so an operation is never applied twice.
 */
function dispatchPlain(target, op, args, options) {
  if (options && options.guard === false) return NOT_PLAIN;
  if (target instanceof FarReference || Q.isPromiseAlike(target)) return NOT_PLAIN;
  checkArguments(args);
  return applyOperation(target, op, args);
}

/** Throws unless `args`, an operation's decoded arguments, is an array. */
function checkArguments(args) {
  if (!Array.isArray(args)) throw new TypeError("operation arguments must be an array");
}

function guardedDispatch(target, op, args) {
  if (target instanceof FarReference) return target.dispatch(op, args);
  if (Q.isPromise(target)) {
    const state = target.inspect();
    if (state.state === "unknown") return target.dispatch(op, args);
    if (state.state === "fulfilled") return guardedDispatch(state.value, op, args);
    if (state.state === "rejected") return target;
    return target.then((value) => guardedDispatch(value, op, args));
  }
  if (Q.isPromiseAlike(target)) {
    return Q(target).then((value) => guardedDispatch(value, op, args));
  }
  try {
    return Q(applyOperation(target, op, args));
  } catch (error) {
    return Q.reject(error);
  }
}

/** The operation on a settled local value; throws the rejection reason. */
function applyOperation(target, op, args) {
  switch (op) {
    case "get":
      return target[reach(target, args[0])];
    case "set":
      target[reach(target, args[0])] = args[1];
      return undefined;
    case "delete":
      delete target[reach(target, args[0])];
      return undefined;
    case "post": {
      const callArgs = argumentList(args[1]);
      if (args[0] === null || args[0] === undefined) return call(target, callArgs);
      const name = reach(target, args[0]);
      const method = target[name];
      if (typeof method !== "function") {
        throw new TypeError(`property ${JSON.stringify(name)} is not a function`);
      }
      return Reflect.apply(method, target, callArgs);
    }
    case "apply":
      // The peer's `thisp` is ignored: a peer-chosen `this` would let it run
      // a method it was given on an object it built. Q itself always sends
      // undefined here (fcall, fapply).
      return call(target, argumentList(args[1]));
    case "keys":
      if (target === null || target === undefined) throw new TypeError(`cannot list keys of ${target}`);
      return Object.keys(Object(target));
    default:
      throw new TypeError(`unknown operation "${op}"`);
  }
}

function call(target, args) {
  if (typeof target !== "function") throw new TypeError("the target is not a function");
  return Reflect.apply(target, undefined, args);
}

function argumentList(args) {
  if (args === undefined || args === null) return [];
  if (!Array.isArray(args)) throw new TypeError("call arguments must be an array");
  return args;
}

module.exports = { dispatchLocal, dispatchPlain, NOT_PLAIN };
