//! Ids and the tables that map them to host slots.
//!
//! Every id on the wire names an entry of the *receiver's* table, so the only
//! ids a peer can address are ids we allocated: exports (values we handed out
//! by reference) and questions (our pending calls, awaiting `resolve`).

mod ids;
mod locals;

pub use ids::IdSource;
pub use locals::{Local, Locals, Slot, ROOT_ID, ROOT_SLOT};
