"use strict";

// One connection: the JS half of the engine. The Rust engine (binding.js)
// parses, validates and routes every message and owns every id; this file
// owns what must be JS: the local values, the Q deferreds and the port. They
// are kept in `slots`, addressed by the slot numbers the engine hands back.

const Q = require("q");
const { Engine, engineAsk } = require("../binding.js");
const { makeCodec, DEFAULT_MAX_DEPTH } = require("./qson");
const { adaptPort } = require("./ports");
const { FarReference, unwrapFarReference } = require("./far-reference");
const { dispatchLocal, dispatchPlain, NOT_PLAIN } = require("./dispatch");
const { makeReceive } = require("./receive");
const { batchOutbound, splitBatches } = require("./batch");
const { makeTracer, connectionName, describe } = require("./trace");
const { offeredExtensions, Negotiation } = require("./extensions");
const { Session, isAnswer } = require("./extensions/session");
const { Imports } = require("./extensions/imports");
const values = require("./extensions/values");
const { CLONE, offeredOn, cloneMessage, checkedClone, isCloneMessage } = require("./extensions/clone");

// Operation codes shared with src/napi/binding_engine.rs.
const OP_NAMES = ["get", "set", "delete", "post", "apply", "keys"];
const OP_CODES = { get: 0, set: 1, put: 1, delete: 2, post: 3, apply: 4, keys: 5 };
const NOT_CLONED = Symbol("not cloned");
const CALL = 0, RESOLVE = 1, NOTIFY = 2, LOST = 3, REFUSED = 5, CALL_QUESTION = 6, HELLO = 7, RELEASED = 8;

/** A Q promise for the far side's root object (0.6.1's `Connection`). */
function Connection(port, local, options) {
  return open(port, local, options).remote;
}

/**
 * Opens a connection and returns its handle:
 * `{ remote, close(reason?), closed, stats(), name }`.
 */
function open(port, local, options) {
  options = options || {};
  const requested = options.capacity || options.max;
  // Infinity (0.6.1's default) and absence both mean unbounded.
  const capacity = Number.isFinite(requested) && requested > 0 ? Math.floor(requested) : undefined;
  const bounded = capacity !== undefined;
  const maxDepth = options.maxDepth === undefined ? DEFAULT_MAX_DEPTH : options.maxDepth;
  const offered = offeredOn(offeredExtensions(options.extensions), port, options);
  const engine = new Engine({
    capacity,
    maxMessageBytes: options.maxMessageBytes,
    maxDepth: options.maxDepth,
    maxPendingCalls: options.maxPendingCalls,
    maxExports: options.maxExports,
    extensions: offered,
  });
  // The hot crossings are plain functions taking this (lib/receive.js says why).
  const handle = engine.handle;
  const reader = makeReceive(engine, (slot) => session.release(slot), {
    offer: () => slots.next(),
    kept: (slot, replaced) => session.kept(slot, replaced),
  });
  const negotiation = new Negotiation(engine);
  const onError = typeof options.onerror === "function" ? options.onerror : null;
  const name = connectionName(options);
  let errors = 0; // reported errors, for stats()
  // null unless tracing is on (lib/trace.js); then it wraps the port's handlers.
  const tracer = makeTracer(options, name, (error) => report(error, "ETRACE"));
  const slots = new SlotTable(unwrapFarReference(local));
  const closedDeferred = Q.defer();
  let closedError = null;

  // Identity (docs/PROTOCOL-EXTENSIONS.md): the id each value was exported
  // under, so the same value sent again keeps its id; and the id each of the
  // peer's references was imported under, so one sent back names the original.
  const exportIds = new WeakMap();
  const importIds = new WeakMap();

  const codec = makeCodec({
    exportValue(value) {
      const target = unwrapFarReference(value);
      // De-duplicated only with `identity` agreed: 0.6.1 (and extensions
      // off) exports afresh each time, so its LRU sees what 0.6.1's would.
      const dedup = negotiation.identity && target !== null && (typeof target === "object" || typeof target === "function");
      const known = dedup ? exportIds.get(target) : undefined;
      // Gone (evicted or released) when the engine no longer has it.
      if (known !== undefined && engine.resend(known)) return known;
      const slot = slots.put(target);
      let id;
      try {
        id = engine.export(slot);
      } catch (refusal) {
        slots.free(slot); // past maxExports: the value must not stay in a slot
        throw refusal;
      }
      if (dedup) exportIds.set(target, id);
      if (bounded) for (const slot of engine.takeEvicted()) slots.free(slot);
      return id;
    },
    // Never true for plain data (hence plainIsCopied below).
    isPassByReference(value) {
      return value instanceof FarReference;
    },
    // Richer values, only to a peer that agreed on them (lib/extensions/values.js).
    encodeSpecial(value, encodeChild) {
      if (encodeChild === null && typeof value !== "bigint" && typeof value !== "number") {
        // A reference: one of the peer's own, sent back, is named as such.
        const id = negotiation.identity ? importIds.get(unwrapFarReference(value)) : undefined;
        return id === undefined ? undefined : { "%": "yours", id };
      }
      return negotiation.values ? values.encodeSpecial(value, encodeChild, options.stacks) : undefined;
    },
    decodeSpecial(tree, decodeChild, remember) {
      if (tree["%"] !== "yours") return values.decodeSpecial(tree, decodeChild, remember);
      // One of our exports, sent back: the original value (undefined, so a
      // rejection, when the id is not ours or no longer exported).
      const slot = typeof tree.id === "string" ? engine.exportSlot(tree.id) : null;
      return slot == null ? undefined : slots.get(slot);
    },
    importReference(id, type) {
      const value = imports.get(id, type); // lib/extensions/imports.js
      importIds.set(value, id); // so it is named as the peer's own when sent back
      return value;
    },
  }, { maxDepth: options.maxDepth, stacks: options.stacks, plainIsCopied: true });

  // Extension state (lib/extensions/session.js); it sends only after open.
  const session = new Session(engine, slots, negotiation, options, (text) => {
    if (!closedError) channel.send(text);
  }, ask);
  const imports = new Imports(engine, negotiation, makeRemote, wrapFunction, () => session.scheduleFlush());

  const portOptions = {
    origin: options.origin,
    maxMessageBytes: options.maxMessageBytes,
    maxBufferedBytes: options.maxBufferedBytes, // lib/ports/backpressure.js
    onerror: (error) => report(error, error.code), // EORIGIN, ETOOLARGE
  };
  const channel = adaptPort(port, portOptions, {
    message: splitBatches(tracer ? tracer.inbound(receive) : receive, () => !closedError, newTurn),
    closed: closeWith,
  });
  // lib/batch.js; the tracer sees single envelopes. No message arrives
  // before this runs (ports deliver from a later task).
  const outbound = batchOutbound(channel, negotiation);
  // Called for each port message, before its envelopes are received.
  function newTurn() {
    outbound.newTurn();
    session.newTurn();
  }
  if (tracer) tracer.outbound(channel);
  // The hello goes before anything else, so the peer can rely on it
  // preceding every other message of ours (lib/extensions/index.js); the
  // engine gives it once (later, the reply to the peer's: case HELLO).
  const hello = engine.hello();
  if (hello) channel.send(hello);

  // A promise whose messages go to the far object `id`; it fulfils to a
  // FarReference, never to itself, so `await` settles.
  function makeRemote(id) {
    let reference = null;
    const promise = Q.makePromise(
      {
        when() {
          return reference || (reference = new FarReference(promise));
        },
      },
      function send(op, args) {
        return ask(id, op, args);
      }
    );
    // Fast path: every Q message method (get, set, post, invoke, keys, ...)
    // goes through `dispatch`, which Q defers a tick and resolves through a
    // second deferred; sending at once saves both (bench/results.md) and
    // still returns a Q promise. Q's static forms (Q.invoke(remote, ...))
    // call this same method.
    promise.dispatch = function dispatch(op, args) {
      return ask(id, op, args);
    };
    return promise;
  }

  function wrapFunction(promise) {
    return function remoteFunction(...args) {
      return Q.fapply(promise, args);
    };
  }

  function ask(id, op, args) {
    const code = OP_CODES[op];
    if (code === undefined) {
      return Q.reject(new TypeError(`operation "${op}" cannot be sent to a remote object`));
    }
    if (closedError) return Q.reject(closedError);
    const question = session.newQuestion(); // lib/question.js: settled like a Q deferred
    const slot = slots.put(question);
    let envelope;
    try {
      envelope = engineAsk(handle, id, code, codec.encodeText(args), slot);
    } catch (error) {
      slots.free(slot);
      return Q.reject(closedError || error);
    }
    session.asked();
    channel.send(envelope);
    return session.question(question, envelope, op);
  }

  // A fault inside the engine (a Rust panic, caught at the napi boundary and
  // thrown here) or in the port must not escape into the event loop: the
  // connection closes, port included, with it as the cause, and every
  // pending call rejects.
  function receive(text) {
    try {
      deliver(text);
    } catch (error) {
      fault(error);
    }
  }

  function fault(error) {
    try {
      channel.close(error);
    } finally {
      closeWith(error);
    }
  }

  function deliver(text) {
    let cloned = NOT_CLONED; // a clone message's answer (lib/extensions/clone.js)
    if (typeof text !== "string") {
      if (!offered.includes(CLONE) || !isCloneMessage(text)) {
        report(new TypeError(`message is not a string but ${typeof text}`), "EMALFORMED");
        return;
      }
      cloned = text.value;
      text = text.envelope;
    }
    const delivery = reader.receive(text);
    switch (delivery.kind) {
      case CALL:
      case CALL_QUESTION: {
        // Kept at once: the peer may already be pipelining to this answer.
        const answer = session.keep(delivery);
        const entry = slots.get(delivery.slot);
        // Sent to one of our pending calls: applied to its eventual value, as
        // 0.6.1 does, never to the deferred that settles it.
        let target = delivery.kind === CALL_QUESTION ? entry.promise : entry;
        // One of our embargo markers, back (lib/extensions/embargo.js).
        if (session.embargoes.waiting) target = session.embargoes.arrived(delivery, target);
        // Sent to a pending answer (pipelined): applied once it settles.
        if (isAnswer(target)) return target.call((value) => answerCall(delivery, value, answer));
        return answerCall(delivery, target, answer);
      }
      case RESOLVE: {
        const deferred = slots.take(delivery.slot);
        session.answered(deferred, delivery.payload);
        try {
          deferred.resolve(cloned !== NOT_CLONED ?
            checkedClone(cloned, maxDepth, !negotiation.values) :
            codec.decodeText(delivery.payload, delivery.revival));
        } catch (error) {
          deferred.reject(error);
        }
        return;
      }
      case NOTIFY: {
        const deferred = slots.get(delivery.slot);
        try {
          const progress = codec.decodeText(delivery.payload, delivery.revival);
          // Progress is data: a rejection sent as progress must not raise
          // an 'unhandledRejection' in this process.
          if (Q.isPromise(progress) && progress.inspect().state === "rejected") progress.catch(() => {});
          deferred.notify(progress);
        } catch (error) {
          report(error, "EMALFORMED");
        }
        return;
      }
      case LOST:
        if (typeof options.onmessagelost === "function") {
          let message;
          try {
            message = JSON.parse(text);
          } catch (_) {
            message = text;
          }
          callQuietly(options.onmessagelost, message, onError);
        }
        report(new Error("message to an id this side does not have"), "ELOST");
        return;
      case HELLO: {
        // The peer's first hello: unless it said it heard ours, ours goes
        // again as a reply, at once and so before anything that follows
        // from this hello (held messages that session.heard() sends), so
        // a peer that lost our first hello agrees before it gets an answer
        // we keep for it (src/protocol/extensions.rs, Connection::hello).
        const reply = engine.hello();
        if (reply) channel.send(reply);
        negotiation.onHello();
        session.heard();
        return;
      }
      case RELEASED:
        session.released();
        return;
      case REFUSED: {
        const error = new Error(delivery.error);
        if (delivery.reply) channel.send(delivery.reply);
        // A refused answer to one of our calls rejects that call.
        if (delivery.question != null) slots.take(delivery.question).reject(error);
        report(error, delivery.code);
        return;
      }
      default:
        return; // an unknown message type: ignored, as the protocol says
    }
  }

  // `call`: the call's delivery (its asker's id is answered through
  // lib/receive.js answerHead). `answer`: the Answer kept for a pipelining
  // peer (null otherwise); it settles with the response, and once the peer
  // has released it the response is no longer sent.
  function answerCall(call, target, answer) {
    let response;
    let value = NOT_PLAIN;
    try {
      const args = codec.decodeText(call.payload, call.revival);
      const op = OP_NAMES[call.op];
      value = dispatchPlain(target, op, args, options);
      if (value === NOT_PLAIN) response = dispatchLocal(target, op, args, options);
      else if (Q.isPromiseAlike(value)) response = Q(value);
    } catch (error) {
      response = Q.reject(error);
    }
    // Fast path: a method that returned a plain value is answered now rather
    // than from a Q callback a tick later, and without a Q promise for it.
    if (response === undefined || response.isFulfilled()) {
      if (response !== undefined) value = response.inspect().value;
      if (answer) answer.settle(value);
      if (!answer || !answer.cancelled) transmitResolution(call, value);
      return;
    }
    response.then(
      (value) => {
        if (answer) answer.settle(value);
        if (!answer || !answer.cancelled) transmitResolution(call, value);
      },
      (reason) => {
        if (answer) answer.settle(response);
        if (!answer || !answer.cancelled) transmitAnswer(call, rejectionText(reason));
      },
      (progress) => {
        if (!answer || !answer.cancelled) transmitProgress(call, progress);
      }
    );
  }

  // Runs in a Q callback, where a throw would vanish into an unobserved
  // promise: a fault while answering closes the connection with its cause.
  function transmitAnswer(call, resolution) {
    if (closedError) return;
    try {
      // Completed here: the resolution's text never crosses into the engine.
      channel.send(reader.answerHead(call) + resolution + "}");
    } catch (error) {
      fault(error);
    }
  }

  // An answer with a value: as a structured clone when the peer agreed on
  // it and the value is large plain data, else as QSON text.
  function transmitResolution(call, value) {
    if (!negotiation.peerHas(CLONE)) return transmitAnswer(call, resolutionText(value));
    if (closedError) return;
    try {
      const head = reader.answerHead(call);
      let message = null;
      try {
        message = cloneMessage(head, value, maxDepth, !negotiation.values);
        if (message) channel.send(message);
      } catch (_) {
        // A getter threw, or the port could not clone (a Proxy): as text,
        // where a throwing getter becomes a rejection.
        message = null;
      }
      if (!message) channel.send(head + resolutionText(value) + "}");
    } catch (error) {
      fault(error);
    }
  }

  function transmitProgress(call, progress) {
    if (closedError) return;
    let text;
    try {
      text = codec.encodeText(progress);
    } catch (error) {
      // 0.6.1 answers an unencodable progress value with a rejection.
      return transmitAnswer(call, rejectionText(error));
    }
    try {
      channel.send(engine.notify(call.answerTo, text));
    } catch (error) {
      fault(error);
    }
  }

  // 0.6.1's fallbacks: an unencodable value rejects with the encoding error,
  // and an unencodable error rejects with null.
  function resolutionText(value) {
    try {
      return codec.encodeText(value);
    } catch (error) {
      return rejectionText(error);
    }
  }

  function rejectionText(reason) {
    try {
      return JSON.stringify({ "!": codec.encode(reason) });
    } catch (error) {
      try {
        return JSON.stringify({ "!": codec.encode(error) });
      } catch (_) {
        return '{"!":null}';
      }
    }
  }

  function report(error, code) {
    errors++;
    error.code = code;
    if (onError) callQuietly(onError, error, null);
  }

  function closeWith(reason) {
    if (closedError) return;
    const cause = reason !== null && typeof reason === "object" ? reason : new Error(String(reason));
    closedError = new Error("Connection closed because: " + cause.message);
    closedError.cause = cause;
    const { questions, exports } = engine.close();
    for (const slot of questions) slots.take(slot).reject(closedError);
    for (const slot of exports) slots.free(slot);
    session.close();
    imports.close();
    closedDeferred.resolve(cause);
  }

  function close(reason) {
    const cause = reason === undefined ? new Error("closed locally") : reason;
    channel.close(cause);
    closeWith(cause);
    return closedDeferred.promise;
  }

  function stats() {
    const counts = engine.stats();
    counts.resolvesOut += reader.uncountedAnswers(); // lib/receive.js answerHead
    return { ...counts, slots: slots.size, errors };
  }

  /** True once the peer's hello announced `extension` and we offered it too. */
  function peerHas(extension) {
    return negotiation.peerHas(extension);
  }

  return { remote: makeRemote(""), close, closed: closedDeferred.promise, stats, name, peerHas };
}

/**
 * Calls a user callback; its exception must not break the message loop nor
 * reach the event loop (where it would end the process). It goes to
 * `onError` (code ECALLBACK) when there is one, else to a process warning.
 */
function callQuietly(callback, value, onError) {
  try {
    callback(value);
  } catch (thrown) {
    // A fresh error: the thrown value may be frozen or not an Error at all.
    const error = new Error(`the ${callback.name || "anonymous"} callback threw: ${describe(thrown)}`);
    error.cause = thrown;
    if (onError) {
      error.code = "ECALLBACK";
      callQuietly(onError, error, null);
    } else {
      process.emitWarning(error.message, "CallbackError");
    }
  }
}

/**
 * Values and deferreds by slot number. Slot 0 is the root. Freed numbers
 * are reused, so the table never grows past the live entries.
 */
class SlotTable {
  constructor(root) {
    this.entries = [root];
    this.freeList = [];
    this.size = 1;
  }

  put(entry) {
    this.size++;
    if (this.freeList.length) {
      const slot = this.freeList.pop();
      this.entries[slot] = entry;
      return slot;
    }
    return this.entries.push(entry) - 1;
  }

  get(slot) {
    return this.entries[slot];
  }

  /** The slot the next `put` returns. */
  next() {
    return this.freeList.length ? this.freeList[this.freeList.length - 1] : this.entries.length;
  }

  take(slot) {
    const entry = this.entries[slot];
    this.free(slot);
    return entry;
  }

  free(slot) {
    if (slot === 0 || this.entries[slot] === undefined) return;
    this.entries[slot] = undefined;
    this.freeList.push(slot);
    this.size--;
  }
}

module.exports = { Connection, open };
