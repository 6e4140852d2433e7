//! Fuzzes the uplink's decoders, both directions: whole transport streams through
//! `FrameReader`, chunk bodies through one `Decoder`, and msgpack message bodies wrapped in
//! valid stored zlib blocks so that every input reaches the message decoder.
//!
//! Whatever decodes must encode and decode again to the same messages.

#![no_main]

use arbitrary::Arbitrary;
use cotty::net::codec::{Decoder, Encoder, FrameReader, stored_blocks};
use cotty::net::proto::{HostMsg, RelayMsg};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// How the fuzz input is fed to the decoder.
#[derive(Arbitrary, Debug)]
enum Shape {
    /// A whole transport stream: length headers and chunk bodies as they arrive.
    Stream(Vec<u8>),
    /// Chunk bodies without their headers, decoded in turn by one `Decoder`.
    Bodies(Vec<Vec<u8>>),
    /// Chunks of msgpack message bodies, each length-prefixed and wrapped in stored zlib
    /// blocks, so that the zlib layer always passes them through.
    Messages(Vec<Vec<Vec<u8>>>),
}

/// One fuzz case.
#[derive(Arbitrary, Debug)]
struct Input {
    /// Decode as relay-to-host messages rather than host-to-relay ones.
    relay_to_host: bool,
    /// The bytes, and how they arrive.
    shape: Shape,
}

fuzz_target!(|input: Input| {
    if input.relay_to_host {
        run::<RelayMsg>(&input.shape);
    } else {
        run::<HostMsg>(&input.shape);
    }
});

/// Decodes `shape` as messages of type `T`, checking what decodes.
fn run<T>(shape: &Shape)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    match shape {
        Shape::Stream(bytes) => {
            let mut reader = FrameReader::new(&bytes[..]);
            // Each call consumes at least a header, so this ends with the input.
            while let Ok(Some(msgs)) = futures::executor::block_on(reader.next::<T>()) {
                check_round_trip(&msgs);
            }
        }
        Shape::Bodies(bodies) => decode_all::<T>(bodies.iter().map(|b| b.to_vec())),
        Shape::Messages(chunks) => {
            let mut started = false;
            let bodies: Vec<Vec<u8>> = chunks
                .iter()
                .map(|msgs| {
                    let mut raw = Vec::new();
                    for m in msgs {
                        raw.extend_from_slice(&(m.len() as u32).to_be_bytes());
                        raw.extend_from_slice(m);
                    }
                    stored_blocks(&mut started, &raw)
                })
                .collect();
            decode_all::<T>(bodies.into_iter());
        }
    }
}

/// Feeds chunk bodies to one decoder until one is refused, as a connection would.
fn decode_all<T>(bodies: impl Iterator<Item = Vec<u8>>)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let mut dec = Decoder::new();
    for body in bodies {
        match dec.decode::<T>(&body) {
            Ok(msgs) => check_round_trip(&msgs),
            Err(_) => return,
        }
    }
}

/// Messages that decoded must survive an encode and a decode unchanged.
fn check_round_trip<T>(msgs: &[T])
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    if msgs.is_empty() {
        return;
    }
    let mut enc = Encoder::new();
    let chunk = enc.encode(msgs).expect("decoded messages encode again");
    let again: Vec<T> = Decoder::new()
        .decode(&chunk[4..])
        .expect("re-encoded messages decode");
    assert_eq!(again, msgs);
}
