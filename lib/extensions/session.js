"use strict";

// The per-connection state of the negotiated extensions, called from
// lib/connection.js at a few points of a call's life: when we ask, when an
// answer arrives, when the peer calls us and when it releases. Everything
// here is inert until the peer's hello agrees on an extension, except the
// `timeout` option, which works with any peer.

const { engineKeepAnswer } = require("../../binding.js");
const { ABSENT } = require("../receive");
const { Answer } = require("./pipeline");
const { Question } = require("../question");
const { Early } = require("./early");
const { Embargoes } = require("./embargo");
const { offeredExtensions } = require("./index");

// A question's envelope up to this length is kept to read its id from when
// needed; a longer one (large arguments) is not kept alive for that.
const MAX_KEPT_ENVELOPE = 1024;
const FROM = '"from":"';

// A promise not awaited by the end of the turn that made it is registered
// for cancellation at the next incoming message, or at the latest this long
// after (see `question`).
const SWEEP_MS = 50;

// Releases wait for our next call, at most this long, or until this many.
const RELEASE_IDLE_MS = 200;
const RELEASE_MAX = 1024;

/** Kinds of slot entries this module puts in the connection's slot table. */
const isAnswer = (entry) => entry instanceof Answer;

class Session {
  /**
   * @param engine the connection's Engine.
   * @param slots the connection's SlotTable.
   * @param negotiation the connection's Negotiation.
   * @param options `{ timeout }`: ms after which a call rejects (absent or 0: never).
   * @param transmit (text) => void, sends one envelope unless closed.
   * @param ask (to, op, args) => promise, sends a call (to pipeline).
   */
  constructor(engine, slots, negotiation, options, transmit, ask) {
    this.engine = engine;
    this.handle = engine.handle; // for the plain-function crossings (a getter call each time)
    this.slots = slots;
    this.negotiation = negotiation;
    this.transmit = transmit;
    const timeout = options.timeout;
    if (timeout !== undefined && !(typeof timeout === "number" && timeout >= 0)) {
      throw new TypeError("option timeout must be a number of milliseconds");
    }
    this.timeout = timeout > 0 ? timeout : 0;
    this.queued = 0; // releases queued since the last flush
    this.flushTimer = null;
    this.closed = false;
    // A pending answer's promise that nobody waits for and nobody holds any
    // more: the answering side may drop its interest (cancellation).
    // (Registered before the hello too: those are cancelled only if the
    // hello agreed on pipeline; a 0.6.1 peer keeps 0.6.1's behaviour.)
    // Held: the question's `asked` (its envelope or id), never the question.
    this.unheld = new FinalizationRegistry((asked) => this.negotiation.pipeline && this.cancel(questionId(asked)));
    // [promise, question, ...] waiting to be registered (see `question`).
    this.unwatched = [];
    this.sweepTimer = null;
    this.sweep = () => {
      this.sweepTimer = null;
      this.registerUnwatched();
    };
    // How a pending question's promise pipelines and reports being awaited
    // (lib/question.js).
    this.pipe = {
      send: (question, op, args) => {
        const id = questionId(question.asked);
        // Marks the question as pipelined to, for the embargo (`answered`).
        question.pipelined = id;
        return ask(id, op, args);
      },
      awaited: (question) => {
        if (!question.watched) return;
        question.watched = false;
        if (question.registered) this.unheld.unregister(question);
      },
    };
    // Messages to questions asked before the peer's hello (lib/extensions/early.js).
    this.early = new Early(negotiation, offeredExtensions(options.extensions));
    // Answers that come back as our own values (lib/extensions/embargo.js).
    this.embargoes = new Embargoes(engine, slots, transmit);
  }

  /** The record of a call about to be asked (put in its slot). */
  newQuestion() {
    return new Question(this.pipe, this.negotiation.pipeline);
  }

  /**
   * Called right after `engine.ask` made `envelope`, the call whose answer
   * settles `question`. Returns the promise the caller gets.
   */
  question(question, envelope, op) {
    const pipelining = question.pipelining;
    if (!pipelining && !this.timeout && !this.early.holding) return question.promise;
    // The id is read from the envelope only when needed (pipelining to the
    // question, cancelling it): the engine's lastQuestion getter cost a
    // crossing and a string per call.
    question.asked = envelope.length <= MAX_KEPT_ENVELOPE ? envelope : this.engine.lastQuestion;
    if (this.timeout) this.arm(question, op);
    if (!pipelining && !this.early.holding) return question.promise;
    const promise = this.early.holding
      ? this.early.promise(question, (nextOp, args) => this.pipe.send(question, nextOp, args), () => this.pipe.awaited(question))
      : question.promise;
    // Unregistered (`pipe.awaited`) once someone waits or it settles; the
    // question itself is the token, as its slot holds it anyway. Registered
    // in a later turn, and only if nobody waits by then: an `await` on the
    // call waits in the microtask after this turn (its `then` runs from
    // there), so most calls are never registered (a registration and its
    // removal cost ~1,700 instructions a call). The later turn is the next
    // incoming message (`newTurn`), or a sweep at most SWEEP_MS after: one
    // timer for many calls, where two microtasks a call cost ~1,500
    // instructions (callgrind). Meanwhile `unwatched` holds the promise, so
    // it cannot be collected before it is registered.
    question.watched = true;
    this.unwatched.push(promise, question);
    if (this.sweepTimer === null) {
      this.sweepTimer = setTimeout(this.sweep, SWEEP_MS);
      // Cancelling is owed to a live peer only: it never keeps the process up.
      if (typeof this.sweepTimer.unref === "function") this.sweepTimer.unref();
    }
    return promise;
  }

  /** A message arrived from the port: the turns of earlier calls are over. */
  newTurn() {
    if (this.unwatched.length !== 0) this.registerUnwatched();
  }

  /** Registers the promises of `question` that nobody waited for. */
  registerUnwatched() {
    const list = this.unwatched;
    this.unwatched = [];
    for (let i = 0; i < list.length; i += 2) {
      const question = list[i + 1];
      if (!question.watched) continue;
      question.registered = true;
      this.unheld.register(list[i], question.asked, question);
    }
  }

  arm(question, op) {
    const id = questionId(question.asked);
    const ms = this.timeout;
    const timer = setTimeout(() => {
      if (this.cancel(id)) {
        question.reject(new Error(`q-connection-rs: call "${op}" got no answer within ${ms} ms (option timeout)`));
      }
    }, ms);
    // Not unref'd: like the call itself, its deadline keeps the process up.
    question.timer = timer;
  }

  /** Gives up a pending question; true when it was still pending. */
  cancel(questionId) {
    if (this.closed) return false;
    const slot = this.engine.cancel(questionId);
    if (slot == null) return false;
    const question = this.slots.take(slot);
    if (question && question.timer) clearTimeout(question.timer);
    this.scheduleFlush();
    return true;
  }

  /**
   * An answer arrived for `deferred` (already taken from its slot), with the
   * QSON text `payload`; `deferred` is settled right after.
   */
  answered(deferred, payload) {
    // An rs peer's hello precedes its answers: none is coming.
    if (this.early.holding) this.early.heard(false);
    if (deferred.timer) clearTimeout(deferred.timer);
    // Before the answer's release can be flushed below.
    if (deferred.pipelined !== undefined) this.embargoes.answered(deferred, deferred.pipelined, payload);
    // With a pipelining peer the engine queued the release of its answer.
    if (this.negotiation.pipeline) this.scheduleFlush();
  }

  /**
   * A call from the peer (`delivery`): with a pipelining peer, returns the
   * Answer kept under its asker's id (the peer may send to it at once),
   * else null. The engine kept it while receiving the call, in the slot
   * `kept` filled (lib/receive.js), unless no slot was offered.
   */
  keep(delivery) {
    if (delivery.kept !== ABSENT) return this.slots.get(delivery.kept);
    if (!this.negotiation.pipeline) return null;
    const answer = new Answer();
    const replaced = engineKeepAnswer(this.handle, delivery.answerTo, this.slots.put(answer));
    if (replaced != null) this.release(replaced);
    return answer;
  }

  /** The engine kept a call's answer in the free `slot` offered (lib/receive.js). */
  kept(slot, replaced) {
    if (this.slots.put(new Answer()) !== slot) throw new Error("q-connection-rs: the slot offered for an answer was taken");
    if (replaced !== ABSENT) this.release(replaced);
  }

  /** The peer's hello arrived (the Negotiation has recorded it). */
  heard() {
    this.early.heard(true);
  }

  /** The peer released ids of ours (delivery kind 8). */
  released() {
    for (const slot of this.engine.takeReleased()) this.release(slot);
  }

  release(slot) {
    const entry = this.slots.take(slot);
    if (isAnswer(entry)) entry.cancelled = true;
  }

  /**
   * Queues the sending of the engine's pending releases. They go out inside
   * our next call (the engine writes them into its `send`, see `asked`),
   * else within RELEASE_IDLE_MS, or at once past RELEASE_MAX queued: each
   * costs the peer memory, never correctness. Lazy on purpose: a release
   * per answer would add a message per call, and a write to a peer that is
   * going away turns into its close cause. One timer serves many releases:
   * it is armed when the first is queued and, when it fires, sends what
   * no call has carried meanwhile (a timer per answer cost ~1 us). It asks
   * the engine even when `queued` is 0: a call to an answer leaves that
   * answer's release queued (the embargo marker).
   */
  scheduleFlush() {
    if (this.closed) return;
    if (++this.queued >= RELEASE_MAX) {
      this.flush();
      return;
    }
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.flush();
    }, RELEASE_IDLE_MS);
    // A release is owed to a live peer only: it never keeps the process up.
    if (typeof this.flushTimer.unref === "function") this.flushTimer.unref();
  }

  flush() {
    this.queued = 0;
    if (this.closed) return;
    const envelope = this.engine.takeRelease();
    if (envelope) this.transmit(envelope);
  }

  /**
   * Called after each call we send: a peer that takes releases got the
   * queued ones inside it (the release of an answer only ever follows our
   * last message to it, so it may ride with any later call).
   */
  asked() {
    if (this.queued && (this.negotiation.pipeline || this.negotiation.release)) this.queued = 0;
  }

  /** The connection closed: nothing more is sent; a timer firing later does nothing. */
  close() {
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
  }
}

/** The question id in `asked`: an id, or the `send` envelope that carries it. */
function questionId(asked) {
  if (asked.charCodeAt(0) !== 123 /* { */) return asked;
  // The first `"from":"` is the field: inside a JSON string (the `to` before
  // it) every quote is escaped, so the text cannot occur there.
  const start = asked.indexOf(FROM) + FROM.length;
  return asked.slice(start, asked.indexOf('"', start));
}

module.exports = { Session, isAnswer };
