//! Envelopes the host completes itself, so that a large payload's text
//! never crosses into the engine and back (two copies and two UTF-8
//! conversions of a 1 MB answer otherwise; bench/ payload).

use napi_derive::napi;

use super::binding_engine::BindingEngine;

#[napi]
impl BindingEngine {
    /// The `resolve` envelope answering the peer's question `to`, up to its
    /// resolution: `answerHead(to) + resolutionJson + "}"` is exactly
    /// `answer(to, resolutionJson)`, with the same bookkeeping.
    #[napi(catch_unwind)]
    pub fn answer_head(&mut self, to: String) -> String {
        self.inner.answer_head(&to)
    }
}
