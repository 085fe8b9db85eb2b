use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::borrow::Cow;

use std::cell::{RefCell, RefMut};
use std::rc::Rc;

use super::binding_engine_handle::{borrow, register, unregister, EngineCore, SharedCore};
use crate::protocol::{Connection, Delivery, Limits, Op, Options, Refusal};

/// Options of an engine; every field optional.
#[napi(object)]
pub struct BindingEngineOptions {
    /// Bound on exported references (0.6.1's `capacity`/`max`); unbounded when absent.
    pub capacity: Option<u32>,
    pub max_message_bytes: Option<u32>,
    pub max_depth: Option<u32>,
    /// Calls from the peer served at once (default 10,000).
    pub max_pending_calls: Option<u32>,
    /// Exports alive at once (default 100,000).
    pub max_exports: Option<u32>,
    /// Extension names announced in the hello; none (the default) sends no hello.
    pub extensions: Option<Vec<String>>,
}

/// What JS must do with one incoming message (see `Delivery` in the core).
/// `kind`: 0 call, 1 resolve, 2 notify, 3 lost, 4 ignored, 5 refused,
/// 6 call to one of our pending questions (see `Delivery::CallQuestion`),
/// 7 the peer's first hello (transmit `hello()` now, if any), 8 released
/// (the slots to free: `takeReleased()`; a call that carried releases
/// leaves its freed slots there too).
/// A call from a pipelining peer (once `agreedExtensions()` has "pipeline")
/// must also be kept with `keepAnswer`.
#[napi(object)]
pub struct BindingDelivery {
    pub kind: u32,
    pub slot: u32,
    /// For a call: 0 get, 1 set, 2 delete, 3 post, 4 apply, 5 keys.
    pub op: u32,
    /// The QSON text of the call's `args` or of the `resolution`.
    pub payload: Option<String>,
    /// For a call: the asker's id, to answer to.
    pub answer_to: Option<String>,
    /// For a refusal: what was wrong, and a stable code.
    pub error: Option<String>,
    pub code: Option<String>,
    /// For a refusal: an envelope to transmit so the asker's promise rejects.
    pub reply: Option<String>,
    /// For a refusal of a resolve: the slot of our question to reject with `error`.
    pub question: Option<u32>,
}

#[napi(object)]
pub struct BindingStats {
    pub exports: u32,
    pub questions: u32,
    pub sends_in: f64,
    pub resolves_in: f64,
    pub notifies_in: f64,
    pub sends_out: f64,
    pub resolves_out: f64,
    pub notifies_out: f64,
    pub lost: f64,
    pub ignored: f64,
    pub malformed: f64,
    pub refused: f64,
    pub evicted: f64,
    pub calls_refused: f64,
    pub exports_refused: f64,
    pub answers: u32,
    pub releases_in: f64,
    pub releases_out: f64,
}

/// Exports and questions freed by the engine, for JS to drop from its slots.
#[napi(object)]
pub struct BindingClosed {
    pub questions: Vec<u32>,
    pub exports: Vec<u32>,
}

#[napi(js_name = "Engine")]
pub struct BindingEngine {
    /// The number the hot crossings take (src/napi/binding_engine_handle.rs).
    pub(super) handle: u32,
    pub(super) core: SharedCore,
}

impl Drop for BindingEngine {
    fn drop(&mut self) {
        unregister(self.handle);
    }
}

impl BindingEngine {
    /// The engine for one call (an error if a call is already using it).
    pub(super) fn core(&self) -> Result<RefMut<'_, EngineCore>> {
        borrow(&self.core)
    }
}

pub(super) fn delivery(kind: u32) -> BindingDelivery {
    BindingDelivery {
        kind,
        slot: 0,
        op: 0,
        payload: None,
        answer_to: None,
        error: None,
        code: None,
        reply: None,
        question: None,
    }
}

/// A call (`kind` 0) or a call to one of our pending questions (`kind` 6).
fn call_delivery(
    kind: u32,
    slot: u32,
    op: Op,
    args: &str,
    answer_to: Cow<'_, str>,
) -> BindingDelivery {
    BindingDelivery {
        slot,
        op: op as u32,
        payload: Some(args.to_owned()),
        answer_to: Some(answer_to.into_owned()),
        ..delivery(kind)
    }
}

pub(super) fn refused(
    Refusal {
        error,
        reply,
        question,
    }: Refusal,
) -> BindingDelivery {
    BindingDelivery {
        error: Some(error.to_string()),
        code: Some(error.code().to_owned()),
        reply,
        question,
        ..delivery(5)
    }
}

fn op_from_code(code: u32) -> Result<Op> {
    Ok(match code {
        0 => Op::Get,
        1 => Op::Set,
        2 => Op::Delete,
        3 => Op::Post,
        4 => Op::Apply,
        5 => Op::Keys,
        _ => return Err(Error::from_reason(format!("unknown operation code {code}"))),
    })
}

#[napi]
impl BindingEngine {
    #[napi(constructor)]
    pub fn new(options: Option<BindingEngineOptions>) -> Self {
        let defaults = Limits::default();
        let (capacity, limits, extensions) = match options {
            Some(o) => (
                o.capacity.map(|c| c as usize),
                Limits {
                    max_message_bytes: o
                        .max_message_bytes
                        .map_or(defaults.max_message_bytes, |n| n as usize),
                    max_depth: o.max_depth.map_or(defaults.max_depth, |n| n as usize),
                    max_pending_calls: o
                        .max_pending_calls
                        .map_or(defaults.max_pending_calls, |n| n as usize),
                    max_exports: o.max_exports.map_or(defaults.max_exports, |n| n as usize),
                },
                o.extensions.unwrap_or_default(),
            ),
            None => (None, defaults, Vec::new()),
        };
        let core = Rc::new(RefCell::new(EngineCore {
            inner: Connection::new(Options {
                capacity,
                limits,
                extensions,
            }),
            panic_armed: false,
            refusal: None,
            released: Vec::new(),
            text: Vec::new(),
        }));
        BindingEngine {
            handle: register(core.clone()),
            core,
        }
    }

    /// This engine's number for the plain-function crossings
    /// (`engineReceiveInto`, `engineAsk`, ...), valid on this thread only.
    #[napi(getter)]
    pub fn handle(&self) -> u32 {
        self.handle
    }

    /// Parses and routes one incoming message text.
    #[napi(catch_unwind)]
    pub fn receive(&mut self, text: String) -> Result<BindingDelivery> {
        let mut core = self.core()?;
        let core = &mut *core;
        if std::mem::take(&mut core.panic_armed) {
            panic!("debugArmPanic: a panic inside Engine.receive");
        }
        let delivery = match core.inner.receive(&text) {
            Ok(Delivery::Call {
                slot,
                op,
                args,
                answer_to,
                ..
            }) => call_delivery(0, slot, op, args, answer_to),
            Ok(Delivery::CallQuestion {
                slot,
                op,
                args,
                answer_to,
                ..
            }) => call_delivery(6, slot, op, args, answer_to),
            Ok(Delivery::Resolve { slot, resolution }) => BindingDelivery {
                slot,
                payload: Some(resolution.to_owned()),
                ..delivery(1)
            },
            Ok(Delivery::Notify { slot, resolution }) => BindingDelivery {
                slot,
                payload: Some(resolution.to_owned()),
                ..delivery(2)
            },
            Ok(Delivery::Hello) => delivery(7),
            Ok(Delivery::Released { slots }) => {
                core.released = slots;
                delivery(8)
            }
            Ok(Delivery::Lost) => delivery(3),
            Ok(Delivery::Ignored) => delivery(4),
            Err(refusal) => refused(refusal),
        };
        // Releases carried by a call: freed like those of kind 8.
        core.released
            .extend_from_slice(core.inner.released_with_call());
        Ok(delivery)
    }

    /// Makes the `send` envelope of a call to the peer's id `to`; its answer
    /// will settle `slot`. Throws once the engine is closed.
    #[napi(catch_unwind)]
    pub fn ask(&mut self, to: String, op: u32, args_json: String, slot: u32) -> Result<String> {
        ask(&mut *self.core()?, &to, op, &args_json, slot)
    }

    /// The `resolve` envelope answering the peer's question `to`.
    #[napi(catch_unwind)]
    pub fn answer(&mut self, to: String, resolution_json: String) -> Result<String> {
        Ok(self.core()?.inner.answer(&to, &resolution_json))
    }

    /// The `notify` envelope reporting progress on the peer's question `to`.
    #[napi(catch_unwind)]
    pub fn notify(&mut self, to: String, progress_json: String) -> Result<String> {
        Ok(self.core()?.inner.notify(&to, &progress_json))
    }

    /// A new id for the value JS keeps in `slot`. Throws past `maxExports`.
    #[napi(catch_unwind)]
    pub fn export(&mut self, slot: u32) -> Result<String> {
        self.core()?
            .inner
            .export(slot)
            .map_err(|e| Error::from_reason(e.to_string()))
    }

    /// Test hook for the fault path: makes the next `receive` panic, so a
    /// test can prove the panic is caught at the napi boundary (it becomes a
    /// JS exception) and the connection closes with it as the cause.
    #[napi]
    pub fn debug_arm_panic(&mut self) -> Result<()> {
        self.core()?.panic_armed = true;
        Ok(())
    }

    /// Slots of exports the LRU forgot since the last call.
    #[napi(catch_unwind)]
    pub fn take_evicted(&mut self) -> Result<Vec<u32>> {
        Ok(self.core()?.inner.take_evicted())
    }

    /// Closes the engine; returns the slots JS must reject (questions) and free.
    #[napi(catch_unwind)]
    pub fn close(&mut self) -> Result<BindingClosed> {
        let (questions, exports) = self.core()?.inner.close();
        Ok(BindingClosed { questions, exports })
    }

    #[napi(getter)]
    pub fn closed(&self) -> Result<bool> {
        Ok(self.core()?.inner.is_closed())
    }

    #[napi]
    pub fn stats(&self) -> Result<BindingStats> {
        let core = self.core()?;
        let inner = &core.inner;
        let s = inner.stats();
        Ok(BindingStats {
            exports: inner.export_count() as u32,
            questions: inner.question_count() as u32,
            sends_in: s.sends_in as f64,
            resolves_in: s.resolves_in as f64,
            notifies_in: s.notifies_in as f64,
            sends_out: s.sends_out as f64,
            resolves_out: s.resolves_out as f64,
            notifies_out: s.notifies_out as f64,
            lost: s.lost as f64,
            ignored: s.ignored as f64,
            malformed: s.malformed as f64,
            refused: s.refused as f64,
            evicted: s.evicted as f64,
            calls_refused: s.calls_refused as f64,
            exports_refused: s.exports_refused as f64,
            answers: inner.answer_count() as u32,
            releases_in: s.releases_in as f64,
            releases_out: s.releases_out as f64,
        })
    }

    /// The slots the last release (kind 8) freed, once.
    #[napi]
    pub fn take_released(&mut self) -> Result<Vec<u32>> {
        Ok(std::mem::take(&mut self.core()?.released))
    }

    /// The hello envelope to transmit now, each at most once: at open (before
    /// anything else), and right after a delivery of kind 7 (the peer's
    /// hello) our reply saying `heard`; none otherwise, and always when no
    /// extension is offered.
    #[napi(catch_unwind)]
    pub fn hello(&self) -> Result<Option<String>> {
        Ok(self.core()?.inner.hello())
    }

    /// The extensions both sides announced (empty until the peer's hello).
    #[napi(catch_unwind)]
    pub fn agreed_extensions(&self) -> Result<Vec<String>> {
        Ok(self.core()?.inner.negotiation().agreed())
    }

    /// Keeps the response to the peer's question `id` in `slot`; returns a
    /// replaced slot to free.
    #[napi(catch_unwind)]
    pub fn keep_answer(&mut self, id: String, slot: u32) -> Result<Option<u32>> {
        Ok(self.core()?.inner.keep_answer(&id, slot))
    }

    /// Gives up our pending question `id`; returns its slot.
    #[napi(catch_unwind)]
    pub fn cancel(&mut self, id: String) -> Result<Option<u32>> {
        Ok(self.core()?.inner.cancel(&id))
    }

    /// Queues the release of `count` receptions of the peer's export `id`.
    #[napi(catch_unwind)]
    pub fn release_import(&mut self, id: String, count: u32) -> Result<()> {
        self.core()?.inner.release_import(&id, count as u64);
        Ok(())
    }

    /// The release envelope of everything queued, if any.
    #[napi(catch_unwind)]
    pub fn take_release(&mut self) -> Result<Option<String>> {
        Ok(self.core()?.inner.take_release())
    }

    #[napi(getter)]
    pub fn has_pending_release(&self) -> Result<bool> {
        Ok(self.core()?.inner.has_pending_release())
    }

    /// Counts a re-sending of our export `id`; false when it is gone.
    #[napi(catch_unwind)]
    pub fn resend(&mut self, id: String) -> Result<bool> {
        Ok(self.core()?.inner.resend(&id))
    }

    /// The slot of our export `id` (for a reference sent back to us).
    #[napi(catch_unwind)]
    pub fn export_slot(&self, id: String) -> Result<Option<u32>> {
        Ok(self.core()?.inner.export_slot(&id))
    }

    /// The id of the last question asked, with a pipelining peer.
    #[napi(getter)]
    pub fn last_question(&self) -> Result<Option<String>> {
        Ok(self.core()?.inner.last_question().map(str::to_owned))
    }
}

/// `Engine.ask` and `engineAsk`.
pub(super) fn ask(
    core: &mut EngineCore,
    to: &str,
    op: u32,
    args_json: &str,
    slot: u32,
) -> Result<String> {
    let op = op_from_code(op)?;
    core.inner
        .ask(to, op, args_json, slot)
        .map_err(|e| Error::from_reason(e.to_string()))
}
