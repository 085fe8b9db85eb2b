//! What lets the host skip work on a large payload's text (bench/ payload):
//! envelopes it completes itself, so the text never crosses into the engine
//! and back (two copies and two UTF-8 conversions of a 1 MB answer
//! otherwise), and what the engine's scan of an incoming text learnt for
//! the host's decoder.

use napi::bindgen_prelude::*;
use napi::{JsString, JsValue};
use napi_derive::napi;

use super::binding_engine::BindingEngine;
use super::binding_engine_handle::{read_text, text_at, with_engine, with_text};

#[napi]
impl BindingEngine {
    /// The `resolve` envelope answering the peer's question `to`, up to its
    /// resolution: `answerHead(to) + resolutionJson + "}"` is exactly
    /// `answer(to, resolutionJson)`, with the same bookkeeping.
    #[napi(catch_unwind)]
    pub fn answer_head(&mut self, to: String) -> Result<String> {
        Ok(self.core()?.inner.answer_head(&to))
    }

    /// What the payload of the last accepted message needs from the QSON
    /// decoder beyond JSON.parse: 0 nothing, 1 its {"%"}, {"!"}, {"@"} forms
    /// decoded in place, 2 the general decoder (lib/qson-text.js `revivalOf`
    /// answers the same from the text, at the cost of another search).
    #[napi(getter)]
    pub fn payload_revival(&self) -> Result<u32> {
        Ok(self.core()?.inner.last_revival() as u32)
    }
}

/// `engine.answerHead(to)` for the engine `handle` (`Engine.handle`).
#[napi(catch_unwind)]
pub fn engine_answer_head(env: Env, handle: u32, to: JsString) -> Result<String> {
    with_engine(handle, |core| {
        with_text(core, |core, buf| {
            read_text(env.raw(), to.raw(), buf).map(|to| core.inner.answer_head(text_at(buf, to)))
        })
    })
}
