//! Property tests of the codec: random messages, encoded in random chunks and read back in
//! random pieces, come back equal.

use super::*;
use crate::core::term::Screen;
use crate::core::types::{Access, GuestInfo, Size, Via};
use crate::net::proto::{
    ExtraLink, Hello, HostMsg, Links, NewLink, PaneGeometry, RejectKind, RelayMsg, Resume,
};
use proptest::collection::vec;
use proptest::prelude::*;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::ReadBuf;

fn text() -> impl Strategy<Value = String> {
    // Mostly short, with any characters, including the empty string.
    "\\PC{0,24}"
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..300)
}

fn size() -> impl Strategy<Value = Size> {
    (any::<u16>(), any::<u16>()).prop_map(|(c, r)| Size::new(c, r))
}

fn access() -> impl Strategy<Value = Access> {
    prop_oneof![Just(Access::ReadWrite), Just(Access::ReadOnly)]
}

fn hello() -> impl Strategy<Value = Hello> {
    (
        any::<u32>(),
        text(),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(vec(text(), 0..3)),
        proptest::option::of(resume()),
        (
            any::<bool>(),
            proptest::option::of(any::<u64>()),
            vec(extra_link(), 0..3),
        ),
    )
        .prop_map(
            |(
                version,
                client,
                name,
                title,
                ro_name,
                api_key,
                authorized_keys,
                resume,
                (approve, link_ttl_secs, extra_links),
            )| Hello {
                version,
                client,
                name,
                title,
                ro_name,
                api_key,
                authorized_keys,
                resume,
                approve,
                link_ttl_secs,
                extra_links,
            },
        )
}

fn resume() -> impl Strategy<Value = Resume> {
    (text(), text(), text(), text()).prop_map(|(session, rw, ro, secret)| Resume {
        session,
        rw,
        ro,
        secret,
    })
}

fn reject_kind() -> impl Strategy<Value = RejectKind> {
    prop_oneof![
        Just(RejectKind::Retry),
        Just(RejectKind::Resume),
        Just(RejectKind::Final)
    ]
}

fn host_msg() -> impl Strategy<Value = HostMsg> {
    let pane = vec((any::<u32>(), size()), 0..4).prop_map(|p| {
        p.into_iter()
            .map(|(id, size)| PaneGeometry { id, size })
            .collect()
    });
    prop_oneof![
        hello().prop_map(|h| HostMsg::Hello(Box::new(h))),
        (pane, any::<u32>()).prop_map(|(panes, focus)| HostMsg::Layout { panes, focus }),
        (any::<u32>(), 1..40u16, 1..12u16, bytes()).prop_map(|(pane, c, r, bytes)| {
            // Any bytes a program may write, drawn by the real emulator.
            let mut screen = Screen::new(Size::new(c, r), 0);
            screen.feed(&bytes);
            HostMsg::Rows(screen.export(None).update_from(pane, None))
        }),
        any::<u32>().prop_map(|pane| HostMsg::PaneClosed { pane }),
        (any::<u32>(), access()).prop_map(|(guest, access)| HostMsg::SetAccess { guest, access }),
        (any::<u32>(), text()).prop_map(|(guest, reason)| HostMsg::Kick { guest, reason }),
        any::<bool>().prop_map(HostMsg::Lock),
        (access(), any::<bool>())
            .prop_map(|(access, enabled)| HostMsg::SetLink { access, enabled }),
        text().prop_map(HostMsg::Notice),
        text().prop_map(|reason| HostMsg::End { reason }),
        any::<u64>().prop_map(HostMsg::Ping),
        any::<u64>().prop_map(HostMsg::Pong),
        (any::<u32>(), access()).prop_map(|(guest, access)| HostMsg::Admit { guest, access }),
        any::<u32>().prop_map(|guest| HostMsg::Deny { guest }),
        (
            any::<u64>(),
            access(),
            any::<bool>(),
            proptest::option::of(any::<u64>())
        )
            .prop_map(|(req, access, once, ttl_secs)| HostMsg::NewLink(NewLink {
                req,
                access,
                once,
                ttl_secs
            })),
        (any::<u32>(), any::<bool>()).prop_map(|(n, enabled)| HostMsg::SetExtraLink { n, enabled }),
    ]
}

fn extra_link() -> impl Strategy<Value = ExtraLink> {
    let state = (any::<bool>(), any::<bool>(), any::<bool>());
    (
        (proptest::option::of(any::<u64>()), any::<u32>(), access()),
        (text(), proptest::option::of(text())),
        (state, proptest::option::of(any::<u64>())),
        (text(), text()),
    )
        .prop_map(
            |(
                (req, n, access),
                (ssh, web),
                ((once, enabled, used), expires_in),
                (token, proof),
            )| ExtraLink {
                req,
                n,
                access,
                ssh,
                web,
                once,
                expires_in,
                enabled,
                used,
                token,
                proof,
            },
        )
}

fn guest_info() -> impl Strategy<Value = GuestInfo> {
    let via = prop_oneof![Just(Via::Ssh), Just(Via::Web)];
    (
        any::<u32>(),
        via,
        text(),
        proptest::option::of(text()),
        proptest::option::of(text()),
        access(),
        size(),
    )
        .prop_map(
            |(id, via, name, fingerprint, addr, access, size)| GuestInfo {
                id,
                via,
                name,
                fingerprint,
                addr,
                access,
                size,
            },
        )
}

fn relay_msg() -> impl Strategy<Value = RelayMsg> {
    let links = (
        text(),
        text(),
        proptest::option::of(text()),
        proptest::option::of(text()),
    )
        .prop_map(|(ssh, ssh_ro, web, web_ro)| Links {
            ssh,
            ssh_ro,
            web,
            web_ro,
        });
    prop_oneof![
        (links, resume(), any::<bool>(), vec(guest_info(), 0..3)).prop_map(
            |(links, resume, resumed, guests)| RelayMsg::Welcome {
                links,
                resume,
                resumed,
                guests
            }
        ),
        (text(), reject_kind()).prop_map(|(reason, kind)| RelayMsg::Reject { reason, kind }),
        text().prop_map(|reason| RelayMsg::Closing { reason }),
        any::<u64>().prop_map(RelayMsg::Ping),
        guest_info().prop_map(RelayMsg::GuestJoined),
        any::<u32>().prop_map(|guest| RelayMsg::GuestLeft { guest }),
        (any::<u32>(), any::<u32>(), bytes()).prop_map(|(guest, pane, bytes)| RelayMsg::Input {
            guest,
            pane,
            bytes
        }),
        (any::<u32>(), size()).prop_map(|(guest, size)| RelayMsg::GuestResize { guest, size }),
        any::<u64>().prop_map(RelayMsg::Pong),
        guest_info().prop_map(RelayMsg::GuestWaiting),
        (any::<u32>(), text()).prop_map(|(guest, reason)| RelayMsg::WaitOver { guest, reason }),
        extra_link().prop_map(RelayMsg::LinkAdded),
        (any::<u64>(), text()).prop_map(|(req, reason)| RelayMsg::LinkRefused { req, reason }),
    ]
}

/// A transport that hands out its bytes in pieces of the given sizes, as a network does.
struct Pieces {
    /// What is left to read.
    data: Vec<u8>,
    /// How much each read hands out, in turn; cycled, and at least one byte.
    sizes: Vec<usize>,
    /// Reads so far, to pick the next size.
    reads: usize,
}

impl tokio::io::AsyncRead for Pieces {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let want = self.sizes[self.reads % self.sizes.len()].max(1);
        let n = want.min(buf.remaining()).min(self.data.len());
        buf.put_slice(&self.data[..n]);
        self.data.drain(..n);
        self.reads += 1;
        Poll::Ready(Ok(()))
    }
}

/// Encodes `msgs` in chunks that end after the messages `ends` marks, reads them back
/// through a transport that cuts the bytes into `sizes`, and returns what was read.
fn through_the_wire<T>(msgs: &[T], ends: &[bool], stored: bool, sizes: Vec<usize>) -> Vec<T>
where
    T: Serialize + DeserializeOwned,
{
    let mut enc = if stored {
        Encoder::stored()
    } else {
        Encoder::new()
    };
    let mut wire = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        enc.push(m).expect("push");
        if ends.get(i).copied().unwrap_or(false) || i + 1 == msgs.len() {
            wire.extend(enc.finish_chunk().expect("finish"));
        }
    }
    let transport = Pieces {
        data: wire,
        sizes,
        reads: 0,
    };
    let mut reader = FrameReader::new(transport);
    let mut got = Vec::new();
    while let Some(batch) = futures::executor::block_on(reader.next::<T>()).expect("read") {
        got.extend(batch);
    }
    got
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn host_messages_survive_any_chunking_and_any_reads(
        msgs in vec(host_msg(), 0..12),
        ends in vec(any::<bool>(), 12),
        stored in any::<bool>(),
        sizes in vec(1usize..64, 1..8),
    ) {
        prop_assert_eq!(through_the_wire(&msgs, &ends, stored, sizes), msgs);
    }

    #[test]
    fn relay_messages_survive_any_chunking_and_any_reads(
        msgs in vec(relay_msg(), 0..12),
        ends in vec(any::<bool>(), 12),
        stored in any::<bool>(),
        sizes in vec(1usize..64, 1..8),
    ) {
        prop_assert_eq!(through_the_wire(&msgs, &ends, stored, sizes), msgs);
    }

    #[test]
    fn a_cut_stream_is_refused_as_truncated(
        msgs in vec(host_msg(), 1..6),
        keep in any::<proptest::sample::Index>(),
    ) {
        let chunk = Encoder::new().encode(&msgs).expect("encode");
        // Any strict prefix of a chunk, but not the empty one, which is a clean end.
        let cut = 1 + keep.index(chunk.len() - 1);
        let mut reader = FrameReader::new(&chunk[..cut]);
        let got = futures::executor::block_on(reader.next::<HostMsg>());
        prop_assert!(matches!(got, Err(CodecError::Truncated { .. })), "{:?}", got);
    }
}
