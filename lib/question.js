"use strict";

// One call we asked: the record that the answer settles (what
// lib/connection.js keeps in the call's slot: `resolve`, `reject`, `notify`,
// like a Q deferred) and the promise the caller gets. The promise is a real
// Q promise (it inherits Q's prototype, so `Q.isPromise` holds and every Q
// method works through `promiseDispatch` and `inspect`, as on the promise of
// a Q deferred), but state lives in fields and behaviour on prototypes: a Q
// deferred costs ~10 closures and 4 objects per call, and resolving it with a
// plain value builds a fulfilled promise of ~10 more closures. With 10,000
// calls in flight those survive into the old generation and most of the main
// thread's time went to the collector (bench/ port-flight).
//
// Semantics are those of a Q deferred's promise: messages sent while pending
// are queued and dispatched a Q tick after it settles, in order; a settled
// question dispatches a Q tick later; progress goes to the `when` listeners.
// With a pipelining peer (`pipelining`), a remote operation sent while the
// answer is pending goes at once to the question's id, so a chain costs one
// round trip (docs/PROTOCOL-EXTENSIONS.md, pipeline); `then` waits as usual.

const Q = require("q");

const QPromise = Q.makePromise;
// The Q operations that are messages to the far object (the rest, `when`
// above all, are answered locally).
const REMOTE_OPS = new Set(["get", "set", "put", "delete", "post", "apply", "keys"]);

// The queue's operation for a `then` reaction (compared by identity).
const THEN = { then: true };

const PENDING = 0;
const FULFILLED = 1; // `value` is the value
const FOLLOWING = 2; // `value` is the Q promise it resolved to (a rejection, a promise)

/**
 * The record of a pending call (what lib/connection.js keeps in its slot).
 * It never references the promises it hands out, so a promise nobody holds
 * can be collected while the call is pending (cancellation,
 * lib/extensions/session.js).
 *
 * @param pipe the connection's `{ send(question, op, args), awaited(question) }`:
 *   `send` sends a remote operation to the pending answer and returns the
 *   promise for its result; `awaited` is called at the first `when` (someone
 *   waits for the answer) and at settlement, while `watched` is set.
 * @param pipelining true when the peer agreed on pipelining: remote
 *   operations go to the pending answer through `pipe.send`.
 */
function Question(pipe, pipelining) {
  this.state = PENDING;
  this.value = undefined;
  this.queue = null; // [resolve, op, operands, ...] while pending
  this.listeners = null; // progress listeners while pending
  this.pipe = pipe;
  this.pipelining = pipelining;
  // The envelope that asked it, or the question id: see lib/extensions/session.js.
  this.asked = null;
  this.watched = false;
  this.registered = false; // with the cancellation registry (lib/extensions/session.js)
  this.timer = null;
  this.pipelined = undefined; // the question id once pipelined to (lib/extensions/embargo.js)
  // Messages `dispatch` has scheduled for a Q tick and not yet queued: a
  // `then` queues at once only when there are none (see `then`).
  this.ticking = 0;
}

/** A Q promise for the call's answer; each call makes a new one, all alike. */
Object.defineProperty(Question.prototype, "promise", {
  get() {
    return new QuestionPromise(this);
  },
});

Question.prototype.dispatchMessage = function dispatchMessage(resolve, op, operands) {
  if (this.state === PENDING) {
    if (this.pipelining && op !== "when" && REMOTE_OPS.has(op)) {
      const result = this.pipe.send(this, op, operands);
      if (resolve) resolve(result);
      return;
    }
    if (op === "when") {
      if (this.watched) this.pipe.awaited(this);
      if (operands[1]) (this.listeners || (this.listeners = [])).push(operands[1]);
    }
    (this.queue || (this.queue = [])).push(resolve, op, operands);
    return;
  }
  Q.nextTick(() => this.dispatchSettled(resolve, op, operands));
};

Question.prototype.inspect = function inspect() {
  if (this.state === PENDING) return { state: "pending" };
  if (this.state === FULFILLED) return { state: "fulfilled", value: this.value };
  return this.value.inspect();
};

Question.prototype.resolve = function resolve(value) {
  if (this.state !== PENDING) return;
  if (value instanceof QPromise || Q.isPromiseAlike(value)) this.settle(FOLLOWING, Q(value));
  else this.settle(FULFILLED, value);
};

Question.prototype.fulfill = function fulfill(value) {
  if (this.state === PENDING) this.settle(FULFILLED, value);
};

Question.prototype.reject = function reject(reason) {
  if (this.state === PENDING) this.settle(FOLLOWING, Q.reject(reason));
};

Question.prototype.notify = function notify(progress) {
  if (this.state !== PENDING || this.listeners === null) return;
  for (const listener of this.listeners) {
    if (listener instanceof Reaction) Q.nextTick(() => listener.progress(progress));
    else Q.nextTick(() => listener(progress));
  }
};

Question.prototype.settle = function settle(state, value) {
  this.state = state;
  this.value = value;
  this.listeners = null;
  if (this.watched) this.pipe.awaited(this);
  const queue = this.queue;
  if (queue === null) return;
  this.queue = null;
  // One task for the whole queue, in order (Q's deferred schedules a Q tick
  // per message, back to back), later than this turn as Q's tick is. For a
  // value, a microtask: no Q queue and process.nextTick between an answer
  // and the `await` waiting for it. For a rejection (or a promise), a Q
  // tick: Q reports a rejection that has no handler by the end of the Q
  // tick that made it (process 'unhandledRejection'), and the handlers in
  // this queue must be attached before then, as with Q's own deferred.
  const run = () => {
    for (let i = 0; i < queue.length; i += 3) this.dispatchSettled(queue[i], queue[i + 1], queue[i + 2]);
  };
  if (state === FULFILLED) SETTLED.then(run);
  else Q.nextTick(run);
};

const SETTLED = Promise.resolve();

// A Q tick after settlement: what Q's promise for the settled value does.
Question.prototype.dispatchSettled = function dispatchSettled(resolve, op, operands) {
  if (op === THEN) {
    if (this.state === FULFILLED) resolve.fulfil(this.value);
    else resolve.follow(this.value);
    return;
  }
  if (this.state === FOLLOWING) {
    this.value.promiseDispatch(resolve, op, operands);
    return;
  }
  let result;
  try {
    result = applyToValue(this.value, op, operands);
  } catch (exception) {
    result = Q.reject(exception);
  }
  if (resolve) resolve(result);
};

// The descriptor of Q.fulfill(value), operation by operation.
function applyToValue(value, op, operands) {
  switch (op) {
    case "when":
      return value;
    case "get":
      return value[operands[0]];
    case "set":
      value[operands[0]] = operands[1];
      return undefined;
    case "delete":
      delete value[operands[0]];
      return undefined;
    case "post": {
      const name = operands[0];
      if (name === null || name === undefined) return value.apply(undefined, operands[1]);
      return value[name].apply(value, operands[1]);
    }
    case "apply":
      return value.apply(operands[0], operands[1]);
    case "keys":
      return Object.keys(value);
    default:
      return Q.reject(new Error("Promise does not support operation: " + op));
  }
}

/**
 * What Q's `then` closes over, in one object: the callbacks and the
 * Question its result promise follows. `done`: at most one callback runs.
 */
function Reaction(fulfilled, rejected, progressed, result) {
  this.fulfilled = fulfilled;
  this.rejected = rejected;
  this.progressed = progressed;
  this.result = result;
  this.done = false;
}

Reaction.prototype.fulfil = function fulfil(value) {
  if (this.done) return;
  this.done = true;
  let next;
  try {
    next = typeof this.fulfilled === "function" ? this.fulfilled(value) : value;
  } catch (exception) {
    next = Q.reject(exception);
  }
  this.result.resolve(next);
};

Reaction.prototype.reject = function reject(exception) {
  if (this.done) return;
  this.done = true;
  let next;
  if (typeof this.rejected === "function") {
    try {
      next = this.rejected(exception);
    } catch (thrown) {
      next = Q.reject(thrown);
    }
  } else {
    next = Q.reject(exception);
  }
  this.result.resolve(next);
};

// Settled to another promise (a rejection, a far or pending promise): what
// Q's `then` does with it.
Reaction.prototype.follow = function follow(promise) {
  promise.promiseDispatch((value) => this.fulfil(value), "when", [(exception) => this.reject(exception)]);
};

// Q's progress propagator: a throwing `progressed` goes to Q.onerror.
Reaction.prototype.progress = function progress(value) {
  let next;
  try {
    next = typeof this.progressed === "function" ? this.progressed(value) : value;
  } catch (exception) {
    if (Q.onerror) Q.onerror(exception);
    else throw exception;
    return;
  }
  this.result.notify(next);
};

/** The Q promise for a Question's answer: a view holding only the record. */
function QuestionPromise(question) {
  this.question = question;
}

QuestionPromise.prototype = Object.create(QPromise.prototype);

QuestionPromise.prototype.promiseDispatch = function promiseDispatch(resolve, op, operands) {
  this.question.dispatchMessage(resolve, op, operands);
};

// Sends at once, without Q's tick, as the promises for far objects do
// (lib/connection.js makeRemote), so both kinds keep one order. Otherwise
// what Q's `dispatch` does (the message queued a Q tick later), counted in
// `ticking` so that a `then` in the meantime queues behind it.
QuestionPromise.prototype.dispatch = function dispatch(op, args) {
  const question = this.question;
  if (question.state === PENDING && question.pipelining && REMOTE_OPS.has(op)) {
    return question.pipe.send(question, op, args);
  }
  const deferred = Q.defer();
  question.ticking++;
  Q.nextTick(() => {
    question.ticking--;
    question.dispatchMessage(deferred.resolve, op, args);
  });
  return deferred.promise;
};

/**
 * Q's `then`, with Q's guarantees (the callbacks a Q tick after the answer,
 * never in this turn; at most one of them, in the order of the `then`s; the
 * result a Q promise for what it returns; progress propagated), without Q's
 * ~15 closures and deferred per call: one Reaction and one Question.
 *
 * Q queues the reaction a tick after `then`; while the answer is pending
 * that tick only moves it into the queue, which `settle` runs a tick after
 * the answer anyway, so it is queued at once (one Q tick and its
 * process.nextTick less per awaited call). Not when a message that `dispatch`
 * scheduled is still to be queued (`ticking`): the reaction then takes the
 * tick and stays behind it, as in Q; nor once settled (two ticks, as in Q).
 */
QuestionPromise.prototype.then = function then(fulfilled, rejected, progressed) {
  const question = this.question;
  const result = new Question(question.pipe, false);
  const reaction = new Reaction(fulfilled, rejected, progressed, result);
  // Someone waits (cancellation no longer applies), and progress listeners
  // are attached in this turn, as Q's `then` does.
  if (question.watched) question.pipe.awaited(question);
  if (question.state === PENDING) {
    (question.listeners || (question.listeners = [])).push(reaction);
    if (question.ticking === 0) {
      (question.queue || (question.queue = [])).push(reaction, THEN, null);
      return result.promise;
    }
  }
  Q.nextTick(() => question.dispatchMessage(reaction, THEN, null));
  return result.promise;
};

QuestionPromise.prototype.inspect = function inspect() {
  return this.question.inspect();
};

// Q's deprecated valueOf, as on a deferred's promise.
QuestionPromise.prototype.valueOf = function valueOf() {
  const question = this.question;
  if (question.state === PENDING) return this;
  if (question.state === FULFILLED) return question.value;
  const state = question.value.inspect();
  return state.state === "fulfilled" ? state.value : question.value;
};

module.exports = { Question, QuestionPromise, REMOTE_OPS };
