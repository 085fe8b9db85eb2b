//! Reading a plain TCP link on the host's own thread: a received frame then
//! costs one wake-up (the host's), as in the `ws` module, instead of two in
//! series (the driver's, then the driver waking the host).
//!
//! The host claims the reading with [`Link::host_reader`] and gets a
//! [`HostReader`] on a duplicate descriptor of the socket, which it polls in
//! its own event loop and calls [`HostReader::read`] on when readable. The
//! driver keeps everything else: the handshake, keepalive pings and their
//! timeout, flushing queued writes, the closing handshake and the [`Closed`]
//! report. They meet in [`ReadShare`]:
//!
//! - reader → driver: every frame bumps `heard` (the keepalive's sign of
//!   life); the first end the reader meets (the peer's close frame, the end
//!   of the stream, a reset, a protocol error or a limit) goes to `end`, and
//!   `finished` says the reader stopped for good. Messages are handed to the
//!   host before the end is handed to the driver, so the driver's `Closed`
//!   report (through the inbox) comes after every message received before it;
//! - driver → reader: `phase` (closing: data is dropped, the reader waits
//!   for the peer's close frame; discarding: raw bytes are read and dropped
//!   until the peer hangs up, so that unread bytes do not turn our close
//!   into a reset). The driver never closes the reader's descriptor: it
//!   ends the connection with `shutdown(2)`, which the reader meets as the
//!   end of the stream, and the host closes its descriptor after it has
//!   stopped polling it.
//! - backpressure: past `max_buffered_bytes` of our own unsent bytes the
//!   reader says [`ReadState::Paused`]; the host stops polling and asks
//!   [`HostReader::resume`] again after the driver pokes the inbox (it does
//!   when it drained the queue while the reader was paused).
//!
//! If the host never claims the reading before the connection ends, the
//! driver claims it and reads as it does over TLS.
//!
//! [`Link::host_reader`]: super::Link::host_reader
//! [`Closed`]: super::Closed

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::Notify;

use super::decode::{Decoded, Decoder};
use super::direct::Direct;
use super::ending::{self, Ending};

/// Who reads the socket (`ReadShare::reader`).
pub(crate) const UNCLAIMED: u8 = 0;
pub(crate) const HOST: u8 = 1;
pub(crate) const DRIVER: u8 = 2;

/// What the reader does with what it reads (`ReadShare::phase`); only grows.
pub(crate) const OPEN: u8 = 0;
pub(crate) const CLOSING: u8 = 1;
pub(crate) const DISCARDING: u8 = 2;

/// Bytes read per call of [`HostReader::read`] at most: a flooding peer
/// cannot hold the host's event loop for longer than it takes to decode
/// this much (the rest waits for the next turn of the loop).
const READ_BUDGET: usize = 256 << 10;

/// What the driver and the host's reader share (see the module docs).
#[derive(Default)]
pub(crate) struct ReadShare {
    pub(crate) reader: AtomicU8,
    pub(crate) phase: AtomicU8,
    heard: AtomicU64,
    paused: AtomicBool,
    end: Mutex<Option<Ending>>,
    finished: AtomicBool,
    /// Signalled when `end` is set or `finished` becomes true.
    news: Notify,
}

impl ReadShare {
    /// Frames read by the host so far (any frame: the peer is alive).
    pub(crate) fn heard(&self) -> u64 {
        self.heard.load(Ordering::Relaxed)
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    pub(crate) fn enter(&self, phase: u8) {
        self.phase.fetch_max(phase, Ordering::SeqCst);
    }

    /// The reader's end, once it met one; or a lost connection if the
    /// reader stopped without one (its host went away).
    pub(crate) fn take_end(&self) -> Option<Ending> {
        let end = self.end.lock().take();
        if end.is_none() && self.finished.load(Ordering::SeqCst) {
            return Some(Ending::Done(ending::lost("the host stopped reading")));
        }
        end
    }

    /// Resolves when the reader has news (an end, or it finished).
    pub(crate) async fn news(&self) {
        self.news.notified().await
    }

    /// Resolves once the reader has stopped for good.
    pub(crate) async fn finished(&self) {
        while !self.finished.load(Ordering::SeqCst) {
            self.news.notified().await;
        }
    }

    /// The host could not read (no descriptor): the connection ends.
    pub(crate) fn abandon(&self, what: &str) {
        self.set_end(Ending::Done(ending::lost(what)));
        self.finish();
    }

    fn set_end(&self, ending: Ending) {
        let mut end = self.end.lock();
        if end.is_none() && !self.finished.load(Ordering::SeqCst) {
            *end = Some(ending);
        }
        drop(end);
        self.news.notify_one();
    }

    fn finish(&self) {
        self.finished.store(true, Ordering::SeqCst);
        self.news.notify_one();
    }
}

/// What to do after a read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadState {
    /// Read again when the descriptor is readable.
    Reading,
    /// Our unsent bytes are over the limit: stop polling until
    /// [`HostReader::resume`] says yes.
    Paused,
    /// Stop polling and drop the reader (which closes its descriptor).
    Finished,
}

/// What one read brought.
#[derive(Debug)]
pub struct HostRead {
    /// Text messages, in order.
    pub messages: Vec<String>,
    pub state: ReadState,
}

/// The host's side of a link whose socket it reads (see the module docs).
/// Dropping it stops the reading for good: the driver then ends the link.
pub struct HostReader {
    socket: socket2::Socket,
    decoder: Decoder,
    /// Answers pings, and tells how much we have queued.
    writer: Arc<Direct>,
    share: Arc<ReadShare>,
    high_water: usize,
    finished: bool,
}

thread_local! {
    /// Where reads land before decoding: one buffer per host thread, not
    /// one per link (a server holds thousands of mostly idle links).
    static SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; 64 << 10]);
}

impl HostReader {
    pub(crate) fn new(
        socket: socket2::Socket,
        decoder: Decoder,
        writer: Arc<Direct>,
        share: Arc<ReadShare>,
        high_water: usize,
    ) -> Self {
        HostReader {
            socket,
            decoder,
            writer,
            share,
            high_water,
            finished: false,
        }
    }

    /// The descriptor to poll for readability (owned by the reader).
    #[cfg(unix)]
    pub fn fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.socket.as_raw_fd()
    }

    /// Reads what the socket holds (at most `READ_BUDGET` bytes), answers
    /// pings, and returns the text messages completed. Never blocks.
    pub fn read(&mut self) -> HostRead {
        let mut messages = Vec::new();
        let mut budget = READ_BUDGET;
        let mut state = ReadState::Reading;
        let mut heard = false;
        while !self.finished {
            let discarding = self.share.phase.load(Ordering::SeqCst) == DISCARDING;
            let mut short = false;
            let result = SCRATCH.with(|scratch| {
                let mut scratch = scratch.borrow_mut();
                let n = (&self.socket).read(&mut scratch[..])?;
                short = n < scratch.len();
                if !discarding {
                    self.decoder.feed(&scratch[..n]);
                }
                Ok::<usize, io::Error>(n)
            });
            match result {
                Ok(0) => {
                    if !discarding {
                        self.set_end(ending::error_ending(&self.decoder.end()));
                    }
                    self.finish();
                }
                Ok(n) => {
                    if !discarding {
                        heard |= self.decode(&mut messages);
                    }
                    budget = budget.saturating_sub(n);
                    // A short read emptied the socket: no second `recv` to
                    // meet EAGAIN (one syscall per message saved); the poll
                    // is level-triggered, so bytes arriving later wake it again.
                    if budget == 0 || short {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.set_end(Ending::Done(ending::lost(&e.to_string())));
                    self.finish();
                }
            }
        }
        if heard {
            self.share.heard.fetch_add(1, Ordering::Relaxed);
        }
        if self.finished {
            state = ReadState::Finished;
        } else if self.over_limit() && !self.resume() {
            state = ReadState::Paused;
        }
        HostRead { messages, state }
    }

    /// Whether reading may go on after a pause (our queue drained below
    /// half the limit); clears the pause if so.
    pub fn resume(&self) -> bool {
        self.share.paused.store(true, Ordering::SeqCst);
        // Checked after the flag is set: a drain that ends meanwhile sees
        // the flag and pokes the host, or this sees the drained queue.
        if self.writer.queued() <= self.high_water / 2 || self.closing() {
            self.share.paused.store(false, Ordering::SeqCst);
            return true;
        }
        false
    }

    /// Whether the reader has stopped for good.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    fn over_limit(&self) -> bool {
        !self.closing() && self.writer.queued() > self.high_water
    }

    fn closing(&self) -> bool {
        self.share.phase.load(Ordering::SeqCst) != OPEN
    }

    /// Decodes what was fed; whether any frame came.
    fn decode(&mut self, messages: &mut Vec<String>) -> bool {
        let mut heard = false;
        while let Some(next) = self.decoder.next() {
            heard = true;
            let open = !self.closing();
            match next {
                Ok(Decoded::Text(text)) if open => messages.push(text),
                Ok(Decoded::Binary(bytes)) if open => match String::from_utf8(bytes) {
                    Ok(text) => messages.push(text),
                    Err(_) => self.set_end(ending::not_utf8()),
                },
                Ok(Decoded::Ping(payload)) if open => self.writer.pong(payload),
                Ok(Decoded::Close(frame)) => {
                    self.set_end(ending::peer_closed(frame));
                    self.finish();
                    break;
                }
                Ok(_) => {}
                Err(error) => {
                    let ending = ending::error_ending(&error);
                    let fatal = matches!(ending, Ending::Done(_));
                    self.set_end(ending);
                    if fatal {
                        self.finish();
                    }
                    break;
                }
            }
        }
        heard
    }

    /// Hands `ending` to the driver (the first one counts) and enters the
    /// phase it calls for.
    fn set_end(&self, ending: Ending) {
        match ending {
            Ending::Close(..) => self.share.enter(CLOSING),
            Ending::Abort(..) => self.share.enter(DISCARDING),
            Ending::Done(_) => {}
        }
        self.share.set_end(ending);
    }

    fn finish(&mut self) {
        if !self.finished {
            self.finished = true;
            self.share.finish();
        }
    }
}

impl Drop for HostReader {
    fn drop(&mut self) {
        self.finish();
    }
}
