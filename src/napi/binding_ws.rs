//! The native WebSocket connection as JS sees it (`WsConnection`), and the
//! client's `wsConnect`. The transport (`crate::transport`) runs on napi's
//! tokio runtime; this file only converts between it and JS.
//!
//! Crossing the bridge: JS hands a batch of texts to `send` (one call per JS
//! tick, see lib/native.js). Inbound on ws://, the JS thread reads the
//! socket itself (`uv_reader`) and calls the JS callback with what each
//! read brought (a text, or an array of texts); the link's waker is left only the end of
//! the connection and, over wss://, every message: it queues ONE call of the
//! JS callback, which drains everything received by the time it runs, and
//! JS calls `rearm` once it has handled that batch.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{JsString, JsValue};
use napi_derive::napi;
use parking_lot::Mutex;

use super::uv_reader::UvReader;

use crate::transport::{self, ClientOptions, Closed, ClosedBy, Config, Link, PeerInfo};

/// Options of a native connection (client or server side); every field optional.
#[napi(object)]
pub struct BindingWsOptions {
    /// Largest message accepted, in bytes (default 64 MiB); larger ones close with 1009.
    pub max_message_size: Option<f64>,
    /// Milliseconds between keepalive pings (default 30000; 0 disables them).
    pub ping_interval: Option<f64>,
    /// Milliseconds to wait for any frame after a ping, or on ws:// for the
    /// peer to take any of the bytes queued for it (default 10000).
    pub ping_timeout: Option<f64>,
    /// Milliseconds a local close waits for the peer's closing handshake (default 1000).
    pub close_timeout: Option<f64>,
    /// Bytes sent and not yet taken by a peer that does not read, past which
    /// its messages are not read until they drain below half (default 16 MiB).
    pub max_buffered_bytes: Option<f64>,
    /// Client: extra certificate authorities (PEM) to trust for wss://.
    pub ca: Option<String>,
    /// Client: milliseconds to wait for the connection and handshakes (default 30000).
    pub connect_timeout: Option<f64>,
    /// Client: extra request headers.
    pub headers: Option<HashMap<String, String>>,
}

/// Why a connection ended. `by`: "local", "peer" or "error".
#[napi(object)]
pub struct BindingWsClosed {
    pub by: String,
    pub code: u32,
    pub message: String,
}

/// What the JS callback of `WsConnection.start` receives.
#[napi(object)]
pub struct BindingWsBatch {
    /// Texts received since the previous call, in order.
    pub messages: Vec<String>,
    /// Set once, in the last call, after the last message.
    pub closed: Option<BindingWsClosed>,
}

/// What the JS callback of `WsConnection.start` receives: from a read on
/// the JS thread (ws://) the one text read or the texts read, after which
/// no `rearm` is expected; from the threadsafe function a batch, after
/// which JS calls `rearm`.
pub type BindingWsDelivery = Either3<String, Vec<String>, BindingWsBatch>;

/// The peer, as the handshake described it.
#[napi(object)]
pub struct BindingWsInfo {
    /// `ip:port` of the peer.
    pub remote_address: String,
    /// The request target (server side) or the URL (client side).
    pub url: String,
    /// Request headers (server side) or response headers (client side).
    pub headers: HashMap<String, String>,
}

fn millis(value: Option<f64>) -> Option<Duration> {
    value
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
}

pub(crate) fn config(options: Option<&BindingWsOptions>) -> Config {
    // The JS thread reads ws:// sockets itself (`uv_reader`).
    let defaults = Config {
        host_reads: true,
        ..Config::default()
    };
    let Some(o) = options else { return defaults };
    Config {
        max_message_size: o
            .max_message_size
            .filter(|n| n.is_finite() && *n >= 1.0)
            .map_or(defaults.max_message_size, |n| n as usize),
        ping_interval: match millis(o.ping_interval) {
            Some(every) if every.is_zero() => None,
            Some(every) => Some(every),
            None => defaults.ping_interval,
        },
        ping_timeout: millis(o.ping_timeout).unwrap_or(defaults.ping_timeout),
        close_timeout: millis(o.close_timeout).unwrap_or(defaults.close_timeout),
        max_buffered_bytes: o
            .max_buffered_bytes
            .filter(|n| n.is_finite() && *n >= 1.0)
            .map_or(defaults.max_buffered_bytes, |n| n as usize),
        host_reads: defaults.host_reads,
    }
}

/// A close code JS may send: 1000, 1001 or an application code (3000-4999);
/// anything else becomes `default` (the other codes are for the transport).
pub(crate) fn close_code(code: Option<u32>, default: u16) -> u16 {
    match code {
        Some(c @ (1000 | 1001 | 3000..=4999)) => c as u16,
        _ => default,
    }
}

fn closed(closed: Closed) -> BindingWsClosed {
    let by = match closed.by {
        ClosedBy::Local => "local",
        ClosedBy::Peer => "peer",
        ClosedBy::Error => "error",
    };
    BindingWsClosed {
        by: by.to_owned(),
        code: closed.code as u32,
        message: closed.message,
    }
}

fn info(peer: &PeerInfo) -> BindingWsInfo {
    let mut headers: HashMap<String, String> = HashMap::new();
    for (name, value) in &peer.headers {
        headers
            .entry(name.clone())
            .and_modify(|joined| {
                joined.push_str(", ");
                joined.push_str(value);
            })
            .or_insert_with(|| value.clone());
    }
    BindingWsInfo {
        remote_address: peer.remote_address.clone(),
        url: peer.url.clone(),
        headers,
    }
}

/// One open WebSocket, client or server side.
#[napi(js_name = "WsConnection")]
pub struct BindingWsConnection {
    link: Link,
    /// Set by `start` on ws://: the reader on the JS thread.
    reader: Mutex<Option<Arc<UvReader>>>,
}

impl BindingWsConnection {
    pub(crate) fn new(link: Link) -> Self {
        BindingWsConnection {
            link,
            reader: Mutex::new(None),
        }
    }
}

#[napi]
impl BindingWsConnection {
    /// Starts delivering: `onBatch` is called on the JS thread with every
    /// text received since its previous call, and a last time with `closed`.
    /// Until that last call the callback keeps the process alive, as an open
    /// socket does; after it, nothing does. `onBatch` should not throw; what
    /// it throws from a read on this thread goes to `onError`.
    #[napi]
    pub fn start(
        &self,
        env: Env,
        on_batch: Function<BindingWsDelivery, ()>,
        on_error: Option<Function>,
    ) -> Result<()> {
        let reader = match self.link.host_reader() {
            Some(host) => Some(UvReader::start(
                env.raw(),
                host,
                on_batch.raw(),
                on_error.as_ref().map(JsValue::raw),
            )?),
            None => None,
        };
        *self.reader.lock() = reader.clone();
        let drainer = self.link.clone();
        let callback: ThreadsafeFunction<(), (), BindingWsDelivery, Status, false> = on_batch
            .build_threadsafe_function::<()>()
            .callee_handled::<false>()
            .build_callback(move |_| {
                let drained = drainer.drain();
                if drained.closed.is_some() {
                    // The end is reported: the reader (paused, or told by
                    // the driver's shutdown and not yet polled) is done too.
                    if let Some(reader) = &reader {
                        reader.stop();
                    }
                }
                Ok(Either3::C(BindingWsBatch {
                    messages: drained.messages,
                    closed: drained.closed.map(closed),
                }))
            })?;
        self.link.set_waker(Box::new(move || {
            callback.call((), ThreadsafeFunctionCallMode::NonBlocking);
        }));
        Ok(())
    }

    /// Allows the next `onBatch` call (at once if texts are waiting). JS calls
    /// it after handling a batch, from a later macrotask, so a flood cannot
    /// chain batches without its timers and other I/O getting a turn.
    #[napi]
    pub fn rearm(&self) {
        self.link.rearm();
        if let Some(reader) = &*self.reader.lock() {
            reader.resume();
        }
    }

    /// Sends a batch of texts, in order: on ws:// written from this thread
    /// before it returns (what the socket does not take is queued), on
    /// wss:// handed to the tokio thread, with one flush.
    #[napi]
    pub fn send(&self, texts: Vec<String>) {
        self.link.send(texts);
    }

    /// Sends one text, as `send([text])` does, without the array crossing:
    /// on ws:// its UTF-8 is written by V8 straight into the frame.
    #[napi]
    pub fn send_text(&self, env: Env, text: JsString) -> Result<()> {
        let (env, value) = (env.raw(), text.raw());
        let mut units = 0;
        // SAFETY: N-API calls on this call's env with a live string value.
        // Its length in UTF-16 units is known without a walk (its UTF-8
        // length is not): each unit takes at most 3 bytes of UTF-8.
        check_status!(unsafe {
            sys::napi_get_value_string_utf16(env, value, std::ptr::null_mut(), 0, &mut units)
        })?;
        self.link.send_text_with(units * 3, |buf| {
            let mut written = 0;
            // SAFETY: `buf` has `len + 1` bytes, as napi wants for the NUL.
            let status = unsafe {
                sys::napi_get_value_string_utf8(
                    env,
                    value,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    &mut written,
                )
            };
            if status == sys::Status::napi_ok {
                written
            } else {
                0
            }
        });
        Ok(())
    }

    /// Starts the closing handshake (code 1000 unless given: 1000, or 3000-4999).
    #[napi]
    pub fn close(&self, code: Option<u32>, reason: Option<String>) {
        self.link
            .close(close_code(code, 1000), reason.as_deref().unwrap_or(""));
    }

    /// Whether `send` writes from this thread (ws://): JS then sends each
    /// text at once instead of gathering a tick's texts (see lib/native.js).
    #[napi(getter)]
    pub fn writes_directly(&self) -> bool {
        self.link.writes_directly()
    }

    /// Bytes sent and not yet taken by the socket (ws://; 0 over wss://).
    #[napi(getter)]
    pub fn buffered_amount(&self) -> f64 {
        self.link.buffered_amount() as f64
    }

    #[napi(getter)]
    pub fn info(&self) -> BindingWsInfo {
        info(self.link.info())
    }
}

/// Connects to a `ws://` or `wss://` URL; rejects with a sentence saying why not.
#[napi]
pub async fn ws_connect(
    url: String,
    options: Option<BindingWsOptions>,
) -> Result<BindingWsConnection> {
    let config = config(options.as_ref());
    let client = ClientOptions {
        ca_pem: options.as_ref().and_then(|o| o.ca.clone()),
        connect_timeout: options.as_ref().and_then(|o| millis(o.connect_timeout)),
        headers: options
            .and_then(|o| o.headers)
            .map(|h| h.into_iter().collect())
            .unwrap_or_default(),
    };
    transport::connect(&url, config, client)
        .await
        .map(BindingWsConnection::new)
        .map_err(Error::from_reason)
}
