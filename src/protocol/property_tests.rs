//! Property tests (proptest) of the envelope parser and the protocol core
//! against hostile input. Case counts are fixed below (`CASES_*`) so a run
//! states how much it tried; a failure prints the shrunk input.
//!
//! Properties:
//! - any text, and any mutation of a valid envelope, is parsed or refused
//!   with a stable code, never a panic; the refusal skim never panics either;
//! - envelopes we write parse back to what was written, for any ids, op
//!   names and JSON payloads;
//! - nesting is accepted exactly up to the depth limit, brackets inside
//!   strings not counting;
//! - a connection fed any sequence of such messages (hello and release
//!   included, so pipelining may be negotiated) keeps its counters
//!   consistent, never serves nor keeps more than `max_pending_calls`
//!   answers at once, and still answers a well-formed call afterwards
//!   (once the peer released what it was kept).

use proptest::prelude::*;

use super::message::{self, Envelope, Limits};
use super::salvage::salvage;
use super::{Connection, Delivery, Op, Options};

const CASES_PARSE: u32 = 20_000;
const CASES_ROUND_TRIP: u32 = 5_000;
const CASES_DEPTH: u32 = 2_000;
const CASES_CONNECTION: u32 = 2_000;

const CODES: [&str; 7] = [
    "EMALFORMED",
    "ETOOLARGE",
    "ETOODEEP",
    "EFIELD",
    "EOPERATION",
    "ECLOSED",
    "ELIMIT",
];
/// Codes of refusals by the parser, each counted as `malformed`.
const PARSE_CODES: [&str; 4] = ["EMALFORMED", "ETOOLARGE", "ETOODEEP", "EFIELD"];

const TEMPLATES: [&str; 8] = [
    r#"{"type":"hello","version":1,"extensions":["pipeline","release","batch"]}"#,
    r#"{"type":"release","ids":{"Q":1,"":2,"__proto__":1}}"#,
    r#"{"type":"send","to":"","from":"F1","op":"get","args":["a"]}"#,
    r#"{"type":"send","to":"","from":"F2","op":"post","args":["m",[1,{"__proto__":{"x":1}},[2]]]}"#,
    r#"{"type":"send","to":"","from":"F3","op":"apply","args":[null,[{"@":"E","type":"function"}]]}"#,
    r#"{"type":"resolve","to":"Q","resolution":{"!":{"message":"m","stack":"s"}}}"#,
    r#"{"type":"notify","to":"Q","resolution":{"$":"/0","%":"NaN"}}"#,
    r#"{"type":"resolve","to":"Q","resolution":"\u0000\"\\[{"}"#,
];

/// Text edits that keep the string valid UTF-8 (they work on chars).
#[derive(Debug, Clone)]
pub(super) enum Edit {
    Delete(usize),
    Insert(usize, char),
    Replace(usize, char),
    Duplicate(usize, usize),
    Truncate(usize),
    Splice(usize, &'static str),
}

pub(super) fn edit() -> impl Strategy<Value = Edit> {
    let interesting = prop::sample::select(vec![
        '{',
        '}',
        '[',
        ']',
        '"',
        '\\',
        ',',
        ':',
        '0',
        'n',
        '\u{0}',
        'é',
        '\u{10FFFF}',
    ]);
    let fragment = prop::sample::select(vec![
        "__proto__",
        "constructor",
        r#""type":"send","#,
        r#""to":"","#,
        r#""from":5"#,
        r#""args":{}"#,
        "null",
        "[[[[[[[[[[",
        "]]]]]",
        r#"\u0000"#,
        r#"\ud800"#,
        "1e999999",
        "-0",
    ]);
    prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), interesting.clone()).prop_map(|(at, c)| Edit::Insert(at, c)),
        (any::<usize>(), interesting).prop_map(|(at, c)| Edit::Replace(at, c)),
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Edit::Duplicate(at, len)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), fragment).prop_map(|(at, text)| Edit::Splice(at, text)),
    ]
}

pub(super) fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for edit in edits {
        let len = chars.len().max(1);
        match *edit {
            Edit::Delete(at) if !chars.is_empty() => {
                chars.remove(at % chars.len());
            }
            Edit::Insert(at, c) => chars.insert(at % (chars.len() + 1), c),
            Edit::Replace(at, c) if !chars.is_empty() => {
                let i = at % chars.len();
                chars[i] = c;
            }
            Edit::Duplicate(at, n) if !chars.is_empty() => {
                let start = at % chars.len();
                let end = (start + n).min(chars.len());
                let copy: Vec<char> = chars[start..end].to_vec();
                chars.splice(end..end, copy);
            }
            Edit::Truncate(at) => chars.truncate(at % len),
            Edit::Splice(at, text) => {
                let i = at % (chars.len() + 1);
                chars.splice(i..i, text.chars());
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

/// A valid envelope, mutated by up to 8 edits; or, one time in five, any text.
pub(super) fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (prop::sample::select(TEMPLATES.to_vec()), prop::collection::vec(edit(), 0..8))
            .prop_map(|(template, edits)| apply(template, &edits)),
        1 => any::<String>(),
    ]
}

pub(super) fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::from),
            prop::collection::btree_map(any::<String>(), inner, 0..8)
                .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_PARSE))]

    #[test]
    fn any_text_is_parsed_or_refused_with_a_code(text in hostile_text()) {
        match message::parse(&text, &Limits::default()) {
            Ok(_) => {}
            Err(error) => prop_assert!(CODES.contains(&error.code()), "{error:?}"),
        }
        let _ = salvage(&text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_ROUND_TRIP))]

    #[test]
    fn written_envelopes_parse_back(to in ".*", from in ".*", op in ".*", args in prop::collection::vec(json_value(), 0..4), resolution in json_value()) {
        let args_json = serde_json::Value::from(args).to_string();
        let text = message::send(&to, &from, &op, &args_json);
        match message::parse(&text, &Limits::default()) {
            Ok(Envelope::Send { to: t, from: f, op: o, args: a, .. }) => {
                prop_assert_eq!((t.as_ref(), f.as_ref(), o.as_ref()), (to.as_str(), from.as_str(), op.as_str()));
                prop_assert_eq!(a, args_json.as_str());
            }
            other => prop_assert!(false, "{other:?}"),
        }
        let resolution_json = resolution.to_string();
        let text = message::settle("resolve", &to, &resolution_json);
        match message::parse(&text, &Limits::default()) {
            Ok(Envelope::Resolve { to: t, resolution: r }) => {
                prop_assert_eq!(t.as_ref(), to.as_str());
                prop_assert_eq!(r, resolution_json.as_str());
            }
            other => prop_assert!(false, "{other:?}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_DEPTH))]

    #[test]
    fn nesting_is_accepted_exactly_up_to_the_limit(depth in 1usize..40, limit in 2usize..40, noise in "[\\[\\]{}\"\\\\a]{0,12}") {
        // One level is the envelope itself; `depth` more are the resolution.
        let quoted = serde_json::to_string(&noise).unwrap();
        let resolution = format!("{}{}{}", "[".repeat(depth), quoted, "]".repeat(depth));
        let text = format!(r#"{{"type":"resolve","to":"Q","resolution":{resolution}}}"#);
        let limits = Limits { max_depth: limit, ..Limits::default() };
        let parsed = message::parse(&text, &limits);
        prop_assert_eq!(parsed.is_ok(), depth < limit, "{:?}", parsed.err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_CONNECTION))]

    #[test]
    fn a_connection_survives_any_message_sequence(texts in prop::collection::vec(hostile_text(), 1..40), answer_every in 1usize..5) {
        let limits = Limits { max_pending_calls: 4, ..Limits::default() };
        let extensions = vec!["pipeline".into(), "release".into()];
        let mut conn = Connection::new(Options { limits, extensions, ..Options::default() });
        let question = conn.ask("", Op::Get, "[]", 1).unwrap();
        let question_id: serde_json::Value = serde_json::from_str(&question).unwrap();
        let mut pending = Vec::new();
        let mut parse_refusals = 0;
        let mut kept = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            // Let some of the peer's messages name our real question.
            let text = text.replace("\"Q\"", &format!("{:?}", question_id["from"].as_str().unwrap()));
            match conn.receive(&text) {
                Ok(Delivery::Call { answer_to, keep, .. } | Delivery::CallQuestion { answer_to, keep, .. }) => {
                    if keep {
                        conn.keep_answer(&answer_to, 100 + i as u32);
                        kept.push(answer_to.to_string());
                    }
                    pending.push(answer_to.into_owned());
                }
                Ok(_) => {}
                Err(refusal) => {
                    prop_assert!(CODES.contains(&refusal.error.code()));
                    parse_refusals += PARSE_CODES.contains(&refusal.error.code()) as u64;
                }
            }
            prop_assert!(conn.pending_call_count() <= 4);
            prop_assert!(conn.answer_count() <= 4, "kept answers are bounded too");
            if i % answer_every == 0 {
                if let Some(to) = pending.pop() {
                    conn.answer(&to, "null");
                }
            }
        }
        let s = conn.stats().clone();
        prop_assert_eq!(s.malformed, parse_refusals);
        prop_assert!(s.sends_in + s.resolves_in + s.notifies_in + s.malformed <= texts.len() as u64);
        // Drain what is pending and release what was kept, as a well-behaved
        // peer would; a well-formed call is then served.
        for to in pending.drain(..) {
            conn.answer(&to, "null");
        }
        let ids: serde_json::Map<String, serde_json::Value> = kept.into_iter().map(|id| (id, 1.into())).collect();
        let _ = conn.receive(&serde_json::json!({"type": "release", "ids": ids}).to_string());
        let call = r#"{"type":"send","to":"","from":"LAST","op":"keys","args":[]}"#;
        let served = matches!(conn.receive(call), Ok(Delivery::Call { .. }));
        prop_assert!(served);
    }
}
