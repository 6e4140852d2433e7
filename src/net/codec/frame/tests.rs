//! Unit tests of the codec: round trips of every message and refusal of hostile input.

use super::*;
use crate::core::term::{RowsUpdate, Screen};
use crate::core::types::{Access, GuestInfo, Size, Via};
use crate::net::proto::{HostMsg, Links, PaneGeometry, RejectKind, RelayMsg, Resume};

fn all_host_msgs() -> Vec<HostMsg> {
    let mut hello = Hello::new("cotty test");
    hello.name = Some("pair".into());
    hello.authorized_keys = Some(vec!["ssh-ed25519 AAAA x".into()]);
    vec![
        HostMsg::Hello(Box::new(hello)),
        HostMsg::Layout {
            panes: vec![PaneGeometry {
                id: 1,
                size: Size::new(80, 24),
            }],
            focus: 1,
        },
        HostMsg::Rows(rows_of(
            b"\x1b[31;4:3mhello\x1b[0m \xe4\xb8\xad\r\ne\xcc\x81\x1b]2;t\x07",
        )),
        HostMsg::PaneClosed { pane: 1 },
        HostMsg::SetAccess {
            guest: 3,
            access: Access::ReadOnly,
        },
        HostMsg::Kick {
            guest: 3,
            reason: "bye".into(),
        },
        HostMsg::Lock(true),
        HostMsg::Notice("note".into()),
        HostMsg::End {
            reason: "session ended by host".into(),
        },
        HostMsg::Ping(42),
        HostMsg::Pong(43),
        HostMsg::GuestKeys {
            lines: vec!["cotty-ro ssh-ed25519 AAAA bob (github)".into()],
        },
    ]
}

fn all_relay_msgs() -> Vec<RelayMsg> {
    vec![
        RelayMsg::Welcome {
            links: Links {
                ssh: "ssh a@b".into(),
                ssh_ro: "ssh ro-a@b".into(),
                web: None,
                web_ro: Some("http://b/t/ro-a".into()),
            },
            resume: Resume {
                session: "sess".into(),
                rw: "a".into(),
                ro: "ro-a".into(),
                secret: "s".into(),
            },
            resumed: true,
            guests: Vec::new(),
        },
        RelayMsg::Reject {
            reason: "no".into(),
            kind: RejectKind::Final,
        },
        RelayMsg::Closing {
            reason: "restarting".into(),
        },
        RelayMsg::Ping(7),
        RelayMsg::GuestJoined(GuestInfo {
            id: 1,
            via: Via::Ssh,
            name: "alice@laptop".into(),
            fingerprint: Some("SHA256:abc".into()),
            addr: Some("127.0.0.1:5000".into()),
            access: Access::ReadWrite,
            size: Size::new(120, 39),
        }),
        RelayMsg::GuestLeft { guest: 1 },
        RelayMsg::Input {
            guest: 1,
            pane: 1,
            bytes: vec![3, 27, b'[', b'A'],
        },
        RelayMsg::GuestResize {
            guest: 1,
            size: Size::new(50, 20),
        },
        RelayMsg::Pong(42),
    ]
}

/// Splits a chunk into its length header and body, checking the header.
fn body(chunk: &[u8]) -> &[u8] {
    let len = u32::from_be_bytes(chunk[..4].try_into().expect("header")) as usize;
    assert_eq!(len, chunk.len() - 4);
    &chunk[4..]
}

#[test]
fn every_message_round_trips_one_per_chunk_and_batched() {
    let host = all_host_msgs();
    let mut enc = Encoder::new();
    let mut dec = Decoder::new();
    for m in &host {
        let chunk = enc.encode(std::slice::from_ref(m)).expect("encode");
        let got: Vec<HostMsg> = dec.decode(body(&chunk)).expect("decode");
        assert_eq!(got, vec![m.clone()]);
    }
    let chunk = enc.encode(&host).expect("encode batch");
    let got: Vec<HostMsg> = dec.decode(body(&chunk)).expect("decode batch");
    assert_eq!(got, host);

    let relay = all_relay_msgs();
    let mut enc = Encoder::new();
    let mut dec = Decoder::new();
    let chunk = enc.encode(&relay).expect("encode");
    let got: Vec<RelayMsg> = dec.decode(body(&chunk)).expect("decode");
    assert_eq!(got, relay);
}

/// The rows of a 120x40 screen after `bytes`.
fn rows_of(bytes: &[u8]) -> RowsUpdate {
    let mut screen = Screen::new(Size::new(120, 40), 0);
    screen.feed(bytes);
    screen.export(None).update_from(1, None)
}

#[test]
fn rows_are_carried_compactly() {
    // 40 lines of 100 characters: runs are arrays of (style, kind, text), not maps per cell.
    let line = format!("{}\r\n", "x".repeat(100));
    let msg = HostMsg::Rows(rows_of(line.repeat(39).as_bytes()));
    let mut enc = Encoder::new();
    enc.push(&msg).expect("push");
    assert!(enc.pending() < 5_500, "pending {}", enc.pending());
}

#[tokio::test]
async fn reader_and_writer_agree_over_a_pipe() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let msgs = all_host_msgs();
    let sent = msgs.clone();
    let writer = tokio::spawn(async move {
        let mut w = FrameWriter::new(a);
        for _ in 0..50 {
            for m in &sent {
                w.push(m).await.expect("push");
            }
            w.flush().await.expect("flush");
        }
        w.shutdown().await.expect("shutdown");
    });
    let mut r = FrameReader::new(b);
    let mut got: Vec<HostMsg> = Vec::new();
    while let Some(batch) = r.next::<HostMsg>().await.expect("read") {
        got.extend(batch);
    }
    writer.await.expect("writer");
    assert_eq!(got.len(), msgs.len() * 50);
    assert_eq!(&got[..msgs.len()], &msgs[..]);
}

#[tokio::test]
async fn truncated_chunks_are_refused() {
    let mut enc = Encoder::new();
    let chunk = enc.encode(&all_host_msgs()).expect("encode");
    for cut in [2, 4, 10, chunk.len() - 1] {
        let mut r = FrameReader::new(&chunk[..cut]);
        let err = r.next::<HostMsg>().await.expect_err("truncated");
        assert!(
            matches!(err, CodecError::Truncated { .. }),
            "cut {cut}: {err}"
        );
    }
    // A chunk whose messages are cut short inside.
    let mut raw = Vec::new();
    raw.extend_from_slice(&100u32.to_be_bytes());
    raw.extend_from_slice(b"short");
    let mut z = ZlibEncoder::new(Vec::new(), Compression::fast());
    z.write_all(&raw).expect("write");
    z.flush().expect("flush");
    let err = Decoder::new()
        .decode::<HostMsg>(z.get_ref())
        .expect_err("truncated message");
    assert!(
        matches!(err, CodecError::Truncated { what: "message" }),
        "{err}"
    );
}

#[tokio::test]
async fn oversized_chunks_and_messages_are_refused() {
    let head = ((MAX_CHUNK + 1) as u32).to_be_bytes();
    let err = FrameReader::new(&head[..])
        .next::<HostMsg>()
        .await
        .expect_err("oversized");
    assert!(matches!(err, CodecError::ChunkTooLarge { .. }), "{err}");

    let mut raw = Vec::new();
    raw.extend_from_slice(&((MAX_MESSAGE + 1) as u32).to_be_bytes());
    let mut z = ZlibEncoder::new(Vec::new(), Compression::fast());
    z.write_all(&raw).expect("write");
    z.flush().expect("flush");
    let err = Decoder::new()
        .decode::<HostMsg>(z.get_ref())
        .expect_err("oversized message");
    assert!(matches!(err, CodecError::MessageTooLarge { .. }), "{err}");

    let mut enc = Encoder::new();
    let huge = HostMsg::Notice("x".repeat(MAX_MESSAGE + 1));
    assert!(matches!(
        enc.push(&huge),
        Err(CodecError::MessageTooLarge { .. })
    ));
}

#[test]
fn a_bomb_stops_at_the_limit() {
    // Twice the limit in zeros compresses to about 16 KiB: a small chunk that inflates past it.
    let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..2 * (MAX_INFLATED >> 20) {
        z.write_all(&zeros).expect("write");
    }
    z.flush().expect("flush");
    let bomb = z.get_ref().clone();
    assert!(bomb.len() < MAX_CHUNK / 16, "bomb is {} bytes", bomb.len());
    let err = Decoder::new().decode::<HostMsg>(&bomb).expect_err("bomb");
    assert!(matches!(err, CodecError::Bomb { .. }), "{err}");
}

#[test]
fn a_wrong_version_is_refused_with_advice() {
    let mut hello = Hello::new("old");
    assert!(check_version(&hello).is_ok());
    hello.version = PROTOCOL_VERSION + 1;
    let err = check_version(&hello).expect_err("version");
    assert!(matches!(err, CodecError::Version { .. }));
    assert!(err.to_string().contains("same cotty release"), "{err}");
}

#[test]
fn random_bytes_are_refused_without_panic() {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..2000 {
        let len = (next() % 512) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let res = Decoder::new().decode::<HostMsg>(&bytes);
        assert!(
            res.is_err() || bytes.is_empty(),
            "round {round} decoded garbage"
        );
    }
    // Valid zlib around garbage msgpack is refused as malformed.
    let mut raw = Vec::new();
    raw.extend_from_slice(&3u32.to_be_bytes());
    raw.extend_from_slice(&[0xc1, 0xc1, 0xc1]);
    let mut z = ZlibEncoder::new(Vec::new(), Compression::fast());
    z.write_all(&raw).expect("write");
    z.flush().expect("flush");
    let err = Decoder::new()
        .decode::<HostMsg>(z.get_ref())
        .expect_err("garbage msgpack");
    assert!(matches!(err, CodecError::Malformed(_)), "{err}");
}

#[test]
fn a_stored_stream_decodes_like_a_compressed_one() {
    let relay = all_relay_msgs();
    let mut enc = Encoder::stored();
    let mut dec = Decoder::new();
    for _ in 0..3 {
        let chunk = enc.encode(&relay).expect("encode");
        let got: Vec<RelayMsg> = dec.decode(body(&chunk)).expect("decode");
        assert_eq!(got, relay);
    }
    // A message over 64 KiB spans several stored blocks.
    let big = RelayMsg::Input {
        guest: 1,
        pane: 1,
        bytes: (0..200_000u32).map(|i| i as u8).collect(),
    };
    let chunk = enc.encode(std::slice::from_ref(&big)).expect("encode");
    let got: Vec<RelayMsg> = dec.decode(body(&chunk)).expect("decode");
    assert_eq!(got, vec![big]);
}

#[tokio::test]
async fn a_large_announced_chunk_costs_only_the_bytes_that_came() {
    let mut wire = (MAX_CHUNK as u32).to_be_bytes().to_vec();
    wire.extend_from_slice(&[0u8; 10]);
    let mut r = FrameReader::new(&wire[..]);
    let err = r.next::<HostMsg>().await.expect_err("truncated");
    assert!(matches!(err, CodecError::Truncated { .. }), "{err}");
    assert!(
        r.body.capacity() < 1 << 20,
        "{} bytes allocated",
        r.body.capacity()
    );
}
