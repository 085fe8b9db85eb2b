"use strict";

// Reference release, importing side (docs/PROTOCOL-EXTENSIONS.md, release).
// With a peer that agreed on `release`, every id the peer exports to us gets
// one remote promise (and, for a function, one wrapper) while any of them is
// alive: the same id decodes to the same object. We count how many times the
// id arrived; when the promise is collected, the release names that count, so
// the owner drops its export only when every sending it made has been
// released (a sending still in flight keeps it, and arrives as a fresh
// import). Without `release` agreed, every decoding makes a fresh promise, as
// in 0.6.1, and nothing is ever sent.
//
// What the user can hold: the promise; the function wrapper (it closes over
// the promise); the FarReference the promise fulfils to (it holds the
// promise). So the promise is collectable only once all three are, and
// registering the promise alone is enough.
//
// Finalizers run only after a full (mark-compact) collection, which V8
// schedules from the growth of its own heap. An import's garbage is small
// there, but what it keeps alive is on the peer (the export, its slot, the
// value behind it), where the peer's `maxExports` counts it. So each import
// alive, or dead but not finalized yet, is reported to V8 as IMPORT_COST
// bytes of external memory (src/napi/binding_memory.rs), as a Buffer's bytes
// are: V8 starts a full collection once 64 MiB of it accrued since the last
// one, that is after about 16,000 new imports, however big or idle the heap.

const { adjustExternalMemory } = require("../../binding.js");

// What an import weighs for V8's scheduling, and how many imports to gather
// per napi call.
const IMPORT_COST = 4096;
const REPORT_STEP = 64;

// This thread's imports registered minus finalized that V8 has not been told
// of yet, over all connections (a module instance per thread, as V8 heaps
// are): V8's view is never more than REPORT_STEP imports off, however many
// connections each hold a few.
let unreported = 0;

function account(delta) {
  unreported += delta;
  if (unreported >= REPORT_STEP || unreported <= -REPORT_STEP) {
    adjustExternalMemory(unreported * IMPORT_COST);
    unreported = 0;
  }
}

class Imports {
  /**
   * @param engine the connection's Engine (`releaseImport`).
   * @param negotiation the connection's Negotiation (`release` flag).
   * @param makeRemote (id) => the remote promise for the peer's export id.
   * @param wrapFunction (promise) => the callable for an export of type "function".
   * @param released () => void, called after a release was queued in the engine.
   */
  constructor(engine, negotiation, makeRemote, wrapFunction, released) {
    this.engine = engine;
    this.negotiation = negotiation;
    this.makeRemote = makeRemote;
    this.wrapFunction = wrapFunction;
    this.released = released;
    this.closed = false;
    // id -> record { id, count, promise: WeakRef, fn: WeakRef | null }. The
    // registry holds the record (never the promise) until finalization.
    this.byId = new Map();
    // Made on the first import: most connections (a server's clients calling
    // it) never import a reference, and each registry costs memory.
    this.registry = null;
    this.tracked = 0; // registered imports not finalized yet (see `account`)
  }

  /** The value for the peer's export `id` of `type` ("function" or other). */
  get(id, type) {
    if (!this.negotiation.release || id === "") return this.fresh(this.makeRemote(id), type);
    let record = this.byId.get(id);
    let promise = record ? record.promise.deref() : undefined;
    if (promise === undefined) {
      // A record whose promise died but whose finalizer has not run yet
      // stays owned by that finalizer (it releases its own count).
      promise = this.makeRemote(id);
      record = { id, count: 0, promise: new WeakRef(promise), fn: null };
      this.byId.set(id, record);
      if (!this.registry) this.registry = new FinalizationRegistry((dead) => this.collected(dead));
      this.registry.register(promise, record);
      this.tracked++;
      account(1);
    }
    record.count++;
    if (type !== "function") return promise;
    let fn = record.fn ? record.fn.deref() : undefined;
    if (fn === undefined) {
      fn = this.wrapFunction(promise);
      record.fn = new WeakRef(fn);
    }
    return fn;
  }

  fresh(promise, type) {
    return type === "function" ? this.wrapFunction(promise) : promise;
  }

  collected(record) {
    if (this.byId.get(record.id) === record) this.byId.delete(record.id);
    if (this.closed) return;
    this.tracked--;
    account(-1);
    this.engine.releaseImport(record.id, record.count);
    this.released();
  }

  /** Imports alive (for stats). */
  get size() {
    return this.byId.size;
  }

  close() {
    this.closed = true;
    this.byId.clear();
    account(-this.tracked); // finalizers that run after this send nothing
    this.tracked = 0;
  }
}

module.exports = { Imports };
