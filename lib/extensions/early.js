"use strict";

// Pipelining before the peer's hello (docs/PROTOCOL-EXTENSIONS.md,
// "pipeline", "Before the hello").
//
// Until the peer's first message arrives we cannot know whether it will
// keep answers for us: its hello says so, and an rs peer's hello precedes
// everything else it sends. So a message to one of our pending questions is
// neither sent to the question id (a 0.6.1 peer would lose it) nor left to
// Q (which would send it only after the answer): it is *held* here. Then:
//
// - the peer's hello arrives and agrees on `pipeline`: every held message is
//   sent at once to its question id (pipelined), in the order held;
// - otherwise (a hello without it, or a first message that is not a hello,
//   which proves none is coming): every held message is handed to the
//   question's Q promise, still pending, exactly where 0.6.1 would have
//   queued it, so the wire and its order are 0.6.1's.
//
// A question keeps holding while its queue is not empty, so a later message
// never overtakes a held one (E-order); once released it behaves as the
// question's own promise (lib/question.js): pipelined, or plain Q.

const Q = require("q");
const { PIPELINE } = require("./index");
const { REMOTE_OPS } = require("../question");

class Early {
  /**
   * @param negotiation the connection's Negotiation (its `pipeline` flag).
   * @param offered the extension names this side announces.
   */
  constructor(negotiation, offered) {
    this.negotiation = negotiation;
    // True while we offer pipelining and the peer has said nothing yet.
    this.holding = offered.includes(PIPELINE);
    // Questions with held messages, in the order each first held one. (An
    // array: the collections@0.1 shims that 0.6.1 loads replace Set.)
    this.records = [];
  }

  /**
   * The promise for the answer to a question asked while `holding`; the
   * answer settles `deferred` (the call's Question, lib/question.js);
   * `send(op, args)` sends a message addressed
   * to the question id (and returns the promise for its answer).
   * `onAwaited` is called, once, the first time someone waits for the
   * answer (as the question's own promise reports through its pipe).
   */
  promise(deferred, send, onAwaited) {
    const inner = deferred.promise;
    const early = this;
    let awaited = false;
    // Held messages, each { op, args, result: Q deferred }; null once released.
    let queue = null;
    const record = {
      release(pipelined) {
        const held = queue;
        if (held === null) return;
        queue = null;
        for (const { op, args, result } of held) {
          if (pipelined && pending()) result.resolve(send(op, args));
          else inner.promiseDispatch(result.resolve, op, args);
        }
      },
    };
    const pending = () => inner.inspect().state === "pending";
    // How a message goes now: held, pipelined, or through the Q promise.
    const route = (op, args) => {
      if (queue === null && !early.holding) {
        return early.negotiation.pipeline && pending() ? send(op, args) : null;
      }
      if (queue === null) {
        queue = [];
        early.records.push(record);
        // Whatever settles the question (also a refusal, or the close)
        // releases what it still holds; normally the peer's first message
        // has released it before.
        inner.then(() => record.release(false), () => record.release(false));
      }
      const result = Q.defer();
      queue.push({ op, args, result });
      return result.promise;
    };
    const promise = Object.create(Q.makePromise.prototype);
    promise.promiseDispatch = function promiseDispatch(resolve, op, operands) {
      const routed = REMOTE_OPS.has(op) ? route(op, operands) : null;
      if (!awaited && op === "when") {
        awaited = true;
        onAwaited();
      }
      if (routed === null) inner.promiseDispatch(resolve, op, operands);
      else if (resolve) resolve(routed);
    };
    // At once, without Q's tick, as the other promises for far objects do.
    promise.dispatch = function dispatch(op, args) {
      const routed = REMOTE_OPS.has(op) ? route(op, args) : null;
      return routed === null ? Q.makePromise.prototype.dispatch.call(promise, op, args) : routed;
    };
    promise.inspect = () => inner.inspect();
    return promise;
  }

  /**
   * The peer's first message arrived (`hello`: it was its hello, whose
   * agreement the Negotiation already holds): release everything held.
   */
  heard(hello) {
    if (!this.holding) return;
    this.holding = false;
    const pipelined = hello && this.negotiation.pipeline;
    const records = this.records;
    this.records = [];
    for (const record of records) record.release(pipelined);
  }
}

module.exports = { Early };
