//! Properties of `canonical.rs`, the serde-free reader of `send` and
//! `resolve`: wherever it answers, it answers what the general parser
//! answers (envelope and revival), for hostile text and for every limit;
//! and it does answer for the envelopes we write, so the fast path is the
//! one traffic takes.

use proptest::prelude::*;

use super::canonical;
use super::message::{self, Limits};
use super::property_tests::{hostile_text, json_value};

const CASES_AGREE: u32 = 20_000;
const CASES_WRITTEN: u32 = 3_000;

/// Canonical layouts, so that mutations land near the fast path's edges.
const CANONICAL: [&str; 6] = [
    r#"{"type":"send","to":"","from":"F1","op":"get","args":["a"]}"#,
    r#"{"type":"send","to":"T","from":"F2","op":"post","args":["m",[1,-0.5e+3,{"k":[true,false,null]}]],"release":{"Q":1,"P":22}}"#,
    r#"{"type":"send","to":"T","from":"F3","op":"apply","args":[null,[{"@":"E","%":"NaN","$":"/0"}]],"release":{}}"#,
    r#"{"type":"resolve","to":"Q","resolution":{"a":[1,2,{"b":"é"}],"c":0}}"#,
    r#"{"type":"resolve","to":"Q","resolution":[ 1 , { "x" : 2 } ]}"#,
    r#"{"type":"resolve","to":"Q","resolution":"!"}"#,
];

fn mutated_canonical() -> impl Strategy<Value = String> {
    (
        prop::sample::select(CANONICAL.to_vec()),
        prop::collection::vec(super::property_tests::edit(), 0..4),
    )
        .prop_map(|(template, edits)| super::property_tests::apply(template, &edits))
}

fn agrees(text: &str, max_depth: usize) -> Result<(), TestCaseError> {
    if let Some((envelope, revival)) = canonical::parse(text, max_depth) {
        match message::parse_general(text, max_depth) {
            Ok((general, general_revival)) => {
                prop_assert_eq!(format!("{envelope:?}"), format!("{general:?}"), "{}", text);
                prop_assert_eq!(revival, general_revival, "{}", text);
            }
            Err(error) => prop_assert!(
                false,
                "fast path accepted what the general parser refuses ({error:?}): {text}"
            ),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_AGREE))]

    #[test]
    fn answers_only_what_the_general_parser_answers(
        text in prop_oneof![mutated_canonical(), hostile_text()],
        max_depth in prop_oneof![Just(Limits::default().max_depth), 0usize..6],
    ) {
        agrees(&text, max_depth)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_WRITTEN))]

    #[test]
    fn reads_the_envelopes_we_write(
        to in "[A-Za-z0-9_$%]{0,12}",
        from in "[A-Za-z0-9]{1,12}",
        args in prop::collection::vec(json_value(), 0..4),
        resolution in json_value(),
        release in prop::collection::btree_map("[A-Za-z0-9]{1,8}", 1u64.., 0..3),
    ) {
        let args_json = serde_json::Value::from(args).to_string();
        let release: Vec<(String, u64)> = release.into_iter().collect();
        let resolution_json = resolution.to_string();
        let texts = [
            message::send(&to, &from, "invoke", &args_json),
            message::send_releasing(&to, &from, "post", &args_json, &release),
            message::settle("resolve", &to, &resolution_json),
        ];
        for text in &texts {
            agrees(text, Limits::default().max_depth)?;
            // Escapes and deep nesting are the general parser's; all else is ours.
            if !text.contains('\\') && text.bytes().all(|b| b >= 0x20) {
                prop_assert!(canonical::parse(text, Limits::default().max_depth).is_some(), "{}", text);
            }
        }
    }
}

#[test]
fn gives_up_where_serde_would_differ() {
    let depth = Limits::default().max_depth;
    for text in [
        // A repeated release id: serde's map keeps the last.
        r#"{"type":"send","to":"","from":"F","op":"get","args":[],"release":{"a":1,"a":2}}"#,
        // Whitespace between the envelope's own tokens, an extra field, an escape.
        r#"{"type":"send", "to":"","from":"F","op":"get","args":[]}"#,
        r#"{"type":"resolve","to":"Q","resolution":1,"x":2}"#,
        r#"{"type":"resolve","to":"Q\u0041","resolution":1}"#,
        // Outside JSON's grammar.
        r#"{"type":"resolve","to":"Q","resolution":01}"#,
        r#"{"type":"resolve","to":"Q","resolution":[1,]}"#,
        r#"{"type":"resolve","to":"Q","resolution":1.}"#,
        // A count that is not a positive whole number.
        r#"{"type":"send","to":"","from":"F","op":"get","args":[],"release":{"a":0}}"#,
        r#"{"type":"send","to":"","from":"F","op":"get","args":[],"release":{"a":1.0}}"#,
    ] {
        assert!(canonical::parse(text, depth).is_none(), "{text}");
    }
    let nested = format!(
        r#"{{"type":"resolve","to":"Q","resolution":{}{}}}"#,
        "[".repeat(150),
        "]".repeat(150)
    );
    assert!(
        canonical::parse(&nested, depth).is_none(),
        "deep payloads go to the general parser"
    );
    assert!(message::parse(&nested, &Limits::default()).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_AGREE))]

    #[test]
    fn first_special_finds_the_first_quote_backslash_or_control(
        bytes in prop::collection::vec(prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x20, 0x20u8..=0xff], 0..40),
        plain in 0usize..40,
    ) {
        // Mostly plain bytes first, so the special one lands anywhere in a word.
        let mut text = vec![b'a'; plain];
        text.extend(bytes);
        let expected = text.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
        prop_assert_eq!(canonical::first_special(&text), expected);
    }
}
