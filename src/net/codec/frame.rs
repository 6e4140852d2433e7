//! Framing, compression and decode limits of the uplink protocol.
//!
//! On the wire each direction is a series of chunks, `u32 BE length | bytes`. The bytes of all
//! chunks of one direction form a single zlib stream, sync-flushed at the end of every chunk,
//! so each chunk can be inflated on arrival while the dictionary carries over. A chunk
//! inflates to whole messages, each `u32 BE length | msgpack`.
//!
//! Every size is checked before it is trusted: the chunk length before reading, the inflated
//! size while inflating (a "zip bomb" stops at the limit), each message length before
//! decoding. A violation is an error for that one connection.

use crate::net::proto::{Hello, PROTOCOL_VERSION};
use flate2::write::ZlibEncoder;
use flate2::{Compression, Decompress, FlushDecompress, Status};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::Write;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest chunk accepted on the wire (compressed).
pub const MAX_CHUNK: usize = 8 << 20;
/// The most bytes one chunk may inflate to.
pub const MAX_INFLATED: usize = 8 << 20;
/// The largest single message (serialised, uncompressed).
pub const MAX_MESSAGE: usize = 4 << 20;
/// How much of a chunk's body is read (and allocated) at a time.
const READ_STEP: usize = 64 << 10;
/// A writer closes a chunk once this many uncompressed bytes are in it.
pub const CHUNK_TARGET: usize = 256 << 10;

/// Why a peer's bytes were refused, or why writing failed.
#[derive(Debug, Error)]
pub enum CodecError {
    /// The stream ended in the middle of a chunk or a message.
    #[error("connection closed in the middle of a {what}")]
    Truncated {
        /// What was being read.
        what: &'static str,
    },
    /// A chunk header announced more than the limit.
    #[error("chunk of {len} bytes is over the limit of {max} bytes")]
    ChunkTooLarge {
        /// Announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A chunk inflated past the limit.
    #[error("chunk inflates past the limit of {max} bytes")]
    Bomb {
        /// The limit.
        max: usize,
    },
    /// The compressed stream is corrupt.
    #[error("corrupt compressed stream: {0}")]
    Inflate(String),
    /// A message is larger than allowed.
    #[error("message of {len} bytes is over the limit of {max} bytes")]
    MessageTooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A message is not valid msgpack of the expected type.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// The peer speaks another protocol version.
    #[error(
        "the host speaks protocol version {theirs} and the relay version {ours}; \
         run the same cotty release on both sides (cotty --version)"
    )]
    Version {
        /// Our version.
        ours: u32,
        /// Theirs.
        theirs: u32,
    },
    /// A message could not be serialised.
    #[error("failed to encode a message: {0}")]
    Encode(String),
    /// The transport failed.
    #[error("connection error: {0}")]
    Io(#[from] std::io::Error),
}

/// Checks a host's hello against this build's protocol version.
pub fn check_version(hello: &Hello) -> Result<(), CodecError> {
    if hello.version == PROTOCOL_VERSION {
        Ok(())
    } else {
        Err(CodecError::Version {
            ours: PROTOCOL_VERSION,
            theirs: hello.version,
        })
    }
}

/// How a direction's zlib stream is written.
enum Deflate {
    /// Compressed at level 1: terminal output compresses well at level 1 already.
    Fast(ZlibEncoder<Vec<u8>>),
    /// Stored blocks: valid zlib that any inflater reads, with no compressor state. For the
    /// relay-to-host direction, whose few small messages (joins, keys) do not compress, and
    /// where a compressor's ~250 KB would be paid by every session on the relay.
    Stored {
        /// Bytes of the current chunk.
        raw: Vec<u8>,
        /// The two-byte zlib header has been written.
        started: bool,
    },
}

/// Encodes one direction: messages in, chunks out.
pub struct Encoder {
    /// The direction's zlib stream.
    zlib: Deflate,
    /// Scratch space for one serialised message.
    scratch: Vec<u8>,
    /// Uncompressed bytes in the current chunk.
    pending: usize,
}

impl Default for Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Encoder {
    /// A compressed stream.
    pub fn new() -> Self {
        Encoder {
            zlib: Deflate::Fast(ZlibEncoder::new(Vec::new(), Compression::fast())),
            scratch: Vec::new(),
            pending: 0,
        }
    }

    /// A stream of stored (uncompressed) zlib blocks, for small control traffic.
    pub fn stored() -> Self {
        Encoder {
            zlib: Deflate::Stored {
                raw: Vec::new(),
                started: false,
            },
            scratch: Vec::new(),
            pending: 0,
        }
    }

    /// Adds a message to the current chunk.
    pub fn push<T: Serialize>(&mut self, msg: &T) -> Result<(), CodecError> {
        self.scratch.clear();
        rmp_serde::encode::write_named(&mut self.scratch, msg)
            .map_err(|e| CodecError::Encode(e.to_string()))?;
        let len = self.scratch.len();
        if len > MAX_MESSAGE {
            return Err(CodecError::MessageTooLarge {
                len,
                max: MAX_MESSAGE,
            });
        }
        let head = (len as u32).to_be_bytes();
        match &mut self.zlib {
            Deflate::Fast(z) => {
                z.write_all(&head)?;
                z.write_all(&self.scratch)?;
            }
            Deflate::Stored { raw, .. } => {
                raw.extend_from_slice(&head);
                raw.extend_from_slice(&self.scratch);
            }
        }
        self.pending += 4 + len;
        Ok(())
    }

    /// Uncompressed bytes in the current chunk.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Ends the current chunk and returns it with its length header, ready to write.
    pub fn finish_chunk(&mut self) -> Result<Vec<u8>, CodecError> {
        let body = match &mut self.zlib {
            Deflate::Fast(z) => {
                // A sync flush: everything so far can be inflated now; the dictionary is kept.
                z.flush()?;
                std::mem::take(z.get_mut())
            }
            Deflate::Stored { raw, started } => {
                let body = stored_blocks(started, raw);
                raw.clear();
                body
            }
        };
        self.pending = 0;
        let mut out = Vec::with_capacity(body.len() + 4);
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Encodes `msgs` as one chunk.
    pub fn encode<T: Serialize>(&mut self, msgs: &[T]) -> Result<Vec<u8>, CodecError> {
        for m in msgs {
            self.push(m)?;
        }
        self.finish_chunk()
    }
}

/// `raw` as zlib stored blocks (RFC 1950/1951), after the stream header if not yet written;
/// public so the fuzz targets build valid stored streams the way the codec does.
/// The stream is never finished, so no checksum follows; each block is complete, so the
/// inflater hands out every byte at once.
pub fn stored_blocks(started: &mut bool, raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 2 + 5 * (raw.len() / 0xFFFF + 1));
    if !*started {
        // CMF 0x78 (deflate, 32 KiB window), FLG 0x01: (0x78 << 8 | 0x01) is a multiple of 31.
        out.extend_from_slice(&[0x78, 0x01]);
        *started = true;
    }
    for block in raw.chunks(0xFFFF) {
        let len = block.len() as u16;
        // BFINAL 0, BTYPE 00 (stored); stored blocks keep the stream byte-aligned.
        out.push(0x00);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out
}

/// Decodes one direction: chunk bodies in, messages out.
pub struct Decoder {
    /// The direction's zlib stream.
    zlib: Decompress,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A new stream.
    pub fn new() -> Self {
        Decoder {
            zlib: Decompress::new(true),
        }
    }

    /// Inflates one chunk body (without its length header) and decodes its messages.
    pub fn decode<T: DeserializeOwned>(&mut self, body: &[u8]) -> Result<Vec<T>, CodecError> {
        let raw = self.inflate(body)?;
        let msgs = split_messages(&raw)?;
        if msgs.is_empty() && !body.is_empty() {
            // Writers never send an empty chunk; this is not our protocol.
            return Err(CodecError::Malformed("a chunk carries no message".into()));
        }
        Ok(msgs)
    }

    fn inflate(&mut self, input: &[u8]) -> Result<Vec<u8>, CodecError> {
        let mut out: Vec<u8> = Vec::with_capacity((input.len() * 4).clamp(256, MAX_INFLATED));
        let mut used = 0usize;
        loop {
            if out.len() == out.capacity() {
                if out.len() > MAX_INFLATED {
                    return Err(CodecError::Bomb { max: MAX_INFLATED });
                }
                // Grow, but never past one byte over the limit, which is how we notice it.
                let room = (out.len()).max(256).min(MAX_INFLATED + 1 - out.len());
                out.reserve_exact(room);
            }
            let in_before = self.zlib.total_in();
            let out_before = out.len();
            let status = self
                .zlib
                .decompress_vec(&input[used..], &mut out, FlushDecompress::Sync)
                .map_err(|e| CodecError::Inflate(e.to_string()))?;
            used += (self.zlib.total_in() - in_before) as usize;
            if out.len() > MAX_INFLATED {
                return Err(CodecError::Bomb { max: MAX_INFLATED });
            }
            if status == Status::StreamEnd {
                return Err(CodecError::Inflate("the peer ended its stream".into()));
            }
            // All input taken and zlib still had room: nothing is left inside it.
            if used == input.len() && out.len() < out.capacity() {
                return Ok(out);
            }
            let stuck = self.zlib.total_in() == in_before && out.len() == out_before;
            if stuck && out.len() < out.capacity() {
                return Err(CodecError::Inflate("the stream makes no progress".into()));
            }
        }
    }
}

/// Splits inflated bytes into length-prefixed msgpack messages and decodes each.
fn split_messages<T: DeserializeOwned>(mut raw: &[u8]) -> Result<Vec<T>, CodecError> {
    let mut out = Vec::new();
    while !raw.is_empty() {
        let Some((head, rest)) = raw.split_first_chunk::<4>() else {
            return Err(CodecError::Truncated {
                what: "message header",
            });
        };
        let len = u32::from_be_bytes(*head) as usize;
        if len > MAX_MESSAGE {
            return Err(CodecError::MessageTooLarge {
                len,
                max: MAX_MESSAGE,
            });
        }
        if rest.len() < len {
            return Err(CodecError::Truncated { what: "message" });
        }
        let (msg, rest) = rest.split_at(len);
        out.push(rmp_serde::from_slice(msg).map_err(|e| CodecError::Malformed(e.to_string()))?);
        raw = rest;
    }
    Ok(out)
}

/// Reads chunks from a transport and decodes them.
pub struct FrameReader<R> {
    /// The transport.
    io: R,
    /// This direction's stream state.
    decoder: Decoder,
    /// Reused buffer for chunk bodies.
    body: Vec<u8>,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// Wraps a transport.
    pub fn new(io: R) -> Self {
        FrameReader {
            io,
            decoder: Decoder::new(),
            body: Vec::new(),
        }
    }

    /// Reads the next chunk's messages. `Ok(None)` is a clean end between chunks.
    pub async fn next<T: DeserializeOwned>(&mut self) -> Result<Option<Vec<T>>, CodecError> {
        let mut head = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            let n = self.io.read(&mut head[got..]).await?;
            if n == 0 {
                return if got == 0 {
                    Ok(None)
                } else {
                    Err(CodecError::Truncated {
                        what: "chunk header",
                    })
                };
            }
            got += n;
        }
        let len = u32::from_be_bytes(head) as usize;
        if len > MAX_CHUNK {
            return Err(CodecError::ChunkTooLarge {
                len,
                max: MAX_CHUNK,
            });
        }
        // The buffer grows as bytes arrive, not to the announced length at once: four bytes
        // of header must not cost the reader megabytes before the body comes.
        self.body.clear();
        while self.body.len() < len {
            let start = self.body.len();
            self.body.resize(start + (len - start).min(READ_STEP), 0);
            self.io
                .read_exact(&mut self.body[start..])
                .await
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::UnexpectedEof => CodecError::Truncated { what: "chunk" },
                    _ => CodecError::Io(e),
                })?;
        }
        let msgs = self.decoder.decode(&self.body)?;
        if self.body.capacity() > CHUNK_TARGET * 4 {
            // Do not keep a burst's buffer for the life of the connection.
            self.body = Vec::new();
        }
        Ok(Some(msgs))
    }
}

/// Encodes messages and writes them to a transport.
pub struct FrameWriter<W> {
    /// The transport.
    io: W,
    /// This direction's stream state.
    encoder: Encoder,
}

impl<W: AsyncWrite + Unpin> FrameWriter<W> {
    /// Wraps a transport; the stream is compressed.
    pub fn new(io: W) -> Self {
        FrameWriter {
            io,
            encoder: Encoder::new(),
        }
    }

    /// Wraps a transport; the stream is stored blocks (see [`Encoder::stored`]).
    pub fn stored(io: W) -> Self {
        FrameWriter {
            io,
            encoder: Encoder::stored(),
        }
    }

    /// Adds a message to the current chunk; writes the chunk once it is large enough.
    pub async fn push<T: Serialize>(&mut self, msg: &T) -> Result<(), CodecError> {
        self.encoder.push(msg)?;
        if self.encoder.pending() >= CHUNK_TARGET {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes what is pending as one chunk.
    pub async fn flush(&mut self) -> Result<(), CodecError> {
        if self.encoder.pending() == 0 {
            return Ok(());
        }
        let chunk = self.encoder.finish_chunk()?;
        self.io.write_all(&chunk).await?;
        self.io.flush().await?;
        Ok(())
    }

    /// Sends one message as its own chunk.
    pub async fn send<T: Serialize>(&mut self, msg: &T) -> Result<(), CodecError> {
        self.encoder.push(msg)?;
        self.flush().await
    }

    /// Shuts the transport down for writing.
    pub async fn shutdown(&mut self) -> Result<(), CodecError> {
        self.io.shutdown().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod props;
