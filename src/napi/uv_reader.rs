//! Reading a ws:// link on the JS thread that owns it: a libuv poll on the
//! reader's descriptor (a duplicate of the socket's, see
//! `transport::host_read`) in that thread's event loop, so a received frame
//! costs one wake-up, the JS thread's, as with the `ws` module, instead of
//! the tokio thread's and then the JS thread's through a threadsafe function.
//!
//! Contracts:
//! - JS is called from the poll callback with `napi_make_callback` inside a
//!   handle scope, as Node calls its own I/O callbacks: `process.nextTick`
//!   callbacks and microtasks run right after it. An exception from the
//!   batch callback goes to the error callback; one from the error callback
//!   is dropped: never a crash, never an uncaught exception.
//! - The poll is stopped and closed on this thread before the reader's
//!   descriptor is closed (dropping the reader closes it). The driver never
//!   closes that descriptor; it ends the connection with `shutdown(2)`, which
//!   the poll sees as the end of the stream.
//! - While polling, the handle keeps the event loop alive, as the open
//!   socket should; it closes when the reader meets the end, when the
//!   connection's Closed report is delivered (`stop`), or when the env is
//!   torn down (a terminating worker, an exiting process: cleanup hook).
//! - Everything here runs on the JS thread that called `start`; the `Arc`
//!   only lets the handle, the cleanup hook, the connection object and its
//!   threadsafe function share the reader.

use std::alloc::Layout;
use std::ffi::c_void;
use std::os::raw::c_int;
use std::ptr;
use std::sync::Arc;

use napi::sys;
use parking_lot::Mutex;

use super::binding_engine_raw::js_string;
use crate::transport::{HostReader, ReadState};

// libuv's own symbols, exported by Node (napi-sys declares only the loop).
extern "C" {
    fn uv_handle_size(kind: c_int) -> usize;
    fn uv_poll_init(event_loop: *mut sys::uv_loop_s, handle: *mut c_void, fd: c_int) -> c_int;
    fn uv_poll_start(handle: *mut c_void, events: c_int, callback: PollCallback) -> c_int;
    fn uv_poll_stop(handle: *mut c_void) -> c_int;
    fn uv_close(handle: *mut c_void, callback: CloseCallback);
}

type PollCallback = unsafe extern "C" fn(handle: *mut c_void, status: c_int, events: c_int);
type CloseCallback = unsafe extern "C" fn(handle: *mut c_void);

/// `UV_POLL` in `uv_handle_type` (uv.h), and `UV_READABLE` in `uv_poll_event`.
const UV_POLL: c_int = 8;
const UV_READABLE: c_int = 1;

/// The poll handle's memory: `uv_handle_size(UV_POLL)` bytes. Its first
/// field is `void* data`, where the handle keeps its `Arc<UvReader>`.
fn handle_layout() -> Layout {
    // SAFETY: a pure function of libuv's.
    let size = unsafe { uv_handle_size(UV_POLL) };
    Layout::from_size_align(size.max(8), 16).expect("a handle's size is small")
}

/// A link's reader on the JS thread (see the module docs).
pub(crate) struct UvReader {
    /// `None` once finished, and while the poll callback runs (so that a
    /// re-entrant `resume` or `stop` from JS is a no-op).
    cell: Mutex<Option<Box<Polled>>>,
}

struct Polled {
    env: sys::napi_env,
    handle: *mut c_void,
    reader: HostReader,
    on_batch: sys::napi_ref,
    on_error: sys::napi_ref,
    context: sys::napi_async_context,
    polling: bool,
    /// The cleanup hook's argument (its own `Arc`), null once removed.
    hook: *const UvReader,
}

// SAFETY: the raw napi/libuv pointers are used only on the JS thread that
// created them (every path into `Polled` runs there, see the module docs).
unsafe impl Send for Polled {}

/// A napi call that must succeed for the reader to work.
fn check(status: sys::napi_status, what: &str) -> napi::Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::from_reason(format!(
            "{what} failed ({status})"
        )))
    }
}

impl UvReader {
    /// Starts polling `reader`'s descriptor in `env`'s event loop; what
    /// each read brings goes to `on_batch(text)` (one message) or
    /// `on_batch([text, ...])` (several), an exception from it to
    /// `on_error(exception)` if given.
    pub(crate) fn start(
        env: sys::napi_env,
        reader: HostReader,
        on_batch: sys::napi_value,
        on_error: Option<sys::napi_value>,
    ) -> napi::Result<Arc<UvReader>> {
        // SAFETY: called on the JS thread of `env`, with live values.
        unsafe {
            let mut event_loop = ptr::null_mut();
            check(
                sys::napi_get_uv_event_loop(env, &mut event_loop),
                "napi_get_uv_event_loop",
            )?;
            let mut batch_ref = ptr::null_mut();
            check(
                sys::napi_create_reference(env, on_batch, 1, &mut batch_ref),
                "napi_create_reference",
            )?;
            let mut error_ref = ptr::null_mut();
            if let Some(on_error) = on_error {
                sys::napi_create_reference(env, on_error, 1, &mut error_ref);
            }
            let mut name = ptr::null_mut();
            let label = "q-connection-rs:ws";
            sys::napi_create_string_utf8(
                env,
                label.as_ptr().cast(),
                label.len() as isize,
                &mut name,
            );
            let mut context = ptr::null_mut();
            sys::napi_async_init(env, ptr::null_mut(), name, &mut context);

            let layout = handle_layout();
            let handle = std::alloc::alloc_zeroed(layout).cast::<c_void>();
            if handle.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            let fd = reader.fd();
            let shared = Arc::new(UvReader {
                cell: Mutex::new(None),
            });
            let mut polled = Box::new(Polled {
                env,
                handle,
                reader,
                on_batch: batch_ref,
                on_error: error_ref,
                context,
                polling: false,
                hook: ptr::null(),
            });
            if uv_poll_init(event_loop, handle, fd) != 0 {
                std::alloc::dealloc(handle.cast(), layout);
                polled.handle = ptr::null_mut();
                polled.release_js();
                return Err(napi::Error::from_reason("uv_poll_init failed"));
            }
            // From here the handle is initialised: it is freed by `on_closed`.
            *handle.cast::<*const UvReader>() = Arc::into_raw(shared.clone());
            let hook = Arc::into_raw(shared.clone());
            if sys::napi_add_env_cleanup_hook(env, Some(on_env_cleanup), hook as *mut c_void)
                == sys::Status::napi_ok
            {
                polled.hook = hook;
            } else {
                drop(Arc::from_raw(hook));
            }
            polled.polling = uv_poll_start(handle, UV_READABLE, on_readable) == 0;
            if !polled.polling {
                polled.finish();
                return Err(napi::Error::from_reason("uv_poll_start failed"));
            }
            *shared.cell.lock() = Some(polled);
            Ok(shared)
        }
    }

    /// Polls again after a pause, if the reader may go on (see
    /// `HostReader::resume`). Called on the JS thread.
    pub(crate) fn resume(&self) {
        let mut cell = self.cell.lock();
        let Some(polled) = cell.as_mut() else { return };
        if polled.polling || polled.reader.is_finished() || !polled.reader.resume() {
            return;
        }
        // SAFETY: the handle is initialised and not closed while in the cell.
        polled.polling = unsafe { uv_poll_start(polled.handle, UV_READABLE, on_readable) } == 0;
    }

    /// Stops reading for good (the connection's end was reported). Called
    /// on the JS thread.
    pub(crate) fn stop(&self) {
        let polled = self.cell.lock().take();
        if let Some(polled) = polled {
            polled.finish();
        }
    }
}

impl Polled {
    /// Reads, hands the messages to JS, and follows the reader's state.
    fn on_readable(mut self: Box<Self>, cell: &Mutex<Option<Box<Polled>>>) {
        let read = self.reader.read();
        if !read.messages.is_empty() {
            self.deliver(read.messages);
        }
        match read.state {
            ReadState::Reading => *cell.lock() = Some(self),
            ReadState::Paused => {
                // SAFETY: the handle is initialised and open.
                unsafe { uv_poll_stop(self.handle) };
                self.polling = false;
                *cell.lock() = Some(self);
            }
            ReadState::Finished => self.finish(),
        }
    }

    /// Calls JS with the one text read, or an array of the texts when a
    /// read brought several (see the module docs): no batch object and no
    /// array for the usual single message (lib/native.js tells these from
    /// the threadsafe function's batch object by their type).
    fn deliver(&self, messages: Vec<String>) {
        let env = self.env;
        // SAFETY: on the JS thread of `env`, inside a handle scope.
        unsafe {
            let mut scope = ptr::null_mut();
            if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
                return;
            }
            let mut argument = ptr::null_mut();
            if let [text] = messages.as_slice() {
                string(env, text, &mut argument);
            } else {
                sys::napi_create_array_with_length(env, messages.len(), &mut argument);
                for (i, text) in messages.iter().enumerate() {
                    let mut value = ptr::null_mut();
                    string(env, text, &mut value);
                    sys::napi_set_element(env, argument, i as u32, value);
                }
            }
            if let Some(exception) = self.call(self.on_batch, argument) {
                if !self.on_error.is_null() {
                    // A failing error callback has nowhere left to report to.
                    self.call(self.on_error, exception);
                }
            }
            sys::napi_close_handle_scope(env, scope);
        }
    }

    /// Calls the function behind `reference` with `argument`; the exception
    /// it threw, cleared, if any.
    ///
    /// # Safety
    /// On the JS thread of `self.env`, inside a handle scope.
    unsafe fn call(
        &self,
        reference: sys::napi_ref,
        argument: sys::napi_value,
    ) -> Option<sys::napi_value> {
        let env = self.env;
        let mut function = ptr::null_mut();
        let mut global = ptr::null_mut();
        let mut result = ptr::null_mut();
        sys::napi_get_reference_value(env, reference, &mut function);
        sys::napi_get_global(env, &mut global);
        let status = sys::napi_make_callback(
            env,
            self.context,
            global,
            function,
            1,
            &argument,
            &mut result,
        );
        if status == sys::Status::napi_ok {
            return None;
        }
        let mut exception = ptr::null_mut();
        sys::napi_get_and_clear_last_exception(env, &mut exception);
        Some(exception)
    }

    /// Stops and closes the poll, removes the cleanup hook, releases the JS
    /// callbacks, then drops the reader (closing its descriptor: the poll
    /// was stopped first).
    fn finish(mut self: Box<Self>) {
        // SAFETY: on the JS thread; the handle, when set, is initialised and open.
        unsafe {
            if !self.handle.is_null() {
                uv_poll_stop(self.handle);
                uv_close(self.handle, on_closed);
                self.handle = ptr::null_mut();
            }
            if !self.hook.is_null() {
                let hook = std::mem::replace(&mut self.hook, ptr::null());
                sys::napi_remove_env_cleanup_hook(
                    self.env,
                    Some(on_env_cleanup),
                    hook as *mut c_void,
                );
                drop(Arc::from_raw(hook));
            }
            self.release_js();
        }
    }

    /// # Safety
    /// On the JS thread of `self.env`.
    unsafe fn release_js(&mut self) {
        if !self.on_batch.is_null() {
            sys::napi_delete_reference(self.env, self.on_batch);
            self.on_batch = ptr::null_mut();
        }
        if !self.on_error.is_null() {
            sys::napi_delete_reference(self.env, self.on_error);
            self.on_error = ptr::null_mut();
        }
        if !self.context.is_null() {
            sys::napi_async_destroy(self.env, self.context);
            self.context = ptr::null_mut();
        }
    }
}

/// The handle's `Arc`, borrowed (the handle holds it until `on_closed`).
///
/// # Safety
/// `handle` is an initialised poll handle whose data `start` set.
unsafe fn shared<'a>(handle: *mut c_void) -> &'a UvReader {
    &**handle.cast::<*const UvReader>()
}

/// A JS string of `text` in `value` (binding_engine_raw.rs's `js_string`);
/// left null if N-API refuses, as every call in this callback is unchecked.
///
/// # Safety
/// On the JS thread of `env`, inside a handle scope.
unsafe fn string(env: sys::napi_env, text: &str, value: &mut sys::napi_value) {
    if let Ok(made) = js_string(env, text) {
        *value = made;
    }
}

unsafe extern "C" fn on_readable(handle: *mut c_void, _status: c_int, _events: c_int) {
    // An error status is met by the read itself (as an I/O error or the end).
    let reader = shared(handle);
    let polled = reader.cell.lock().take();
    if let Some(polled) = polled {
        polled.on_readable(&reader.cell);
    }
}

unsafe extern "C" fn on_closed(handle: *mut c_void) {
    drop(Arc::from_raw(*handle.cast::<*const UvReader>()));
    std::alloc::dealloc(handle.cast(), handle_layout());
}

/// The env is going away (a worker terminating, the process exiting): the
/// poll is closed and the descriptor with it; the driver then ends the link.
unsafe extern "C" fn on_env_cleanup(argument: *mut c_void) {
    let reader = Arc::from_raw(argument as *const UvReader);
    let polled = reader.cell.lock().take();
    if let Some(mut polled) = polled {
        // This hook is running: it is removed already.
        polled.hook = ptr::null();
        polled.finish();
    }
}
