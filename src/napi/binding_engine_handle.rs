//! Engines addressed by a number, for the crossings of every message.
//!
//! napi-rs 3.16 guards each call of a class method: it unwraps the JS object
//! (`napi_unwrap` and a class identity check) and registers a borrow of it
//! (a guard in a scope, released after the return value is converted), so
//! that a reentrant call cannot alias `&mut self`. That costs ~1,600
//! instructions per call (callgrind), a third of an empty crossing, five
//! times a round trip. The hot crossings are therefore plain functions that
//! take the engine's `handle` (`Engine.handle`, a u32) and find the engine in
//! a table of this thread. A `RefCell` keeps the aliasing guarantee (a
//! reentrant call gets an error, never a second `&mut`), and the table being
//! per thread means a handle posted to another thread finds nothing there: a
//! clear error, never another thread's engine.
//!
//! The JS `Engine` object stays the owner: the table holds the engine while
//! that object lives, and its finalizer (on this same thread) removes it.

use std::cell::{RefCell, RefMut};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};

use napi::bindgen_prelude::*;

use super::binding_engine::BindingDelivery;
use crate::protocol::Connection;

/// What one engine is, behind its JS object and its handle.
pub(super) struct EngineCore {
    pub(super) inner: Connection,
    /// Set by `debugArmPanic`: the next `receive` panics (fault-path tests).
    pub(super) panic_armed: bool,
    /// The refusal `receiveInto` reported as kind 5, for `takeRefusal`.
    pub(super) refusal: Option<BindingDelivery>,
    /// The slots a release freed (kind 8), for `takeReleased`.
    pub(super) released: Vec<u32>,
    /// Reused for the UTF-8 copy of incoming texts (see `read_text`).
    pub(super) text: Vec<u8>,
}

pub(super) type SharedCore = Rc<RefCell<EngineCore>>;

/// Handles are unique in the process (not only per thread), so a handle
/// from another thread never names an engine of this one. 0 is never issued.
static NEXT_HANDLE: AtomicU32 = AtomicU32::new(1);

/// The handles are ours and sequential: no hashing needed.
#[derive(Default)]
struct HandleHasher(u64);

impl Hasher for HandleHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n);
    }
}

type Table = HashMap<u32, SharedCore, BuildHasherDefault<HandleHasher>>;

thread_local! {
    static ENGINES: RefCell<Table> = RefCell::new(Table::default());
}

/// Puts `core` in this thread's table; returns its handle.
pub(super) fn register(core: SharedCore) -> u32 {
    ENGINES.with(|engines| {
        let mut engines = engines.borrow_mut();
        loop {
            let handle = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
            // After 2^32 engines the numbers wrap: skip 0 and live ones.
            if handle != 0 && !engines.contains_key(&handle) {
                engines.insert(handle, core);
                return handle;
            }
        }
    })
}

/// Removes the engine `handle` (its JS object was collected). Quietly does
/// nothing while the thread is exiting (the table is being dropped anyway).
pub(super) fn unregister(handle: u32) {
    let _ = ENGINES.try_with(|engines| {
        if let Ok(mut engines) = engines.try_borrow_mut() {
            engines.remove(&handle);
        }
    });
}

/// The engine `handle` of this thread, borrowed for one call.
pub(super) fn with_engine<R>(
    handle: u32,
    f: impl FnOnce(&mut EngineCore) -> Result<R>,
) -> Result<R> {
    // Cloned out, so the table is not borrowed while the engine works.
    let core = ENGINES
        .with(|engines| engines.borrow().get(&handle).cloned())
        .ok_or_else(|| {
            Error::from_reason(format!(
                "q-connection-rs: no engine {handle} on this thread (an engine belongs to the thread that made it)"
            ))
        })?;
    let mut core = borrow(&core)?;
    f(&mut core)
}

/// `core` for one call; an error, not a panic, if it is already in use.
pub(super) fn borrow(core: &SharedCore) -> Result<RefMut<'_, EngineCore>> {
    core.try_borrow_mut().map_err(|_| {
        Error::from_reason("q-connection-rs: the engine is already in use (a reentrant call)")
    })
}

/// Copies the JS string `value` into `buf` as UTF-8 (appended); returns the
/// range it took. One napi call when it fits the room `buf` already has
/// (the usual case, the buffer being reused), two or three otherwise,
/// instead of napi-rs's `String` conversion: a length query, a zeroed
/// allocation, the copy, and a free after the call.
pub(super) fn read_text(
    env: sys::napi_env,
    value: sys::napi_value,
    buf: &mut Vec<u8>,
) -> Result<std::ops::Range<usize>> {
    let start = buf.len();
    if buf.capacity() - start < 256 {
        buf.reserve(256);
    }
    let mut room = buf.capacity() - start;
    let mut written = 0;
    // SAFETY: napi writes at most `room` bytes (a NUL included) at the end
    // of `buf`, within its capacity; `set_len` covers only what it wrote,
    // which is UTF-8 (Node replaces lone surrogates).
    unsafe {
        check_status!(
            sys::napi_get_value_string_utf8(
                env,
                value,
                buf.as_mut_ptr().add(start).cast(),
                room,
                &mut written,
            ),
            "expected a string"
        )?;
        // Node copies whole characters only, into room - 1 bytes: up to 3
        // bytes short of that, the text may have been cut short.
        if written + 4 >= room {
            // Ask the length, and copy again if it was.
            let mut len = 0;
            check_status!(sys::napi_get_value_string_utf8(
                env,
                value,
                std::ptr::null_mut(),
                0,
                &mut len
            ))?;
            if len > written {
                buf.reserve(len + 1);
                room = buf.capacity() - start;
                check_status!(sys::napi_get_value_string_utf8(
                    env,
                    value,
                    buf.as_mut_ptr().add(start).cast(),
                    room,
                    &mut written,
                ))?;
            }
        }
        buf.set_len(start + written);
    }
    Ok(start..start + written)
}

/// The text `read_text` copied into `buf[range]`.
pub(super) fn text_at(buf: &[u8], range: std::ops::Range<usize>) -> &str {
    // SAFETY: `read_text` wrote UTF-8 there (napi_get_value_string_utf8).
    unsafe { std::str::from_utf8_unchecked(&buf[range]) }
}

/// Runs `f` with the engine and its text buffer (empty), which is kept
/// for the next call unless it grew for one large text.
pub(super) fn with_text<R>(
    core: &mut EngineCore,
    f: impl FnOnce(&mut EngineCore, &mut Vec<u8>) -> R,
) -> R {
    let mut buf = std::mem::take(&mut core.text);
    let result = f(core, &mut buf);
    buf.clear();
    if buf.capacity() <= 64 * 1024 {
        core.text = buf;
    }
    result
}
