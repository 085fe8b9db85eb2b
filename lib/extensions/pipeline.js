"use strict";

// True pipelining (docs/PROTOCOL-EXTENSIONS.md, "pipeline").
//
// Asking side (lib/question.js): the promise for a pending answer forwards
// each message at once as a `send` addressed to the question's own id, so a
// chain `remote.invoke("a").invoke("b")` costs one round trip, not two. Once
// the answer has arrived, messages go to what it resolved to, as in 0.6.1.
//
// Answering side: the response to each call of a pipelining peer is kept in
// an `Answer` under the asker's id (the engine's answers table) until the
// asker releases it. A message sent to a pending answer waits in the
// answer's queue and is applied, in arrival order, to what the answer
// settles to, before any message that arrives later.

/**
 * The answering side's record of one kept answer. `call(run)` applies `run`
 * to the settled value now, or queues it until `settle(value)`; queued runs
 * happen synchronously inside `settle`, in order, so a later message cannot
 * overtake them. `cancelled` is set when the asker released the answer
 * before it settled: the resolve is then not sent.
 */
class Answer {
  constructor() {
    this.queue = [];
    this.settled = false;
    this.value = undefined;
    this.cancelled = false;
  }

  call(run) {
    if (this.settled) run(this.value);
    else this.queue.push(run);
  }

  /** `value`: the fulfilment value, or the rejected response promise. */
  settle(value) {
    if (this.settled) return;
    this.settled = true;
    this.value = value;
    const queue = this.queue;
    this.queue = null;
    for (const run of queue) run(value);
  }
}

module.exports = { Answer };
