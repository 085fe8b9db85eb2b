//! How a connection ends: the driver's [`Ending`] and the [`Closed`] report
//! for each way a read can end it, shared by the driver (`link`) and the
//! host's reader (`host_read`).

use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError, ProtocolError};

use super::{Closed, ClosedBy};

/// How the loop ended and what is left to do with the socket.
pub(crate) enum Ending {
    /// The socket is finished (peer closed, or reset): drop it.
    Done(Closed),
    /// We end it: send this close frame, then wait for the peer's.
    Close(Closed, u16, String),
    /// The stream is no longer readable as frames (a limit was hit mid-frame):
    /// send the close frame, then discard raw bytes until the peer hangs up.
    Abort(Closed, u16, String),
}

/// A binary frame that is not text: closes with 1007.
pub(crate) fn not_utf8() -> Ending {
    let message = "refused a binary frame that is not valid UTF-8 (messages are JSON text)";
    Ending::Close(
        Closed::new(ClosedBy::Error, 1007, message),
        1007,
        "binary frame is not UTF-8".into(),
    )
}

/// The peer's close frame, with its code and reason if it gave a code.
pub(crate) fn peer_closed(frame: Option<(u16, String)>) -> Ending {
    let (code, reason) = frame.unwrap_or((1005, String::new()));
    let message = if reason.is_empty() {
        format!("WebSocket closed by the peer with code {code}")
    } else {
        format!("WebSocket closed by the peer with code {code}: {reason}")
    };
    Ending::Done(Closed::new(ClosedBy::Peer, code, message))
}

/// A read error: a message over the limit closes with 1009 (the stream is
/// no longer readable as frames); anything else ends the connection.
pub(crate) fn error_ending(error: &WsError) -> Ending {
    if let WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) = error {
        let message =
            format!("refused a message of {size} bytes: larger than maxMessageSize ({max_size})");
        return Ending::Abort(
            Closed::new(ClosedBy::Error, 1009, message),
            1009,
            "message too big".into(),
        );
    }
    Ending::Done(failure(error))
}

pub(crate) fn lost(what: &str) -> Closed {
    Closed::new(
        ClosedBy::Error,
        1006,
        format!("WebSocket connection lost: {what}"),
    )
}

pub(crate) fn failure(error: &WsError) -> Closed {
    match error {
        WsError::ConnectionClosed | WsError::AlreadyClosed => lost("closed"),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            lost("reset without a closing handshake")
        }
        WsError::Io(io) => lost(&io.to_string()),
        other => Closed::new(
            ClosedBy::Error,
            1002,
            format!("WebSocket protocol error: {other}"),
        ),
    }
}
