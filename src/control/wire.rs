//! The control socket's wire format: one length-prefixed msgpack frame each way.
//!
//! A frame is a `u32` big-endian length followed by that many bytes of msgpack
//! (`rmp_serde::to_vec_named`). The client sends one [`Envelope`], the server answers with one
//! [`Reply`] and closes. The envelope carries [`PROTOCOL_VERSION`] so that a cotty of another
//! version answers with a clear error instead of misreading the request.

use crate::core::types::LinkRef;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The version of the control protocol; bump it whenever [`Request`] or [`Reply`] changes shape.
pub const PROTOCOL_VERSION: u32 = 1;

/// The largest request frame the server reads; requests are a command and a short format.
pub const MAX_REQUEST: usize = 64 * 1024;

/// The largest reply frame the client reads; `show-messages` can return the whole host log.
pub const MAX_REPLY: usize = 16 * 1024 * 1024;

/// A request from `cotty -S PATH COMMAND`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Expand `#{…}` variables in a format; print it, or log it on the host.
    Display {
        /// The format.
        format: String,
        /// Print to the caller's stdout (`-p`) rather than the host's log.
        print: bool,
    },
    /// The host's log.
    ShowMessages,
    /// One line per guest.
    ListGuests,
    /// Disconnect a guest by id or name.
    Kick {
        /// The guest's id or name.
        guest: String,
    },
    /// End the session.
    KillSession,
    /// Answer once the links exist.
    WaitReady,
    /// Read the guest keys (`-a`) again and send them to the relay.
    ReloadKeys,
    /// Let a guest that waits for the host's answer (`--approve`) in.
    Admit {
        /// The waiting guest's id, as its "is waiting" line gives it.
        guest: String,
        /// Read-only rather than read-write.
        read_only: bool,
    },
    /// Turn a guest that waits for the host's answer away.
    Deny {
        /// The waiting guest's id.
        guest: String,
    },
    /// Make an extra link and answer with it (its ssh command, and its web link on a line
    /// of its own when the relay serves the web view), once the relay has made it.
    NewLink {
        /// The link lets guests watch only.
        read_only: bool,
        /// The link lets one guest in, then stops working.
        once: bool,
        /// How long the link lets guests in, in seconds; `None` for as long as the
        /// session's links.
        ttl_secs: Option<u64>,
    },
    /// Switch a link off or on (`link-off LINK`, `link-on LINK`). For an extra link the answer
    /// waits for the relay's report that the switch took effect.
    SwitchLink {
        /// Which link: a main one (its ssh and web link share the token) or extra link N.
        link: LinkRef,
        /// Whether it lets new guests in from now on.
        enabled: bool,
    },
}

/// The answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// Whether the request worked; the client exits 1 when not.
    pub ok: bool,
    /// What to print: to stdout when ok, to stderr when not.
    pub text: String,
}

impl Reply {
    /// A success with text to print.
    pub fn ok(text: impl Into<String>) -> Reply {
        Reply {
            ok: true,
            text: text.into(),
        }
    }

    /// A failure with a message that says what to do.
    pub fn err(text: impl Into<String>) -> Reply {
        Reply {
            ok: false,
            text: text.into(),
        }
    }
}

/// What the client sends: a request tagged with the protocol version it was written for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The client's [`PROTOCOL_VERSION`], checked before the request is decoded.
    pub version: u32,
    /// What the client asks for.
    pub request: Request,
}

/// Just the version of an [`Envelope`], so that the server can read it from a client whose
/// `Request` no longer decodes; msgpack maps let serde skip the unknown `request` field.
#[derive(Deserialize)]
struct VersionOnly {
    /// The client's protocol version.
    version: u32,
}

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The socket failed or closed early.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The length prefix is over the limit; the rest is not read.
    #[error("the message is {len} bytes, more than the limit of {max}")]
    TooLarge {
        /// The length the peer announced.
        len: usize,
        /// The limit for this direction.
        max: usize,
    },
    /// The bytes are not msgpack of the expected shape.
    #[error("the message is not valid: {0}")]
    Decode(#[from] rmp_serde::decode::Error),
    /// A value could not be encoded; only a bug could cause this.
    #[error("failed to encode the message: {0}")]
    Encode(#[from] rmp_serde::encode::Error),
    /// The client speaks another version of the protocol.
    #[error(
        "the command speaks control protocol version {client} but this cotty speaks version \
         {server}; run the command with the same cotty binary as the running session"
    )]
    Version {
        /// The version the client sent.
        client: u32,
        /// Our [`PROTOCOL_VERSION`].
        server: u32,
    },
}

/// Writes `value` as one frame and flushes it.
pub async fn write_frame<W, T>(w: &mut W, value: &T) -> Result<(), WireError>
where
    W: AsyncWrite + Unpin,
    T: Serialize,
{
    let body = rmp_serde::to_vec_named(value)?;
    let len = u32::try_from(body.len()).map_err(|_| WireError::TooLarge {
        len: body.len(),
        max: u32::MAX as usize,
    })?;
    // One buffer, one write: the peer never sees a length without its body for long.
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(&body);
    w.write_all(&frame).await?;
    w.flush().await?;
    Ok(())
}

/// Reads one frame's body, refusing a length over `max` before allocating anything.
pub async fn read_frame<R>(r: &mut R, max: usize) -> Result<Vec<u8>, WireError>
where
    R: AsyncRead + Unpin,
{
    let mut head = [0u8; 4];
    r.read_exact(&mut head).await?;
    let len = u32::from_be_bytes(head) as usize;
    if len > max {
        return Err(WireError::TooLarge { len, max });
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).await?;
    Ok(body)
}

/// Decodes a request frame, checking the version first so that a mismatch reads as one.
pub fn decode_request(body: &[u8]) -> Result<Request, WireError> {
    let head: VersionOnly = rmp_serde::from_slice(body)?;
    if head.version != PROTOCOL_VERSION {
        return Err(WireError::Version {
            client: head.version,
            server: PROTOCOL_VERSION,
        });
    }
    let envelope: Envelope = rmp_serde::from_slice(body)?;
    Ok(envelope.request)
}

/// Decodes a reply frame.
pub fn decode_reply(body: &[u8]) -> Result<Reply, WireError> {
    Ok(rmp_serde::from_slice(body)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_requests() -> Vec<Request> {
        vec![
            Request::Display {
                format: "#{ssh}".into(),
                print: true,
            },
            Request::ShowMessages,
            Request::ListGuests,
            Request::Kick {
                guest: "alice".into(),
            },
            Request::KillSession,
            Request::WaitReady,
        ]
    }

    async fn frame_of<T: Serialize>(value: &T) -> Vec<u8> {
        let mut buf = Vec::new();
        write_frame(&mut buf, value).await.unwrap();
        buf
    }

    #[tokio::test]
    async fn every_request_round_trips() {
        for request in all_requests() {
            let envelope = Envelope {
                version: PROTOCOL_VERSION,
                request: request.clone(),
            };
            let buf = frame_of(&envelope).await;
            assert_eq!(
                u32::from_be_bytes(buf[..4].try_into().unwrap()) as usize,
                buf.len() - 4
            );
            let body = read_frame(&mut &buf[..], MAX_REQUEST).await.unwrap();
            assert_eq!(decode_request(&body).unwrap(), request);
        }
    }

    #[tokio::test]
    async fn reply_round_trips() {
        let reply = Reply::err("no such guest: bob");
        let buf = frame_of(&reply).await;
        let body = read_frame(&mut &buf[..], MAX_REPLY).await.unwrap();
        assert_eq!(decode_reply(&body).unwrap(), reply);
    }

    #[tokio::test]
    async fn oversized_length_is_refused_before_reading_the_body() {
        let mut buf = ((MAX_REQUEST + 1) as u32).to_be_bytes().to_vec();
        buf.extend_from_slice(b"short");
        let err = read_frame(&mut &buf[..], MAX_REQUEST).await.unwrap_err();
        assert!(
            matches!(err, WireError::TooLarge { len, max } if len == MAX_REQUEST + 1 && max == MAX_REQUEST)
        );
    }

    #[tokio::test]
    async fn truncated_frame_is_an_io_error() {
        let mut buf = 10u32.to_be_bytes().to_vec();
        buf.extend_from_slice(b"abc");
        let err = read_frame(&mut &buf[..], MAX_REQUEST).await.unwrap_err();
        assert!(matches!(err, WireError::Io(_)), "{err:?}");
    }

    #[test]
    fn garbage_does_not_decode() {
        let err = decode_request(b"\xc1\xc1 not msgpack").unwrap_err();
        assert!(matches!(err, WireError::Decode(_)), "{err:?}");
    }

    #[test]
    fn other_version_is_named_even_when_its_request_is_unknown() {
        // A future client with a request this version has never heard of.
        #[derive(Serialize)]
        struct Future {
            version: u32,
            request: &'static str,
        }
        let body = rmp_serde::to_vec_named(&Future {
            version: PROTOCOL_VERSION + 1,
            request: "Teleport",
        })
        .unwrap();
        let err = decode_request(&body).unwrap_err();
        assert!(matches!(err, WireError::Version { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains(&format!("version {}", PROTOCOL_VERSION + 1)),
            "{text}"
        );
        assert!(text.contains("same cotty binary"), "{text}");
    }

    #[test]
    fn unknown_request_of_the_same_version_is_a_decode_error() {
        #[derive(Serialize)]
        struct Odd {
            version: u32,
            request: &'static str,
        }
        let body = rmp_serde::to_vec_named(&Odd {
            version: PROTOCOL_VERSION,
            request: "Teleport",
        })
        .unwrap();
        assert!(matches!(decode_request(&body), Err(WireError::Decode(_))));
    }

    /// Random requests and replies through the frame writer and reader, in random pieces.
    mod props {
        use super::*;
        use proptest::prelude::*;

        fn request() -> impl Strategy<Value = Request> {
            prop_oneof![
                ("\\PC{0,40}", any::<bool>())
                    .prop_map(|(format, print)| Request::Display { format, print }),
                Just(Request::ShowMessages),
                Just(Request::ListGuests),
                "\\PC{0,20}".prop_map(|guest| Request::Kick { guest }),
                Just(Request::KillSession),
                Just(Request::WaitReady),
            ]
        }

        fn reply() -> impl Strategy<Value = Reply> {
            (any::<bool>(), "\\PC{0,200}").prop_map(|(ok, text)| Reply { ok, text })
        }

        /// Writes `value` as a frame into a pipe that passes `piece` bytes at a time.
        fn through_a_pipe<T: Serialize>(value: &T, piece: usize) -> Vec<u8> {
            // A duplex pipe needs no runtime, only an executor that polls both ends.
            futures::executor::block_on(async {
                let (mut a, mut b) = tokio::io::duplex(piece);
                let write = async move { write_frame(&mut a, value).await.expect("write") };
                let read = async move { read_frame(&mut b, MAX_REPLY).await.expect("read") };
                tokio::join!(write, read).1
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn any_request_round_trips(request in request(), piece in 1usize..64) {
                let envelope = Envelope { version: PROTOCOL_VERSION, request: request.clone() };
                let body = through_a_pipe(&envelope, piece);
                prop_assert!(body.len() <= MAX_REQUEST);
                prop_assert_eq!(decode_request(&body).expect("decodes"), request);
            }

            #[test]
            fn any_reply_round_trips(reply in reply(), piece in 1usize..64) {
                let body = through_a_pipe(&reply, piece);
                prop_assert_eq!(decode_reply(&body).expect("decodes"), reply);
            }

            #[test]
            fn any_other_version_is_named(version in any::<u32>(), request in request()) {
                prop_assume!(version != PROTOCOL_VERSION);
                let body = rmp_serde::to_vec_named(&Envelope { version, request }).expect("encode");
                let err = decode_request(&body).expect_err("another version");
                prop_assert!(
                    matches!(err, WireError::Version { client, .. } if client == version),
                    "{:?}", err
                );
            }
        }
    }
}
