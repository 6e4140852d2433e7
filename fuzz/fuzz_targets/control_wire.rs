//! Fuzzes the control socket's wire format: frames read from a byte stream with the server's
//! and the client's limits, and frame bodies decoded as requests and as replies.
//!
//! Whatever decodes must write and read back as the same value.

#![no_main]

use arbitrary::Arbitrary;
use cotty::control::wire::{
    self, Envelope, MAX_REPLY, MAX_REQUEST, PROTOCOL_VERSION, decode_reply, decode_request,
};
use libfuzzer_sys::fuzz_target;

/// How the fuzz input is fed to the decoder.
#[derive(Arbitrary, Debug)]
enum Shape {
    /// What a peer sends on the socket: a length prefix and a body, or less.
    Stream {
        /// Read with the client's limit for replies rather than the server's for requests.
        reply_limit: bool,
        /// The bytes on the socket.
        bytes: Vec<u8>,
    },
    /// A frame body, decoded both as a request and as a reply.
    Body(Vec<u8>),
}

fuzz_target!(|shape: Shape| {
    match shape {
        Shape::Stream { reply_limit, bytes } => {
            let max = if reply_limit { MAX_REPLY } else { MAX_REQUEST };
            let mut stream = &bytes[..];
            if let Ok(body) = futures::executor::block_on(wire::read_frame(&mut stream, max)) {
                assert!(body.len() <= max, "a frame over the limit was read");
                decode_both(&body);
            }
        }
        Shape::Body(body) => decode_both(&body),
    }
});

/// Decodes `body` both ways and checks what decodes.
fn decode_both(body: &[u8]) {
    if let Ok(request) = decode_request(body) {
        let envelope = Envelope {
            version: PROTOCOL_VERSION,
            request: request.clone(),
        };
        let again = decode_request(&framed_body(&envelope)).expect("a request decodes again");
        assert_eq!(again, request);
    }
    if let Ok(reply) = decode_reply(body) {
        let again = decode_reply(&framed_body(&reply)).expect("a reply decodes again");
        assert_eq!(again, reply);
    }
}

/// `value` written as a frame and read back, as the body the peer would decode.
fn framed_body<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let mut frame = Vec::new();
    futures::executor::block_on(wire::write_frame(&mut frame, value)).expect("a value writes");
    let mut stream = &frame[..];
    futures::executor::block_on(wire::read_frame(&mut stream, usize::MAX)).expect("a frame reads")
}
