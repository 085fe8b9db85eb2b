use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::value::RawValue;
use std::borrow::Cow;

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
/// 7 the peer's hello, 8 released (the slots to free: `takeReleased()`;
/// a call that carried releases leaves its freed slots there too).
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
    pub(super) inner: Connection,
    /// Set by `debugArmPanic`: the next `receive` panics (fault-path tests).
    pub(super) panic_armed: bool,
    /// The refusal `receiveInto` reported as kind 5, for `takeRefusal`.
    pub(super) refusal: Option<BindingDelivery>,
    /// The slots a release freed (kind 8), for `takeReleased`.
    pub(super) released: Vec<u32>,
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
    args: &RawValue,
    answer_to: Cow<'_, str>,
) -> BindingDelivery {
    BindingDelivery {
        slot,
        op: op as u32,
        payload: Some(args.get().to_owned()),
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
        BindingEngine {
            inner: Connection::new(Options {
                capacity,
                limits,
                extensions,
            }),
            panic_armed: false,
            refusal: None,
            released: Vec::new(),
        }
    }

    /// Parses and routes one incoming message text.
    #[napi(catch_unwind)]
    pub fn receive(&mut self, text: String) -> BindingDelivery {
        if std::mem::take(&mut self.panic_armed) {
            panic!("debugArmPanic: a panic inside Engine.receive");
        }
        let delivery = match self.inner.receive(&text) {
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
                payload: Some(resolution.get().to_owned()),
                ..delivery(1)
            },
            Ok(Delivery::Notify { slot, resolution }) => BindingDelivery {
                slot,
                payload: Some(resolution.get().to_owned()),
                ..delivery(2)
            },
            Ok(Delivery::Hello) => delivery(7),
            Ok(Delivery::Released { slots }) => {
                self.released = slots;
                delivery(8)
            }
            Ok(Delivery::Lost) => delivery(3),
            Ok(Delivery::Ignored) => delivery(4),
            Err(refusal) => refused(refusal),
        };
        // Releases carried by a call: freed like those of kind 8.
        self.released
            .extend_from_slice(self.inner.released_with_call());
        delivery
    }

    /// Makes the `send` envelope of a call to the peer's id `to`; its answer
    /// will settle `slot`. Throws once the engine is closed.
    #[napi(catch_unwind)]
    pub fn ask(&mut self, to: String, op: u32, args_json: String, slot: u32) -> Result<String> {
        let op = op_from_code(op)?;
        self.inner
            .ask(&to, op, &args_json, slot)
            .map_err(|e| Error::from_reason(e.to_string()))
    }

    /// The `resolve` envelope answering the peer's question `to`.
    #[napi(catch_unwind)]
    pub fn answer(&mut self, to: String, resolution_json: String) -> String {
        self.inner.answer(&to, &resolution_json)
    }

    /// The `notify` envelope reporting progress on the peer's question `to`.
    #[napi(catch_unwind)]
    pub fn notify(&mut self, to: String, progress_json: String) -> String {
        self.inner.notify(&to, &progress_json)
    }

    /// A new id for the value JS keeps in `slot`. Throws past `maxExports`.
    #[napi(catch_unwind)]
    pub fn export(&mut self, slot: u32) -> Result<String> {
        self.inner
            .export(slot)
            .map_err(|e| Error::from_reason(e.to_string()))
    }

    /// Test hook for the fault path: makes the next `receive` panic, so a
    /// test can prove the panic is caught at the napi boundary (it becomes a
    /// JS exception) and the connection closes with it as the cause.
    #[napi]
    pub fn debug_arm_panic(&mut self) {
        self.panic_armed = true;
    }

    /// Slots of exports the LRU forgot since the last call.
    #[napi(catch_unwind)]
    pub fn take_evicted(&mut self) -> Vec<u32> {
        self.inner.take_evicted()
    }

    /// Closes the engine; returns the slots JS must reject (questions) and free.
    #[napi(catch_unwind)]
    pub fn close(&mut self) -> BindingClosed {
        let (questions, exports) = self.inner.close();
        BindingClosed { questions, exports }
    }

    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    #[napi]
    pub fn stats(&self) -> BindingStats {
        let s = self.inner.stats();
        BindingStats {
            exports: self.inner.export_count() as u32,
            questions: self.inner.question_count() as u32,
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
            answers: self.inner.answer_count() as u32,
            releases_in: s.releases_in as f64,
            releases_out: s.releases_out as f64,
        }
    }

    /// The slots the last release (kind 8) freed, once.
    #[napi]
    pub fn take_released(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.released)
    }

    /// The hello envelope to transmit before anything else; none when no
    /// extension is offered.
    #[napi(catch_unwind)]
    pub fn hello(&self) -> Option<String> {
        self.inner.hello()
    }

    /// The extensions both sides announced (empty until the peer's hello).
    #[napi(catch_unwind)]
    pub fn agreed_extensions(&self) -> Vec<String> {
        self.inner.negotiation().agreed()
    }

    /// Keeps the response to the peer's question `id` in `slot`; returns a
    /// replaced slot to free.
    #[napi(catch_unwind)]
    pub fn keep_answer(&mut self, id: String, slot: u32) -> Option<u32> {
        self.inner.keep_answer(&id, slot)
    }

    /// Gives up our pending question `id`; returns its slot.
    #[napi(catch_unwind)]
    pub fn cancel(&mut self, id: String) -> Option<u32> {
        self.inner.cancel(&id)
    }

    /// Queues the release of `count` receptions of the peer's export `id`.
    #[napi(catch_unwind)]
    pub fn release_import(&mut self, id: String, count: u32) {
        self.inner.release_import(&id, count as u64)
    }

    /// The release envelope of everything queued, if any.
    #[napi(catch_unwind)]
    pub fn take_release(&mut self) -> Option<String> {
        self.inner.take_release()
    }

    #[napi(getter)]
    pub fn has_pending_release(&self) -> bool {
        self.inner.has_pending_release()
    }

    /// Counts a re-sending of our export `id`; false when it is gone.
    #[napi(catch_unwind)]
    pub fn resend(&mut self, id: String) -> bool {
        self.inner.resend(&id)
    }

    /// The slot of our export `id` (for a reference sent back to us).
    #[napi(catch_unwind)]
    pub fn export_slot(&self, id: String) -> Option<u32> {
        self.inner.export_slot(&id)
    }

    /// The id of the last question asked, with a pipelining peer.
    #[napi(getter)]
    pub fn last_question(&self) -> Option<String> {
        self.inner.last_question().map(str::to_owned)
    }
}
