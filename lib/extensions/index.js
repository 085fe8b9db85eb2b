"use strict";

// Negotiated extensions (docs/PROTOCOL-EXTENSIONS.md). Each connection that
// offers extensions sends a hello first; the Rust engine records the peer's
// hello and answers `agreedExtensions()`. A feature that changes what we
// SEND is used only once `peerHas(name)`; a feature that changes how we
// RECEIVE is always understood. With a 0.6.1 peer nothing is ever agreed.
//
// Other modules add an extension with `registerExtension(name)` at load time
// (before connections open) and test `handle.peerHas(name)` per connection.

const PIPELINE = "pipeline";
const RELEASE = "release";
const IDENTITY = "identity";
const VALUES = "values";

const registered = [PIPELINE, RELEASE, IDENTITY, VALUES];

/**
 * Adds `name` to the extensions every new connection announces (unless its
 * `extensions` option lists its own). Names are short ASCII words; a name
 * registered twice is kept once.
 */
function registerExtension(name) {
  if (typeof name !== "string" || !/^[a-z][a-z0-9-]{0,63}$/.test(name)) {
    throw new TypeError(`extension name must be a short lower-case word, not ${JSON.stringify(name)}`);
  }
  if (!registered.includes(name)) registered.push(name);
}

/** The extension names announced by default, in order. */
function registeredExtensions() {
  return registered.slice();
}

/**
 * The names a connection offers, from its `extensions` option: absent means
 * every registered name; `false` or `[]` means none (no hello: the exact
 * 0.6.1 wire); an array means those names.
 */
function offeredExtensions(option) {
  if (option === undefined || option === true) return registeredExtensions();
  if (option === false || option === null) return [];
  if (!Array.isArray(option) || option.some((name) => typeof name !== "string")) {
    throw new TypeError("option extensions must be an array of names, true or false");
  }
  return option.slice();
}

/**
 * Per-connection view of what both sides agreed. `agreed` is read from the
 * engine once, when the peer's hello arrives (it never changes after).
 */
class Negotiation {
  constructor(engine) {
    this.engine = engine;
    this.agreed = new Set();
    // Hot flags, read on every call and every encoded value.
    this.pipeline = false;
    this.release = false;
    this.identity = false;
    this.values = false;
  }

  onHello() {
    this.agreed = new Set(this.engine.agreedExtensions());
    this.pipeline = this.agreed.has(PIPELINE);
    this.release = this.agreed.has(RELEASE);
    this.identity = this.agreed.has(IDENTITY);
    this.values = this.agreed.has(VALUES);
  }

  peerHas(name) {
    return this.agreed.has(name);
  }
}

module.exports = {
  PIPELINE,
  RELEASE,
  IDENTITY,
  VALUES,
  registerExtension,
  registeredExtensions,
  offeredExtensions,
  Negotiation,
};
