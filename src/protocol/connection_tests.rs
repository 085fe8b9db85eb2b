//! Two connections joined in memory, with a tiny host that keeps JSON values
//! in slots, so the routing is tested without Node.

use super::*;
use crate::tables::ROOT_SLOT;
use std::collections::HashMap;

/// A host: values by slot, plus the settled answers of its questions.
struct Host {
    conn: Connection,
    values: HashMap<Slot, serde_json::Value>,
    settled: HashMap<Slot, String>,
    lost: usize,
    next_slot: Slot,
}

impl Host {
    fn new(root: serde_json::Value, capacity: Option<usize>) -> Host {
        let mut values = HashMap::new();
        values.insert(ROOT_SLOT, root);
        Host {
            conn: Connection::new(Options {
                capacity,
                ..Options::default()
            }),
            values,
            settled: HashMap::new(),
            lost: 0,
            next_slot: 1,
        }
    }

    fn ask(&mut self, to: &str, op: Op, args: &str) -> (Slot, String) {
        let slot = self.next_slot;
        self.next_slot += 1;
        (slot, self.conn.ask(to, op, args, slot).unwrap())
    }

    /// Handles one message; returns the envelopes it sends back.
    fn handle(&mut self, text: &str) -> Vec<String> {
        match self.conn.receive(text) {
            Ok(Delivery::Call {
                slot,
                op: Op::Get,
                args,
                answer_to,
                ..
            }) => {
                let args: Vec<String> = serde_json::from_str(args).unwrap();
                let value = self.values[&slot]
                    .get(&args[0])
                    .cloned()
                    .unwrap_or_default();
                vec![self.conn.answer(&answer_to, &value.to_string())]
            }
            Ok(Delivery::Call { answer_to, .. }) => vec![self.conn.answer(&answer_to, "null")],
            Ok(Delivery::Resolve { slot, resolution }) => {
                self.settled.insert(slot, resolution.to_owned());
                vec![]
            }
            Ok(Delivery::Lost) => {
                self.lost += 1;
                vec![]
            }
            Ok(_) => vec![],
            Err(refusal) => refusal.reply.into_iter().collect(),
        }
    }
}

/// Delivers messages back and forth until both sides are idle.
fn pump(a: &mut Host, b: &mut Host, mut to_b: Vec<String>) -> usize {
    let mut delivered = 0;
    let mut to_a = Vec::new();
    while !to_a.is_empty() || !to_b.is_empty() {
        for text in std::mem::take(&mut to_b) {
            delivered += 1;
            to_a.extend(b.handle(&text));
        }
        for text in std::mem::take(&mut to_a) {
            delivered += 1;
            to_b.extend(a.handle(&text));
        }
    }
    delivered
}

#[test]
fn a_get_on_the_root_round_trips() {
    let mut a = Host::new(serde_json::json!(null), None);
    let mut b = Host::new(serde_json::json!({"answer": 42}), None);
    let (slot, envelope) = a.ask("", Op::Get, r#"["answer"]"#);
    assert_eq!(
        pump(&mut a, &mut b, vec![envelope]),
        2,
        "one send, one resolve"
    );
    assert_eq!(a.settled[&slot], "42");
    assert_eq!(
        a.conn.question_count(),
        0,
        "the answered question is forgotten"
    );
}

#[test]
fn unknown_operations_are_refused_with_a_rejection_and_the_connection_serves_on() {
    let mut a = Host::new(serde_json::json!(null), None);
    let mut b = Host::new(serde_json::json!({"x": 1}), None);
    let text = r#"{"type":"send","to":"","from":"Q1","op":"frob","args":[]}"#;
    a.conn.locals.insert_question("Q1".into(), 9);
    pump(&mut a, &mut b, vec![text.into()]);
    assert!(
        a.settled[&9].contains("unknown operation"),
        "{}",
        a.settled[&9]
    );
    let (slot, envelope) = a.ask("", Op::Get, r#"["x"]"#);
    pump(&mut a, &mut b, vec![envelope]);
    assert_eq!(a.settled[&slot], "1");
    assert_eq!(b.conn.stats().refused, 1);
}

#[test]
fn messages_to_evicted_exports_are_lost_but_the_root_answers() {
    let mut a = Host::new(serde_json::json!(null), None);
    let mut b = Host::new(serde_json::json!({"x": 1}), Some(1));
    let first = b.conn.export(5).unwrap();
    b.conn.export(6).unwrap();
    assert_eq!(b.conn.take_evicted(), vec![5]);
    let (_, envelope) = a.ask(&first, Op::Get, r#"["x"]"#);
    pump(&mut a, &mut b, vec![envelope]);
    assert_eq!(b.lost, 1);
    assert_eq!(b.conn.stats().lost, 1);
    let (slot, envelope) = a.ask("", Op::Get, r#"["x"]"#);
    pump(&mut a, &mut b, vec![envelope]);
    assert_eq!(a.settled[&slot], "1");
}

#[test]
fn malformed_messages_are_counted_and_do_not_stop_the_connection() {
    let mut a = Host::new(serde_json::json!(null), None);
    let mut b = Host::new(serde_json::json!({"x": 2}), None);
    for junk in [
        "",
        "nope",
        "[]",
        "{\"type\":\"send\"}",
        "{\"type\":5}",
        "{\"type\":\"resolve\",\"to\":[]}",
    ] {
        assert!(b.conn.receive(junk).is_err(), "{junk:?}");
    }
    assert_eq!(b.conn.stats().malformed, 6);
    let (slot, envelope) = a.ask("", Op::Get, r#"["x"]"#);
    pump(&mut a, &mut b, vec![envelope]);
    assert_eq!(a.settled[&slot], "2");
}

#[test]
fn close_returns_pending_questions_and_refuses_new_ones() {
    let mut a = Host::new(serde_json::json!(null), None);
    let (slot, _) = a.ask("", Op::Keys, "[]");
    let (questions, _) = a.conn.close();
    assert_eq!(questions, vec![slot]);
    assert_eq!(
        a.conn.ask("", Op::Keys, "[]", 99),
        Err(ProtocolError::Closed)
    );
    assert!(matches!(
        a.conn.receive("{}"),
        Err(Refusal {
            error: ProtocolError::Closed,
            ..
        })
    ));
}

fn limited(limits: Limits) -> Connection {
    Connection::new(Options {
        limits,
        ..Options::default()
    })
}

fn call_text(from: &str) -> String {
    format!(r#"{{"type":"send","to":"","from":"{from}","op":"keys","args":[]}}"#)
}

#[test]
fn calls_past_the_pending_limit_are_refused_to_their_asker_and_later_ones_served() {
    let mut b = limited(Limits {
        max_pending_calls: 2,
        ..Limits::default()
    });
    let mut answers = Vec::new();
    for from in ["A", "B"] {
        match b.receive(&call_text(from)) {
            Ok(Delivery::Call { answer_to, .. }) => answers.push(answer_to.into_owned()),
            other => panic!("{other:?}"),
        }
    }
    let refusal = b.receive(&call_text("C")).unwrap_err();
    assert_eq!(refusal.error.code(), "ELIMIT");
    let reply = refusal.reply.expect("the asker is told");
    assert!(
        reply.starts_with(
            r#"{"type":"resolve","to":"C","resolution":{"!":{"message":"too many pending calls"#
        ),
        "{reply}"
    );
    assert_eq!(b.stats().calls_refused, 1);
    assert_eq!(b.pending_call_count(), 2);
    b.answer(&answers[0], "1");
    assert!(
        matches!(b.receive(&call_text("D")), Ok(Delivery::Call { .. })),
        "room again after an answer"
    );
    // Refusals do not count as served calls.
    b.receive(r#"{"type":"send","to":"","from":"E","op":"frob","args":[]}"#)
        .unwrap_err();
    assert_eq!(b.pending_call_count(), 2);
}

#[test]
fn exports_past_the_limit_fail_unless_an_lru_capacity_evicts() {
    let mut b = limited(Limits {
        max_exports: 2,
        ..Limits::default()
    });
    b.export(1).unwrap();
    b.export(2).unwrap();
    assert_eq!(b.export(3), Err(ProtocolError::TooManyExports { limit: 2 }));
    assert_eq!(b.stats().exports_refused, 1);
    let mut lru = Connection::new(Options {
        capacity: Some(2),
        limits: Limits {
            max_exports: 2,
            ..Limits::default()
        },
        ..Options::default()
    });
    for slot in 1..10 {
        lru.export(slot).unwrap();
    }
    assert_eq!(lru.export_count(), 2);
    // A capacity above the bound: the bound wins.
    let mut big = Connection::new(Options {
        capacity: Some(10),
        limits: Limits {
            max_exports: 3,
            ..Limits::default()
        },
        ..Options::default()
    });
    for slot in 1..4 {
        big.export(slot).unwrap();
    }
    assert!(big.export(4).is_err());
}

#[test]
fn a_refused_send_is_answered_and_a_refused_resolve_rejects_our_question() {
    let mut b = limited(Limits::default());
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let text = format!(r#"{{"type":"send","to":"","from":"F","op":"get","args":{deep}}}"#);
    let refusal = b.receive(&text).unwrap_err();
    assert_eq!(refusal.error.code(), "ETOODEEP");
    assert!(refusal
        .reply
        .unwrap()
        .contains("nests deeper than 1000 levels"));
    let wrong = b
        .receive(r#"{"type":"send","to":"","from":"G","op":"get","args":{}}"#)
        .unwrap_err();
    assert!(wrong
        .reply
        .unwrap()
        .contains(r#"field \"args\" must be an array"#));

    let asked: serde_json::Value =
        serde_json::from_str(&b.ask("", Op::Get, "[]", 7).unwrap()).unwrap();
    let text = format!(
        r#"{{"type":"resolve","to":"{}","resolution":{deep}}}"#,
        asked["from"].as_str().unwrap()
    );
    let refusal = b.receive(&text).unwrap_err();
    assert_eq!(refusal.question, Some(7));
    assert_eq!(
        b.question_count(),
        0,
        "the question is settled (rejected) by the host"
    );
    // A refused resolve to something that is not our question changes nothing.
    let refusal = b
        .receive(&format!(
            r#"{{"type":"resolve","to":"","resolution":{deep}}}"#
        ))
        .unwrap_err();
    assert_eq!(refusal.question, None);
    assert_eq!(b.stats().malformed, 4);
}

#[test]
fn put_is_accepted_as_set() {
    assert_eq!(Op::parse("put"), Some(Op::Set));
    assert_eq!(Op::parse("set").map(Op::name), Some("set"));
}

#[test]
fn a_send_to_our_pending_question_is_a_call_on_the_question() {
    let mut a = Connection::new(Options::default());
    let asked: serde_json::Value =
        serde_json::from_str(&a.ask("", Op::Get, "[]", 9).unwrap()).unwrap();
    let question = asked["from"].as_str().unwrap();
    let text = format!(r#"{{"type":"send","to":"{question}","from":"Z","op":"keys","args":[]}}"#);
    match a.receive(&text) {
        Ok(Delivery::CallQuestion {
            slot: 9,
            op: Op::Keys,
            answer_to,
            ..
        }) => assert_eq!(answer_to, "Z"),
        other => panic!("expected a call on question 9, got {other:?}"),
    }
    // The root stays an ordinary call, and the question is still pending.
    assert!(matches!(
        a.receive(r#"{"type":"send","to":"","from":"Y","op":"keys","args":[]}"#),
        Ok(Delivery::Call { .. })
    ));
    assert_eq!(a.question_count(), 1);
}

#[test]
fn answers_kept_for_a_pipelining_peer_count_against_the_pending_limit() {
    let limits = Limits {
        max_pending_calls: 3,
        ..Limits::default()
    };
    let mut b = Connection::new(Options {
        limits,
        extensions: vec!["pipeline".into()],
        ..Options::default()
    });
    b.receive(r#"{"type":"hello","version":1,"extensions":["pipeline"]}"#)
        .unwrap();
    for (n, from) in ["A", "B", "C"].into_iter().enumerate() {
        match b.receive(&call_text(from)) {
            Ok(Delivery::Call {
                answer_to,
                keep: true,
                ..
            }) => {
                b.keep_answer(&answer_to, 10 + n as Slot);
                b.answer(&answer_to, "1");
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(b.pending_call_count(), 0, "all answered");
    let refusal = b.receive(&call_text("D")).unwrap_err();
    assert_eq!(
        refusal.error.code(),
        "ELIMIT",
        "three answers kept, never released"
    );
    match b.receive(r#"{"type":"release","ids":{"A":1}}"#) {
        Ok(Delivery::Released { slots }) => assert_eq!(slots, vec![10]),
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(b.receive(&call_text("E")), Ok(Delivery::Call { .. })),
        "a release made room"
    );
}
