use super::*;

/// A raw frame: `first` is FIN/RSV/opcode, masked with a fixed key when `mask`.
fn frame(first: u8, payload: &[u8], mask: bool) -> Vec<u8> {
    let mut out = vec![first];
    let bit = if mask { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(bit | n as u8),
        n if n <= 0xffff => {
            out.push(bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let key = [0x37, 0xfa, 0x21, 0x3d];
    if mask {
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i & 3]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

const TEXT: u8 = 0x81;
const BINARY: u8 = 0x82;
const CLOSE: u8 = 0x88;
const PING: u8 = 0x89;
const PONG: u8 = 0x8a;

/// Everything decoded from `bytes` fed in pieces cut at `cuts`, errors as strings.
fn decode_cut(server: bool, bytes: &[u8], cuts: &[usize]) -> Vec<Result<Decoded, String>> {
    let mut decoder = Decoder::new(server, 1 << 20);
    let mut out = Vec::new();
    let mut from = 0;
    for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
        decoder.feed(&bytes[from..cut]);
        from = cut;
        while let Some(next) = decoder.next() {
            out.push(next.map_err(|e| e.to_string()));
        }
    }
    out
}

fn decode(server: bool, bytes: &[u8]) -> Vec<Result<Decoded, String>> {
    decode_cut(server, bytes, &[])
}

fn text(s: &str) -> Result<Decoded, String> {
    Ok(Decoded::Text(s.to_owned()))
}

#[test]
fn lengths_of_7_16_and_64_bits() {
    for size in [0, 1, 125, 126, 127, 0xffff, 0x10000, 70_000] {
        let body = "x".repeat(size);
        for server in [false, true] {
            let got = decode(server, &frame(TEXT, body.as_bytes(), server));
            assert_eq!(got, vec![text(&body)], "size {size}, server {server}");
        }
    }
}

#[test]
fn a_stream_split_at_every_byte_decodes_the_same() {
    let mut stream = Vec::new();
    stream.extend(frame(TEXT, b"hello", true));
    stream.extend(frame(0x01, b"frag", true)); // text, not final
    stream.extend(frame(PING, b"p", true)); // a control frame between fragments
    stream.extend(frame(0x00, "mé".as_bytes(), true)); // continuation, not final
    stream.extend(frame(0x80, b"nt", true)); // final continuation
    stream.extend(frame(TEXT, "é".repeat(200).as_bytes(), true)); // 16-bit length
    stream.extend(frame(PONG, b"", true));
    stream.extend(frame(BINARY, b"bin", true));
    stream.extend(frame(CLOSE, b"\x03\xe8bye", true));
    let expected = vec![
        text("hello"),
        Ok(Decoded::Ping(b"p".to_vec())),
        text("fragmént"),
        text(&"é".repeat(200)),
        Ok(Decoded::Pong),
        Ok(Decoded::Binary(b"bin".to_vec())),
        Ok(Decoded::Close(Some((1000, "bye".into())))),
    ];
    assert_eq!(decode(true, &stream), expected);
    for cut in 0..=stream.len() {
        assert_eq!(decode_cut(true, &stream, &[cut]), expected, "cut at {cut}");
    }
    let every: Vec<usize> = (1..stream.len()).collect();
    assert_eq!(decode_cut(true, &stream, &every), expected);
}

#[test]
fn a_utf8_character_split_across_fragments_is_whole_in_the_message() {
    let bytes = "aé".as_bytes(); // é is two bytes: cut between them
    let mut stream = frame(0x01, &bytes[..2], false);
    stream.extend(frame(0x80, &bytes[2..], false));
    assert_eq!(decode(false, &stream), vec![text("aé")]);
}

#[test]
fn masking_follows_the_role() {
    let unmasked = frame(TEXT, b"hi", false);
    let masked = frame(TEXT, b"hi", true);
    assert_eq!(decode(false, &unmasked), vec![text("hi")]);
    assert_eq!(decode(true, &masked), vec![text("hi")]);
    let from_client = decode(true, &unmasked);
    assert_eq!(
        from_client,
        vec![Err(
            "WebSocket protocol error: Received an unmasked frame from client".into()
        )]
    );
    let from_server = decode(false, &masked);
    assert_eq!(
        from_server,
        vec![Err(
            "WebSocket protocol error: Received a masked frame from server".into()
        )]
    );
}

fn protocol_error(bytes: &[u8]) -> String {
    let got = decode(false, bytes);
    match got.last() {
        Some(Err(e)) => e.clone(),
        other => panic!("expected an error, got {other:?} in {got:?}"),
    }
}

#[test]
fn protocol_violations_are_errors() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (frame(0xc1, b"x", false), "Reserved bits are non-zero"),
        (frame(0x83, b"x", false), "Encountered invalid opcode: 3"),
        (frame(0x8b, b"", false), "Encountered invalid opcode: 11"),
        (frame(0x09, b"", false), "Fragmented control frame"),
        (frame(PING, &[0; 126], false), "Control frame too big"),
        (
            frame(0x80, b"x", false),
            "Continue frame but nothing to continue",
        ),
        (
            [frame(0x01, b"a", false), frame(TEXT, b"b", false)].concat(),
            "While waiting for more fragments received: TEXT",
        ),
        (frame(TEXT, &[0xff, 0xfe], false), "UTF-8 encoding error"),
        (frame(CLOSE, &[3], false), "Invalid close sequence"),
        (frame(CLOSE, &[3, 232, 0xff], false), "UTF-8 encoding error"),
    ];
    for (bytes, expected) in cases {
        let error = protocol_error(&bytes);
        assert!(
            error.contains(expected),
            "{error:?} should say {expected:?}"
        );
    }
}

#[test]
fn nothing_is_decoded_after_an_error() {
    let mut stream = frame(0xc1, b"x", false);
    stream.extend(frame(TEXT, b"after", false));
    let got = decode(false, &stream);
    assert_eq!(got.len(), 1);
    assert!(got[0].is_err());
}

#[test]
fn a_close_frame_without_a_code() {
    assert_eq!(
        decode(false, &frame(CLOSE, b"", false)),
        vec![Ok(Decoded::Close(None))]
    );
}

#[test]
fn limits_on_frames_and_on_messages() {
    let mut decoder = Decoder::new(false, 10);
    // Only the header of an 11-byte frame: refused before its payload comes.
    decoder.feed(&frame(TEXT, &[b'x'; 11], false)[..2]);
    let error = decoder.next().unwrap().unwrap_err();
    assert_eq!(
        error.to_string(),
        "Space limit exceeded: Message too long: 11 > 10"
    );

    let mut decoder = Decoder::new(false, 10);
    decoder.feed(&frame(TEXT, &[b'x'; 10], false));
    assert_eq!(
        decoder.next().unwrap().unwrap(),
        Decoded::Text("x".repeat(10))
    );
    // Two fragments of 6 bytes: each fits, the message does not.
    decoder.feed(&frame(0x01, &[b'x'; 6], false));
    decoder.feed(&frame(0x80, &[b'x'; 6], false));
    let error = decoder.next().unwrap().unwrap_err();
    assert_eq!(
        error.to_string(),
        "Space limit exceeded: Message too long: 12 > 10"
    );
    assert!(decoder.next().is_none());

    // A 64-bit length far past any limit.
    let mut decoder = Decoder::new(false, 1 << 20);
    decoder.feed(&[TEXT, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    assert!(matches!(decoder.next(), Some(Err(WsError::Capacity(_)))));
}

#[test]
fn partial_input_waits_for_more() {
    let bytes = frame(TEXT, b"abc", true);
    let mut decoder = Decoder::new(true, 100);
    for &byte in &bytes[..bytes.len() - 1] {
        decoder.feed(&[byte]);
        assert!(decoder.next().is_none());
    }
    decoder.feed(&bytes[bytes.len() - 1..]);
    assert_eq!(
        decoder.next().unwrap().unwrap(),
        Decoded::Text("abc".into())
    );
    assert!(decoder.next().is_none());
}
