//! The native WebSocket transport: sockets, framing, limits and keepalive on
//! tokio threads, with no napi and no protocol knowledge. It moves text
//! frames; the sans-IO core (`crate::protocol`) reads them on the host side.
//!
//! Shape (one driver per connection, as in tarpc): a [`Link`] is the cheap
//! handle the host keeps; the driver task owns the socket and runs one
//! `tokio::select!` loop over the socket, the link's command channel, the
//! keepalive timer and the closing deadline.
//!
//! Crossing to the host is batched both ways:
//! - outbound, [`Link::send`] takes a whole batch of texts; on plain TCP it
//!   frames them and writes them from the caller's thread at once (one
//!   `send(2)`, no wake-up of the driver, see `direct`), and only what the
//!   socket does not take is left to the driver; over TLS the driver writes
//!   the batch and flushes once;
//! - inbound on plain TCP with [`Config::host_reads`], the host reads the
//!   socket on its own thread ([`Link::host_reader`], see `host_read`): the
//!   driver does not read it while the connection is open, and the inbox
//!   carries only the end of the connection;
//! - inbound otherwise, frames accumulate in the link's [`Inbox`]; the host's waker is
//!   called only when the inbox goes from "nothing to report" to
//!   "something", and the host takes everything accumulated since with
//!   [`Link::drain`], then allows the next wake-up with [`Link::rearm`] once
//!   it has handled the batch. While the host is busy, frames keep
//!   accumulating, so a slow host gets fewer, larger batches instead of a
//!   queue of wake-ups; past `INBOX_HIGH_WATER` bytes the driver stops
//!   reading the socket until the next drain (TCP backpressure on the peer);
//! - outbound the same: past [`Config::max_buffered_bytes`] queued for a
//!   socket the peer does not read, the driver stops reading until the queue
//!   drains below half of it.
//!
//! The end of a connection is reported exactly once, through the inbox,
//! after every message received before it ([`Closed`]).

mod client;
mod decode;
mod direct;
mod ending;
mod host_read;
mod link;
mod server;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_host;

use std::time::Duration;

pub use client::{connect, ClientOptions};
pub use host_read::{HostRead, HostReader, ReadState};
pub use link::{spawn, Drained, Link, PeerInfo, Waker};
pub use server::{listen, Server};

/// Limits and keepalive of a connection (both sides).
#[derive(Clone, Debug)]
pub struct Config {
    /// Largest message (and frame) accepted; a larger one closes the
    /// connection with code 1009.
    pub max_message_size: usize,
    /// How often to ping the peer; `None` disables keepalive.
    pub ping_interval: Option<Duration>,
    /// How long to wait for any frame after a ping before giving up on the
    /// peer; on ws://, also how long a peer may take none of the bytes
    /// queued for it (no ping is sent while bytes wait: it would queue behind them).
    /// When the host reads the socket, bytes it has not read yet at the
    /// deadline (its thread was busy) restart the wait instead.
    pub ping_timeout: Duration,
    /// How long a local close waits for the peer's closing handshake.
    pub close_timeout: Duration,
    /// Bytes sent and not yet taken by the socket (a peer that does not
    /// read) past which the driver stops reading the peer's messages, until
    /// they drain below half of it: a peer cannot grow our memory by sending
    /// calls and never reading the answers. Applies to ws:// links, whose
    /// queue is ours (see `direct`); over wss:// the driver does not read
    /// while a write waits for the socket (a close still ends the wait).
    pub max_buffered_bytes: usize,
    /// On ws:// links, the host reads the socket on its own thread
    /// ([`Link::host_reader`], see `host_read`) instead of the driver.
    pub host_reads: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_message_size: 64 << 20,
            ping_interval: Some(Duration::from_secs(30)),
            ping_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(1),
            max_buffered_bytes: 16 << 20,
            host_reads: false,
        }
    }
}

impl Config {
    /// Socket buffers are kept small (tungstenite defaults to 128 KiB each,
    /// eagerly allocated): a server holds thousands of mostly idle links.
    pub(crate) fn websocket(&self) -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
        tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(8 << 10)
            .write_buffer_size(0)
            .max_message_size(Some(self.max_message_size))
            .max_frame_size(Some(self.max_message_size))
    }
}

/// Who ended a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClosedBy {
    /// The host called [`Link::close`] or dropped the link, or the server shut down.
    Local,
    /// The peer sent a close frame.
    Peer,
    /// The transport failed: reset, protocol error, limit, keepalive timeout.
    Error,
}

/// Why a connection ended: what the host rejects its pending calls with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closed {
    pub by: ClosedBy,
    /// The WebSocket close code sent or received (1006 when there was none).
    pub code: u16,
    /// A sentence for people: what happened, with the peer's reason if any.
    pub message: String,
}

impl Closed {
    pub(crate) fn new(by: ClosedBy, code: u16, message: impl Into<String>) -> Self {
        Closed {
            by,
            code,
            message: message.into(),
        }
    }
}
