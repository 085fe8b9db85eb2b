//! `Engine.receiveInto`, the form of `Engine.receive` that the hot path uses.
//!
//! `receive` returns an object with up to ten properties and copies the
//! payload and the asker's id out as new JS strings: building that object
//! (each property key internalised again on every call) and the copies cost
//! more than parsing the message. Both texts are ranges of the message the
//! caller already holds, so `receiveInto` writes numbers into an array the
//! caller owns and reuses, and the caller slices its own string.

use std::borrow::Cow;

use napi::bindgen_prelude::*;
use napi::{JsString, JsValue};
use napi_derive::napi;

use super::binding_engine::{ask, delivery, refused, BindingDelivery, BindingEngine};
use super::binding_engine_handle::{read_text, text_at, with_engine, with_text, EngineCore};
use crate::protocol::{Connection, Delivery};

/// Indexes into `meta` (mirrored in lib/receive.js).
const KIND: usize = 0;
const SLOT: usize = 1;
const OP: usize = 2;
const PAYLOAD: usize = 3; // start, end
const ANSWER_TO: usize = 5; // start, end
const META_LEN: usize = 7;
/// In (when `meta` has room for it), reset to 0: how many `resolve`
/// envelopes the host wrote itself since the last call, around a verbatim
/// asker id (lib/receive.js answerHead), each counted as `answerHead` would
/// have before this message is looked at.
const ANSWERED: usize = 7;
/// In (when `meta` has room for `REPLACED`): a free slot the host offers
/// for keeping the answer of a call from a pipelining peer, or `ABSENT`.
/// Out: that slot when the engine kept the call's answer there (as
/// `keepAnswer` would: the host must put the answer's record in it before
/// it frees any slot), else `ABSENT`. Saves a `keepAnswer` crossing per call.
const KEEP: usize = 8;
/// Out, with `KEEP`: the slot `keepAnswer` would have returned (the peer
/// used an answer id twice; the host frees it), else `ABSENT`.
const REPLACED: usize = 9;
/// Out (when `meta` has room for it): the payload's `Revival` (what
/// `payloadRevival` answers), so the host needs no search of its own.
const REVIVAL: usize = 10;
/// How many slots a `send` freed with the releases it carried (when `meta`
/// has room for this index); the slots follow from `RELEASED_SLOTS`, or,
/// when they do not fit, this holds `ABSENT` and `takeReleased()` has them.
const RELEASED_COUNT: usize = 11;
const RELEASED_SLOTS: usize = 12;
/// Written as a start for a range that is absent.
const ABSENT: u32 = u32::MAX;

#[napi]
impl BindingEngine {
    /// Parses and routes one incoming message like `receive`, writing
    /// `[kind, slot, op, payloadStart, payloadEnd, answerToStart, answerToEnd]`
    /// into `meta` (a Uint32Array of at least 7), ranges in UTF-16 units of
    /// `text`, `ABSENT` (0xFFFFFFFF) as the start of a range not given.
    /// From index 7 on (when `meta` is longer): in, the answers the host
    /// wrote itself (`ANSWERED`); in and out, the slot for keeping a call's
    /// answer (`KEEP`, `REPLACED`); out, the payload's revival (`REVIVAL`),
    /// the count of slots freed by releases the message carried, then
    /// those slots (`RELEASED_COUNT`).
    /// Returns the asker's id only when it is not a verbatim range of `text`
    /// (it was written with JSON escapes). Kind 5 (refused): call
    /// `takeRefusal()` for the refusal, as `receive` would have returned it.
    #[napi(catch_unwind)]
    pub fn receive_into(
        &mut self,
        text: String,
        mut meta: Uint32ArraySlice,
    ) -> Result<Option<String>> {
        // SAFETY: as in `engine_receive_into`.
        receive_into(&mut *self.core()?, &text, unsafe { meta.as_mut() })
    }

    /// The refusal the last `receiveInto` reported (kind 5), once.
    #[napi]
    pub fn take_refusal(&mut self) -> Result<BindingDelivery> {
        Ok(self.core()?.refusal.take().unwrap_or_else(|| delivery(4)))
    }
}

/// `engine.receiveInto(text, meta)` for the engine `handle` (`Engine.handle`),
/// without napi-rs's per-call class bookkeeping (binding_engine_handle.rs).
/// At load, the binding's export is replaced by a plain N-API callback of
/// the same contract (binding_engine_raw.rs); this declaration gives it its
/// type in binding.d.ts.
#[napi(catch_unwind)]
pub fn engine_receive_into(
    env: Env,
    handle: u32,
    text: JsString,
    mut meta: Uint32ArraySlice,
) -> Result<Option<String>> {
    // SAFETY: the array's memory stays put during this synchronous call
    // and nothing else reads or writes it meanwhile.
    receive_into_raw(env.raw(), handle, text.raw(), unsafe { meta.as_mut() })
}

/// The body of `engineReceiveInto`, on raw N-API values.
pub(super) fn receive_into_raw(
    env: sys::napi_env,
    handle: u32,
    text: sys::napi_value,
    meta: &mut [u32],
) -> Result<Option<String>> {
    with_engine(handle, |core| {
        with_text(core, |core, buf| {
            read_text(env, text, buf)
                .and_then(|range| receive_into(core, text_at(buf, range), meta))
        })
    })
}

/// `engine.debugArmPanic()` for the engine `handle`: a test reaching a
/// connection's engine through `engineReceiveInto` has only the handle.
#[napi]
pub fn engine_debug_arm_panic(handle: u32) -> Result<()> {
    with_engine(handle, |core| {
        core.panic_armed = true;
        Ok(())
    })
}

/// `engine.ask(to, op, argsJson, slot)` for the engine `handle`. Replaced at
/// load like `engineReceiveInto` (binding_engine_raw.rs).
#[napi(catch_unwind)]
pub fn engine_ask(
    env: Env,
    handle: u32,
    to: JsString,
    op: u32,
    args_json: JsString,
    slot: u32,
) -> Result<String> {
    ask_raw(env.raw(), handle, to.raw(), op, args_json.raw(), slot)
}

/// The body of `engineAsk`, on raw N-API values.
pub(super) fn ask_raw(
    env: sys::napi_env,
    handle: u32,
    to: sys::napi_value,
    op: u32,
    args_json: sys::napi_value,
    slot: u32,
) -> Result<String> {
    with_engine(handle, |core| {
        with_text(core, |core, buf| {
            read_text(env, to, buf).and_then(|to| {
                let args = read_text(env, args_json, buf)?;
                ask(core, text_at(buf, to), op, text_at(buf, args), slot)
            })
        })
    })
}

/// `engine.keepAnswer(id, slot)` for the engine `handle`.
#[napi(catch_unwind)]
pub fn engine_keep_answer(env: Env, handle: u32, id: JsString, slot: u32) -> Result<Option<u32>> {
    with_engine(handle, |core| {
        with_text(core, |core, buf| {
            read_text(env.raw(), id.raw(), buf)
                .map(|id| core.inner.keep_answer(text_at(buf, id), slot))
        })
    })
}

fn receive_into(core: &mut EngineCore, text: &str, meta: &mut [u32]) -> Result<Option<String>> {
    if meta.len() < META_LEN {
        return Err(Error::from_reason(format!(
            "meta must hold {META_LEN} numbers"
        )));
    }
    if std::mem::take(&mut core.panic_armed) {
        panic!("debugArmPanic: a panic inside Engine.receive");
    }
    if meta.len() > ANSWERED {
        let answered = std::mem::take(&mut meta[ANSWERED]);
        if answered > 0 {
            core.inner.answered_by_host(answered as usize);
        }
    }
    let offered = if meta.len() > REPLACED {
        std::mem::replace(&mut meta[KEEP], ABSENT)
    } else {
        ABSENT
    };
    meta[PAYLOAD] = ABSENT;
    meta[ANSWER_TO] = ABSENT;
    let mut owned_answer_to = None;
    let (kind, slot, op) = match core.inner.receive(text) {
        // A call, or a call to one of our pending questions (kind 6).
        Ok(delivery @ (Delivery::Call { .. } | Delivery::CallQuestion { .. })) => {
            let kind = if matches!(delivery, Delivery::Call { .. }) {
                0
            } else {
                6
            };
            let (Delivery::Call {
                slot,
                op,
                args,
                answer_to,
                keep,
            }
            | Delivery::CallQuestion {
                slot,
                op,
                args,
                answer_to,
                keep,
            }) = delivery
            else {
                unreachable!("matched as a call above")
            };
            owned_answer_to = call(
                &mut core.inner,
                text,
                args,
                answer_to,
                keep.then_some(offered),
                meta,
            );
            (kind, slot, op as u32)
        }
        Ok(Delivery::Resolve { slot, resolution }) => {
            write_range(text, resolution, &mut meta[PAYLOAD..]);
            (1, slot, 0)
        }
        Ok(Delivery::Notify { slot, resolution }) => {
            write_range(text, resolution, &mut meta[PAYLOAD..]);
            (2, slot, 0)
        }
        Ok(Delivery::Hello) => (7, 0, 0),
        Ok(Delivery::Released { slots }) => {
            core.released = slots;
            (8, 0, 0)
        }
        Ok(Delivery::Lost) => (3, 0, 0),
        Ok(Delivery::Ignored) => (4, 0, 0),
        Err(refusal) => {
            core.refusal = Some(refused(refusal));
            (5, 0, 0)
        }
    };
    meta[KIND] = kind;
    meta[SLOT] = slot;
    meta[OP] = op;
    if meta.len() > REVIVAL {
        meta[REVIVAL] = core.inner.last_revival() as u32;
    }
    let released = core.inner.released_with_call();
    if meta.len() > RELEASED_COUNT && released.len() <= meta.len() - RELEASED_SLOTS {
        meta[RELEASED_COUNT] = released.len() as u32;
        meta[RELEASED_SLOTS..RELEASED_SLOTS + released.len()].copy_from_slice(released);
    } else {
        if meta.len() > RELEASED_COUNT {
            meta[RELEASED_COUNT] = ABSENT;
        }
        core.released.extend_from_slice(released);
    }
    Ok(owned_answer_to)
}

/// A call (kind 0 or 6): its answer kept in the host's offered slot when
/// the peer pipelines (`keep`: the slot, `ABSENT` when none was offered),
/// then its ranges written (see `write_call`).
fn call(
    inner: &mut Connection,
    text: &str,
    args: &str,
    answer_to: Cow<'_, str>,
    keep: Option<u32>,
    meta: &mut [u32],
) -> Option<String> {
    if let Some(offered) = keep.filter(|&slot| slot != ABSENT) {
        let replaced = inner.keep_answer(&answer_to, offered);
        meta[KEEP] = offered;
        meta[REPLACED] = replaced.unwrap_or(ABSENT);
    }
    write_call(text, args, answer_to, meta)
}

/// Writes the ranges of a call's args and asker id; returns the id when it
/// is not a range of `text`.
fn write_call(text: &str, args: &str, answer_to: Cow<'_, str>, meta: &mut [u32]) -> Option<String> {
    write_range(text, args, &mut meta[PAYLOAD..]);
    if write_range(text, &answer_to, &mut meta[ANSWER_TO..]) {
        None
    } else {
        Some(answer_to.into_owned())
    }
}

/// Writes the UTF-16 range of `part` within `text` into `out[0..2]` when
/// `part` borrows from `text`; returns false (writing nothing) otherwise.
fn write_range(text: &str, part: &str, out: &mut [u32]) -> bool {
    let start = (part.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    if start > text.len() || start + part.len() > text.len() {
        return false;
    }
    let start16 = utf16_len(&text[..start]);
    out[0] = start16 as u32;
    out[1] = (start16 + utf16_len(part)) as u32;
    true
}

/// Length in UTF-16 units; the byte length for ASCII (checked a word at a time).
fn utf16_len(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.encode_utf16().count()
    }
}
