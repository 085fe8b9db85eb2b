"use strict";

// Applies one incoming operation to a local value. Every operation goes
// through Q's dispatch, as in 0.6.1, so a local value may itself be a promise
// (local or remote) and the operation waits for it or is forwarded.

const Q = require("q");

/**
 * @returns a Q promise for the operation's result; never throws.
 */
function dispatchLocal(target, op, args) {
  if (!Array.isArray(args)) return Q.reject(new TypeError("operation arguments must be an array"));
  return Q(target).dispatch(op, args);
}

module.exports = { dispatchLocal };
