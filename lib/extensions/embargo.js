"use strict";

// Embargo (docs/PROTOCOL-EXTENSIONS.md, "embargo"; Cap'n Proto's name).
//
// A asks B `q = remote.invoke("echo", mine)` and pipelines `q.invoke("m1")`:
// m1 travels to B, which applies it to its answer, a reference to A's
// `mine`, and so sends it back to A. With `identity` agreed the answer
// itself reaches A as `mine`, and a `q.invoke("m2")` made then would run at
// once, before m1 is back: E-order broken. So when the resolve of a
// question to which we pipelined arrives as one of our own values:
//
// 1. a *marker*, `get` of a name of ours, is sent through the old path, to
//    the question id, before the answer's release (B applies it after m1,
//    so it reaches A after m1);
// 2. the question fulfils to a promise for the value that answers `then` at
//    once but queues every message until the marker is back;
// 3. the marker is back when it arrives at A as a call (it is then answered
//    with `undefined` and never reaches the value), or, failing that, when
//    the marker's own answer arrives (B sent it after everything it sent
//    before); the queued messages then go to the value, in order.
//
// Only the messages sent through the question's promise are embargoed: the
// value itself, once the caller holds it, is a plain local value.

const Q = require("q");

const GET = 0; // operation code of `get` (lib/connection.js OP_CODES)
const MARKER = "q-connection-rs embargo ";
// What a marker that came back is applied to: `get` of any name gives undefined.
const MARKER_TARGET = Object.freeze({});

class Embargoes {
  /**
   * @param engine the connection's Engine.
   * @param slots the connection's SlotTable.
   * @param transmit (text) => void, sends one envelope unless closed.
   */
  constructor(engine, slots, transmit) {
    this.engine = engine;
    this.slots = slots;
    this.transmit = transmit;
    // Embargoes whose marker has not come back (read on every incoming call).
    this.waiting = 0;
    // marker args text -> Embargo; made on the first embargo (most
    // connections never need one, and a server may hold thousands).
    this.byMarker = null;
    this.count = 0;
  }

  /**
   * The resolve of question `questionId`, to which we pipelined, arrived
   * with the QSON text `payload`, not decoded yet; `deferred` is settled
   * next. Must run before the answer's release is sent.
   */
  answered(deferred, questionId, payload) {
    // Only a reference of ours sent back decodes to a local value.
    if (!payload.startsWith('{"%":"yours"')) return;
    const args = JSON.stringify([MARKER + ++this.count]);
    const embargo = new Embargo(this, args);
    const slot = this.slots.put(embargo); // the marker's question settles it
    let envelope;
    try {
      envelope = this.engine.ask(questionId, GET, args, slot);
    } catch (_) {
      this.slots.free(slot);
      return; // closed: nothing can overtake anything any more
    }
    this.transmit(envelope);
    this.waiting++;
    if (this.byMarker === null) this.byMarker = new Map();
    this.byMarker.set(args, embargo);
    const resolve = deferred.resolve;
    deferred.resolve = (value) => resolve.call(deferred, embargo.promise(value));
  }

  /**
   * An incoming call to `target`: a marker of ours that came back lifts its
   * embargo and is applied to a blank object instead.
   */
  arrived(delivery, target) {
    if (delivery.op !== GET || this.byMarker === null) return target;
    const embargo = this.byMarker.get(delivery.payload);
    if (embargo === undefined) return target;
    embargo.lift();
    return MARKER_TARGET;
  }
}

/** One embargo; also the record of its marker's question (resolve, reject, notify). */
class Embargo {
  constructor(embargoes, args) {
    this.embargoes = embargoes;
    this.args = args;
    this.queue = []; // { op, args, result: Q deferred }; null once lifted
    this.value = undefined;
  }

  /** What the question fulfils to instead of `value`. */
  promise(value) {
    // A rejection (the id is no longer ours) or a promise of ours: nothing
    // to keep in order with.
    if (Q.isPromise(value)) {
      this.lift();
      return value;
    }
    this.value = value;
    const embargo = this;
    return Q.makePromise(
      {
        when() {
          return value;
        },
      },
      function fallback(op, args) {
        if (embargo.queue === null) return Q(value).dispatch(op, args);
        const result = Q.defer();
        embargo.queue.push({ op, args, result });
        return result.promise;
      },
      () => ({ state: "fulfilled", value })
    );
  }

  lift() {
    const queue = this.queue;
    if (queue === null) return;
    this.queue = null;
    const embargoes = this.embargoes;
    embargoes.waiting--;
    embargoes.byMarker.delete(this.args);
    const target = Q(this.value);
    for (const { op, args, result } of queue) result.resolve(target.dispatch(op, args));
  }

  // The marker's own answer: B sent it after everything it sent before.
  resolve() {
    this.lift();
  }

  reject() {
    this.lift();
  }

  notify() {}
}

module.exports = { Embargoes };
