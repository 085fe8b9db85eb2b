//! q-connection-rs: the Rust engine of a Q-Connection peer.
//!
//! Layers, from the wire inwards:
//!
//! - [`protocol`]: the sans-IO state machine. Text messages go in through
//!   [`protocol::Connection::receive`], commands from the host go in through
//!   `ask`, `answer`, `export`, and every call returns what the host must do
//!   (a [`protocol::Delivery`] to perform, an envelope to transmit). No
//!   sockets, no threads, no clock, no napi: `cargo test` drives two of them
//!   joined in memory.
//! - [`tables`]: ids and the tables that map them to host slots. Ids we
//!   allocate (exports and questions) are the only ids a peer can address.
//! - `napi` (feature `node`): the only code that knows about Node. It wraps a
//!   `Connection` in a JS class that the JS thread calls synchronously; a
//!   message costs one napi call in and one out.
//!
//! How one call flows (in-process port, e.g. a worker's MessagePort):
//! JS `remote.invoke("add", 1, 2)` encodes the arguments to QSON text, calls
//! `ask` (Rust allocates the question id, records the JS slot, returns the
//! envelope text), and posts the text. The peer's port listener calls
//! `receive` (Rust parses and validates the envelope, finds the target slot),
//! JS applies the operation to the local value and calls `answer` with the
//! encoded result. Back home, `receive` of the `resolve` settles the slot.

pub mod protocol;
pub mod tables;
pub mod transport;

#[cfg(feature = "node")]
mod napi;
