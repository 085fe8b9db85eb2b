//! What can still be answered of a message the parser refused.
//!
//! A `send` refused for its size, its depth or a wrong field still names its
//! asker in `from`; answering that asker with a rejection tells it why,
//! instead of leaving its promise pending forever. A refused `resolve` still
//! names one of our questions in `to`; rejecting that question keeps our own
//! caller from waiting forever. Everything else is only counted.
//!
//! The skim reads the top-level fields only and skips every value without
//! recursion (serde_json skips nested values with a loop), so it is safe on
//! text the depth check refused, and costs one linear pass.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

/// Whom a refused message can still be answered to.
#[derive(Debug, PartialEq, Eq)]
pub enum Salvage<'a> {
    /// A `send` whose asker (`from`) should receive a rejection.
    Asker(Cow<'a, str>),
    /// A `resolve` of our question `to`, which should be rejected here.
    Question(Cow<'a, str>),
}

#[derive(Deserialize)]
struct Skim<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    to: Option<&'a RawValue>,
    #[serde(borrow, default)]
    from: Option<&'a RawValue>,
}

/// The asker or question of a refused message, when its top level is a JSON
/// object with a string `type` of `send` (and a string `from`) or `resolve`
/// (and a string `to`).
pub fn salvage(text: &str) -> Option<Salvage<'_>> {
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let skim = Skim::deserialize(&mut de).ok()?;
    let string = |value: Option<&RawValue>| -> Option<Cow<'_, str>> {
        serde_json::from_str::<Cow<'_, str>>(value?.get()).ok()
    };
    match skim.kind.as_deref() {
        Some("send") => string(skim.from).map(Salvage::Asker),
        Some("resolve") => string(skim.to).map(Salvage::Question),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_asker_of_a_deep_send_without_recursing() {
        let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
        let text = format!(r#"{{"type":"send","to":"","from":"F\"1","op":"get","args":{deep}}}"#);
        assert_eq!(salvage(&text), Some(Salvage::Asker("F\"1".into())));
    }

    #[test]
    fn finds_the_question_of_a_resolve() {
        let text = r#"{"resolution":{"a":[[[]]]},"to":"Q","type":"resolve"}"#;
        assert_eq!(salvage(text), Some(Salvage::Question("Q".into())));
    }

    #[test]
    fn gives_nothing_for_text_it_cannot_attribute() {
        for text in [
            "not json",
            "[1]",
            r#"{"type":"send","from":5}"#,
            r#"{"type":"notify","to":"Q"}"#,
            r#"{"type":"resolve"}"#,
            r#"{"type":"send","from":"F""#,
            r#"{"type":7,"from":"F"}"#,
        ] {
            assert_eq!(salvage(text), None, "{text}");
        }
    }
}
