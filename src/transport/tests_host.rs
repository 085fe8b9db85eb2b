//! Links whose host reads the socket (`host_read`), with the host's poll
//! played by a task on the test's runtime: what the JS thread does through
//! src/napi/uv_reader.rs, without Node.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::tests::{raw_pair, Raw, Watched, PATIENCE};
use super::*;

/// Host reads on, and a close timeout far past the patience: a close that
/// completes within the patience was completed by the reader, not the timeout.
fn hosted() -> Config {
    Config {
        host_reads: true,
        close_timeout: Duration::from_secs(60),
        ..Config::default()
    }
}

/// Reads whenever the reader's descriptor is readable, as a JS thread's poll
/// would: texts as `Ok`, then the state that stopped the loop as `Err`.
fn poll_loop(mut reader: HostReader) -> mpsc::UnboundedReceiver<Result<String, ReadState>> {
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        // SAFETY: the reader owns the descriptor and outlives the registration.
        let fd = unsafe { AsyncFd::register_with_interest(reader.fd(), Interest::READABLE) }
            .map_err(std::io::Error::from)
            .unwrap();
        loop {
            let mut guard = fd.readable().await.unwrap();
            let read = reader.read();
            for text in read.messages {
                let _ = sender.send(Ok(text));
            }
            if read.state != ReadState::Reading {
                let _ = sender.send(Err(read.state));
                break;
            }
            // The read went on until EAGAIN (these tests stay under its budget).
            guard.clear_ready();
        }
        drop(fd); // deregistered before the reader closes the descriptor
    });
    receiver
}

async fn next<T>(receiver: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(PATIENCE, receiver.recv())
        .await
        .expect("nothing within the patience")
        .expect("the poll loop ended")
}

/// A bare tungstenite client and the server's side of its link, read by the host.
async fn hosted_pair(
    config: Config,
) -> (
    Server,
    Raw,
    Watched,
    mpsc::UnboundedReceiver<Result<String, ReadState>>,
) {
    let (server, raw, remote) = raw_pair(config).await;
    let reader = remote
        .link
        .host_reader()
        .expect("a ws:// link can be read by the host");
    assert!(remote.link.host_reader().is_none(), "claimed once only");
    (server, raw, remote, poll_loop(reader))
}

#[tokio::test]
async fn the_host_reads_texts_answers_pings_and_meets_the_peers_close() {
    let (server, mut raw, remote, mut read) = hosted_pair(hosted()).await;
    raw.send(Message::text("one")).await.unwrap();
    raw.send(Message::Ping(b"p".to_vec().into())).await.unwrap();
    raw.send(Message::binary(b"two".to_vec())).await.unwrap();
    assert_eq!(next(&mut read).await, Ok("one".into()));
    assert_eq!(next(&mut read).await, Ok("two".into()));
    match raw.next().await {
        Some(Ok(Message::Pong(payload))) => assert_eq!(&payload[..], b"p"),
        other => panic!("expected the pong, got {other:?}"),
    }
    // Host sends still go out from the host's side.
    remote.link.send(vec!["back".into()]);
    assert_eq!(raw.next().await.unwrap().unwrap(), Message::text("back"));

    raw.close(Some(CloseFrame {
        code: CloseCode::from(4000),
        reason: "bye".into(),
    }))
    .await
    .unwrap();
    assert_eq!(next(&mut read).await, Err(ReadState::Finished));
    let closed = remote.closed().await;
    assert_eq!((closed.by, closed.code), (ClosedBy::Peer, 4000));
    assert_eq!(
        closed.message,
        "WebSocket closed by the peer with code 4000: bye"
    );
    server.close(1001, "").await;
}

#[tokio::test]
async fn a_local_close_reads_the_peers_answer_through_the_host() {
    let (server, mut raw, remote, mut read) = hosted_pair(hosted()).await;
    remote.link.close(1000, "done");
    match raw.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1000),
        other => panic!("expected a close frame, got {other:?}"),
    }
    // tungstenite answers the close frame while it reads on.
    while let Some(Ok(_)) = raw.next().await {}
    assert_eq!(next(&mut read).await, Err(ReadState::Finished));
    let closed = remote.closed().await;
    assert_eq!((closed.by, closed.code), (ClosedBy::Local, 1000));
    server.close(1001, "").await;
}

#[tokio::test]
async fn limits_and_refusals_end_the_link_with_their_codes() {
    let limit = Config {
        max_message_size: 1024,
        ..hosted()
    };
    // Over the limit: 1009, and the reader discards until the peer hangs up.
    let (server, mut raw, remote, mut read) = hosted_pair(limit.clone()).await;
    raw.send(Message::text("x".repeat(1024))).await.unwrap();
    assert_eq!(next(&mut read).await, Ok("x".repeat(1024)));
    raw.send(Message::text("x".repeat(100_000))).await.unwrap();
    match raw.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1009),
        other => panic!("expected a close frame, got {other:?}"),
    }
    drop(raw);
    assert_eq!(next(&mut read).await, Err(ReadState::Finished));
    let refused = remote.closed().await;
    assert_eq!((refused.by, refused.code), (ClosedBy::Error, 1009));
    assert!(
        refused.message.contains("maxMessageSize"),
        "{}",
        refused.message
    );
    server.close(1001, "").await;

    // Binary that is not UTF-8: 1007, and the reader reads the peer's answer.
    let (server, mut raw, remote, mut read) = hosted_pair(limit).await;
    raw.send(Message::binary(vec![0xff, 0xfe])).await.unwrap();
    match raw.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1007),
        other => panic!("expected a close frame, got {other:?}"),
    }
    while let Some(Ok(_)) = raw.next().await {}
    assert_eq!(next(&mut read).await, Err(ReadState::Finished));
    assert_eq!(remote.closed().await.code, 1007);
    server.close(1001, "").await;
}

#[tokio::test]
async fn a_host_that_drops_its_reader_ends_the_link() {
    // What a terminating worker's cleanup hook does: the reader goes away.
    let (server, mut raw, remote) = raw_pair(hosted()).await;
    drop(remote.link.host_reader().unwrap());
    let closed = remote.closed().await;
    assert_eq!((closed.by, closed.code), (ClosedBy::Error, 1006));
    assert!(
        closed.message.contains("the host stopped reading"),
        "{}",
        closed.message
    );
    // The driver shut the socket down: the peer meets its end.
    let end = tokio::time::timeout(PATIENCE, raw.next()).await.unwrap();
    assert!(!matches!(end, Some(Ok(Message::Text(_)))), "{end:?}");
    server.close(1001, "").await;
}

#[tokio::test]
async fn a_busy_host_does_not_fail_the_keepalive_of_a_peer_that_answers() {
    let keepalive = Config {
        ping_interval: Some(Duration::from_millis(20)),
        ping_timeout: Duration::from_millis(40),
        ..hosted()
    };
    let (server, raw, remote) = raw_pair(keepalive).await;
    // The peer answers every ping (tungstenite pongs as it reads)...
    let (mut raw_sink, mut raw_stream) = raw.split();
    let ended = Arc::new(AtomicBool::new(false));
    let peer_saw_the_end = ended.clone();
    tokio::spawn(async move {
        // Reads on after a close frame too, so tungstenite answers it.
        while let Some(Ok(message)) = raw_stream.next().await {
            if message.is_close() {
                peer_saw_the_end.store(true, Ordering::SeqCst);
            }
        }
    });
    // ...while the host claimed the reading and does not read (a busy JS
    // thread): its pongs wait in the socket, and that is no timeout.
    let reader = remote.link.host_reader().unwrap();
    let waited = tokio::time::timeout(Duration::from_millis(300), remote.closed()).await;
    assert!(
        waited.is_err(),
        "closed while the host was busy: {waited:?}"
    );
    assert!(!ended.load(Ordering::SeqCst), "the peer was closed on");
    let mut read = poll_loop(reader);
    raw_sink.send(Message::text("still here")).await.unwrap();
    assert_eq!(next(&mut read).await, Ok("still here".into()));
    server.close(1001, "").await;
}
