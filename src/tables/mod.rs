//! Ids and the tables that map them to host slots.
//!
//! Every id on the wire names an entry of the *receiver's* table, so the only
//! ids a peer can address are ids we allocated: exports (values we handed out
//! by reference) and questions (our pending calls, awaiting `resolve`).

mod ids;
mod locals;

pub use ids::IdSource;

/// A table keyed by id. Ids are either ours (random capabilities) or chosen
/// by the peer (its question ids), so the hasher is seeded at random per
/// table, which keeps a peer from choosing colliding ids blind; foldhash
/// instead of the standard SipHash because hashing was ~1,600 instructions
/// per round trip (docs/PERFORMANCE.md), and it is what the `lru` exports
/// table (hashbrown's default) already uses.
pub type IdMap<V> = std::collections::HashMap<String, V, foldhash::fast::RandomState>;
/// The set of [`IdMap`].
pub type IdSet = std::collections::HashSet<String, foldhash::fast::RandomState>;
pub use locals::{Local, Locals, Slot, ROOT_ID, ROOT_SLOT};
