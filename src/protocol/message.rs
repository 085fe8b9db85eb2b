//! The wire vocabulary: parsing incoming envelopes and writing outgoing ones.
//!
//! Envelopes are written with the same key order and escaping as
//! `JSON.stringify` in q-connection 0.6.1, so the text on the wire is the
//! same byte for byte. Payloads (`args`, `resolution`) stay raw JSON text: the
//! engine validates them but the host decodes them (QSON needs the host's
//! values), and re-serialising them here would cost a copy for nothing.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::canonical;
use super::error::ProtocolError;

/// A parsed incoming envelope, borrowing from the message text.
#[derive(Debug)]
pub enum Envelope<'a> {
    /// `release`: ids the sender releases, carried by the call itself (see
    /// [`send_releasing`]); processed as a `release` message just before it.
    Send {
        to: Cow<'a, str>,
        from: Cow<'a, str>,
        op: Cow<'a, str>,
        /// JSON text, validated (an array).
        args: &'a str,
        release: Option<Vec<(String, u64)>>,
    },
    /// `resolution`: JSON text, validated.
    Resolve {
        to: Cow<'a, str>,
        resolution: &'a str,
    },
    Notify {
        to: Cow<'a, str>,
        resolution: &'a str,
    },
    /// A q-connection-rs peer announcing itself (see `docs/PROTOCOL-EXTENSIONS.md`).
    /// Names that are not strings are skipped; a 0.6.1 peer never sends this.
    /// `heard`: the sender had received our hello (its reply to ours); a
    /// missing or non-boolean field reads as false.
    Hello {
        version: u64,
        extensions: Vec<String>,
        heard: bool,
    },
    /// The peer gives up ids of ours: `count` receptions of an export, or an
    /// answer it no longer needs (count 1). Only negotiated peers send it.
    Release { ids: Vec<(String, u64)> },
    /// A type this side does not know; the protocol says to ignore it.
    Unknown,
}

/// The fields as they may arrive: anything may be missing or mistyped.
#[derive(Deserialize)]
struct RawEnvelope<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<&'a RawValue>,
    #[serde(borrow, default)]
    to: Option<&'a RawValue>,
    #[serde(borrow, default)]
    from: Option<&'a RawValue>,
    #[serde(borrow, default)]
    op: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    args: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    resolution: Option<&'a RawValue>,
    #[serde(borrow, default)]
    version: Option<&'a RawValue>,
    #[serde(borrow, default)]
    extensions: Option<&'a RawValue>,
    #[serde(borrow, default)]
    heard: Option<&'a RawValue>,
    #[serde(borrow, default)]
    ids: Option<&'a RawValue>,
    #[serde(borrow, default)]
    release: Option<&'a RawValue>,
}

/// At most this many extension names are read from a hello, each at most
/// [`MAX_EXTENSION_NAME`] bytes: a hostile hello cannot make us store much.
pub const MAX_EXTENSIONS: usize = 64;
pub const MAX_EXTENSION_NAME: usize = 64;

/// A field that is present, even as `null`: serde maps `null` to `None` for
/// an `Option`, which would turn a `null` resolution into a missing one
/// (decoded as `undefined`).
fn present<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(de).map(Some)
}

/// What one peer may cost us. Size and depth are checked before parsing;
/// the other two when a call arrives and when a value is exported.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_message_bytes: usize,
    pub max_depth: usize,
    /// Calls from the peer being served at once (delivered, not yet
    /// answered). Past it a call is refused with a rejection to its asker.
    pub max_pending_calls: usize,
    /// Exports alive at once; past it an export fails, so the value that
    /// needed it is answered with a rejection. An LRU `capacity` below this
    /// bound evicts first and the limit is never reached.
    pub max_exports: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 64 << 20,
            max_depth: 1000,
            max_pending_calls: 10_000,
            max_exports: 100_000,
        }
    }
}

/// Parses one message text. Rejects oversized and over-deep text before the
/// JSON parser sees it, so hostile nesting cannot exhaust the stack.
pub fn parse<'a>(text: &'a str, limits: &Limits) -> Result<Envelope<'a>, ProtocolError> {
    parse_scanned(text, limits).map(|(envelope, _)| envelope)
}

/// [`parse`], with the [`Revival`] the envelope's payload needs.
pub fn parse_scanned<'a>(
    text: &'a str,
    limits: &Limits,
) -> Result<(Envelope<'a>, Revival), ProtocolError> {
    if text.len() > limits.max_message_bytes {
        return Err(ProtocolError::TooLarge {
            bytes: text.len(),
            limit: limits.max_message_bytes,
        });
    }
    if let Some(parsed) = canonical::parse(text, limits.max_depth) {
        return Ok(parsed);
    }
    parse_general(text, limits.max_depth)
}

/// [`parse_scanned`] for any layout (after the size check): the bracket
/// scan, then serde. `canonical::parse` must agree with it wherever it answers.
pub(super) fn parse_general(
    text: &str,
    max_depth: usize,
) -> Result<(Envelope<'_>, Revival), ProtocolError> {
    let revival = scan(text, max_depth)?;
    let envelope = parse_envelope(text)?;
    // A missing resolution stands for the {"%":"undefined"} form.
    let revival = match &envelope {
        Envelope::Resolve { resolution, .. } | Envelope::Notify { resolution, .. }
            if std::ptr::eq(*resolution, UNDEFINED_RESOLUTION) =>
        {
            revival.max(Revival::ReviveForms)
        }
        _ => revival,
    };
    Ok((envelope, revival))
}

fn parse_envelope(text: &str) -> Result<Envelope<'_>, ProtocolError> {
    // serde would also read a struct from an array; the protocol wants an object.
    if !text.trim_start().starts_with('{') {
        return Err(match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => ProtocolError::NotAnObject,
            Err(e) => ProtocolError::from_json(&e),
        });
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let raw = RawEnvelope::deserialize(&mut de).map_err(|e| ProtocolError::from_json(&e))?;
    de.end().map_err(|e| ProtocolError::from_json(&e))?;
    let kind = match raw.kind {
        Some(kind) => string_field(kind, "type")?,
        None => return Ok(Envelope::Unknown),
    };
    let to = || {
        raw.to
            .ok_or(ProtocolError::MissingField("to"))
            .and_then(|v| string_field(v, "to"))
    };
    match kind.as_ref() {
        "send" => {
            let args = raw.args.ok_or(ProtocolError::MissingField("args"))?.get();
            if !args.starts_with('[') {
                return Err(ProtocolError::WrongType {
                    field: "args",
                    expected: "an array",
                });
            }
            Ok(Envelope::Send {
                to: to()?,
                from: string_field(raw.from.ok_or(ProtocolError::MissingField("from"))?, "from")?,
                op: string_field(raw.op.ok_or(ProtocolError::MissingField("op"))?, "op")?,
                args,
                release: raw
                    .release
                    .map(|ids| release_ids(ids, "release"))
                    .transpose()?,
            })
        }
        "resolve" | "notify" => {
            let resolution = raw.resolution.map_or(UNDEFINED_RESOLUTION, RawValue::get);
            let to = to()?;
            Ok(if kind == "resolve" {
                Envelope::Resolve { to, resolution }
            } else {
                Envelope::Notify { to, resolution }
            })
        }
        "hello" => parse_hello(raw.version, raw.extensions, raw.heard),
        "release" => parse_release(raw.ids),
        _ => Ok(Envelope::Unknown),
    }
}

fn parse_hello<'a>(
    version: Option<&RawValue>,
    extensions: Option<&RawValue>,
    heard: Option<&RawValue>,
) -> Result<Envelope<'a>, ProtocolError> {
    // Without a whole-number version and an array of names this is not our
    // hello (another protocol's, or a probe): an unknown message, ignored.
    let version = version.and_then(|v| serde_json::from_str::<u64>(v.get()).ok());
    let names =
        extensions.and_then(|list| serde_json::from_str::<Vec<serde_json::Value>>(list.get()).ok());
    let (Some(version), Some(names)) = (version, names) else {
        return Ok(Envelope::Unknown);
    };
    let extensions = names
        .into_iter()
        .filter_map(|name| match name {
            serde_json::Value::String(name) if name.len() <= MAX_EXTENSION_NAME => Some(name),
            _ => None,
        })
        .take(MAX_EXTENSIONS)
        .collect();
    // Lenient like the rest of the hello: anything but `true` is absent.
    let heard = heard.is_some_and(|v| v.get() == "true");
    Ok(Envelope::Hello {
        version,
        extensions,
        heard,
    })
}

fn parse_release<'a>(ids: Option<&RawValue>) -> Result<Envelope<'a>, ProtocolError> {
    let ids = ids.ok_or(ProtocolError::MissingField("ids"))?;
    Ok(Envelope::Release {
        ids: release_ids(ids, "ids")?,
    })
}

/// `{id: count, ...}` with positive whole counts (a release's `ids`, a send's `release`).
fn release_ids(ids: &RawValue, field: &'static str) -> Result<Vec<(String, u64)>, ProtocolError> {
    let wrong = || ProtocolError::WrongType {
        field,
        expected: "an object of counts",
    };
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(ids.get()).map_err(|_| wrong())?;
    let mut out = Vec::with_capacity(map.len());
    for (id, count) in map {
        match count.as_u64() {
            Some(count) if count > 0 => out.push((id, count)),
            _ => return Err(wrong()),
        }
    }
    Ok(out)
}

/// `{"type":"hello","version":…,"extensions":[…]}`, with `,"heard":true`
/// last when `heard` (the reply to the peer's hello).
pub fn hello(version: u64, extensions: &[String], heard: bool) -> String {
    let mut out = format!(r#"{{"type":"hello","version":{version},"extensions":["#);
    for (i, name) in extensions.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(&mut out, name);
    }
    out.push_str(if heard { r#"],"heard":true}"# } else { "]}" });
    out
}

/// `{"type":"release","ids":{id:count,…}}`.
pub fn release(ids: &[(String, u64)]) -> String {
    let mut out = String::from(r#"{"type":"release","ids":"#);
    push_counts(&mut out, ids);
    out.push('}');
    out
}

/// Appends `{id:count,…}`.
fn push_counts(out: &mut String, ids: &[(String, u64)]) {
    out.reserve(2 + ids.iter().map(|(id, _)| id.len() + 8).sum::<usize>());
    out.push('{');
    for (i, (id, count)) in ids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(out, id);
        out.push(':');
        push_decimal(out, *count);
    }
    out.push('}');
}

/// Appends `n` in decimal, without the temporary String of `to_string`.
fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[start..].iter().map(|&d| d as char));
}

/// A missing `resolution` decodes as `undefined` in 0.6.1 (`decode(undefined)`).
/// A `static`, not a `const`: its one address tells it from a payload.
static UNDEFINED_RESOLUTION: &str = r#"{"%":"undefined"}"#;

fn string_field<'a>(
    value: &'a RawValue,
    field: &'static str,
) -> Result<Cow<'a, str>, ProtocolError> {
    let text = value.get();
    if !text.starts_with('"') {
        return Err(ProtocolError::WrongType {
            field,
            expected: "a string",
        });
    }
    if !text.contains('\\') {
        return Ok(Cow::Borrowed(&text[1..text.len() - 1]));
    }
    serde_json::from_str::<String>(text)
        .map(Cow::Owned)
        .map_err(|e| ProtocolError::from_json(&e))
}

/// What the host's QSON decoder must do, beyond `JSON.parse`, with the
/// payload of a message, as learnt from the whole message text (so it may
/// ask for more than the payload needs, never less). Mirrored in
/// lib/qson-text.js (`revivalOf`, which answers the same from JS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
#[repr(u32)]
pub enum Revival {
    /// No string is exactly `$`, `%`, `!` or `@` and none holds an escape:
    /// no object can be a QSON form and no key is escaped.
    #[default]
    AsParsed = 0,
    /// Some string is exactly `%`, `!` or `@` (a form, perhaps), none is `$`
    /// and none holds an escape: forms can be decoded where they are.
    ReviveForms = 1,
    /// A `$` string (a path, perhaps) or an escape somewhere.
    DecodeAll = 2,
}

impl Revival {
    /// The rule for one string of the message (a key or a value), given
    /// the bytes between its quotes: exactly `$` may be a path, exactly
    /// `%`, `!` or `@` a form. The scan below and `canonical.rs` both use it.
    pub(super) fn with_string(self, content: &[u8]) -> Revival {
        match content {
            [b'$'] => Revival::DecodeAll,
            [b'%' | b'!' | b'@'] => self.max(Revival::ReviveForms),
            _ => self,
        }
    }
}

/// One pass over the text, before the JSON parser sees it: bracket nesting
/// outside strings (counted without recursion, refused past `max_depth`)
/// and the [`Revival`] the payload needs. Inside strings only `"` and `\`
/// stop the inner loop, which is most of the bytes.
fn scan(text: &str, max_depth: usize) -> Result<Revival, ProtocolError> {
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut revival = Revival::AsParsed;
    let mut depth = 0usize;
    let mut i = 0;
    while i < n {
        match bytes[i] {
            b'"' => {
                let start = i + 1;
                i = start;
                loop {
                    while i < n && bytes[i] != b'"' && bytes[i] != b'\\' {
                        i += 1;
                    }
                    if i < n && bytes[i] == b'\\' {
                        revival = Revival::DecodeAll;
                        i += 2;
                        continue;
                    }
                    break; // at the closing quote, or past the end (the parser reports it)
                }
                if i == start + 1 {
                    revival = revival.with_string(&bytes[start..i]);
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > max_depth {
                    return Err(ProtocolError::TooDeep { limit: max_depth });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(revival)
}

/// Appends `text` as a JSON string literal, escaped exactly as `JSON.stringify` does.
pub fn push_json_string(out: &mut String, text: &str) {
    // Ids and op names need no escapes; copying them straight saves a
    // temporary String per field (three per `send`).
    if canonical::first_special(text.as_bytes()).is_none() {
        out.push('"');
        out.push_str(text);
        out.push('"');
        return;
    }
    let escaped = serde_json::to_string(text).expect("a str always serialises");
    out.push_str(&escaped);
}

/// `{"type":"send","to":…,"from":…,"op":…,"args":…}`, 0.6.1's key order.
pub fn send(to: &str, from: &str, op: &str, args_json: &str) -> String {
    send_with_room(to, from, op, args_json, 0)
}

/// [`send`] with room for `extra` more bytes.
fn send_with_room(to: &str, from: &str, op: &str, args_json: &str, extra: usize) -> String {
    let mut out = String::with_capacity(64 + to.len() + from.len() + args_json.len() + extra);
    out.push_str(r#"{"type":"send","to":"#);
    push_json_string(&mut out, to);
    out.push_str(r#","from":"#);
    push_json_string(&mut out, from);
    out.push_str(r#","op":"#);
    push_json_string(&mut out, op);
    out.push_str(r#","args":"#);
    out.push_str(args_json);
    out.push('}');
    out
}

/// A `send` that also carries releases, for a negotiated peer only:
/// `{"type":"send",…,"args":…,"release":{id:count,…}}`. It saves a message,
/// and the receiver's parse and crossing, per call (docs/PROTOCOL-EXTENSIONS.md).
pub fn send_releasing(
    to: &str,
    from: &str,
    op: &str,
    args_json: &str,
    ids: &[(String, u64)],
) -> String {
    // Room for the release field, so the envelope is not moved to grow.
    let room = 16 + ids.iter().map(|(id, _)| id.len() + 8).sum::<usize>();
    let mut out = send_with_room(to, from, op, args_json, room);
    out.pop();
    out.push_str(r#","release":"#);
    push_counts(&mut out, ids);
    out.push('}');
    out
}

/// `{"type":"resolve"|"notify","to":…,"resolution":…}`, 0.6.1's key order.
pub fn settle(kind: &str, to: &str, resolution_json: &str) -> String {
    let mut out = settle_head(kind, to, resolution_json.len() + 1);
    out.push_str(resolution_json);
    out.push('}');
    out
}

/// The envelope of [`settle`] up to its resolution, `{"type":…,"to":…,"resolution":`,
/// with room for `extra` more bytes: the resolution's text and `}` complete it.
pub fn settle_head(kind: &str, to: &str, extra: usize) -> String {
    let mut out = String::with_capacity(48 + to.len() + extra);
    out.push_str(r#"{"type":""#);
    out.push_str(kind);
    out.push_str(r#"","to":"#);
    push_json_string(&mut out, to);
    out.push_str(r#","resolution":"#);
    out
}

/// The QSON text of a rejection with a plain `Error(message)` reason, as the
/// engine writes when it refuses a call before the host sees it.
pub fn rejection_json(message: &str) -> String {
    let mut out = String::from(r#"{"!":{"message":"#);
    push_json_string(&mut out, message);
    out.push_str(r#","stack":"#);
    push_json_string(&mut out, &format!("Error: {message}"));
    out.push_str("}}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Envelope<'_> {
        parse(text, &Limits::default()).unwrap()
    }

    #[test]
    fn release_counts_are_written_in_decimal() {
        let ids = [
            ("A".to_owned(), 0),
            ("B".to_owned(), 7),
            ("C".to_owned(), u64::MAX),
        ];
        assert_eq!(
            release(&ids),
            r#"{"type":"release","ids":{"A":0,"B":7,"C":18446744073709551615}}"#
        );
        assert_eq!(
            send_releasing("", "Q", "post", "[]", &ids[1..2]),
            r#"{"type":"send","to":"","from":"Q","op":"post","args":[],"release":{"B":7}}"#
        );
    }

    #[test]
    fn parses_the_three_types_and_ignores_others() {
        match parse_ok(r#"{"type":"send","to":"","from":"F","op":"post","args":["x",[1]]}"#) {
            Envelope::Send {
                to,
                from,
                op,
                args,
                release,
            } => {
                assert_eq!((to.as_ref(), from.as_ref(), op.as_ref()), ("", "F", "post"));
                assert_eq!(args, r#"["x",[1]]"#);
                assert!(release.is_none());
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_ok(r#"{"type":"resolve","to":"A","resolution":1}"#),
            Envelope::Resolve { .. }
        ));
        assert!(matches!(
            parse_ok(r#"{"type":"notify","to":"A","resolution":1}"#),
            Envelope::Notify { .. }
        ));
        match parse_ok(r#"{"type":"resolve","to":"A","resolution":null}"#) {
            Envelope::Resolve { resolution, .. } => {
                assert_eq!(resolution, "null", "null is a value, not absence")
            }
            other => panic!("{other:?}"),
        }
        match parse_ok(r#"{"type":"resolve","to":"A"}"#) {
            Envelope::Resolve { resolution, .. } => {
                assert_eq!(resolution, r#"{"%":"undefined"}"#)
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse_ok(r#"{"type":"hello"}"#), Envelope::Unknown));
        assert!(matches!(parse_ok(r#"{}"#), Envelope::Unknown));
    }

    #[test]
    fn hello_and_release_round_trip_and_reject_bad_fields() {
        let text = hello(1, &["pipeline".into(), "values".into()], false);
        assert_eq!(
            text,
            r#"{"type":"hello","version":1,"extensions":["pipeline","values"]}"#
        );
        match parse_ok(&text) {
            Envelope::Hello {
                version,
                extensions,
                heard,
            } => {
                assert_eq!(
                    (version, extensions, heard),
                    (1, vec!["pipeline".to_owned(), "values".to_owned()], false)
                )
            }
            other => panic!("{other:?}"),
        }
        let reply = hello(1, &["pipeline".into()], true);
        assert_eq!(
            reply,
            r#"{"type":"hello","version":1,"extensions":["pipeline"],"heard":true}"#
        );
        assert!(matches!(
            parse_ok(&reply),
            Envelope::Hello { heard: true, .. }
        ));
        assert!(matches!(
            parse_ok(r#"{ "heard" : true , "type":"hello","version":1,"extensions":[] }"#),
            Envelope::Hello { heard: true, .. }
        ));
        // A `heard` that is not a boolean true reads as absent; the hello stands.
        for odd in [
            r#"false"#,
            r#""true""#,
            "1",
            "null",
            "[true]",
            r#"{"a":true}"#,
        ] {
            let text = format!(r#"{{"type":"hello","version":1,"extensions":[],"heard":{odd}}}"#);
            assert!(
                matches!(parse_ok(&text), Envelope::Hello { heard: false, .. }),
                "{text}"
            );
        }
        match parse_ok(r#"{"type":"hello","version":2,"extensions":["a",5,null,"b"]}"#) {
            Envelope::Hello { extensions, .. } => assert_eq!(extensions, ["a", "b"]),
            other => panic!("{other:?}"),
        }
        let text = release(&[("A".into(), 2), ("B\"".into(), 1)]);
        assert_eq!(text, r#"{"type":"release","ids":{"A":2,"B\"":1}}"#);
        match parse_ok(&text) {
            Envelope::Release { mut ids } => {
                ids.sort();
                assert_eq!(ids, [("A".to_owned(), 2), ("B\"".to_owned(), 1)]);
            }
            other => panic!("{other:?}"),
        }
        let limits = Limits::default();
        for not_ours in [
            r#"{"type":"hello"}"#,
            r#"{"type":"hello","version":-1,"extensions":[]}"#,
            r#"{"type":"hello","to":"","version":9}"#,
        ] {
            assert!(
                matches!(parse_ok(not_ours), Envelope::Unknown),
                "{not_ours}"
            );
        }
        assert!(parse(r#"{"type":"release","ids":{"A":0}}"#, &limits).is_err());
        assert!(parse(r#"{"type":"release","ids":["A"]}"#, &limits).is_err());
        let text = send_releasing("", "F", "get", "[]", &[("A".into(), 1)]);
        assert_eq!(
            text,
            r#"{"type":"send","to":"","from":"F","op":"get","args":[],"release":{"A":1}}"#
        );
        match parse_ok(&text) {
            Envelope::Send { release, args, .. } => {
                assert_eq!((release, args), (Some(vec![("A".to_owned(), 1)]), "[]"))
            }
            other => panic!("{other:?}"),
        }
        let err = parse(
            r#"{"type":"send","to":"","from":"F","op":"get","args":[],"release":{"A":-1}}"#,
            &limits,
        );
        assert_eq!(
            err.unwrap_err().to_string(),
            "field \"release\" must be an object of counts"
        );
    }

    #[test]
    fn escaped_strings_are_unescaped() {
        match parse_ok(r#"{"type":"resolve","to":"a\"b\u0041","resolution":null}"#) {
            Envelope::Resolve { to, .. } => assert_eq!(to, "a\"bA"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_messages_are_clear_errors() {
        let limits = Limits::default();
        let err = |text: &str| parse(text, &limits).unwrap_err().to_string();
        assert!(err("not json").contains("not JSON"));
        assert_eq!(err("[1,2]"), "message is not a JSON object");
        assert_eq!(err("\"text\""), "message is not a JSON object");
        assert_eq!(
            err(r#"{"type":"send","to":1,"from":"F","op":"get","args":[]}"#),
            "field \"to\" must be a string"
        );
        assert_eq!(
            err(r#"{"type":"send","to":"","op":"get","args":[]}"#),
            "field \"from\" is missing"
        );
        assert_eq!(
            err(r#"{"type":"send","to":"","from":"F","op":"get","args":{}}"#),
            "field \"args\" must be an array"
        );
        assert!(err(r#"{"type":"resolve","to":""} trailing"#).contains("not JSON"));
    }

    #[test]
    fn depth_and_size_are_limited_before_parsing() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let text = format!(r#"{{"type":"resolve","to":"A","resolution":{deep}}}"#);
        assert_eq!(
            parse(&text, &Limits::default()).unwrap_err().to_string(),
            "message nests deeper than 1000 levels"
        );
        let small = Limits {
            max_message_bytes: 10,
            max_depth: 10,
            ..Limits::default()
        };
        assert!(matches!(
            parse(&text, &small),
            Err(ProtocolError::TooLarge { .. })
        ));
        // Brackets inside strings do not count.
        let quoted = format!(
            r#"{{"type":"resolve","to":"A","resolution":"{}"}}"#,
            "[".repeat(5000)
        );
        assert!(parse(&quoted, &Limits::default()).is_ok());
    }

    #[test]
    fn revival_tells_plain_text_forms_and_paths_or_escapes() {
        let revival = |payload: &str| {
            let text = format!(r#"{{"type":"resolve","to":"A","resolution":{payload}}}"#);
            parse_scanned(&text, &Limits::default()).unwrap().1
        };
        assert_eq!(
            revival(r#"{"$x":"@x","a":["%!"],"b":"x$","c":""}"#),
            Revival::AsParsed
        );
        for forms in [
            r#"{"%":"NaN"}"#,
            r#"[{"!":1}]"#,
            r#"{"@":"id","type":"object"}"#,
            r#"["%"]"#,
        ] {
            assert_eq!(revival(forms), Revival::ReviveForms, "{forms}");
        }
        for paths in [
            r#"{"$":""}"#,
            r#"[{"%":"NaN"},{"$":"/0"}]"#,
            r#"{"a\\@":1}"#,
            r#"["\n"]"#,
            r#"{"\u0024":"/"}"#,
        ] {
            assert_eq!(revival(paths), Revival::DecodeAll, "{paths}");
        }
        let missing = parse_scanned(r#"{"type":"resolve","to":"A"}"#, &Limits::default())
            .unwrap()
            .1;
        assert_eq!(
            missing,
            Revival::ReviveForms,
            "a missing resolution is the undefined form"
        );
    }

    #[test]
    fn envelopes_match_json_stringify() {
        assert_eq!(
            send("", "AB", "post", r#"["f",[]]"#),
            r#"{"type":"send","to":"","from":"AB","op":"post","args":["f",[]]}"#
        );
        assert_eq!(
            settle("resolve", "X\n\u{1}", "1"),
            "{\"type\":\"resolve\",\"to\":\"X\\n\\u0001\",\"resolution\":1}"
        );
        assert_eq!(
            settle("notify", "a\"b\\c\u{7f}é", "1"),
            "{\"type\":\"notify\",\"to\":\"a\\\"b\\\\c\u{7f}é\",\"resolution\":1}"
        );
        assert_eq!(
            settle_head("resolve", "X\n", 0) + "[1]}",
            settle("resolve", "X\n", "[1]")
        );
    }
}
