//! Negotiated extensions between two cores joined in memory: hello,
//! pipelined answers, release counts, cancellation, and the plain protocol
//! when one side offers nothing.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::{PIPELINE, RELEASE};
use crate::protocol::{message, Connection, Delivery, Op, Options};
use crate::tables::Slot;
use crate::tables::ROOT_SLOT;

/// A host whose values are JSON. `get` of an object member answers it by
/// reference (a new export), of anything else by copy.
struct Host {
    conn: Connection,
    values: HashMap<Slot, Value>,
    settled: HashMap<Slot, String>,
    freed: Vec<Slot>,
    next_slot: Slot,
}

impl Host {
    fn new(root: Value, extensions: &[&str]) -> (Host, Option<String>) {
        let mut conn = Connection::new(Options {
            extensions: extensions.iter().map(|s| s.to_string()).collect(),
            ..Options::default()
        });
        let hello = conn.hello();
        let values = HashMap::from([(ROOT_SLOT, root)]);
        (
            Host {
                conn,
                values,
                settled: HashMap::new(),
                freed: Vec::new(),
                next_slot: 1,
            },
            hello,
        )
    }

    fn slot(&mut self) -> Slot {
        self.next_slot += 1;
        self.next_slot
    }

    /// Asks and returns (slot, question id, envelope).
    fn ask(&mut self, to: &str, name: &str) -> (Slot, String, String) {
        let slot = self.slot();
        let envelope = self
            .conn
            .ask(to, Op::Get, &json!([name]).to_string(), slot)
            .unwrap();
        let id = self
            .conn
            .last_question()
            .map(str::to_owned)
            .unwrap_or_default();
        (slot, id, envelope)
    }

    fn handle(&mut self, text: &str) -> Vec<String> {
        let delivery = self.conn.receive(text);
        self.freed.extend_from_slice(self.conn.released_with_call());
        match delivery {
            Ok(Delivery::Call {
                slot,
                args,
                answer_to,
                keep,
                ..
            }) => {
                let args: Vec<String> = serde_json::from_str(args).unwrap();
                let value = self.values[&slot]
                    .get(&args[0])
                    .cloned()
                    .unwrap_or_default();
                let resolution = if value.is_object() {
                    let export = self.slot();
                    self.values.insert(export, value.clone());
                    json!({"@": self.conn.export(export).unwrap(), "type": "object"}).to_string()
                } else {
                    value.to_string()
                };
                if keep {
                    let answer = self.slot();
                    self.values.insert(answer, value);
                    assert_eq!(self.conn.keep_answer(&answer_to, answer), None);
                }
                vec![self.conn.answer(&answer_to, &resolution)]
            }
            Ok(Delivery::Resolve { slot, resolution }) => {
                self.settled.insert(slot, resolution.to_owned());
                vec![]
            }
            Ok(Delivery::Released { slots }) => {
                self.freed.extend(slots);
                vec![]
            }
            // Our reply to the peer's first hello, if it needs one.
            Ok(Delivery::Hello) => self.conn.hello().into_iter().collect(),
            Ok(_) => vec![],
            Err(refusal) => refusal.reply.into_iter().collect(),
        }
    }

    /// What a JS host does at the end of a turn.
    fn end_of_turn(&mut self) -> Vec<String> {
        self.conn.take_release().into_iter().collect()
    }
}

/// Delivers in rounds: each round carries everything in flight one way, as
/// a link with a fixed delay does. Returns (rounds, messages delivered).
fn pump(a: &mut Host, b: &mut Host, to_b: Vec<String>) -> (usize, usize) {
    pump_both(a, b, to_b, Vec::new())
}

/// [`pump`] with messages in flight both ways (B's are delivered second).
fn pump_both(
    a: &mut Host,
    b: &mut Host,
    mut to_b: Vec<String>,
    mut to_a: Vec<String>,
) -> (usize, usize) {
    let (mut rounds, mut delivered) = (0, 0);
    while !to_a.is_empty() || !to_b.is_empty() {
        if !to_b.is_empty() {
            rounds += 1;
            for text in std::mem::take(&mut to_b) {
                delivered += 1;
                to_a.extend(b.handle(&text));
            }
            to_a.extend(b.end_of_turn());
        }
        if !to_a.is_empty() {
            rounds += 1;
            for text in std::mem::take(&mut to_a) {
                delivered += 1;
                to_b.extend(a.handle(&text));
            }
            to_b.extend(a.end_of_turn());
        }
    }
    (rounds, delivered)
}

fn pair(a_ext: &[&str], b_ext: &[&str], b_root: Value) -> (Host, Host) {
    let (mut a, hello_a) = Host::new(Value::Null, a_ext);
    let (mut b, hello_b) = Host::new(b_root, b_ext);
    // The first hellos cross, then the replies.
    pump_both(
        &mut a,
        &mut b,
        hello_a.into_iter().collect(),
        hello_b.into_iter().collect(),
    );
    (a, b)
}

fn chain_root() -> Value {
    json!({"start": {"next": {"next": {"next": {"value": 42}}}}})
}

#[test]
fn hello_agrees_on_the_names_both_sides_offer() {
    let (a, b) = pair(
        &[PIPELINE, RELEASE, "values"],
        &["values", PIPELINE, "batch"],
        Value::Null,
    );
    assert_eq!(a.conn.negotiation().agreed(), [PIPELINE, "values"]);
    assert_eq!(b.conn.negotiation().agreed(), ["values", PIPELINE]);
    assert!(a.conn.negotiation().peer_has(PIPELINE) && !a.conn.negotiation().peer_has("batch"));
    assert_eq!(a.conn.negotiation().peer_version(), Some(1));
    let (plain, hello) = Host::new(Value::Null, &[]);
    assert!(hello.is_none(), "offering nothing sends no hello");
    assert!(!plain.conn.negotiation().peer_has(PIPELINE));
}

#[test]
fn a_pipelined_chain_costs_one_round_trip_and_its_answers_are_released() {
    let (mut a, mut b) = pair(&[PIPELINE], &[PIPELINE], chain_root());
    let mut sends = Vec::new();
    let (_, mut to, first) = a.ask("", "start");
    sends.push(first);
    for _ in 0..3 {
        let (_, id, envelope) = a.ask(&to, "next");
        sends.push(envelope);
        to = id;
    }
    let (last, _, envelope) = a.ask(&to, "value");
    sends.push(envelope);
    assert_eq!(b.conn.answer_count(), 0);
    let (rounds, delivered) = pump(&mut a, &mut b, sends);
    assert_eq!(a.settled[&last], "42");
    // 5 sends and 5 resolves, then one release of all 5 answers.
    assert_eq!((rounds, delivered), (3, 11));
    assert_eq!(b.conn.stats().releases_in, 1);
    assert_eq!(b.conn.answer_count(), 0, "every answer released");
    assert_eq!(a.conn.question_count(), 0);
    assert_eq!(b.freed.len(), 5);
}

#[test]
fn without_the_extension_no_answer_is_kept_and_no_release_sent() {
    let (mut a, mut b) = pair(&[PIPELINE], &[], chain_root());
    let (slot, _, envelope) = a.ask("", "start");
    let (rounds, delivered) = pump(&mut a, &mut b, vec![envelope]);
    assert_eq!((rounds, delivered), (2, 2));
    assert!(a.settled[&slot].contains('@'));
    assert_eq!(b.conn.answer_count(), 0);
    assert_eq!(a.conn.stats().releases_out, 0);
}

#[test]
fn releases_count_receptions_so_a_resend_in_flight_survives() {
    let (mut a, mut b) = pair(&[RELEASE], &[RELEASE], Value::Null);
    b.values.insert(7, json!({"x": 1}));
    let id = b.conn.export(7).unwrap();
    assert!(b.conn.resend(&id), "sent a second time");
    // A had received it once when it released; the second sending is in flight.
    a.conn.release_import(&id, 1);
    let release = a.end_of_turn();
    assert_eq!(
        release,
        [format!(r#"{{"type":"release","ids":{{"{id}":1}}}}"#)]
    );
    pump(&mut a, &mut b, release);
    assert!(b.freed.is_empty(), "one reception still held");
    assert_eq!(b.conn.export_slot(&id), Some(7));
    a.conn.release_import(&id, 1);
    let release = a.end_of_turn();
    pump(&mut a, &mut b, release);
    assert_eq!(b.freed, [7]);
    assert_eq!(b.conn.export_count(), 0);
    assert!(!b.conn.resend(&id), "a released id must be exported afresh");
}

#[test]
fn a_release_from_a_peer_that_did_not_negotiate_is_ignored() {
    let (mut a, mut b) = pair(&[], &[RELEASE], Value::Null);
    let id = b.conn.export(7).unwrap();
    let text = format!(r#"{{"type":"release","ids":{{"{id}":1}}}}"#);
    assert!(b.handle(&text).is_empty());
    assert_eq!(b.conn.export_slot(&id), Some(7));
    assert_eq!(b.conn.stats().ignored, 1);
    a.conn.release_import(&id, 1);
    assert!(a.end_of_turn().is_empty(), "nothing to say to a plain peer");
}

#[test]
fn a_cancelled_question_releases_the_answer_and_ignores_a_crossing_resolve() {
    let (mut a, mut b) = pair(&[PIPELINE], &[PIPELINE], chain_root());
    let (slot, id, envelope) = a.ask("", "start");
    // B answers while A cancels: the resolve and the release cross.
    let resolve = b.handle(&envelope);
    assert_eq!(a.conn.cancel(&id), Some(slot));
    assert_eq!(a.conn.cancel(&id), None);
    let release = a.end_of_turn();
    assert!(a.handle(&resolve[0]).is_empty());
    assert_eq!(
        a.conn.stats().lost,
        0,
        "the crossing resolve is not reported lost"
    );
    assert!(a.settled.is_empty());
    b.handle(&release[0]);
    assert_eq!(b.conn.answer_count(), 0);
    assert_eq!(b.freed.len(), 1);
}

#[test]
fn a_call_carries_the_releases_queued_before_it() {
    let (mut a, mut b) = pair(&[PIPELINE], &[PIPELINE], chain_root());
    let (_, first, envelope) = a.ask("", "start");
    let resolve = b.handle(&envelope);
    a.handle(&resolve[0]);
    assert_eq!(b.conn.answer_count(), 1, "kept until released");
    let (_, _, envelope) = a.ask("", "start");
    assert!(
        envelope.ends_with(&format!(r#","release":{{"{first}":1}}}}"#)),
        "{envelope}"
    );
    assert!(
        a.end_of_turn().is_empty(),
        "nothing left for a release message"
    );
    b.handle(&envelope);
    assert_eq!(b.freed.len(), 1, "the first answer freed");
    assert_eq!(b.conn.answer_count(), 1, "the second answer kept");
    assert_eq!(
        (a.conn.stats().releases_out, b.conn.stats().releases_in),
        (1, 1)
    );
    // A plain peer never gets the field.
    let (mut c, mut d) = pair(&[PIPELINE], &[], chain_root());
    let (_, _, envelope) = c.ask("", "start");
    c.handle(&d.handle(&envelope)[0]);
    assert!(!c.ask("", "start").2.contains("release"));
}

#[test]
fn a_call_to_an_answer_never_carries_its_release() {
    let (mut a, mut b) = pair(&[PIPELINE], &[PIPELINE], chain_root());
    let (_, first, envelope) = a.ask("", "start");
    a.handle(&b.handle(&envelope)[0]);
    // The answer's release is queued; a call to that answer leaves it queued.
    let (_, _, envelope) = a.ask(&first, "next");
    assert!(!envelope.contains("release"), "{envelope}");
    assert!(
        matches!(b.conn.receive(&envelope), Ok(Delivery::Call { .. })),
        "delivered, not lost"
    );
    let (_, _, envelope) = a.ask("", "start");
    assert!(
        envelope.ends_with(&format!(r#","release":{{"{first}":1}}}}"#)),
        "{envelope}"
    );
}

#[test]
fn sends_to_a_released_answer_are_lost() {
    let (mut a, mut b) = pair(&[PIPELINE], &[PIPELINE], chain_root());
    let (_, id, envelope) = a.ask("", "start");
    pump(&mut a, &mut b, vec![envelope]);
    let late = message::send(&id, "LATE", "get", r#"["next"]"#);
    assert!(matches!(b.conn.receive(&late), Ok(Delivery::Lost)));
}

/// `calls` sequential calls from `a` to `b`'s root member `n`, each carried
/// to the end; returns the most answers `b` kept at once meanwhile.
fn sequential_calls(a: &mut Host, b: &mut Host, calls: usize) -> usize {
    let mut most = 0;
    for _ in 0..calls {
        let (slot, _, envelope) = a.ask("", "n");
        pump(a, b, vec![envelope]);
        assert_eq!(a.settled.remove(&slot).as_deref(), Some("1"));
        most = most.max(b.conn.answer_count());
    }
    most
}

const REPLY_TAIL: &str = r#"],"heard":true}"#;

#[test]
fn crossing_hellos_are_each_answered_once_and_the_replies_not_counted_ignored() {
    let (mut a, hello_a) = Host::new(Value::Null, &[PIPELINE, RELEASE]);
    let (mut b, hello_b) = Host::new(json!({"n": 1}), &[PIPELINE]);
    let reply_b = b.handle(&hello_a.unwrap());
    let reply_a = a.handle(&hello_b.unwrap());
    assert_eq!(
        reply_a,
        [r#"{"type":"hello","version":1,"extensions":["pipeline","release"],"heard":true}"#]
    );
    assert_eq!(
        reply_b,
        [r#"{"type":"hello","version":1,"extensions":["pipeline"],"heard":true}"#]
    );
    assert!(
        b.handle(&reply_a[0]).is_empty(),
        "a reply is not replied to"
    );
    assert!(a.handle(&reply_b[0]).is_empty());
    assert_eq!((a.conn.hello(), b.conn.hello()), (None, None), "once");
    assert_eq!((a.conn.stats().ignored, b.conn.stats().ignored), (0, 0));
    assert_eq!(a.conn.negotiation().agreed(), [PIPELINE]);
    assert_eq!(b.conn.negotiation().agreed(), [PIPELINE]);
    assert!(sequential_calls(&mut a, &mut b, 100) <= 1);
    assert_eq!(b.conn.answer_count(), 0, "every kept answer released");
}

#[test]
fn the_answering_sides_hello_lost_its_reply_agrees_and_every_answer_is_released() {
    // The `ws` case: the client (A) attached its listener after the
    // server's (B's) hello had come and gone.
    let (mut a, hello_a) = Host::new(Value::Null, &[PIPELINE, RELEASE]);
    let (mut b, _lost) = Host::new(json!({"n": 1}), &[PIPELINE, RELEASE]);
    // B hears A, keeps A's answers from now on and replies; A's first
    // hello from B is that reply, which needs no reply.
    let (_, delivered) = pump(&mut a, &mut b, hello_a.into_iter().collect());
    assert_eq!(delivered, 2);
    assert!(a.conn.negotiation().pipeline() && b.conn.negotiation().pipeline());
    assert_eq!((a.conn.stats().ignored, b.conn.stats().ignored), (0, 0));
    // Past max_pending_calls (10,000): before the reply existed, B refused
    // every call from the 10,001st on.
    assert!(sequential_calls(&mut a, &mut b, 12_000) <= 1);
    assert_eq!(b.conn.stats().calls_refused, 0);
    assert_eq!(b.conn.answer_count(), 0);
    assert_eq!(b.conn.stats().releases_in, 12_000);
}

#[test]
fn without_the_reply_the_side_that_heard_keeps_answers_that_are_never_released() {
    // What the reply repairs (an old peer, or a reply dropped): B agrees,
    // A never hears a hello, so nothing B keeps is ever released.
    let (mut a, hello_a) = Host::new(Value::Null, &[PIPELINE]);
    let (mut b, _lost) = Host::new(json!({"n": 1}), &[PIPELINE]);
    let reply = b.handle(&hello_a.unwrap());
    assert!(reply[0].ends_with(REPLY_TAIL), "dropped here");
    assert_eq!(sequential_calls(&mut a, &mut b, 100), 100);
    assert_eq!(b.conn.stats().releases_in, 0);
}

#[test]
fn the_asking_sides_hello_lost_its_reply_agrees_and_every_answer_is_released() {
    // B attached late and lost A's first hello; B's own reached A.
    let (mut a, _lost) = Host::new(json!({"n": 1}), &[PIPELINE]);
    let (mut b, hello_b) = Host::new(json!({"n": 1}), &[PIPELINE]);
    let (_, delivered) = pump(&mut b, &mut a, hello_b.into_iter().collect());
    assert_eq!(delivered, 2, "A's reply, not replied to");
    assert!(a.conn.negotiation().pipeline() && b.conn.negotiation().pipeline());
    assert!(sequential_calls(&mut a, &mut b, 3_000) <= 1);
    assert!(sequential_calls(&mut b, &mut a, 3_000) <= 1);
    assert_eq!((a.conn.answer_count(), b.conn.answer_count()), (0, 0));
    assert_eq!((a.conn.stats().ignored, b.conn.stats().ignored), (0, 0));
}

#[test]
fn only_the_one_expected_reply_escapes_the_ignored_count() {
    let first = message::hello(1, &[PIPELINE.into()], false);
    let reply = message::hello(1, &[PIPELINE.into()], true);
    // A first hello that says heard: ours arrived, so no reply, and no
    // further hello is expected.
    let (mut b, _) = Host::new(Value::Null, &[PIPELINE]);
    assert!(b.handle(&reply).is_empty());
    assert!(b.conn.negotiation().pipeline());
    assert!(b.handle(&reply).is_empty());
    assert_eq!(b.conn.stats().ignored, 1);
    // A first hello without: one reply; the peer's reply is expected once;
    // a third hello, saying heard or not, is ignored and never replied to.
    let (mut c, _) = Host::new(Value::Null, &[PIPELINE]);
    assert_eq!(c.handle(&first).len(), 1);
    assert!(c.handle(&reply).is_empty());
    assert_eq!(c.conn.stats().ignored, 0);
    assert!(c.handle(&reply).is_empty());
    assert!(c.handle(&first).is_empty());
    assert_eq!(c.conn.stats().ignored, 2);
    assert_eq!(c.conn.hello(), None);
    // A `heard` that is not `true` is absent: that hello is replied to.
    let odd = r#"{"type":"hello","version":1,"extensions":["pipeline"],"heard":"true"}"#;
    let (mut d, _) = Host::new(Value::Null, &[PIPELINE]);
    assert!(d.handle(odd)[0].ends_with(REPLY_TAIL));
    // Offering nothing: no hello ever, not even a reply (0.6.1's wire).
    let (mut plain, none) = Host::new(Value::Null, &[]);
    assert!(none.is_none());
    assert!(plain.handle(&first).is_empty());
    assert_eq!(plain.conn.hello(), None);
}
