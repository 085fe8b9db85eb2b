//! A sans-IO WebSocket frame decoder (RFC 6455) for links whose socket the
//! host reads on its own thread (see `host_read`): bytes in through
//! [`Decoder::feed`], whole messages and control frames out through
//! [`Decoder::next`]. It enforces what tungstenite enforces on the driver's
//! path, with tungstenite's error values, so that both paths end a
//! connection with the same code and sentence: masking by role, reserved
//! bits and opcodes (1002), control frames of at most 125 bytes and never
//! fragmented, continuation rules, UTF-8 text, and `max_message_size` per
//! frame and per message (1009).
//!
//! Calling order: `feed` any number of bytes, then `next` until `None`
//! (more bytes needed); an `Err` is final (the decoder yields nothing after
//! it); at end of stream, `end` says what the missing close frame means.

use std::io::Cursor;

use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;

/// One thing received.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decoded {
    Text(String),
    /// Binary message (the transport accepts it when it is UTF-8 text).
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong,
    /// The peer's close frame: its code and reason, if it gave a code.
    Close(Option<(u16, String)>),
}

/// A data message whose last fragment has not come yet.
struct Fragments {
    text: bool,
    bytes: Vec<u8>,
}

pub(crate) struct Decoder {
    /// We are the server: frames must be masked; else they must not be.
    server: bool,
    max_message_size: usize,
    /// Received bytes from `start` on are not decoded yet.
    buffer: Vec<u8>,
    start: usize,
    /// The header of the frame whose payload is awaited, and its length.
    header: Option<(FrameHeader, usize)>,
    fragments: Option<Fragments>,
    failed: bool,
}

/// Past this capacity an emptied buffer is given back: a link that once
/// received a large message does not keep its buffer while idle.
const KEPT_CAPACITY: usize = 64 << 10;

impl Decoder {
    pub(crate) fn new(server: bool, max_message_size: usize) -> Self {
        Decoder {
            server,
            max_message_size,
            buffer: Vec::new(),
            start: 0,
            header: None,
            fragments: None,
            failed: false,
        }
    }

    /// Appends received bytes.
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        if self.start == self.buffer.len() {
            self.buffer.clear();
            self.start = 0;
            if self.buffer.capacity() > KEPT_CAPACITY && bytes.len() <= KEPT_CAPACITY {
                self.buffer = Vec::new();
            }
        } else if self.start > (64 << 10) && self.start * 2 > self.buffer.len() {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    /// The next message or control frame, `None` when more bytes are needed.
    pub(crate) fn next(&mut self) -> Option<Result<Decoded, WsError>> {
        if self.failed {
            return None;
        }
        let result = self.decode();
        if matches!(result, Some(Err(_))) {
            self.failed = true;
            self.buffer = Vec::new();
            self.start = 0;
            self.fragments = None;
        }
        result
    }

    /// What the end of the stream means here: always a reset, since a
    /// close frame ends the reading before the stream ends.
    pub(crate) fn end(&self) -> WsError {
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake)
    }

    fn decode(&mut self) -> Option<Result<Decoded, WsError>> {
        loop {
            if self.header.is_none() {
                let mut cursor = Cursor::new(&self.buffer[self.start..]);
                let (header, length) = match FrameHeader::parse(&mut cursor) {
                    Ok(Some(parsed)) => parsed,
                    Ok(None) => return None,
                    Err(error) => return Some(Err(error)),
                };
                self.start += cursor.position() as usize;
                if let Err(error) = self.check_header(&header, length) {
                    return Some(Err(error));
                }
                self.header = Some((header, length as usize));
            }
            let (_, length) = self.header.as_ref().expect("set above");
            let length = *length;
            if self.buffer.len() - self.start < length {
                return None;
            }
            let (header, _) = self.header.take().expect("set above");
            let payload = &mut self.buffer[self.start..self.start + length];
            self.start += length;
            if let Some(mask) = header.mask {
                unmask(payload, mask);
            }
            if let Some(decoded) = self.frame(&header, length) {
                return Some(decoded);
            }
        }
    }

    /// Everything the header alone says is wrong, checked before the
    /// payload is awaited (a hostile length is refused before it is buffered).
    fn check_header(&self, header: &FrameHeader, length: u64) -> Result<(), WsError> {
        if length > self.max_message_size as u64 {
            return Err(too_long(length as usize, self.max_message_size));
        }
        if self.server && header.mask.is_none() {
            return Err(WsError::Protocol(ProtocolError::UnmaskedFrameFromClient));
        }
        if header.rsv1 || header.rsv2 || header.rsv3 {
            return Err(WsError::Protocol(ProtocolError::NonZeroReservedBits));
        }
        if !self.server && header.mask.is_some() {
            return Err(WsError::Protocol(ProtocolError::MaskedFrameFromServer));
        }
        if let OpCode::Control(_) = header.opcode {
            if !header.is_final {
                return Err(WsError::Protocol(ProtocolError::FragmentedControlFrame));
            }
            if length > 125 {
                return Err(WsError::Protocol(ProtocolError::ControlFrameTooBig));
            }
        }
        Ok(())
    }

    /// Handles a whole frame whose payload is the `length` bytes before
    /// `start`; `None` when it is a fragment of a message still incomplete.
    fn frame(&mut self, header: &FrameHeader, length: usize) -> Option<Result<Decoded, WsError>> {
        let payload = &self.buffer[self.start - length..self.start];
        let data = match header.opcode {
            OpCode::Control(Control::Close) => return Some(close(payload)),
            OpCode::Control(Control::Ping) => return Some(Ok(Decoded::Ping(payload.to_vec()))),
            OpCode::Control(Control::Pong) => return Some(Ok(Decoded::Pong)),
            OpCode::Control(Control::Reserved(i)) => {
                return Some(Err(WsError::Protocol(
                    ProtocolError::UnknownControlFrameType(i),
                )))
            }
            OpCode::Data(data) => data,
        };
        let text = match (data, &mut self.fragments) {
            (Data::Continue, None) => {
                return Some(Err(WsError::Protocol(
                    ProtocolError::UnexpectedContinueFrame,
                )))
            }
            (Data::Continue, Some(fragments)) => {
                let size = fragments.bytes.len() + length;
                if size > self.max_message_size {
                    return Some(Err(too_long(size, self.max_message_size)));
                }
                fragments.bytes.extend_from_slice(payload);
                if !header.is_final {
                    return None;
                }
                let whole = self.fragments.take().expect("matched above");
                return Some(message(whole.text, whole.bytes));
            }
            (_, Some(_)) => {
                return Some(Err(WsError::Protocol(ProtocolError::ExpectedFragment(
                    data,
                ))))
            }
            (Data::Text, None) => true,
            (Data::Binary, None) => false,
            (Data::Reserved(i), None) => {
                return Some(Err(WsError::Protocol(ProtocolError::UnknownDataFrameType(
                    i,
                ))))
            }
        };
        if header.is_final {
            Some(message(text, payload.to_vec()))
        } else {
            self.fragments = Some(Fragments {
                text,
                bytes: payload.to_vec(),
            });
            None
        }
    }
}

fn message(text: bool, bytes: Vec<u8>) -> Result<Decoded, WsError> {
    if !text {
        return Ok(Decoded::Binary(bytes));
    }
    String::from_utf8(bytes)
        .map(Decoded::Text)
        .map_err(WsError::from)
}

fn close(payload: &[u8]) -> Result<Decoded, WsError> {
    match payload.len() {
        0 => Ok(Decoded::Close(None)),
        1 => Err(WsError::Protocol(ProtocolError::InvalidCloseSequence)),
        _ => {
            let code = u16::from_be_bytes([payload[0], payload[1]]);
            let reason = std::str::from_utf8(&payload[2..]).map_err(WsError::from)?;
            Ok(Decoded::Close(Some((code, reason.to_owned()))))
        }
    }
}

fn too_long(size: usize, max_size: usize) -> WsError {
    WsError::Capacity(CapacityError::MessageTooLong { size, max_size })
}

fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    for (i, byte) in payload.iter_mut().enumerate() {
        *byte ^= mask[i & 3];
    }
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;
