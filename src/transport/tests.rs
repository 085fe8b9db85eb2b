//! The transport over real loopback sockets: our client against our server,
//! and each against a bare tungstenite peer for what our own peer never does
//! (binary frames, silence, resets).

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::Message;

use super::*;
use crate::transport::link::{INBOX_HIGH_WATER, INBOX_MAX_MESSAGES};

pub(super) const PATIENCE: Duration = Duration::from_secs(5);

/// A link whose waker pings a Notify, so a test can await its batches.
pub(super) struct Watched {
    pub(super) link: Link,
    woken: Arc<Notify>,
}

impl Watched {
    pub(super) fn new(link: Link) -> Self {
        let woken = Arc::new(Notify::new());
        let notify = woken.clone();
        link.set_waker(Box::new(move || notify.notify_one()));
        Watched { link, woken }
    }

    /// Waits for the next wake-up, drains and re-arms.
    async fn next(&self) -> Drained {
        tokio::time::timeout(PATIENCE, self.woken.notified())
            .await
            .expect("no wake-up within the patience");
        let drained = self.link.drain();
        self.link.rearm();
        drained
    }

    /// Drains until `n` messages or the end came.
    pub(super) async fn messages(&self, n: usize) -> (Vec<String>, Option<Closed>) {
        let mut messages = Vec::new();
        loop {
            let drained = self.next().await;
            messages.extend(drained.messages);
            if drained.closed.is_some() || messages.len() >= n {
                return (messages, drained.closed);
            }
        }
    }

    pub(super) async fn closed(&self) -> Closed {
        loop {
            if let Some(closed) = self.next().await.closed {
                return closed;
            }
        }
    }
}

fn quick() -> Config {
    Config {
        close_timeout: Duration::from_millis(500),
        ..Config::default()
    }
}

/// A server on 127.0.0.1 that hands accepted links to the test.
pub(super) async fn server(config: Config) -> (Server, mpsc::UnboundedReceiver<Link>, String) {
    let (accepted, links) = mpsc::unbounded_channel();
    let server = listen(
        "127.0.0.1",
        0,
        Some("/rpc".into()),
        config,
        Box::new(move |link| {
            let _ = accepted.send(link);
        }),
    )
    .await
    .unwrap();
    let url = format!("ws://{}/rpc", server.local_addr());
    (server, links, url)
}

/// A bare tungstenite client, for what our own client never does, and the server's side of its link.
pub(super) type Raw =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

pub(super) async fn raw_pair(config: Config) -> (Server, Raw, Watched) {
    let (server, mut links, url) = server(config).await;
    let (raw, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    let remote = accept(&mut links).await;
    (server, raw, remote)
}

/// A server, our client connected to it, and the server's side of that link.
async fn pair(config: Config) -> (Server, Watched, Watched) {
    let (server, mut links, url) = server(config.clone()).await;
    let client = Watched::new(
        connect(&url, config, ClientOptions::default())
            .await
            .unwrap(),
    );
    let remote = accept(&mut links).await;
    (server, client, remote)
}

pub(super) async fn accept(links: &mut mpsc::UnboundedReceiver<Link>) -> Watched {
    Watched::new(
        tokio::time::timeout(PATIENCE, links.recv())
            .await
            .unwrap()
            .unwrap(),
    )
}

#[tokio::test]
async fn batches_travel_both_ways_and_a_client_close_reaches_the_server() {
    let (server, mut links, url) = server(quick()).await;
    let client = Watched::new(
        connect(&url, quick(), ClientOptions::default())
            .await
            .unwrap(),
    );
    let remote = accept(&mut links).await;
    assert_eq!(remote.link.info().url, "/rpc");
    assert!(remote
        .link
        .info()
        .headers
        .iter()
        .any(|(name, _)| name == "sec-websocket-key"));

    client
        .link
        .send(vec!["one".into(), "two".into(), "three".into()]);
    let (got, closed) = remote.messages(3).await;
    assert_eq!(got, ["one", "two", "three"]);
    assert!(closed.is_none());

    remote.link.send(vec!["é ✓".into()]);
    assert_eq!(client.messages(1).await.0, ["é ✓"]);

    client.link.close(1000, "done");
    let seen = remote.closed().await;
    assert_eq!((seen.by, seen.code), (ClosedBy::Peer, 1000));
    assert!(seen.message.contains("done"), "{}", seen.message);
    assert_eq!(client.closed().await.by, ClosedBy::Local);
    // After the end the inbox stays empty and wakes no more.
    assert!(client.link.drain().closed.is_none());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(server.connections(), 0);
    server.close(1001, "bye").await;
}

#[tokio::test]
async fn frames_arriving_while_the_host_is_busy_come_in_one_drain() {
    let (server, client, remote) = pair(quick()).await;
    for i in 0..100 {
        client.link.send(vec![format!("m{i}")]);
    }
    // The host does not drain for a while: one wake-up, everything in it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let drained = remote.next().await;
    assert_eq!(drained.messages.len(), 100);
    assert_eq!(drained.messages[99], "m99");
    server.close(1001, "bye").await;
    assert_eq!(client.closed().await.code, 1001);
}

#[tokio::test]
async fn server_close_ends_every_connection_and_refuses_new_ones() {
    let (server, mut links, url) = server(quick()).await;
    let mut clients = Vec::new();
    let mut remotes = Vec::new();
    for _ in 0..3 {
        clients.push(Watched::new(
            connect(&url, quick(), ClientOptions::default())
                .await
                .unwrap(),
        ));
        remotes.push(accept(&mut links).await);
    }
    assert_eq!(server.connections(), 3);
    server.close(1001, "server shutting down").await;
    assert_eq!(server.connections(), 0);
    for client in &clients {
        let closed = client.closed().await;
        assert_eq!((closed.by, closed.code), (ClosedBy::Peer, 1001));
        assert!(closed.message.contains("server shutting down"));
    }
    for remote in &remotes {
        assert_eq!(remote.closed().await.by, ClosedBy::Local);
    }
    assert!(connect(&url, quick(), ClientOptions::default())
        .await
        .is_err());
}

#[tokio::test]
async fn a_wrong_path_is_refused_with_404() {
    let (server, _links, url) = server(quick()).await;
    let error = connect(
        &url.replace("/rpc", "/other"),
        quick(),
        ClientOptions::default(),
    )
    .await
    .err()
    .unwrap();
    assert!(error.contains("404"), "{error}");
    server.close(1001, "").await;
}

#[tokio::test]
async fn a_message_over_the_limit_closes_with_1009_and_smaller_ones_pass() {
    let limit = Config {
        max_message_size: 1024,
        ..quick()
    };
    let (server, mut links, url) = server(limit).await;
    let client = Watched::new(
        connect(&url, quick(), ClientOptions::default())
            .await
            .unwrap(),
    );
    let remote = accept(&mut links).await;
    client.link.send(vec!["x".repeat(1024)]);
    assert_eq!(remote.messages(1).await.0[0].len(), 1024);
    client.link.send(vec!["x".repeat(100_000)]);
    let refused = remote.closed().await;
    assert_eq!((refused.by, refused.code), (ClosedBy::Error, 1009));
    assert!(
        refused.message.contains("maxMessageSize"),
        "{}",
        refused.message
    );
    let seen = client.closed().await;
    assert_eq!((seen.by, seen.code), (ClosedBy::Peer, 1009));
    server.close(1001, "").await;
}

#[tokio::test]
async fn binary_frames_are_read_as_utf8_or_refused_with_1007() {
    let (server, mut raw, remote) = raw_pair(quick()).await;
    raw.send(Message::binary("[\"ok\"]".as_bytes().to_vec()))
        .await
        .unwrap();
    assert_eq!(remote.messages(1).await.0, ["[\"ok\"]"]);
    raw.send(Message::binary(vec![0xff, 0xfe])).await.unwrap();
    let refused = remote.closed().await;
    assert_eq!(refused.code, 1007);
    assert!(refused.message.contains("UTF-8"));
    match raw.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1007),
        other => panic!("expected a close frame, got {other:?}"),
    }
    server.close(1001, "").await;
}

#[tokio::test]
async fn a_silent_peer_fails_the_keepalive() {
    let keepalive = Config {
        ping_interval: Some(Duration::from_millis(50)),
        ping_timeout: Duration::from_millis(100),
        ..quick()
    };
    // Never polled, so never answers a ping.
    let (server, _silent, remote) = raw_pair(keepalive).await;
    let closed = remote.closed().await;
    assert_eq!(closed.by, ClosedBy::Error);
    assert!(
        closed.message.contains("keepalive timeout"),
        "{}",
        closed.message
    );
    server.close(1001, "").await;
}

#[tokio::test]
async fn an_answering_peer_passes_the_keepalive() {
    let keepalive = Config {
        ping_interval: Some(Duration::from_millis(30)),
        ping_timeout: Duration::from_millis(60),
        ..quick()
    };
    let (server, mut links, url) = server(keepalive.clone()).await;
    // Our client polls its socket, so it answers pings (tungstenite does).
    let client = Watched::new(
        connect(&url, keepalive, ClientOptions::default())
            .await
            .unwrap(),
    );
    let remote = accept(&mut links).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    client.link.send(vec!["still here".into()]);
    assert_eq!(
        remote.messages(1).await,
        (vec!["still here".to_owned()], None)
    );
    server.close(1001, "").await;
}

#[tokio::test]
async fn a_tcp_reset_is_reported_at_once() {
    let (server, mut links, url) = server(quick()).await;
    let socket = TcpStream::connect(server.local_addr()).await.unwrap();
    let (raw, _) = tokio_tungstenite::client_async(url.as_str(), socket)
        .await
        .unwrap();
    let remote = accept(&mut links).await;
    // SO_LINGER 0 turns the close into a reset (the deprecation warns that it blocks on drop, which is the point here).
    #[allow(deprecated)]
    raw.get_ref().set_linger(Some(Duration::ZERO)).unwrap();
    drop(raw);
    let started = std::time::Instant::now();
    let closed = remote.closed().await;
    assert_eq!((closed.by, closed.code), (ClosedBy::Error, 1006));
    assert!(
        closed.message.contains("connection lost"),
        "{}",
        closed.message
    );
    // No timer is involved: the reset itself ends the link (generous margin).
    assert!(started.elapsed() < Duration::from_secs(2));
    server.close(1001, "").await;
}

#[tokio::test]
async fn dropping_every_link_closes_the_connection() {
    let (server, mut links, url) = server(quick()).await;
    let client = connect(&url, quick(), ClientOptions::default())
        .await
        .unwrap();
    let remote = accept(&mut links).await;
    drop(client);
    assert_eq!(remote.closed().await.code, 1000);
    server.close(1001, "").await;
}

#[tokio::test]
async fn connecting_to_nothing_fails_with_a_sentence() {
    let (server, _links, url) = server(quick()).await;
    server.close(1001, "").await;
    let error = connect(&url, quick(), ClientOptions::default())
        .await
        .err()
        .unwrap();
    assert!(
        error.starts_with("could not connect to ws://127.0.0.1:"),
        "{error}"
    );
    let error = connect("http://x", quick(), ClientOptions::default())
        .await
        .err()
        .unwrap();
    assert!(error.contains("URL") || error.contains("scheme"), "{error}");
}

#[tokio::test]
async fn wss_works_with_a_ca_given_as_pem_and_fails_without_it() {
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_pem = key.cert.pem();
    let chain = vec![key.cert.der().clone()];
    let private = rustls::pki_types::PrivateKeyDer::Pkcs8(key.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (accepted, mut links) = mpsc::unbounded_channel();
    let serving = tokio::spawn(async move {
        // Two handshakes: the refused one (no CA) and the trusted one.
        for _ in 0..2 {
            let (socket, _) = listener.accept().await.unwrap();
            let Ok(tls) = acceptor.accept(socket).await else {
                continue;
            };
            let ws = tokio_tungstenite::accept_async(tls).await.unwrap();
            let _ = accepted.send(spawn(ws, quick(), PeerInfo::default()));
        }
    });
    let url = format!("wss://localhost:{port}/");
    let untrusted = connect(&url, quick(), ClientOptions::default())
        .await
        .err()
        .unwrap();
    assert!(
        untrusted.contains("certificate") || untrusted.contains("Unknown"),
        "{untrusted}"
    );

    let options = ClientOptions {
        ca_pem: Some(cert_pem),
        ..ClientOptions::default()
    };
    let client = Watched::new(connect(&url, quick(), options).await.unwrap());
    let remote = accept(&mut links).await;
    client.link.send(vec!["over tls".into()]);
    assert_eq!(remote.messages(1).await.0, ["over tls"]);
    remote.link.send(vec!["back".into()]);
    assert_eq!(client.messages(1).await.0, ["back"]);
    client.link.close(1000, "");
    assert_eq!(remote.closed().await.code, 1000);
    serving.await.unwrap();

    let bad = ClientOptions {
        ca_pem: Some("not a pem".into()),
        ..ClientOptions::default()
    };
    assert!(connect(&url, quick(), bad)
        .await
        .err()
        .unwrap()
        .contains("PEM"));
}

#[tokio::test]
async fn a_host_that_does_not_drain_pauses_the_reading_and_loses_nothing() {
    // A keepalive far shorter than the host's stall: the stall is ours, not
    // the peer's silence, and must not end the connection.
    let config = Config {
        ping_interval: Some(Duration::from_millis(50)),
        ping_timeout: Duration::from_millis(100),
        ..quick()
    };
    let (server, mut links, url) = server(config).await;
    let client = Watched::new(
        connect(&url, quick(), ClientOptions::default())
            .await
            .unwrap(),
    );
    let remote = accept(&mut links).await;
    let chunk = "x".repeat(64 << 10);
    let count = 3 * INBOX_HIGH_WATER / chunk.len();
    client
        .link
        .send((0..count).map(|i| format!("{i:06}{chunk}")).collect());
    tokio::time::sleep(Duration::from_millis(400)).await;
    let first = remote.link.drain();
    remote.link.rearm();
    let bytes: usize = first.messages.iter().map(String::len).sum();
    assert!(
        (INBOX_HIGH_WATER..INBOX_HIGH_WATER + chunk.len() + 6).contains(&bytes),
        "inbox held {bytes} bytes"
    );
    assert!(first.closed.is_none(), "{:?}", first.closed);
    let mut got = first.messages;
    while got.len() < count {
        let drained = remote.next().await;
        assert!(drained.closed.is_none(), "{:?}", drained.closed);
        got.extend(drained.messages);
    }
    assert_eq!(got.len(), count);
    for (i, message) in got.iter().enumerate() {
        assert!(
            message.starts_with(&format!("{i:06}")),
            "message {i} out of order"
        );
    }
    server.close(1001, "bye").await;
    assert_eq!(client.closed().await.code, 1001);
}

#[tokio::test]
async fn no_wake_up_comes_between_a_drain_and_the_rearm() {
    let (server, client, remote) = pair(quick()).await;
    client.link.send(vec!["a".into()]);
    tokio::time::timeout(PATIENCE, remote.woken.notified())
        .await
        .unwrap();
    assert_eq!(remote.link.drain().messages, ["a"]);
    client.link.send(vec!["b".into()]);
    let early = tokio::time::timeout(Duration::from_millis(200), remote.woken.notified()).await;
    assert!(early.is_err(), "woken before the host re-armed");
    remote.link.rearm();
    assert_eq!(
        remote.next().await.messages,
        ["b"],
        "re-arming wakes at once for what waited"
    );
    server.close(1001, "bye").await;
}

#[tokio::test]
async fn one_batch_holds_at_most_the_message_bound() {
    let (server, client, remote) = pair(quick()).await;
    let count = 3 * INBOX_MAX_MESSAGES;
    client
        .link
        .send((0..count).map(|i| i.to_string()).collect());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let first = remote.link.drain();
    remote.link.rearm();
    assert_eq!(first.messages.len(), INBOX_MAX_MESSAGES);
    let mut got = first.messages;
    while got.len() < count {
        got.extend(remote.next().await.messages);
    }
    assert!(
        got.iter().enumerate().all(|(i, m)| *m == i.to_string()),
        "in order, none lost"
    );
    server.close(1001, "bye").await;
}

/// Sends from a thread outside the runtime, as the host's thread does, to
/// a peer that reads nothing at first: the socket fills, writes are partial
/// and queue up, then the peer reads while the writer goes on, so that the
/// socket takes bytes again while earlier ones still wait in the queue.
/// Everything arrives whole and in order (tungstenite would refuse a torn
/// frame), keepalive pings in between, and a close sent right after the
/// last batch comes after it; a send after the close is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_sends_queue_past_a_full_socket_and_keep_their_order() {
    const BATCHES: usize = 80;
    const PER_BATCH: usize = 25;
    let config = Config {
        ping_interval: Some(Duration::from_millis(5)),
        ..quick()
    };
    let (server, mut raw, remote) = raw_pair(config).await;
    let text = |i: usize| format!("{i:06}:{}", "x".repeat(8 << 10));
    let sender = remote.link.clone();
    let writer = std::thread::spawn(move || {
        for b in 0..BATCHES {
            sender.send((0..PER_BATCH).map(|i| text(b * PER_BATCH + i)).collect());
            if b >= BATCHES / 2 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        sender.close(1000, "done");
        sender.send(vec!["after the close".into()]);
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut i = 0;
    while i < BATCHES * PER_BATCH {
        match tokio::time::timeout(PATIENCE, raw.next())
            .await
            .expect("no frame within the patience")
        {
            Some(Ok(Message::Text(got))) => assert!(
                got.as_str() == text(i),
                "message {i} is {:?}",
                &got.as_str()[..20]
            ),
            Some(Ok(Message::Ping(_))) => continue,
            other => panic!("message {i}: {other:?}"),
        }
        i += 1;
    }
    writer.join().unwrap();
    loop {
        match tokio::time::timeout(PATIENCE, raw.next())
            .await
            .expect("no close within the patience")
        {
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(Message::Close(Some(frame)))) => break assert_eq!(u16::from(frame.code), 1000),
            other => panic!("expected the close frame, got {other:?}"),
        }
    }
    assert_eq!(remote.closed().await.by, ClosedBy::Local);
    server.close(1001, "").await;
}

/// A server link with a 64 KiB outbound mark, a bare client that reads
/// nothing, and 16 MiB sent to it: more than the kernel's buffers take.
async fn backed_up(
    config: Config,
) -> (
    Server,
    Watched,
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>,
    usize,
) {
    let config = Config {
        max_buffered_bytes: 64 << 10,
        ..config
    };
    let (server, raw, remote) = raw_pair(config).await;
    let chunk = "y".repeat(256 << 10);
    let count = 64;
    remote
        .link
        .send((0..count).map(|i| format!("{i:06}{chunk}")).collect());
    assert!(
        remote.link.buffered_amount() > 64 << 10,
        "the socket took it all"
    );
    (server, remote, raw, count)
}

#[tokio::test]
async fn a_peer_that_does_not_read_is_not_read_either_until_it_catches_up() {
    let (server, remote, mut raw, count) = backed_up(quick()).await;
    // While our queue is over the mark, what the peer sends waits in TCP.
    raw.send(Message::text("while backed up")).await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), remote.woken.notified())
            .await
            .is_err(),
        "read while backed up"
    );
    // The peer reads: everything arrives, in order, then its message is read.
    for i in 0..count {
        let message = tokio::time::timeout(PATIENCE, raw.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(
            message.to_text().unwrap().starts_with(&format!("{i:06}")),
            "message {i} out of order"
        );
    }
    assert_eq!(remote.messages(1).await.0, ["while backed up"]);
    assert_eq!(remote.link.buffered_amount(), 0);
    server.close(1001, "bye").await;
}

#[tokio::test]
async fn a_local_close_ends_within_the_close_timeout_though_the_peer_does_not_read() {
    let (server, remote, _raw, _) = backed_up(quick()).await;
    let started = std::time::Instant::now();
    remote.link.close(1000, "bye");
    let closed = remote.closed().await;
    assert_eq!((closed.by, closed.code), (ClosedBy::Local, 1000));
    // The close timeout is 500 ms; the patience is what a slow machine gets.
    assert!(started.elapsed() < PATIENCE);
    tokio::time::timeout(PATIENCE, server.close(1001, "bye"))
        .await
        .expect("the server closed");
}

#[tokio::test]
async fn without_a_shared_socket_a_peer_that_does_not_read_waits_and_a_local_close_still_ends() {
    // A link driven through tungstenite alone, as over wss://.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let serving = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        spawn(
            tokio_tungstenite::accept_async(socket).await.unwrap(),
            quick(),
            PeerInfo::default(),
        )
    });
    let (mut raw, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    let remote = Watched::new(serving.await.unwrap());
    let chunk = "z".repeat(256 << 10);
    remote
        .link
        .send((0..64).map(|i| format!("{i:06}{chunk}")).collect());
    remote.link.send(vec!["last".into()]);
    raw.send(Message::text("while not reading")).await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), remote.woken.notified())
            .await
            .is_err(),
        "read while the peer does not"
    );
    remote.link.close(1000, "bye");
    let closed = remote.closed().await;
    assert_eq!((closed.by, closed.code), (ClosedBy::Local, 1000));
}

#[tokio::test]
async fn a_peer_that_takes_none_of_our_data_for_the_ping_timeout_fails_the_keepalive() {
    let config = Config {
        ping_interval: Some(Duration::from_millis(200)),
        ping_timeout: Duration::from_millis(200),
        ..quick()
    };
    let (server, remote, _raw, _) = backed_up(config).await;
    let closed = remote.closed().await;
    assert_eq!((closed.by, closed.code), (ClosedBy::Error, 1006));
    assert!(
        closed
            .message
            .contains("keepalive timeout: the peer took none of our data for"),
        "{}",
        closed.message
    );
    tokio::time::timeout(PATIENCE, server.close(1001, "bye"))
        .await
        .expect("the server closed");
}
