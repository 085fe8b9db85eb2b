//! Negotiated extensions between two q-connection-rs peers (see
//! `docs/PROTOCOL-EXTENSIONS.md`).
//!
//! Each peer that offers extensions sends a `hello` as its very first
//! message. The port is ordered, so the peer's hello precedes every other
//! message of the peer: a feature that changes how we *receive* switches on
//! when the hello arrives, and a feature that changes what we *send* (an id
//! the 0.6.1 protocol has no meaning for, a new encoding) only once we have
//! received it. A 0.6.1 peer ignores the hello (an unknown type) and never
//! sends one, so with it the plain protocol is spoken for ever.
//!
//! A hello can be lost (a port that drops what arrives before its listener
//! is attached), which would make agreement one-sided. So the first hello
//! of the peer that does not say `heard` is answered, once, by our hello
//! again with `"heard":true` (see [`Connection::hello`] for why that keeps
//! agreement in step where it matters).
//!
//! The core acts on two extensions itself: [`PIPELINE`] (keep answers under
//! the asker's id until it releases them) and [`RELEASE`] (export counts and
//! `release` messages). Every other name (richer values, identity, batching)
//! is carried and compared here but acted on by the host.

use std::collections::VecDeque;

use super::connection::{Connection, Delivery};
use super::message;
use crate::tables::{IdMap, IdSet, Slot};

/// The version written in our hello. A peer's version is recorded, not
/// enforced: extensions are matched by name.
pub const VERSION: u64 = 1;
/// True pipelining: the answering side keeps its answer under the asker's
/// `from` id, so the asker can send to it before it settles; the asker
/// releases it once the `resolve` arrived (or to cancel).
pub const PIPELINE: &str = "pipeline";
/// Reference release: exports are counted per sending, and the peer's
/// `release` of `n` receptions drops an export at zero.
pub const RELEASE: &str = "release";

/// How many cancelled question ids are remembered, so that a `resolve`
/// crossing our release on the wire is ignored rather than reported lost.
const RECENTLY_CANCELLED: usize = 4096;

/// What each side offered, and what the peer announced.
#[derive(Debug, Default)]
pub struct Negotiation {
    offered: Vec<String>,
    peer: Option<PeerHello>,
    pipeline: bool,
    release: bool,
    /// Our hello waiting to be transmitted ([`Negotiation::take_hello`]).
    outgoing: Outgoing,
    /// The peer's reply to our hello may still come (its first hello did
    /// not say `heard`): one more hello saying `heard` is expected, not
    /// counted as ignored.
    reply_expected: bool,
}

/// Which of our hellos is to be transmitted next.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Outgoing {
    #[default]
    Nothing,
    /// The first, at open.
    First,
    /// The reply to the peer's first hello, saying `heard`.
    Reply,
}

/// What a hello from the peer is to us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PeerHelloKind {
    /// Its first hello: it decides what is agreed.
    First,
    /// Its reply to our hello, expected once after a first hello without
    /// `heard`: changes nothing, and is not counted as ignored.
    Reply,
    /// Any other hello: ignored (and counted).
    Repeated,
}

#[derive(Debug)]
struct PeerHello {
    version: u64,
    extensions: Vec<String>,
}

impl Negotiation {
    pub fn new(offered: Vec<String>) -> Self {
        Negotiation {
            outgoing: if offered.is_empty() {
                Outgoing::Nothing
            } else {
                Outgoing::First
            },
            offered,
            ..Negotiation::default()
        }
    }

    /// Our hello to transmit now, once: the first at open, then the reply
    /// after the peer's first hello if that did not say `heard`; `None`
    /// otherwise, and always when we offer nothing (then no hello is ever
    /// sent and the wire is exactly 0.6.1's).
    fn take_hello(&mut self) -> Option<String> {
        let heard = match std::mem::take(&mut self.outgoing) {
            Outgoing::Nothing => return None,
            Outgoing::First => false,
            Outgoing::Reply => true,
        };
        Some(message::hello(VERSION, &self.offered, heard))
    }

    /// Records the peer's hello. Only the first counts: extensions never
    /// switch off or change once on.
    fn on_hello(&mut self, version: u64, extensions: Vec<String>, heard: bool) -> PeerHelloKind {
        if self.peer.is_some() {
            if heard && self.reply_expected {
                self.reply_expected = false;
                return PeerHelloKind::Reply;
            }
            return PeerHelloKind::Repeated;
        }
        self.peer = Some(PeerHello {
            version,
            extensions,
        });
        self.pipeline = self.peer_has(PIPELINE);
        self.release = self.peer_has(RELEASE);
        if !self.offered.is_empty() && !heard {
            // The peer may not have our hello (lost, or still crossing):
            // it gets it again, saying we heard it. A first hello that
            // says `heard` is itself such a reply, so ours arrived.
            self.outgoing = Outgoing::Reply;
            self.reply_expected = true;
        }
        PeerHelloKind::First
    }

    /// True when both sides announced `name` (so false before the peer's
    /// hello, and always with a 0.6.1 peer).
    pub fn peer_has(&self, name: &str) -> bool {
        match &self.peer {
            Some(peer) => {
                self.offered.iter().any(|n| n == name) && peer.extensions.iter().any(|n| n == name)
            }
            None => false,
        }
    }

    /// The extensions both sides announced, in our order.
    pub fn agreed(&self) -> Vec<String> {
        self.offered
            .iter()
            .filter(|name| self.peer_has(name))
            .cloned()
            .collect()
    }

    pub fn peer_version(&self) -> Option<u64> {
        self.peer.as_ref().map(|peer| peer.version)
    }

    pub fn pipeline(&self) -> bool {
        self.pipeline
    }

    pub fn release(&self) -> bool {
        self.release
    }
}

/// A bounded set of recent ids, forgetting the oldest first.
#[derive(Debug, Default)]
pub struct RecentIds {
    order: VecDeque<String>,
    members: IdSet,
}

impl RecentIds {
    pub fn insert(&mut self, id: String) {
        if self.members.len() >= RECENTLY_CANCELLED {
            if let Some(oldest) = self.order.pop_front() {
                self.members.remove(&oldest);
            }
        }
        if self.members.insert(id.clone()) {
            self.order.push_back(id);
        }
    }

    /// Forgets `id` if present; true when it was.
    pub fn take(&mut self, id: &str) -> bool {
        self.members.remove(id)
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }
}

/// Releases waiting to be sent, merged by id.
#[derive(Debug, Default)]
pub struct PendingReleases {
    counts: IdMap<u64>,
}

impl PendingReleases {
    pub fn add(&mut self, id: &str, count: u64) {
        self.add_owned(id.to_owned(), count);
    }

    /// [`PendingReleases::add`] with an id the caller no longer needs.
    pub fn add_owned(&mut self, id: String, count: u64) {
        *self.counts.entry(id).or_insert(0) += count;
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    fn take(&mut self) -> Option<String> {
        self.take_ids().map(|ids| message::release(&ids))
    }

    /// Everything queued, emptying the queue; `None` when nothing is queued.
    pub(super) fn take_ids(&mut self) -> Option<Vec<(String, u64)>> {
        if self.counts.is_empty() {
            return None;
        }
        Some(self.counts.drain().collect())
    }

    /// Everything queued but `kept`, which stays queued: a call to the
    /// answer `kept` (the embargo's marker, lib/extensions/embargo.js) must
    /// not carry its release, which the peer applies before the call.
    pub(super) fn take_ids_except(&mut self, kept: &str) -> Option<Vec<(String, u64)>> {
        if self.counts.is_empty() {
            return None;
        }
        let held = self.counts.remove_entry(kept);
        let ids = self.take_ids();
        if let Some((id, count)) = held {
            self.counts.insert(id, count);
        }
        ids
    }
}

impl Connection {
    /// The hello to transmit now, if any, each at most once: at open our
    /// first hello (before anything else), and after a [`Delivery::Hello`]
    /// whose hello did not say `heard`, our reply saying it (transmitted at
    /// once, before anything the host sends because of that hello). `None`
    /// otherwise, and always when we offer nothing.
    ///
    /// Why the reply keeps agreement in step: a side keeps answers for the
    /// peer (`pipeline`) and counts exports the peer will release
    /// (`release`) from the moment it has the peer's hello, and it sends
    /// its reply at that same moment. On the ordered port the reply thus
    /// precedes every `resolve` of a kept answer and every export sent
    /// under the agreement, so the peer agrees (on our first hello, or at
    /// the latest on the reply) before any of them arrives, and releases
    /// them all (the asker releases on a `resolve` when it agrees at that
    /// time). Our first hello lost no longer matters; the peer's lost is
    /// the residual case: we agree only on its reply, so a question it
    /// asked before hearing us was not kept (docs/PROTOCOL-EXTENSIONS.md,
    /// "A lost hello").
    pub fn hello(&mut self) -> Option<String> {
        self.negotiation.take_hello()
    }

    pub fn negotiation(&self) -> &Negotiation {
        &self.negotiation
    }

    /// The peer's hello: the first decides what is agreed, the reply to ours
    /// changes nothing, any other is ignored.
    pub(super) fn on_hello(
        &mut self,
        version: u64,
        extensions: Vec<String>,
        heard: bool,
    ) -> Delivery<'static> {
        match self.negotiation.on_hello(version, extensions, heard) {
            PeerHelloKind::First => Delivery::Hello,
            PeerHelloKind::Reply => Delivery::Ignored,
            PeerHelloKind::Repeated => self.ignore(),
        }
    }

    /// Keeps the host's response to the peer's question `id` in `slot` (after
    /// a `Delivery::Call` with `keep`), so the peer can pipeline to it.
    /// Returns a slot to free when the id was already in use.
    pub fn keep_answer(&mut self, id: &str, slot: Slot) -> Option<Slot> {
        self.locals.insert_answer(id.to_owned(), slot)
    }

    /// Gives up our pending question `id` (timeout, or nobody holds its
    /// promise any more): forgets it, ignores a `resolve` still crossing on
    /// the wire, and, with a pipelining peer, queues the release that tells
    /// the answering side to drop its interest. Returns the question's slot.
    pub fn cancel(&mut self, id: &str) -> Option<Slot> {
        let slot = self.locals.remove_question(id)?;
        self.cancelled.insert(id.to_owned());
        if self.negotiation.pipeline() {
            self.releases.add(id, 1);
        }
        Some(slot)
    }

    /// Queues the release of `count` receptions of the peer's export `id`
    /// (the host's import was collected). Ignored unless both sides
    /// negotiated `release`.
    pub fn release_import(&mut self, id: &str, count: u64) {
        if self.negotiation.release() && !id.is_empty() && count > 0 {
            self.releases.add(id, count);
        }
    }

    /// The `release` envelope of everything queued since the last call, to
    /// transmit; `None` when nothing is queued. Hosts call it once per turn
    /// so that many releases share one message.
    pub fn take_release(&mut self) -> Option<String> {
        let envelope = self.releases.take()?;
        self.stats.releases_out += 1;
        Some(envelope)
    }

    pub fn has_pending_release(&self) -> bool {
        !self.releases.is_empty()
    }

    /// Slots freed by the releases that the last received `send` carried
    /// (its `release` field), which the host frees as for a `Released`;
    /// empty after any other message.
    pub fn released_with_call(&self) -> &[Slot] {
        &self.released_with_call
    }

    /// Applies released `ids` from the peer: returns the slots to free.
    /// Only a peer that negotiated release or pipelining may release;
    /// from anyone else they are ignored, as 0.6.1 ignores the unknown.
    pub(super) fn apply_release(&mut self, ids: &[(String, u64)]) -> Option<Vec<Slot>> {
        if !(self.negotiation.release() || self.negotiation.pipeline()) {
            return None;
        }
        self.stats.releases_in += 1;
        Some(
            ids.iter()
                .filter_map(|(id, count)| self.locals.release(id, *count))
                .collect(),
        )
    }

    /// Counts one more sending of our export `id`; false when it is gone and
    /// the host must export the value afresh.
    pub fn resend(&mut self, id: &str) -> bool {
        self.locals.resend_export(id)
    }

    /// The slot behind our export `id`, for a reference the peer sends back.
    pub fn export_slot(&self, id: &str) -> Option<Slot> {
        self.locals.export_slot(id)
    }

    /// The id of the question made by the last [`Connection::ask`] (the
    /// host addresses a pipelined send, or a cancellation, by it).
    pub fn last_question(&self) -> Option<&str> {
        (!self.last_question.is_empty()).then_some(self.last_question.as_str())
    }

    pub fn answer_count(&self) -> usize {
        self.locals.answer_count()
    }
}

#[cfg(test)]
#[path = "extensions_tests.rs"]
mod tests;
