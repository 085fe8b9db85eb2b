use std::collections::HashMap;
use std::num::NonZeroUsize;

use lru::LruCache;

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
}

impl Local {
    pub fn slot(self) -> Slot {
        match self {
            Local::Export(slot) | Local::Question(slot) => slot,
        }
    }
}

/// The receiver's table: every id the peer can name.
///
/// Exports live in an LRU of the configured capacity (0.6.1's `max`): the
/// least recently used is forgotten first, and a later message to it is lost.
/// The root is never in the LRU, so it is never evicted. Questions are kept
/// apart and never evicted while pending: 0.6.1 evicted them and the caller
/// hung forever.
pub struct Locals {
    exports: LruCache<String, Slot>,
    questions: HashMap<String, Slot>,
    evicted: Vec<Slot>,
}

impl Locals {
    /// `capacity` bounds the exports; `None` is unbounded (0.6.1's default).
    pub fn new(capacity: Option<usize>) -> Self {
        let exports = match capacity.and_then(NonZeroUsize::new) {
            Some(cap) => LruCache::new(cap),
            None => LruCache::unbounded(),
        };
        Locals { exports, questions: HashMap::new(), evicted: Vec::new() }
    }

    /// Finds what `id` names, touching an export as recently used.
    pub fn lookup(&mut self, id: &str) -> Option<Local> {
        if id == ROOT_ID {
            return Some(Local::Export(ROOT_SLOT));
        }
        if let Some(&slot) = self.questions.get(id) {
            return Some(Local::Question(slot));
        }
        self.exports.get(id).map(|&slot| Local::Export(slot))
    }

    /// Records an export. When the LRU is full the least recently used export
    /// is dropped and its slot queued for [`Locals::take_evicted`].
    pub fn insert_export(&mut self, id: String, slot: Slot) {
        if let Some((old_id, old_slot)) = self.exports.push(id, slot) {
            // `push` returns the replaced entry too; only a different key is an eviction.
            if !self.exports.contains(&old_id) {
                self.evicted.push(old_slot);
            }
        }
    }

    pub fn insert_question(&mut self, id: String, slot: Slot) {
        self.questions.insert(id, slot);
    }

    /// Ends a question (its answer arrived); returns its slot.
    pub fn remove_question(&mut self, id: &str) -> Option<Slot> {
        self.questions.remove(id)
    }

    /// Drops an export on the host's request (reference release).
    pub fn remove_export(&mut self, id: &str) -> Option<Slot> {
        self.exports.pop(id)
    }

    /// Slots whose exports the LRU dropped since the last call; the host frees them.
    pub fn take_evicted(&mut self) -> Vec<Slot> {
        std::mem::take(&mut self.evicted)
    }

    /// Empties every table; returns the slots of the pending questions, which
    /// the host must reject, and of the exports, which it may free.
    pub fn drain(&mut self) -> (Vec<Slot>, Vec<Slot>) {
        let questions = self.questions.drain().map(|(_, slot)| slot).collect();
        let mut exports: Vec<Slot> = std::mem::take(&mut self.evicted);
        while let Some((_, slot)) = self.exports.pop_lru() {
            exports.push(slot);
        }
        (questions, exports)
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
    fn drain_returns_pending_questions_and_exports() {
        let mut locals = Locals::new(None);
        locals.insert_question("Q".into(), 7);
        locals.insert_export("E".into(), 8);
        let (questions, exports) = locals.drain();
        assert_eq!((questions, exports), (vec![7], vec![8]));
        assert_eq!(locals.lookup("Q"), None);
    }
}
