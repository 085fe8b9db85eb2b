//! The server side: a TCP listener whose accepted sockets become links.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;

use super::direct::SharedTcp;
use super::link::{spawn_with, Closer, Link, PeerInfo};
use super::Config;

/// Called with each new connection, from a tokio thread.
pub type OnAccept = Box<dyn Fn(Link) + Send + Sync>;

struct Shared {
    links: Mutex<HashMap<u64, Closer>>,
    /// Notified whenever a link ends, for `close` to wait on.
    ended: Notify,
    next_id: AtomicU64,
}

/// A listening server. Dropping it does not stop it; `close` does.
pub struct Server {
    address: SocketAddr,
    stop: watch::Sender<bool>,
    shared: Arc<Shared>,
    config: Config,
}

/// Listens on `host:port` (port 0 picks a free one). Upgrade requests for
/// another path than `path` (when given) are answered 404.
pub async fn listen(
    host: &str,
    port: u16,
    path: Option<String>,
    config: Config,
    on_accept: OnAccept,
) -> std::io::Result<Server> {
    let listener = TcpListener::bind((host, port)).await?;
    let address = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let shared = Arc::new(Shared {
        links: Mutex::new(HashMap::new()),
        ended: Notify::new(),
        next_id: AtomicU64::new(1),
    });
    let on_accept: Arc<OnAccept> = Arc::new(on_accept);
    tokio::spawn(accept_loop(
        listener,
        stopped,
        shared.clone(),
        path.map(Arc::new),
        config.clone(),
        on_accept,
    ));
    Ok(Server {
        address,
        stop,
        shared,
        config,
    })
}

async fn accept_loop(
    listener: TcpListener,
    mut stopped: watch::Receiver<bool>,
    shared: Arc<Shared>,
    path: Option<Arc<String>>,
    config: Config,
    on_accept: Arc<OnAccept>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let task = handshake(socket, peer, stopped.clone(), shared.clone(), path.clone(), config.clone(), on_accept.clone());
                    tokio::spawn(task);
                }
                // Out of descriptors or a connection that died in the
                // backlog: the listener itself is fine, so wait a little.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            _ = stopped.changed() => break,
        }
    }
}

async fn handshake(
    socket: TcpStream,
    peer: SocketAddr,
    stopped: watch::Receiver<bool>,
    shared: Arc<Shared>,
    path: Option<Arc<String>>,
    config: Config,
    on_accept: Arc<OnAccept>,
) {
    let _ = socket.set_nodelay(true);
    let mut info = PeerInfo {
        remote_address: peer.to_string(),
        ..PeerInfo::default()
    };
    let check = |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
        if let Some(path) = &path {
            if request.uri().path() != path.as_str() {
                let mut refusal = ErrorResponse::new(Some(format!(
                    "no WebSocket endpoint at {}",
                    request.uri().path()
                )));
                *refusal.status_mut() = StatusCode::NOT_FOUND;
                return Err(refusal);
            }
        }
        info.url = request.uri().to_string();
        info.headers = request
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        Ok(response)
    };
    let socket = SharedTcp::new(socket, true);
    let direct = Some((socket.socket().clone(), false));
    let upgrade =
        tokio_tungstenite::accept_hdr_async_with_config(socket, check, Some(config.websocket()));
    let mut stop = stopped.clone();
    let ws = tokio::select! {
        upgraded = tokio::time::timeout(Duration::from_secs(10), upgrade) => match upgraded {
            Ok(Ok(ws)) => ws,
            _ => return,
        },
        // A closed server drops half-done handshakes at once: they hold its
        // accept callback, which may keep the host alive.
        _ = stop.changed() => return,
    };
    let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
    let ending = shared.clone();
    let on_end = Box::new(move || {
        ending.links.lock().remove(&id);
        ending.ended.notify_waiters();
    });
    let link = {
        // Checked under the registry's lock, which `close` takes too: a link
        // is either refused here or registered before `close` looks.
        let mut links = shared.links.lock();
        if *stopped.borrow() {
            return; // the server closed during the handshake: drop the socket
        }
        let link = spawn_with(ws, config, info, Some(on_end), direct);
        links.insert(id, link.closer());
        link
    };
    on_accept(link);
}

impl Server {
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Connections whose driver still runs.
    pub fn connections(&self) -> usize {
        self.shared.links.lock().len()
    }

    /// Stops accepting, closes every connection with `code` (their hosts
    /// learn it through their inboxes), and waits until their drivers have
    /// finished or the close timeout (plus a margin) has passed.
    pub async fn close(&self, code: u16, reason: &str) {
        self.stop.send_replace(true);
        let deadline =
            tokio::time::Instant::now() + self.config.close_timeout + Duration::from_millis(500);
        loop {
            let ended = self.shared.ended.notified();
            {
                let links = self.shared.links.lock();
                if links.is_empty() {
                    return;
                }
                for closer in links.values() {
                    closer.close(code, reason);
                }
            }
            if tokio::time::timeout_at(deadline, ended).await.is_err() {
                return;
            }
        }
    }
}
