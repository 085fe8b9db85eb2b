//! `adjustExternalMemory`: tells V8 how much memory outside its heap the
//! calling thread's JS objects keep alive.
//!
//! Reference release (docs/PROTOCOL-EXTENSIONS.md) frees a peer's export only
//! once our import of it has been garbage collected, and V8 clears the
//! targets of a `FinalizationRegistry` in full (mark-compact) collections
//! only, which it schedules from the size of its own heap. What an import
//! keeps alive is mostly on the *peer* (the export, its slot and the value
//! behind it), which V8 cannot see: lib/extensions/imports.js reports a cost
//! per live import here, so that V8 starts a full collection after a bounded
//! number of new imports, as it does for a Buffer's memory.

use napi::{Env, Result};
use napi_derive::napi;

/// Adds `delta` bytes (negative: removes them) to the external memory V8
/// counts for this thread's heap; returns V8's new total. A positive total
/// past V8's limit starts a full collection (incremental marking).
#[napi]
pub fn adjust_external_memory(env: Env, delta: i64) -> Result<i64> {
    env.adjust_external_memory(delta)
}
