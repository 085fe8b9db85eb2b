//! A connection's handle ([`Link`]), its inbox, and its driver task.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, Notify};
use tokio::time::{sleep_until, Instant};
use tokio_tungstenite::tungstenite::error::Error as WsError;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::decode::Decoder;
use super::direct::{Direct, Socket};
use super::ending::{error_ending, failure, lost, not_utf8, peer_closed, Ending};
use super::host_read::{self, HostReader, ReadShare};
use super::{Closed, ClosedBy, Config};

/// Text bytes, or messages, the inbox holds before the driver stops reading
/// the socket until the host drains: a peer sending faster than the host
/// handles its messages then meets TCP backpressure instead of growing our
/// memory. The count also bounds one batch, hence how long the host's event
/// loop is held by it (a few thousand small calls: tens of milliseconds).
pub const INBOX_HIGH_WATER: usize = 1 << 20;
pub const INBOX_MAX_MESSAGES: usize = 4096;

/// Called from a tokio thread when the inbox has news and no earlier wake-up
/// is still undrained. Must not block; the host drains later, on its thread.
pub type Waker = Box<dyn Fn() + Send + Sync>;

/// Who the peer is, as far as the handshake told us.
#[derive(Clone, Debug, Default)]
pub struct PeerInfo {
    /// `ip:port` of the peer.
    pub remote_address: String,
    /// The request target (server side) or the URL (client side).
    pub url: String,
    /// Request headers (server side) or response headers (client side), lower-case names.
    pub headers: Vec<(String, String)>,
}

/// Everything received since the last drain, and the end if it came.
#[derive(Debug, Default)]
pub struct Drained {
    pub messages: Vec<String>,
    pub closed: Option<Closed>,
}

#[derive(Default)]
struct InboxState {
    messages: Vec<String>,
    /// Bytes of text in `messages`.
    bytes: usize,
    closed: Option<Closed>,
    /// A wake-up was sent and the host has not re-armed since.
    woken: bool,
    /// The end was handed to the host: nothing more will come.
    finished: bool,
    waker: Option<Waker>,
}

/// Frames received and not yet taken by the host. See the module docs of
/// `transport` for the wake-up contract.
#[derive(Default)]
pub(crate) struct Inbox {
    state: Mutex<InboxState>,
    /// Signalled by each drain: the driver waits on it while the inbox is full.
    room: Notify,
}

impl Inbox {
    fn push(&self, text: String) {
        let mut state = self.state.lock();
        state.bytes += text.len();
        state.messages.push(text);
        Self::wake(&mut state);
    }

    /// Whether the driver should stop reading until the host drains.
    fn is_full(&self) -> bool {
        let state = self.state.lock();
        state.bytes >= INBOX_HIGH_WATER || state.messages.len() >= INBOX_MAX_MESSAGES
    }

    fn close(&self, closed: Closed) {
        let mut state = self.state.lock();
        if state.closed.is_none() && !state.finished {
            state.closed = Some(closed);
        }
        Self::wake(&mut state);
    }

    fn wake(state: &mut InboxState) {
        if state.woken {
            return;
        }
        if let Some(waker) = &state.waker {
            state.woken = true;
            waker();
        }
    }

    /// Allows the next wake-up, at once if there is news already.
    fn rearm(&self) {
        let mut state = self.state.lock();
        state.woken = false;
        if !state.finished && (!state.messages.is_empty() || state.closed.is_some()) {
            Self::wake(&mut state);
        }
    }

    /// Wakes the host with nothing to report, so that it rearms (and
    /// resumes a paused reader, see `host_read`).
    fn poke(&self) {
        let mut state = self.state.lock();
        if !state.finished {
            Self::wake(&mut state);
        }
    }

    fn set_waker(&self, waker: Waker) {
        let mut state = self.state.lock();
        if state.finished {
            return;
        }
        state.waker = Some(waker);
        if !state.messages.is_empty() || state.closed.is_some() {
            Self::wake(&mut state);
        }
    }

    fn drain(&self) -> Drained {
        let mut state = self.state.lock();
        let drained = Drained {
            messages: std::mem::take(&mut state.messages),
            closed: state.closed.take(),
        };
        state.bytes = 0;
        // A stored permit if the driver is not waiting yet: it cannot miss it.
        self.room.notify_one();
        if drained.closed.is_some() {
            state.finished = true;
            // The waker is the host's callback and may keep its event loop
            // alive; after the end there is nothing left to wake it for.
            state.waker = None;
        }
        drained
    }
}

enum Command {
    Send(Vec<String>),
    Close(u16, String),
}

/// The host's handle on one connection. Dropping every clone closes it
/// (code 1000), as [`Link::close`] does.
#[derive(Clone)]
pub struct Link {
    commands: mpsc::UnboundedSender<Command>,
    inbox: Arc<Inbox>,
    info: Arc<PeerInfo>,
    /// Set on plain TCP: sends are written from the caller's thread.
    direct: Option<Arc<Direct>>,
    /// Set on plain TCP: the host may read the socket itself.
    host: Option<Arc<HostSide>>,
}

/// What [`Link::host_reader`] needs.
struct HostSide {
    share: Arc<ReadShare>,
    socket: std::sync::Weak<Socket>,
    /// We are the server: the peer's frames must be masked.
    server: bool,
    max_message_size: usize,
    max_buffered_bytes: usize,
}

impl Link {
    /// Sends a batch of text messages, in order: on plain TCP written at
    /// once from the calling thread (what the socket does not take is left
    /// to the driver, see `direct`), else queued for the driver, which
    /// flushes once per batch. Dropped silently once the connection is
    /// closing (the host learns of the end through the inbox).
    pub fn send(&self, texts: Vec<String>) {
        if texts.is_empty() {
            return;
        }
        match &self.direct {
            Some(direct) => direct.send(texts),
            None => {
                let _ = self.commands.send(Command::Send(texts));
            }
        }
    }

    /// Sends one text of at most `len` UTF-8 bytes that `fill` writes into
    /// the slice it is given (`len + 1` bytes or more) and returns the count of: on
    /// plain TCP framed and written without allocating, else as
    /// [`Link::send`] of that text.
    pub fn send_text_with(&self, len: usize, fill: impl FnOnce(&mut [u8]) -> usize) {
        match &self.direct {
            Some(direct) => direct.send_text_with(len, fill),
            None => {
                let mut bytes = vec![0; len + 1];
                let n = fill(&mut bytes).min(len);
                bytes.truncate(n);
                // `fill` writes UTF-8; anything else is not sent.
                if let Ok(text) = String::from_utf8(bytes) {
                    self.send(vec![text]);
                }
            }
        }
    }

    /// Whether [`Link::send`] writes from the calling thread (ws://), so
    /// that a host gains nothing by gathering texts before sending them;
    /// over wss:// each send is a command to the driver (and a wake-up).
    pub fn writes_directly(&self) -> bool {
        self.direct.is_some()
    }

    /// Starts the closing handshake with `code` and `reason` (truncated to
    /// the 123 bytes a close frame allows). Later sends are dropped.
    pub fn close(&self, code: u16, reason: &str) {
        if let Some(direct) = &self.direct {
            direct.start_closing();
        }
        let _ = self.commands.send(Command::Close(code, reason.to_owned()));
    }

    /// Installs the host's wake-up; wakes at once if frames are already waiting.
    pub fn set_waker(&self, waker: Waker) {
        self.inbox.set_waker(waker);
    }

    /// Takes everything received since the last drain. The waker stays
    /// quiet until [`Link::rearm`].
    pub fn drain(&self) -> Drained {
        self.inbox.drain()
    }

    /// Lets the waker be called again, at once if frames are already waiting.
    /// A host calls it once it has handled a batch and let its own event loop
    /// turn: wake-ups then never come faster than the host handles them, so a
    /// flooding peer cannot starve the host's timers and other sockets.
    pub fn rearm(&self) {
        self.inbox.rearm()
    }

    /// Bytes sent and not yet taken by the socket (ws:// links; 0 over
    /// wss://, whose writes the driver holds).
    pub fn buffered_amount(&self) -> usize {
        self.direct.as_ref().map_or(0, |direct| direct.queued())
    }

    pub fn info(&self) -> &PeerInfo {
        &self.info
    }

    /// Claims the reading of the socket for the calling thread (plain TCP
    /// only, see `host_read`); `None` over TLS, when claimed already, or
    /// once the driver has taken the reading over to end the connection.
    pub fn host_reader(&self) -> Option<HostReader> {
        let (host, direct) = (self.host.as_ref()?, self.direct.as_ref()?);
        let claimed = host.share.reader.compare_exchange(
            host_read::UNCLAIMED,
            host_read::HOST,
            std::sync::atomic::Ordering::SeqCst,
            std::sync::atomic::Ordering::SeqCst,
        );
        if claimed.is_err() {
            return None;
        }
        let decoder = Decoder::new(host.server, host.max_message_size);
        // Without its socket (the driver is gone) or a descriptor, the
        // reader finishes at once and so tells the driver, if still there.
        let socket = host
            .socket
            .upgrade()
            .ok_or_else(|| std::io::Error::other("the connection has ended"))
            .and_then(|socket| {
                socket.write_only();
                socket.duplicate()
            });
        let socket = match socket {
            Ok(socket) => socket,
            Err(error) => {
                host.share.abandon(&error.to_string());
                return None;
            }
        };
        let reader = HostReader::new(
            socket,
            decoder,
            direct.clone(),
            host.share.clone(),
            host.max_buffered_bytes,
        );
        Some(reader)
    }

    /// A handle that can close the link without keeping it open.
    pub(crate) fn closer(&self) -> Closer {
        Closer(self.commands.downgrade())
    }
}

/// Closes a link if it still runs; does not keep it alive (a server's registry).
pub(crate) struct Closer(mpsc::WeakUnboundedSender<Command>);

impl Closer {
    pub(crate) fn close(&self, code: u16, reason: &str) {
        if let Some(commands) = self.0.upgrade() {
            let _ = commands.send(Command::Close(code, reason.to_owned()));
        }
    }
}

/// Starts the driver of an open WebSocket on the current tokio runtime.
/// `on_end` runs when the driver has finished with the socket.
pub fn spawn<S>(ws: WebSocketStream<S>, config: Config, info: PeerInfo) -> Link
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    spawn_with(ws, config, info, None, None)
}

/// A plain TCP socket the host may write to directly (see `direct`), and
/// whether its frames are masked (client side).
pub(crate) type Shared = Option<(Arc<Socket>, bool)>;

pub(crate) fn spawn_with<S>(
    ws: WebSocketStream<S>,
    config: Config,
    info: PeerInfo,
    on_end: Option<Box<dyn FnOnce() + Send>>,
    shared: Shared,
) -> Link
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (commands, receiver) = mpsc::unbounded_channel();
    let inbox = Arc::new(Inbox::default());
    let driver_inbox = inbox.clone();
    let direct = shared
        .as_ref()
        .map(|(socket, masked)| Arc::new(Direct::new(socket, *masked)));
    let host = shared
        .as_ref()
        .filter(|_| config.host_reads)
        .map(|(socket, masked)| {
            Arc::new(HostSide {
                share: Arc::new(ReadShare::default()),
                socket: Arc::downgrade(socket),
                server: !*masked,
                max_message_size: config.max_message_size,
                max_buffered_bytes: config.max_buffered_bytes,
            })
        });
    let share = host.as_ref().map(|host| host.share.clone());
    let socket = shared.map(|(socket, _)| socket);
    tokio::spawn(async move {
        let closed = drive(
            ws,
            receiver,
            &driver_inbox,
            &config,
            socket.as_deref(),
            share.as_deref(),
        )
        .await;
        driver_inbox.close(closed);
        if let Some(on_end) = on_end {
            on_end();
        }
    });
    Link {
        commands,
        inbox,
        info: Arc::new(info),
        direct,
        host,
    }
}

/// `host`: set on plain TCP, whose socket the host may read (`host_read`);
/// the driver then never reads it while the connection is open.
async fn drive<S>(
    mut ws: WebSocketStream<S>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    inbox: &Inbox,
    config: &Config,
    socket: Option<&Socket>,
    host: Option<&ReadShare>,
) -> Closed
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let far_future = Instant::now() + Duration::from_secs(86400 * 365);
    let mut next_ping = config
        .ping_interval
        .map_or(far_future, |every| Instant::now() + every);
    // Set while a ping is unanswered: no frame at all since it was sent.
    let mut pong_deadline: Option<Instant> = None;
    // The host reader's count of frames when that ping went.
    let mut heard_at_ping = 0;

    // Set while the socket's outbound queue is over the high-water mark,
    // until it drains below the low-water mark (half of it).
    let high_water = config.max_buffered_bytes;
    let low_water = high_water / 2;
    let mut backed_up = false;
    // While bytes are queued at ping ticks: how much the socket had taken,
    // and since when that figure has not moved. A peer that takes none of
    // our bytes for the ping timeout is dead or hostile: a keepalive timeout.
    let mut stalled: Option<(u64, Instant)> = None;

    let ending = loop {
        let queued = socket.map_or(0, Socket::queued);
        if queued > high_water {
            backed_up = true;
        }
        // While the host has not drained a full inbox, or the peer has not
        // taken what we sent, the socket is not read; nor while the host,
        // which reads it, has not started or has paused.
        let host_idle = host.is_some_and(|h| {
            h.reader.load(std::sync::atomic::Ordering::SeqCst) != host_read::HOST || h.is_paused()
        });
        let full = inbox.is_full() || backed_up || host_idle;
        tokio::select! {
            frame = ws.next(), if !full && host.is_none() => {
                pong_deadline = None;
                match frame {
                    Some(frame) => {
                        if let Some(ending) = receive(frame, inbox) { break ending; }
                        // Frames already buffered join the same batch, up to the high water.
                        let mut ended = None;
                        while !inbox.is_full() {
                            let Some(Some(frame)) = ws.next().now_or_never() else { break };
                            if let Some(ending) = receive(frame, inbox) { ended = Some(ending); break; }
                        }
                        if let Some(ending) = ended { break ending; }
                    }
                    None => break Ending::Done(lost("the peer closed the socket")),
                }
            }
            // Host writes the socket did not take whole: written as the
            // socket takes them, while reads, commands and timers go on.
            drained = drain_to(socket, if backed_up { low_water } else { 0 }), if queued > 0 => {
                match drained {
                    Ok(()) => {
                        backed_up = false;
                        // A reader paused by the queue may go on: its host is
                        // woken to ask (a rare case, so the wake-up's cost is fine).
                        if host.is_some_and(ReadShare::is_paused) {
                            inbox.poke();
                        }
                    }
                    Err(error) => break Ending::Done(lost(&error.to_string())),
                }
            }
            // The host's reader met the end (or stopped).
            _ = host_news(host), if host.is_some() => {
                if let Some(ending) = host.and_then(ReadShare::take_end) { break ending; }
            }
            // A host write left bytes queued: look again.
            _ = backlog(socket), if queued == 0 => {}
            _ = inbox.room.notified(), if full => {
                // The peer's pongs were not read while we waited on the host:
                // the silence was ours, so the keepalive starts over.
                pong_deadline = None;
            }
            command = commands.recv() => match command {
                Some(Command::Send(texts)) => {
                    if let Some(ending) = write_through(&mut ws, &mut commands, texts).await { break ending; }
                }
                Some(Command::Close(code, reason)) => break local_close(code, reason),
                None => break local_close(1000, String::new()),
            },
            _ = sleep_until(next_ping) => {
                let every = config.ping_interval.expect("the ping timer runs only with an interval");
                next_ping = Instant::now() + every;
                // With bytes still queued, a ping would wait behind them and
                // its flush would hold this loop: the peer is known to be
                // behind, so this ping is skipped; the bytes it takes prove
                // it alive instead.
                if let (Some(socket), true) = (socket, queued > 0) {
                    let taken = socket.taken();
                    match stalled {
                        Some((before, since)) if before == taken => {
                            if since.elapsed() >= config.ping_timeout {
                                let message = format!("keepalive timeout: the peer took none of our data for {} ms", since.elapsed().as_millis());
                                break Ending::Abort(Closed::new(ClosedBy::Error, 1006, message), 1001, "keepalive timeout".into());
                            }
                        }
                        _ => stalled = Some((taken, Instant::now())),
                    }
                } else {
                    stalled = None;
                    if pong_deadline.is_none() && !full {
                        pong_deadline = Some(Instant::now() + config.ping_timeout);
                        heard_at_ping = host.map_or(0, ReadShare::heard);
                    }
                    if let Err(error) = ws.send(Message::Ping(Default::default())).await {
                        break Ending::Done(failure(&error));
                    }
                }
            }
            _ = sleep_until(pong_deadline.unwrap_or(far_future)), if pong_deadline.is_some() && !full => {
                // The host's reader counts frames instead of this loop
                // seeing them; bytes it has not read yet (its thread is busy)
                // may hold the answer: the silence is then ours, so the
                // keepalive starts over, as when a full inbox waits for the host.
                let unread = || host.is_some() && socket.is_some_and(Socket::has_unread);
                if host.is_some_and(|h| h.heard() != heard_at_ping) || unread() {
                    pong_deadline = None;
                    continue;
                }
                let message = format!("keepalive timeout: no answer to a ping within {} ms", config.ping_timeout.as_millis());
                break Ending::Abort(Closed::new(ClosedBy::Error, 1006, message), 1001, "keepalive timeout".into());
            }
        }
    };

    // The close frame (if any) must be the last frame: no host write after it.
    if let Some(socket) = socket {
        socket.start_closing();
    }
    if let (Some(host), Some(socket)) = (host, socket) {
        // A host that never started reading leaves the reading to us.
        let unclaimed = host.reader.compare_exchange(
            host_read::UNCLAIMED,
            host_read::DRIVER,
            std::sync::atomic::Ordering::SeqCst,
            std::sync::atomic::Ordering::SeqCst,
        );
        if unclaimed.is_err() {
            return end_host_read(ws, ending, config, socket, host).await;
        }
    }
    match ending {
        Ending::Done(closed) => closed,
        Ending::Close(closed, code, reason) => {
            let deadline = Instant::now() + config.close_timeout;
            // Under the deadline too: the close frame waits behind whatever
            // is queued, which a peer that does not read never takes.
            let _ = tokio::time::timeout_at(deadline, async {
                if ws.close(Some(close_frame(code, &reason))).await.is_ok() {
                    // Read until the peer's close frame and the end of the stream,
                    // so that the peer sees a clean close rather than a reset.
                    while let Some(Ok(_)) = ws.next().await {}
                }
            })
            .await;
            closed
        }
        Ending::Abort(closed, code, reason) => {
            let deadline = Instant::now() + config.close_timeout;
            let _ = tokio::time::timeout_at(deadline, async {
                let _ = ws
                    .send(Message::Close(Some(close_frame(code, &reason))))
                    .await;
                let socket = ws.get_mut();
                let _ = socket.shutdown().await;
                // Unread bytes at close would make the kernel send a reset,
                // which can overtake our close frame: discard them first.
                let mut scratch = vec![0u8; 16 << 10];
                while matches!(socket.read(&mut scratch).await, Ok(n) if n > 0) {}
            })
            .await;
            closed
        }
    }
}

/// The end of a link whose host reads the socket: what the driver reads at
/// the end (the peer's close frame, or raw bytes to discard) the host's
/// reader reads, told by the phase; the driver writes the close frame,
/// waits for the reader under the close timeout, then shuts the socket
/// down, which ends the reader's stream too.
async fn end_host_read<S>(
    mut ws: WebSocketStream<S>,
    ending: Ending,
    config: &Config,
    socket: &Socket,
    host: &ReadShare,
) -> Closed
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let deadline = Instant::now() + config.close_timeout;
    let closed = match ending {
        Ending::Done(closed) => closed,
        Ending::Close(closed, code, reason) => {
            host.enter(host_read::CLOSING);
            let _ = tokio::time::timeout_at(deadline, async {
                if ws.close(Some(close_frame(code, &reason))).await.is_ok() {
                    host.finished().await;
                }
            })
            .await;
            closed
        }
        Ending::Abort(closed, code, reason) => {
            host.enter(host_read::DISCARDING);
            let _ = tokio::time::timeout_at(deadline, async {
                let _ = ws
                    .send(Message::Close(Some(close_frame(code, &reason))))
                    .await;
                let _ = ws.get_mut().shutdown().await;
                host.finished().await;
            })
            .await;
            closed
        }
    };
    socket.shutdown();
    closed
}

fn local_close(code: u16, reason: String) -> Ending {
    let message = if reason.is_empty() {
        "closed locally".to_owned()
    } else {
        format!("closed locally: {reason}")
    };
    Ending::Close(Closed::new(ClosedBy::Local, code, message), code, reason)
}

/// Writes `texts` through tungstenite (a link without a shared socket:
/// wss://) and flushes, in order. While the socket does not take them (a
/// peer that does not read), the socket is not read either, so the peer's
/// calls wait in TCP; sends that come meanwhile join the queue, and a close
/// ends the wait at once (it waits for its own frame under the close
/// timeout). `Some` ends the connection.
async fn write_through<S>(
    ws: &mut WebSocketStream<S>,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    texts: Vec<String>,
) -> Option<Ending>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut pending: std::collections::VecDeque<String> = texts.into();
    loop {
        // Ready for the next text, or everything flushed. Polled by hand so
        // that no text is lost when a command wins the race.
        let writable = std::future::poll_fn(|cx| {
            if pending.is_empty() {
                ws.poll_flush_unpin(cx)
            } else {
                ws.poll_ready_unpin(cx)
            }
        });
        tokio::select! {
            ready = writable => {
                if let Err(error) = ready {
                    return Some(Ending::Done(failure(&error)));
                }
                let Some(text) = pending.pop_front() else { return None };
                if let Err(error) = ws.start_send_unpin(Message::text(text)) {
                    return Some(Ending::Done(failure(&error)));
                }
            }
            command = commands.recv() => match command {
                Some(Command::Send(more)) => pending.extend(more),
                Some(Command::Close(code, reason)) => return Some(local_close(code, reason)),
                None => return Some(local_close(1000, String::new())),
            },
        }
    }
}

/// Writes a shared socket's queue down to `target` bytes; never resolves without one.
async fn drain_to(socket: Option<&Socket>, target: usize) -> std::io::Result<()> {
    match socket {
        Some(socket) => std::future::poll_fn(|cx| socket.poll_drain_to(cx, target)).await,
        None => std::future::pending().await,
    }
}

/// Resolves when the host's reader has news; never without one.
async fn host_news(host: Option<&ReadShare>) {
    match host {
        Some(host) => host.news().await,
        None => std::future::pending().await,
    }
}

/// Resolves when host writes are left for the driver to flush; never without a shared socket.
async fn backlog(socket: Option<&Socket>) {
    match socket {
        Some(socket) => socket.backlog.notified().await,
        None => std::future::pending().await,
    }
}

/// Handles one received frame; `Some` ends the connection.
fn receive(frame: Result<Message, WsError>, inbox: &Inbox) -> Option<Ending> {
    match frame {
        Ok(Message::Text(text)) => inbox.push(text.as_str().to_owned()),
        Ok(Message::Binary(bytes)) => match String::from_utf8(bytes.to_vec()) {
            Ok(text) => inbox.push(text),
            Err(_) => return Some(not_utf8()),
        },
        Ok(Message::Close(frame)) => {
            return Some(peer_closed(
                frame.map(|f| (u16::from(f.code), f.reason.as_str().to_owned())),
            ))
        }
        // Pings are answered by tungstenite; any frame proves the peer alive.
        Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => {}
        Err(error) => return Some(error_ending(&error)),
    }
    None
}

fn close_frame(code: u16, reason: &str) -> CloseFrame {
    // A close frame's payload is at most 125 bytes: 2 for the code.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    CloseFrame {
        code: CloseCode::from(code),
        reason: reason[..end].to_owned().into(),
    }
}
