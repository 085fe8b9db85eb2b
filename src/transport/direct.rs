//! Writing from the host's thread: a plain TCP socket shared between the
//! driver (through tungstenite, as its stream) and [`Link::send`], which
//! frames a batch and writes it at once with a non-blocking write, without
//! waking the driver. A hop to the driver's thread costs a wake-up of tens
//! of microseconds on a small machine; a `send(2)` from the host's thread
//! costs a few.
//!
//! Order: every byte, whoever frames it, goes through one [`Outbound`] queue
//! under one lock. A write that the socket does not take whole leaves the
//! rest queued, and nothing is written past a queued byte, so frames never
//! interleave. The driver is told (`backlog`) and flushes the queue when the
//! socket is writable again. Tungstenite's own frames (pongs, pings, close)
//! are accepted whole by `poll_write` for the same reason: its buffer never
//! holds half a frame that a host write could overtake.
//!
//! TLS streams cannot be written to from outside their state machine: a
//! `wss://` link keeps sending through the driver.
//!
//! [`Link::send`]: super::Link::send

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{ready, Context, Poll};

use parking_lot::{Mutex, RwLock};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;

/// Bytes accepted for the socket and not written yet.
#[derive(Default)]
struct Outbound {
    queue: Vec<u8>,
    /// How much of `queue` is written already.
    sent: usize,
    /// The connection is ending: host writes are dropped (the driver's close
    /// frame must be the last frame).
    closing: bool,
    /// Bytes the socket has taken so far: the driver's sign of a live peer
    /// while bytes are queued.
    taken: u64,
}

impl Outbound {
    fn is_empty(&self) -> bool {
        self.sent == self.queue.len()
    }

    fn consumed(&mut self, n: usize) {
        self.sent += n;
        if self.sent == self.queue.len() {
            self.queue.clear();
            self.sent = 0;
        } else if self.sent > (64 << 10) && self.sent * 2 > self.queue.len() {
            self.queue.drain(..self.sent);
            self.sent = 0;
        }
    }
}

/// The socket as the driver's runtime knows it.
enum Stream {
    /// Read and written through tokio: the handshake, and links the driver reads.
    Tokio(TcpStream),
    /// Registered for writability only, once the host reads the socket
    /// (see `host_read`): a received packet then wakes only the host's
    /// thread, not the driver's too (an idle wake-up per message, measured
    /// at 8-10 us of the driver thread's CPU per call).
    WriteOnly(AsyncFd<std::net::TcpStream>),
    /// Only if moving from one to the other failed: the socket is gone.
    Gone,
}

fn gone() -> io::Error {
    io::Error::other("the socket was lost while the host took its reading over")
}

impl Stream {
    fn sock(&self) -> io::Result<socket2::SockRef<'_>> {
        match self {
            Stream::Tokio(tcp) => Ok(socket2::SockRef::from(tcp)),
            Stream::WriteOnly(fd) => Ok(socket2::SockRef::from(fd.get_ref())),
            Stream::Gone => Err(gone()),
        }
    }

    /// The stream to read, while the driver may read it.
    fn readable(&self) -> io::Result<&TcpStream> {
        match self {
            Stream::Tokio(tcp) => Ok(tcp),
            _ => Err(io::Error::other("the host reads this socket")),
        }
    }

    /// A non-blocking write, from any thread.
    fn try_write(&self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tokio(tcp) => tcp.try_write(bytes),
            Stream::WriteOnly(fd) => io::Write::write(&mut fd.get_ref(), bytes),
            Stream::Gone => Err(gone()),
        }
    }

    /// A write that waits for writability (the driver's flush).
    fn poll_write(&self, cx: &mut Context<'_>, bytes: &[u8]) -> Poll<io::Result<usize>> {
        match self {
            Stream::Tokio(tcp) => loop {
                match tcp.try_write(bytes) {
                    // try_write cleared the readiness: this registers the
                    // waker, or says the socket became writable meanwhile.
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        ready!(tcp.poll_write_ready(cx))?
                    }
                    done => return Poll::Ready(done),
                }
            },
            Stream::WriteOnly(fd) => loop {
                let mut guard = ready!(fd.poll_write_ready(cx))?;
                // try_io clears the readiness only if this write met WouldBlock.
                if let Ok(done) = guard.try_io(|fd| io::Write::write(&mut fd.get_ref(), bytes)) {
                    return Poll::Ready(done);
                }
            },
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }
}

/// The socket and its outbound queue, shared by the driver and the host.
pub(crate) struct Socket {
    /// Read-locked by every use; written once, when the host claims the reading.
    stream: RwLock<Stream>,
    /// The driver's runtime, to register the socket in again.
    runtime: tokio::runtime::Handle,
    out: Mutex<Outbound>,
    /// Signalled when a host write left bytes queued: the driver flushes them.
    pub(crate) backlog: Notify,
}

impl Socket {
    /// Writes `bytes` after whatever is queued; the socket takes what it
    /// can now, the rest is queued for the driver. Nothing is written once
    /// the connection is ending.
    fn write_or_queue(&self, bytes: &[u8]) {
        let mut out = self.out.lock();
        if out.closing {
            return;
        }
        let mut rest = bytes;
        if out.is_empty() {
            // Any error other than WouldBlock is left for the driver to meet
            // (and report) when it flushes the queue.
            if let Ok(n) = self.stream.read().try_write(rest) {
                out.taken += n as u64;
                rest = &rest[n..];
            }
        }
        if !rest.is_empty() {
            out.queue.extend_from_slice(rest);
            drop(out);
            self.backlog.notify_one();
        }
    }

    /// Drops host writes from now on.
    pub(crate) fn start_closing(&self) {
        self.out.lock().closing = true;
    }

    /// Bytes accepted and not yet taken by the socket.
    pub(crate) fn queued(&self) -> usize {
        let out = self.out.lock();
        out.queue.len() - out.sent
    }

    /// Bytes the socket has taken since the connection opened.
    pub(crate) fn taken(&self) -> u64 {
        self.out.lock().taken
    }

    /// A second descriptor of the socket, for the host to read from (see
    /// `host_read`); it shares the socket's non-blocking mode.
    pub(crate) fn duplicate(&self) -> io::Result<socket2::Socket> {
        self.stream.read().sock()?.try_clone()
    }

    /// Whether received bytes wait in the socket, unread (a peek that
    /// never blocks): when the host reads the socket, a busy host leaves
    /// the peer's answers there, and the silence is then ours, not the peer's.
    pub(crate) fn has_unread(&self) -> bool {
        let mut byte = [std::mem::MaybeUninit::<u8>::uninit()];
        let stream = self.stream.read();
        stream
            .sock()
            .is_ok_and(|sock| matches!(sock.peek(&mut byte), Ok(n) if n > 0))
    }

    /// Registers the socket with the driver's runtime for writability only:
    /// the host reads it from now on (see `Stream::WriteOnly`). A flush
    /// waiting on the old registration is told to look again.
    pub(crate) fn write_only(&self) {
        let mut stream = self.stream.write();
        if !matches!(*stream, Stream::Tokio(_)) {
            return;
        }
        let Stream::Tokio(tcp) = std::mem::replace(&mut *stream, Stream::Gone) else {
            unreachable!("matched above")
        };
        let _runtime = self.runtime.enter();
        let registered = tcp.into_std().and_then(|std| {
            // SAFETY: the std stream owns its descriptor, which stays open and
            // the same for as long as the AsyncFd holds the stream.
            unsafe { AsyncFd::register_with_interest(std, Interest::WRITABLE) }
                .map_err(io::Error::from)
        });
        if let Ok(fd) = registered {
            *stream = Stream::WriteOnly(fd);
        }
        drop(stream);
        self.backlog.notify_one();
    }

    /// Ends the connection in both directions whichever descriptors are
    /// still open: the host's reader then meets the end of the stream.
    pub(crate) fn shutdown(&self) {
        if let Ok(sock) = self.stream.read().sock() {
            let _ = sock.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Writes the queue until it is empty or the socket is full.
    fn poll_drain(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_drain_to(cx, 0)
    }

    /// Writes the queue until at most `target` bytes are left; pending while
    /// the socket is full. Only this socket is borrowed, so the driver can
    /// wait on it next to its reads and commands.
    pub(crate) fn poll_drain_to(
        &self,
        cx: &mut Context<'_>,
        target: usize,
    ) -> Poll<io::Result<()>> {
        let mut out = self.out.lock();
        let stream = self.stream.read();
        while out.queue.len() - out.sent > target {
            match ready!(stream.poll_write(cx, &out.queue[out.sent..])) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => {
                    out.taken += n as u64;
                    out.consumed(n);
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// The driver's side of a shared socket: tungstenite's stream.
///
/// During the HTTP upgrade of a plain socket, reads stop at the end of the
/// headers (`\r\n\r\n`, found by peeking): a frame the peer sent right
/// behind them (a server's first message behind its 101 response) stays in
/// the socket for whoever reads frames next, the host included, instead of
/// in tungstenite's read buffer.
pub(crate) struct SharedTcp {
    socket: Arc<Socket>,
    /// While reading the handshake: how many bytes of `\r\n\r\n` the bytes
    /// read so far end with. `None` once the headers are read, or over TLS.
    header_end: Option<usize>,
}

const HEADER_END: &[u8] = b"\r\n\r\n";

/// Where `bytes` complete the end of the headers, given that the bytes
/// before them ended with `matched` bytes of it: `Ok(length to consume)`,
/// or `Err(matched)` at the end of `bytes`.
fn header_end(bytes: &[u8], mut matched: usize) -> Result<usize, usize> {
    for (i, &byte) in bytes.iter().enumerate() {
        matched = if byte == HEADER_END[matched] {
            matched + 1
        } else if byte == b'\r' {
            1
        } else {
            0
        };
        if matched == HEADER_END.len() {
            return Ok(i + 1);
        }
    }
    Err(matched)
}

impl SharedTcp {
    /// `exact_handshake`: stop reads at the end of the HTTP headers (plain
    /// sockets; a TLS stream on top would see short reads only).
    pub(crate) fn new(stream: TcpStream, exact_handshake: bool) -> Self {
        SharedTcp {
            socket: Arc::new(Socket {
                stream: RwLock::new(Stream::Tokio(stream)),
                runtime: tokio::runtime::Handle::current(),
                out: Mutex::default(),
                backlog: Notify::new(),
            }),
            header_end: exact_handshake.then_some(0),
        }
    }

    pub(crate) fn socket(&self) -> &Arc<Socket> {
        &self.socket
    }

    pub(crate) fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.socket.stream.read().readable()?.peer_addr()
    }

    /// A handshake read: peeks, then takes no byte past the headers' end.
    fn poll_read_headers(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
        matched: usize,
    ) -> Poll<io::Result<()>> {
        let stream = self.socket.stream.read();
        let tcp = stream.readable()?;
        loop {
            let unfilled = buf.initialize_unfilled();
            let mut peeked = ReadBuf::new(unfilled);
            let n = ready!(tcp.poll_peek(cx, &mut peeked))?;
            let take = match header_end(&unfilled[..n], matched) {
                Ok(end) => {
                    self.header_end = None;
                    end
                }
                Err(now) => {
                    self.header_end = Some(now);
                    n
                }
            };
            // The bytes are in the socket already: this read takes them at once.
            match tcp.try_read(&mut unfilled[..take]) {
                Ok(got) => {
                    if got < take {
                        // Cannot happen (peeked bytes stay); start over from what was taken.
                        self.header_end = Some(0);
                    }
                    buf.advance(got);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncRead for SharedTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(matched) = this.header_end {
            return this.poll_read_headers(cx, buf, matched);
        }
        let stream = this.socket.stream.read();
        let tcp = stream.readable()?;
        loop {
            ready!(tcp.poll_read_ready(cx))?;
            match tcp.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for SharedTcp {
    /// Accepts all of `buf` (see the module docs); flushing writes the rest.
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let socket = &self.socket;
        let mut out = socket.out.lock();
        let mut rest = buf;
        if out.is_empty() {
            match socket.stream.read().try_write(rest) {
                Ok(n) => {
                    out.taken += n as u64;
                    rest = &rest[n..];
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        out.queue.extend_from_slice(rest);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.socket.poll_drain(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.socket.poll_drain(cx))?;
        Poll::Ready(
            self.socket
                .stream
                .read()
                .sock()
                .and_then(|sock| sock.shutdown(std::net::Shutdown::Write)),
        )
    }
}

/// The host's side: frames text messages and writes them from the calling thread.
pub(crate) struct Direct {
    /// Weak: the driver owns the socket, and closes it when it ends even
    /// while the host still holds the link.
    socket: Weak<Socket>,
    /// Client frames are masked (RFC 6455 §5.3), server frames are not.
    masked: bool,
}

impl Direct {
    pub(crate) fn new(socket: &Arc<Socket>, masked: bool) -> Self {
        Direct {
            socket: Arc::downgrade(socket),
            masked,
        }
    }

    /// Frames `texts` into one buffer and writes it (one `send(2)` when the
    /// socket takes it all). Dropped once the connection is ending.
    pub(crate) fn send(&self, texts: Vec<String>) {
        let size: usize = texts.iter().map(|t| t.len() + 14).sum();
        let frames = texts
            .into_iter()
            .map(|text| Frame::message(text.into_bytes(), OpCode::Data(Data::Text), true));
        self.write(frames, size);
    }

    /// Frames one text of at most `len` UTF-8 bytes, which `fill` writes
    /// into the slice it is given (at least `len + 1` bytes long, room for
    /// a C string's NUL) and returns the count of, and writes the frame: as
    /// [`Direct::send`] for one text, without allocating (the frame is
    /// built in a buffer kept per host thread, its header in front of the
    /// payload, which is why the length may be known only once written).
    pub(crate) fn send_text_with(&self, len: usize, fill: impl FnOnce(&mut [u8]) -> usize) {
        let Some(socket) = self.socket.upgrade() else {
            return;
        };
        let mut key = [0u8; 4];
        if self.masked && !mask_key(&mut key) {
            // No entropy source: better no message than a predictable mask.
            return;
        }
        FRAME.with(|frame| {
            let mut buf = frame.borrow_mut();
            // Zeroed only where it grows: `fill` overwrites what it counts.
            if buf.len() < HEADER_ROOM + len + 1 {
                buf.resize(HEADER_ROOM + len + 1, 0);
            }
            let n = fill(&mut buf[HEADER_ROOM..]).min(len);
            let mut header = [0u8; HEADER_ROOM];
            header[0] = 0x81; // FIN, text
            let mask_bit = if self.masked { 0x80 } else { 0 };
            let mut h = if n < 126 {
                header[1] = mask_bit | n as u8;
                2
            } else if n <= 0xFFFF {
                header[1] = mask_bit | 126;
                header[2..4].copy_from_slice(&(n as u16).to_be_bytes());
                4
            } else {
                header[1] = mask_bit | 127;
                header[2..10].copy_from_slice(&(n as u64).to_be_bytes());
                10
            };
            if self.masked {
                header[h..h + 4].copy_from_slice(&key);
                h += 4;
                for (i, byte) in buf[HEADER_ROOM..HEADER_ROOM + n].iter_mut().enumerate() {
                    *byte ^= key[i & 3];
                }
            }
            let start = HEADER_ROOM - h;
            buf[start..HEADER_ROOM].copy_from_slice(&header[..h]);
            socket.write_or_queue(&buf[start..HEADER_ROOM + n]);
            // A rare large message does not keep its buffer.
            if buf.capacity() > FRAME_KEPT {
                *buf = Vec::new();
            }
        });
    }

    /// Answers a ping (from the host's reader, see `host_read`).
    pub(crate) fn pong(&self, payload: Vec<u8>) {
        let size = payload.len() + 14;
        self.write(std::iter::once(Frame::pong(payload)), size);
    }

    /// Formats `frames` (masked on the client side) into one buffer of
    /// about `size` bytes and writes it.
    fn write(&self, frames: impl ExactSizeIterator<Item = Frame>, size: usize) {
        let Some(socket) = self.socket.upgrade() else {
            return;
        };
        let mut keys = Vec::new();
        if self.masked && !mask_keys(frames.len() * 4, &mut keys) {
            // No entropy source: better no message than a predictable mask.
            return;
        }
        let mut bytes = Vec::with_capacity(size);
        for (i, mut frame) in frames.enumerate() {
            if self.masked {
                frame.header_mut().mask = Some([
                    keys[4 * i],
                    keys[4 * i + 1],
                    keys[4 * i + 2],
                    keys[4 * i + 3],
                ]);
            }
            // Writing into a Vec cannot fail.
            let _ = frame.format(&mut bytes);
        }
        socket.write_or_queue(&bytes);
    }

    /// Bytes queued for the socket (0 once the driver has dropped it).
    pub(crate) fn queued(&self) -> usize {
        self.socket.upgrade().map_or(0, |socket| socket.queued())
    }

    pub(crate) fn start_closing(&self) {
        if let Some(socket) = self.socket.upgrade() {
            socket.start_closing();
        }
    }
}

thread_local! {
    /// Random bytes from the OS not used yet, and how many are used: one
    /// `getrandom` per 1,024 masks instead of one per batch (a syscall per
    /// message on a sequential client). Each byte is used once.
    static MASK_POOL: std::cell::RefCell<([u8; 4096], usize)> =
        const { std::cell::RefCell::new(([0; 4096], 4096)) };
}

/// Room before a framed text's payload for the longest header: 2 bytes, 8
/// of length, 4 of mask key.
const HEADER_ROOM: usize = 14;
/// Capacity of the framing buffer kept between sends.
const FRAME_KEPT: usize = 64 << 10;

thread_local! {
    /// Where `Direct::send_text_with` frames a text: one buffer per host thread.
    static FRAME: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// One mask key from the pool of OS random bytes; false if the source failed.
fn mask_key(key: &mut [u8; 4]) -> bool {
    MASK_POOL.with(|pool| {
        let (bytes, used) = &mut *pool.borrow_mut();
        // The pool's size is a multiple of 4: a key never straddles a refill.
        if *used + 4 > bytes.len() {
            if getrandom::fill(bytes).is_err() {
                return false;
            }
            *used = 0;
        }
        key.copy_from_slice(&bytes[*used..*used + 4]);
        *used += 4;
        true
    })
}

/// Appends `n` bytes of mask keys from the OS random source; false if it failed.
fn mask_keys(n: usize, keys: &mut Vec<u8>) -> bool {
    MASK_POOL.with(|pool| {
        let (bytes, used) = &mut *pool.borrow_mut();
        let mut left = n;
        while left > 0 {
            if *used == bytes.len() {
                if getrandom::fill(bytes).is_err() {
                    return false;
                }
                *used = 0;
            }
            let take = left.min(bytes.len() - *used);
            keys.extend_from_slice(&bytes[*used..*used + take]);
            *used += take;
            left -= take;
        }
        true
    })
}
