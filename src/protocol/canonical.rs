//! The two envelopes that carry nearly all traffic, `send` and `resolve`,
//! read in one pass without serde when they are laid out as q-connection-rs
//! and 0.6.1 write them: `JSON.stringify`'s key order, no whitespace between
//! the envelope's own tokens, and ids and op names without escapes.
//!
//! Contract: [`parse`] either returns exactly what the general parser
//! ([`super::message::parse_general`]) would return for the same text, or
//! `None`, and then the general parser decides (so every error, and every
//! unusual but valid layout, is its business). To keep that promise this
//! reader is never more lenient than serde_json: it gives up on anything it
//! does not check itself (a backslash in any string, an escape-free string
//! is all it reads; a number outside JSON's grammar; nesting deeper than
//! [`MAX_NESTING`]; a repeated release id), and it applies the same
//! [`Revival`] rule to every string as `scan` does over the whole text.
//!
//! Why: serde's derive reads a field name, looks it up, deserialises a
//! `RawValue` and then re-checks each field, ~6,000 instructions per
//! envelope; one `send` and one `resolve` per call made it the engine's
//! largest cost (docs/PERFORMANCE.md).

use std::borrow::Cow;

use super::message::{Envelope, Revival};

/// Payload nesting read here (recursively); deeper payloads go to the
/// general parser, which bounds nesting without recursion.
const MAX_NESTING: usize = 100;

/// The `send` or `resolve` in `text`, with its [`Revival`], or `None` when
/// the general parser must decide. `max_depth` counts the envelope's own
/// braces, as the general parser's limit does.
pub(super) fn parse(text: &str, max_depth: usize) -> Option<(Envelope<'_>, Revival)> {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        text,
        at: 0,
        revival: Revival::AsParsed,
        // The envelope's braces are level 1; past both limits, give up.
        depth_left: max_depth.min(MAX_NESTING + 1).checked_sub(1)?,
    };
    let envelope = if reader.eat(br#"{"type":"send","to":""#) {
        let to = reader.string()?;
        reader.expect(br#","from":""#)?;
        let from = reader.string()?;
        reader.expect(br#","op":""#)?;
        let op = reader.string()?;
        reader.expect(br#","args":"#)?;
        if reader.peek() != Some(b'[') {
            return None;
        }
        let args = reader.value()?;
        let release = if reader.eat(br#","release":{"#) {
            Some(reader.release_ids()?)
        } else {
            None
        };
        Envelope::Send {
            to: Cow::Borrowed(to),
            from: Cow::Borrowed(from),
            op: Cow::Borrowed(op),
            args,
            release,
        }
    } else if reader.eat(br#"{"type":"resolve","to":""#) {
        let to = reader.string()?;
        reader.expect(br#","resolution":"#)?;
        let resolution = reader.value()?;
        Envelope::Resolve {
            to: Cow::Borrowed(to),
            resolution,
        }
    } else {
        return None;
    };
    reader.expect(b"}")?;
    (reader.at == reader.bytes.len()).then_some((envelope, reader.revival))
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    revival: Revival,
    /// How many more brackets may open.
    depth_left: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Steps over `literal` if the text continues with it.
    fn eat(&mut self, literal: &[u8]) -> bool {
        let found = self.bytes[self.at..].starts_with(literal);
        if found {
            self.at += literal.len();
        }
        found
    }

    fn expect(&mut self, literal: &[u8]) -> Option<()> {
        self.eat(literal).then_some(())
    }

    /// The rest of a string whose opening quote is behind us, without its
    /// quotes; `None` at a backslash or a control character (the general
    /// parser unescapes or refuses those).
    fn string(&mut self) -> Option<&'a str> {
        let start = self.at;
        let rest = &self.bytes[start..];
        let length = first_special(rest)?;
        if rest[length] != b'"' {
            return None;
        }
        self.at = start + length + 1;
        // The rule `scan` applies to every string of the message.
        self.revival = self.revival.with_string(&rest[..length]);
        // Quotes and control bytes are ASCII, so `start..` and `at - 1` are
        // character boundaries of the text.
        Some(&self.text[start..self.at - 1])
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// One JSON value, returned as its text (without surrounding whitespace).
    fn value(&mut self) -> Option<&'a str> {
        self.skip_whitespace();
        let start = self.at;
        match self.peek()? {
            b'"' => {
                self.at += 1;
                self.string()?;
            }
            b'[' => self.array()?,
            b'{' => self.object()?,
            b't' => self.expect(b"true")?,
            b'f' => self.expect(b"false")?,
            b'n' => self.expect(b"null")?,
            b'-' | b'0'..=b'9' => self.number()?,
            _ => return None,
        }
        let end = self.at;
        self.skip_whitespace();
        Some(&self.text[start..end])
    }

    fn array(&mut self) -> Option<()> {
        self.members(b']', |reader| reader.value().map(drop))
    }

    fn object(&mut self) -> Option<()> {
        self.members(b'}', |reader| {
            reader.expect(b"\"")?;
            reader.string()?;
            reader.skip_whitespace();
            reader.expect(b":")?;
            reader.value().map(drop)
        })
    }

    /// The rest of an array or object whose opening bracket is at `at`:
    /// `member` reads one element (or `"key": value`) at a time, the members
    /// separated by commas, up to `close`.
    fn members(&mut self, close: u8, member: fn(&mut Self) -> Option<()>) -> Option<()> {
        self.depth_left = self.depth_left.checked_sub(1)?;
        self.at += 1;
        self.skip_whitespace();
        if !self.eat(&[close]) {
            loop {
                member(self)?;
                match self.peek()? {
                    b',' => {
                        self.at += 1;
                        self.skip_whitespace();
                    }
                    byte if byte == close => {
                        self.at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth_left += 1;
        Some(())
    }

    /// JSON's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Option<()> {
        self.eat(b"-");
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.eat(b".") {
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.some_digits()?;
        }
        Some(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.at;
        self.digits();
        (self.at > start).then_some(())
    }

    /// `"id":count,…}` after a release's opening brace, as the general
    /// parser reads it: positive whole counts, ids in sorted order (it
    /// collects them in an ordered map). A repeated id goes to it.
    fn release_ids(&mut self) -> Option<Vec<(String, u64)>> {
        let mut ids: Vec<(String, u64)> = Vec::with_capacity(1);
        if self.eat(b"}") {
            return Some(ids);
        }
        loop {
            self.expect(b"\"")?;
            let id = self.string()?;
            self.expect(b":")?;
            let count = self.count()?;
            if ids.iter().any(|(seen, _)| seen == id) {
                return None;
            }
            ids.push((id.to_owned(), count));
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => break,
                _ => return None,
            }
        }
        self.at += 1;
        ids.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Some(ids)
    }

    /// A positive whole number that fits in a `u64`, digits only.
    fn count(&mut self) -> Option<u64> {
        let start = self.at;
        if !matches!(self.peek()?, b'1'..=b'9') {
            return None;
        }
        self.digits();
        if let Some(b'.' | b'e' | b'E') = self.peek() {
            return None;
        }
        self.text[start..self.at].parse().ok()
    }
}

/// The index of the first byte of `bytes` that a JSON string cannot hold
/// as it is: a quote, a backslash or a control character (below 0x20).
/// Eight bytes at a time (ids are 36 bytes; a byte loop with three
/// comparisons was a third of the envelope parse). Also tells
/// `message::push_json_string` that a text needs no escape.
pub(super) fn first_special(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // High bit set in each byte of `x` that is zero. Borrows can also mark
    // bytes above a marked one, never below it: the lowest mark is exact.
    let zero_bytes = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let word = u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let found = zero_bytes(word ^ (ONES * u64::from(b'"')))
            | zero_bytes(word ^ (ONES * u64::from(b'\\')))
            // Below 0x20 (and so below 0x80, where `!word` keeps the bit).
            | (word.wrapping_sub(ONES * 0x20) & !word & HIGHS);
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes[at..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|i| at + i)
}
