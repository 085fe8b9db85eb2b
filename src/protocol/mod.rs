//! The sans-IO protocol state machine (see [`Connection`]).

mod canonical;
mod connection;
mod error;
pub mod extensions;
pub mod message;
mod salvage;

#[cfg(test)]
mod canonical_tests;
#[cfg(test)]
mod property_tests;

pub use connection::{Connection, Delivery, Op, Options, Refusal, Stats};
pub use error::ProtocolError;
pub use message::{Limits, Revival};
