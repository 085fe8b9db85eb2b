use std::borrow::Cow;

use super::error::ProtocolError;
use super::extensions::{Negotiation, PendingReleases, RecentIds};
use super::message::{self, Envelope, Limits, Revival};
use super::salvage::{salvage, Salvage};
use crate::tables::{IdSource, Local, Locals, Slot};

/// The operations of a `send` message. `put` (Q before 0.9.7) arrives as `Set`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Op {
    Get = 0,
    Set = 1,
    Delete = 2,
    Post = 3,
    Apply = 4,
    Keys = 5,
}

impl Op {
    pub fn parse(name: &str) -> Option<Op> {
        Some(match name {
            "get" => Op::Get,
            "set" | "put" => Op::Set,
            "delete" => Op::Delete,
            "post" => Op::Post,
            "apply" => Op::Apply,
            "keys" => Op::Keys,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Set => "set",
            Op::Delete => "delete",
            Op::Post => "post",
            Op::Apply => "apply",
            Op::Keys => "keys",
        }
    }
}

/// What the host must do with one incoming message.
#[derive(Debug)]
pub enum Delivery<'a> {
    /// Apply `op` to the value in `slot` with the QSON `args`; answer the
    /// result to `answer_to` (with [`Connection::answer`]). When `keep` is
    /// true (a pipelining peer), the host also keeps its response promise in a
    /// slot given to [`Connection::keep_answer`], because the peer may send
    /// to `answer_to` before the answer settles.
    Call {
        slot: Slot,
        op: Op,
        args: &'a str,
        answer_to: Cow<'a, str>,
        keep: bool,
    },
    /// A call addressed to one of our pending questions (the peer learnt its
    /// id as a `from`): apply `op` to the question's eventual value, as 0.6.1
    /// dispatches it on the question's promise, never to the host's record
    /// of the question. Answer it as a `Call` (`keep` likewise).
    CallQuestion {
        slot: Slot,
        op: Op,
        args: &'a str,
        answer_to: Cow<'a, str>,
        keep: bool,
    },
    /// Settle the pending question in `slot` with the QSON `resolution`. The
    /// engine has already forgotten the question.
    Resolve { slot: Slot, resolution: &'a str },
    /// Report progress to the pending question in `slot`.
    Notify { slot: Slot, resolution: &'a str },
    /// The peer's first hello arrived: the agreed extensions are now known.
    /// The host transmits [`Connection::hello`] (our reply) if any, before
    /// anything else it sends because of it.
    Hello,
    /// The peer released ids of ours: the host frees these slots (exports
    /// whose count reached zero; answers, which it stops answering if they
    /// are still pending).
    Released { slots: Vec<Slot> },
    /// The message names an id this side does not have (never made, or
    /// evicted by the LRU): hand it to `onmessagelost`.
    Lost,
    /// A message type this side does not know, or a settlement of something
    /// that cannot settle (an export): nothing to do.
    Ignored,
}

/// A message that was not delivered. `reply`, when present, is an envelope
/// to transmit so that the asker's promise rejects instead of hanging;
/// `question`, when present, is the slot of our own question that the
/// refused message was answering, which the host rejects with `error`.
#[derive(Debug)]
pub struct Refusal {
    pub error: ProtocolError,
    pub reply: Option<String>,
    pub question: Option<Slot>,
}

/// Counters the host shows through `stats()`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    pub sends_in: u64,
    pub resolves_in: u64,
    pub notifies_in: u64,
    pub sends_out: u64,
    pub resolves_out: u64,
    pub notifies_out: u64,
    pub lost: u64,
    pub ignored: u64,
    pub malformed: u64,
    pub refused: u64,
    pub evicted: u64,
    /// Calls refused because `max_pending_calls` were being served.
    pub calls_refused: u64,
    /// Exports refused because `max_exports` were alive.
    pub exports_refused: u64,
    pub releases_in: u64,
    pub releases_out: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Bound on the exports table (0.6.1's `capacity`/`max`); `None` is unbounded.
    pub capacity: Option<usize>,
    pub limits: Limits,
    /// Extension names we announce in our hello; empty sends no hello.
    pub extensions: Vec<String>,
}

/// One side of a Q-Connection, as a state machine without I/O.
///
/// Calling order: the host puts its root value in [`crate::tables::ROOT_SLOT`]
/// and creates the connection. Then, in any order:
/// - each incoming text goes to [`Connection::receive`], whose [`Delivery`]
///   the host performs (a `Call` ends with [`Connection::answer`]);
/// - each outgoing call goes through [`Connection::ask`], each value sent by
///   reference through [`Connection::export`]; every returned envelope is
///   transmitted as is, in the order returned;
/// - after an export with a bounded capacity, [`Connection::take_evicted`]
///   gives slots the host may free.
///
/// Finally [`Connection::close`] returns the slots of pending questions, which
/// the host rejects; every later `ask` fails with [`ProtocolError::Closed`].
///
/// With extensions (see `extensions.rs`): the host transmits
/// [`Connection::hello`] first of all, and again at once after a `Hello`
/// delivery; after a `Call` with `keep` it calls
/// [`Connection::keep_answer`]; it frees the slots of a `Released`; and once
/// per turn it transmits [`Connection::take_release`] when
/// [`Connection::has_pending_release`] (after a `Resolve`, a
/// [`Connection::cancel`] or a [`Connection::release_import`]).
pub struct Connection {
    pub(super) locals: Locals,
    ids: IdSource,
    limits: Limits,
    pub(super) stats: Stats,
    closed: bool,
    /// Calls delivered to the host and not yet answered.
    pending_calls: usize,
    pub(super) negotiation: Negotiation,
    pub(super) releases: PendingReleases,
    pub(super) cancelled: RecentIds,
    /// Empty before the first `ask`; reused, not reallocated, by each.
    pub(super) last_question: String,
    /// See [`Connection::released_with_call`].
    pub(super) released_with_call: Vec<Slot>,
    /// See [`Connection::last_revival`].
    revival: Revival,
}

impl Connection {
    pub fn new(options: Options) -> Self {
        Connection {
            locals: Locals::new(options.capacity),
            ids: IdSource::default(),
            limits: Limits {
                // An LRU no larger than the bound evicts before reaching it.
                max_exports: match options.capacity {
                    Some(capacity) if capacity > 0 && capacity <= options.limits.max_exports => {
                        usize::MAX
                    }
                    _ => options.limits.max_exports,
                },
                ..options.limits
            },
            stats: Stats::default(),
            closed: false,
            pending_calls: 0,
            negotiation: Negotiation::new(options.extensions),
            releases: PendingReleases::default(),
            cancelled: RecentIds::default(),
            last_question: String::new(),
            released_with_call: Vec::new(),
            revival: Revival::default(),
        }
    }

    /// What the payload of the last message `receive` accepted needs from
    /// the host's decoder beyond `JSON.parse` (see [`Revival`]).
    pub fn last_revival(&self) -> Revival {
        self.revival
    }

    /// Parses and routes one incoming message text.
    pub fn receive<'a>(&mut self, text: &'a str) -> Result<Delivery<'a>, Refusal> {
        if self.closed {
            return Err(Refusal {
                error: ProtocolError::Closed,
                reply: None,
                question: None,
            });
        }
        self.released_with_call.clear();
        let (envelope, revival) = message::parse_scanned(text, &self.limits).map_err(|error| {
            self.stats.malformed += 1;
            self.refuse_malformed(text, error)
        })?;
        self.revival = revival;
        Ok(match envelope {
            Envelope::Send {
                to,
                from,
                op,
                args,
                release,
            } => {
                // The releases the call carries go first, as a `release`
                // message sent just before it would.
                if let Some(slots) = release.and_then(|ids| self.apply_release(&ids)) {
                    self.released_with_call = slots;
                }
                self.stats.sends_in += 1;
                let Some(local) = self.locals.lookup(&to) else {
                    self.stats.lost += 1;
                    return Ok(Delivery::Lost);
                };
                let Some(op) = Op::parse(&op) else {
                    self.stats.refused += 1;
                    return Err(
                        self.refuse_call(&from, ProtocolError::UnknownOperation(op.into_owned()))
                    );
                };
                // With pipelining, answers stay kept (in `locals`) until the
                // peer releases them, pending or not: a peer that never
                // releases is held to the same bound as one that floods.
                if self.pending_calls.max(self.locals.answer_count())
                    >= self.limits.max_pending_calls
                {
                    self.stats.calls_refused += 1;
                    let limit = self.limits.max_pending_calls;
                    return Err(
                        self.refuse_call(&from, ProtocolError::TooManyPendingCalls { limit })
                    );
                }
                self.pending_calls += 1;
                let keep = self.negotiation.pipeline();
                match local {
                    Local::Export(slot) | Local::Answer(slot) => Delivery::Call {
                        slot,
                        op,
                        args,
                        answer_to: from,
                        keep,
                    },
                    Local::Question(slot) => Delivery::CallQuestion {
                        slot,
                        op,
                        args,
                        answer_to: from,
                        keep,
                    },
                }
            }
            Envelope::Resolve { to, resolution } => {
                self.stats.resolves_in += 1;
                // Taken at once (one lookup), its id moved into the release.
                match self.locals.take_question(&to) {
                    Some((id, slot)) => {
                        if self.negotiation.pipeline() {
                            // The peer kept its answer for our pipelined sends;
                            // all of them precede this release on the wire.
                            self.releases.add_owned(id, 1);
                        }
                        Delivery::Resolve { slot, resolution }
                    }
                    // An export or an answer of ours: it cannot settle.
                    None if self.locals.lookup(&to).is_some() => self.ignore(),
                    None if self.cancelled.take(&to) => self.ignore(),
                    None => self.lose(),
                }
            }
            Envelope::Notify { to, resolution } => {
                self.stats.notifies_in += 1;
                match self.locals.lookup(&to) {
                    Some(Local::Question(slot)) => Delivery::Notify { slot, resolution },
                    Some(Local::Export(_) | Local::Answer(_)) => self.ignore(),
                    None => self.lose(),
                }
            }
            // Only the first hello counts (extensions.rs).
            Envelope::Hello {
                version,
                extensions,
                heard,
            } => self.on_hello(version, extensions, heard),
            // Only a peer that negotiated release or pipelining may release;
            // from anyone else it is an unknown message, as for 0.6.1.
            Envelope::Release { ids } => match self.apply_release(&ids) {
                Some(slots) => Delivery::Released { slots },
                None => self.ignore(),
            },
            Envelope::Unknown => self.ignore(),
        })
    }

    /// A refusal whose reply rejects the asker `from` with `error`.
    fn refuse_call(&mut self, from: &str, error: ProtocolError) -> Refusal {
        self.stats.resolves_out += 1;
        let reply = message::settle(
            "resolve",
            from,
            &message::rejection_json(&error.to_string()),
        );
        Refusal {
            error,
            reply: Some(reply),
            question: None,
        }
    }

    /// A refusal of text the parser refused, answering whoever it can still
    /// name (see `salvage.rs`): the asker of a `send`, or our question that a
    /// `resolve` was settling.
    fn refuse_malformed(&mut self, text: &str, error: ProtocolError) -> Refusal {
        match salvage(text) {
            Some(Salvage::Asker(from)) => self.refuse_call(&from, error),
            Some(Salvage::Question(to)) => {
                let question = match self.locals.lookup(&to) {
                    Some(Local::Question(_)) => self.locals.remove_question(&to),
                    _ => None,
                };
                Refusal {
                    error,
                    reply: None,
                    question,
                }
            }
            None => Refusal {
                error,
                reply: None,
                question: None,
            },
        }
    }

    fn lose(&mut self) -> Delivery<'static> {
        self.stats.lost += 1;
        Delivery::Lost
    }

    pub(super) fn ignore(&mut self) -> Delivery<'static> {
        self.stats.ignored += 1;
        Delivery::Ignored
    }

    /// Sends `op` with QSON `args_json` (an array) to the peer's id `to`; the
    /// answer will settle the host's `slot`. Returns the envelope to transmit.
    pub fn ask(
        &mut self,
        to: &str,
        op: Op,
        args_json: &str,
        slot: Slot,
    ) -> Result<String, ProtocolError> {
        if self.closed {
            return Err(ProtocolError::Closed);
        }
        let from = self.ids.next_id();
        // Queued releases ride with the call to a peer that takes them (but
        // never the release of the answer the call goes to).
        let releases = if self.negotiation.release() || self.negotiation.pipeline() {
            self.releases.take_ids_except(to)
        } else {
            None
        };
        let envelope = match releases {
            Some(ids) => {
                self.stats.releases_out += 1;
                message::send_releasing(to, &from, op.name(), args_json, &ids)
            }
            None => message::send(to, &from, op.name(), args_json),
        };
        self.last_question.clear();
        self.last_question.push_str(&from);
        self.locals.insert_question(from, slot);
        self.stats.sends_out += 1;
        Ok(envelope)
    }

    /// Answers the peer's question `to` with a QSON resolution (a value, or
    /// `{"!": reason}` for a rejection).
    pub fn answer(&mut self, to: &str, resolution_json: &str) -> String {
        self.count_answer();
        message::settle("resolve", to, resolution_json)
    }

    /// [`Connection::answer`] without the resolution: the envelope up to it,
    /// which the host completes with the resolution's text and `}`. A large
    /// resolution then never crosses into the engine and back.
    pub fn answer_head(&mut self, to: &str) -> String {
        self.count_answer();
        message::settle_head("resolve", to, 0)
    }

    fn count_answer(&mut self) {
        self.answered_by_host(1);
    }

    /// Counts `count` `resolve` envelopes the host wrote itself, exactly as
    /// [`Connection::answer_head`] would have (the host must call this
    /// before the next [`Connection::receive`], which checks the bound on
    /// calls served at once).
    pub fn answered_by_host(&mut self, count: usize) {
        self.pending_calls = self.pending_calls.saturating_sub(count);
        self.stats.resolves_out += count as u64;
    }

    /// Reports progress on the peer's question `to`.
    pub fn notify(&mut self, to: &str, progress_json: &str) -> String {
        self.stats.notifies_out += 1;
        message::settle("notify", to, progress_json)
    }

    /// Gives the value in the host's `slot` a new id the peer can send to.
    /// Fails when `max_exports` exports are alive (an LRU `capacity` no larger
    /// than that evicts instead); the host then answers with a rejection.
    pub fn export(&mut self, slot: Slot) -> Result<String, ProtocolError> {
        if self.locals.export_count() >= self.limits.max_exports {
            self.stats.exports_refused += 1;
            return Err(ProtocolError::TooManyExports {
                limit: self.limits.max_exports,
            });
        }
        let id = self.ids.next_id();
        self.locals.insert_export(id.clone(), slot);
        Ok(id)
    }

    /// Slots of exports the LRU forgot since the last call.
    pub fn take_evicted(&mut self) -> Vec<Slot> {
        let evicted = self.locals.take_evicted();
        self.stats.evicted += evicted.len() as u64;
        evicted
    }

    /// Closes the connection: returns the slots of pending questions (to be
    /// rejected) and of exports (to be freed). Idempotent.
    pub fn close(&mut self) -> (Vec<Slot>, Vec<Slot>) {
        self.closed = true;
        self.locals.drain()
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn export_count(&self) -> usize {
        self.locals.export_count()
    }

    pub fn question_count(&self) -> usize {
        self.locals.question_count()
    }

    /// Calls from the peer delivered and not yet answered.
    pub fn pending_call_count(&self) -> usize {
        self.pending_calls
    }
}

#[cfg(test)]
#[path = "connection_tests.rs"]
mod tests;
