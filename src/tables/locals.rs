use std::num::NonZeroUsize;

use lru::LruCache;

use super::IdMap;

/// A host-side slot number. The host (JS) owns slots and the values in them;
/// the engine only remembers which id leads to which slot.
pub type Slot = u32;

/// The id of each side's root object, fixed by the protocol.
pub const ROOT_ID: &str = "";
/// The slot the host keeps its root object in.
pub const ROOT_SLOT: Slot = 0;

/// What a message's `to` id names on this side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Local {
    /// The root object, or a value exported by reference.
    Export(Slot),
    /// One of our pending calls, waiting for its `resolve`.
    Question(Slot),
    /// The peer's question (an id the *peer* allocated), kept so the peer
    /// can pipeline messages to the answer before it settles. Only with a
    /// peer that negotiated `pipeline`.
    Answer(Slot),
}

impl Local {
    pub fn slot(self) -> Slot {
        match self {
            Local::Export(slot) | Local::Question(slot) | Local::Answer(slot) => slot,
        }
    }
}

/// The receiver's table: every id the peer can name.
///
/// Exports live in an LRU of the configured capacity (0.6.1's `max`): the
/// least recently used is forgotten first, and a later message to it is lost.
/// The root is never in the LRU, so it is never evicted. Questions are kept
/// apart and never evicted while pending: 0.6.1 evicted them and the caller
/// hung forever. Answers (ids the peer allocated) are apart too, and leave
/// only when the peer releases them.
///
/// Each export counts how many times its id was sent: a `release` of `n`
/// receptions subtracts `n`, and the export goes at zero, so an id re-sent
/// while the peer was releasing it survives.
pub struct Locals {
    exports: LruCache<String, Export>,
    questions: IdMap<Slot>,
    answers: IdMap<Slot>,
    evicted: Vec<Slot>,
}

#[derive(Debug, Clone, Copy)]
struct Export {
    slot: Slot,
    sent: u64,
}

impl Locals {
    /// `capacity` bounds the exports; `None` is unbounded (0.6.1's default).
    pub fn new(capacity: Option<usize>) -> Self {
        let exports = match capacity.and_then(NonZeroUsize::new) {
            Some(cap) => LruCache::new(cap),
            None => LruCache::unbounded(),
        };
        Locals {
            exports,
            questions: IdMap::default(),
            answers: IdMap::default(),
            evicted: Vec::new(),
        }
    }

    /// Finds what `id` names, touching an export as recently used.
    pub fn lookup(&mut self, id: &str) -> Option<Local> {
        if id == ROOT_ID {
            return Some(Local::Export(ROOT_SLOT));
        }
        if let Some(&slot) = self.questions.get(id) {
            return Some(Local::Question(slot));
        }
        if let Some(export) = self.exports.get(id) {
            return Some(Local::Export(export.slot));
        }
        self.answers.get(id).map(|&slot| Local::Answer(slot))
    }

    /// Records an export. When the LRU is full the least recently used export
    /// is dropped and its slot queued for [`Locals::take_evicted`].
    pub fn insert_export(&mut self, id: String, slot: Slot) {
        if let Some((old_id, old)) = self.exports.push(id, Export { slot, sent: 1 }) {
            // `push` returns the replaced entry too; only a different key is an eviction.
            if !self.exports.contains(&old_id) {
                self.evicted.push(old.slot);
            }
        }
    }

    /// Counts one more sending of an existing export (the same value sent
    /// again under the same id) and touches it. False when `id` is no longer
    /// exported (evicted or released): the host must export afresh.
    pub fn resend_export(&mut self, id: &str) -> bool {
        if id == ROOT_ID {
            return true;
        }
        match self.exports.get_mut(id) {
            Some(export) => {
                export.sent += 1;
                true
            }
            None => false,
        }
    }

    /// The slot of an export, without touching the LRU.
    pub fn export_slot(&self, id: &str) -> Option<Slot> {
        if id == ROOT_ID {
            return Some(ROOT_SLOT);
        }
        self.exports.peek(id).map(|export| export.slot)
    }

    /// The peer no longer holds `count` receptions of `id`: an export whose
    /// count reaches zero is dropped and its slot returned; a released answer
    /// is dropped whatever the count. The root is never released.
    pub fn release(&mut self, id: &str, count: u64) -> Option<Slot> {
        if id == ROOT_ID {
            return None;
        }
        if let Some(export) = self.exports.peek_mut(id) {
            export.sent = export.sent.saturating_sub(count);
            if export.sent > 0 {
                return None;
            }
            return self.exports.pop(id).map(|export| export.slot);
        }
        self.answers.remove(id)
    }

    /// Keeps the host's response to the peer's question `id`. A second
    /// answer under the same id (only a confused or hostile peer reuses a
    /// question id) replaces the first, whose slot is returned to be freed.
    pub fn insert_answer(&mut self, id: String, slot: Slot) -> Option<Slot> {
        self.answers.insert(id, slot)
    }

    pub fn insert_question(&mut self, id: String, slot: Slot) {
        self.questions.insert(id, slot);
    }

    /// Ends a question (its answer arrived); returns its slot.
    pub fn remove_question(&mut self, id: &str) -> Option<Slot> {
        self.questions.remove(id)
    }

    /// [`Locals::remove_question`], also giving back the id.
    pub fn take_question(&mut self, id: &str) -> Option<(String, Slot)> {
        self.questions.remove_entry(id)
    }

    /// Drops an export on the host's request (reference release).
    pub fn remove_export(&mut self, id: &str) -> Option<Slot> {
        self.exports.pop(id).map(|export| export.slot)
    }

    /// Slots whose exports the LRU dropped since the last call; the host frees them.
    pub fn take_evicted(&mut self) -> Vec<Slot> {
        std::mem::take(&mut self.evicted)
    }

    /// Empties every table; returns the slots of the pending questions, which
    /// the host must reject, and of the exports and answers, which it may free.
    pub fn drain(&mut self) -> (Vec<Slot>, Vec<Slot>) {
        let questions = self.questions.drain().map(|(_, slot)| slot).collect();
        let mut exports: Vec<Slot> = std::mem::take(&mut self.evicted);
        while let Some((_, export)) = self.exports.pop_lru() {
            exports.push(export.slot);
        }
        exports.extend(self.answers.drain().map(|(_, slot)| slot));
        (questions, exports)
    }

    pub fn answer_count(&self) -> usize {
        self.answers.len()
    }

    pub fn export_count(&self) -> usize {
        self.exports.len()
    }

    pub fn question_count(&self) -> usize {
        self.questions.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_always_present_and_never_evicted() {
        let mut locals = Locals::new(Some(1));
        locals.insert_export("A".into(), 1);
        locals.insert_export("B".into(), 2);
        assert_eq!(locals.lookup(""), Some(Local::Export(ROOT_SLOT)));
        assert_eq!(locals.lookup("A"), None);
        assert_eq!(locals.lookup("B"), Some(Local::Export(2)));
        assert_eq!(locals.take_evicted(), vec![1]);
        assert!(locals.take_evicted().is_empty());
    }

    #[test]
    fn lookup_touches_so_the_least_recently_used_goes_first() {
        let mut locals = Locals::new(Some(2));
        locals.insert_export("A".into(), 1);
        locals.insert_export("B".into(), 2);
        locals.lookup("A");
        locals.insert_export("C".into(), 3);
        assert_eq!(locals.take_evicted(), vec![2]);
        assert!(locals.lookup("A").is_some());
    }

    #[test]
    fn pending_questions_are_never_evicted() {
        let mut locals = Locals::new(Some(1));
        for n in 0..10 {
            locals.insert_question(format!("Q{n}"), n);
        }
        locals.insert_export("A".into(), 100);
        locals.insert_export("B".into(), 101);
        assert_eq!(locals.question_count(), 10);
        assert_eq!(locals.lookup("Q3"), Some(Local::Question(3)));
        assert_eq!(locals.remove_question("Q3"), Some(3));
        assert_eq!(locals.lookup("Q3"), None);
    }

    #[test]
    fn release_counts_receptions_and_drops_at_zero() {
        let mut locals = Locals::new(None);
        locals.insert_export("E".into(), 4);
        assert!(locals.resend_export("E"));
        assert!(locals.resend_export(""));
        assert_eq!(locals.release("E", 1), None, "one reception still held");
        assert_eq!(locals.lookup("E"), Some(Local::Export(4)));
        assert_eq!(locals.release("E", 1), Some(4));
        assert_eq!(locals.lookup("E"), None);
        assert!(!locals.resend_export("E"));
        assert_eq!(locals.release("", 9), None, "the root stays");
        assert_eq!(locals.insert_answer("Q".into(), 5), None);
        assert_eq!(locals.lookup("Q"), Some(Local::Answer(5)));
        assert_eq!(locals.release("Q", 1), Some(5));
        assert_eq!(locals.answer_count(), 0);
    }

    #[test]
    fn drain_returns_pending_questions_and_exports() {
        let mut locals = Locals::new(None);
        locals.insert_question("Q".into(), 7);
        locals.insert_export("E".into(), 8);
        let (questions, exports) = locals.drain();
        assert_eq!((questions, exports), (vec![7], vec![8]));
        assert_eq!(locals.lookup("Q"), None);
    }
}
