//! Micro-benchmarks: uplink frame codec, terminal parsing (core::term beside the vt100 crate it
//! replaced, for the comparison in BENCHMARKS.md), and the cost of one guest frame.
//!
//! Every input is generated here from a fixed seed, so two runs measure the same bytes.
//! Run with `cargo bench --bench micro`; the numbers go into BENCHMARKS.md.

use cotty::core::term::{Screen, ScreenState};
use cotty::core::types::{Access, Size};
use cotty::net::codec::{CHUNK_TARGET, Decoder, Encoder};
use cotty::net::proto::HostMsg;
use cotty::ui::guest_view::{GuestRenderer, GuestStatus};
use cotty::ui::theme::Theme;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::num::NonZeroU16;
use std::time::Duration;

/// Payload of one `HostMsg::Output`, about what one PTY read of a busy program yields.
const PAYLOAD: usize = 16 << 10;
/// Size of each generated input, and of the codec payload per iteration (64 messages).
const INPUT: usize = 1 << 20;
/// Rows of the shared pane, as a guest on a 120x41 terminal sees it (one row is status).
const ROWS: u16 = 40;
/// Columns of the shared pane.
const COLS: u16 = 120;

/// Plain words for generated text: file names, compiler vocabulary, shell output.
const WORDS: &[&str] = &[
    "src",
    "main.rs",
    "codec.rs",
    "Cargo.toml",
    "target",
    "release",
    "warning",
    "unused",
    "variable",
    "mismatched",
    "types",
    "expected",
    "found",
    "struct",
    "impl",
    "fn",
    "let",
    "mut",
    "self",
    "Vec<u8>",
    "Result",
    "Option",
    "tokio",
    "relay",
    "guest",
    "pane",
    "render",
    "-rw-r--r--",
    "drwxr-xr-x",
    "README.md",
    "build.rs",
    "lib.rs",
    "--release",
    "Compiling",
    "Finished",
    "Running",
    "0.42s",
    "4096",
    "dev",
    "staff",
];

/// SGR sequences seen in `ls --color`, rustc and log output.
const COLOURS: &[&str] = &[
    "\x1b[1;31m",
    "\x1b[38;5;208m",
    "\x1b[32m",
    "\x1b[1;34m",
    "\x1b[33m",
    "\x1b[36m",
    "\x1b[1m",
    "\x1b[4;35m",
    "\x1b[38;5;245m",
];

/// Styled line prefixes, as `ls -l`, rustc and a logger would start a line.
const PREFIXES: &[(&str, &str)] = &[
    ("\x1b[0m", "-rw-r--r--  1 dev staff  18231 Mar  3 12:04 "),
    ("\x1b[1;31m", "error[E0308]: "),
    ("\x1b[38;5;208m", "warning: "),
    ("\x1b[1;34m", "   --> "),
    ("\x1b[32m", "   Compiling "),
    ("\x1b[38;5;245m", "2024-05-01T12:00:00Z  INFO "),
];

/// A small deterministic generator (xorshift64), so every run feeds the same bytes.
struct Rng(u64);

impl Rng {
    /// The next 64 random bits.
    fn step(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.step() % n as u64) as usize
    }

    /// One item of `items`.
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Appends `text` to `out`, cut to what still fits in `width` visible columns; returns the
/// columns used. Generated text is ASCII, so one byte is one column.
fn push_fitted(out: &mut Vec<u8>, used: usize, width: usize, text: &str) -> usize {
    let take = text.len().min(width - used);
    out.extend_from_slice(&text.as_bytes()[..take]);
    used + take
}

/// `plain`: 80-column lines of ASCII words, each ended by `\r\n`, up to `size` bytes.
fn plain_text(size: usize) -> Vec<u8> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::with_capacity(size + 128);
    while out.len() < size {
        let mut used = 0;
        while used < 80 {
            used = push_fitted(&mut out, used, 80, rng.pick(WORDS));
            used = push_fitted(&mut out, used, 80, " ");
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// One `ls --color` or compiler-log line of exactly `width` visible columns, where most
/// words carry their own SGR colour; exact width means every cell of the screen is used.
fn styled_line(rng: &mut Rng, out: &mut Vec<u8>, width: usize) {
    let (sgr, prefix) = PREFIXES[rng.below(PREFIXES.len())];
    out.extend_from_slice(sgr.as_bytes());
    let mut used = push_fitted(out, 0, width, prefix);
    out.extend_from_slice(b"\x1b[0m");
    while used < width {
        let word = rng.pick(WORDS);
        let coloured = rng.below(4) != 0;
        if coloured {
            out.extend_from_slice(rng.pick(COLOURS).as_bytes());
        }
        used = push_fitted(out, used, width, word);
        if coloured {
            out.extend_from_slice(b"\x1b[0m");
        }
        used = push_fitted(out, used, width, " ");
    }
}

/// `sgr`: lines of [`styled_line`] ended by `\r\n`, up to `size` bytes.
fn sgr_text(size: usize) -> Vec<u8> {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut out = Vec::with_capacity(size + 1024);
    while out.len() < size {
        styled_line(&mut rng, &mut out, usize::from(COLS));
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// `redraw`: vim scrolling through a file one line per frame. Each frame moves to every
/// row, clears it and draws a numbered source line with a few SGR runs, up to `size` bytes.
fn redraw_text(size: usize) -> Vec<u8> {
    let mut rng = Rng(0xd1b5_4a32_d192_ed03);
    let source: Vec<String> = (0..500)
        .map(|n| {
            let indent = "    ".repeat(rng.below(4));
            format!(
                "\x1b[33m{n:>5} \x1b[0m{indent}\x1b[1;34mlet\x1b[0m {} = {}(\x1b[32m\"{}\"\x1b[0m); \
                 \x1b[38;5;245m// {} {}\x1b[0m",
                rng.pick(WORDS),
                rng.pick(WORDS),
                rng.pick(WORDS),
                rng.pick(WORDS),
                rng.pick(WORDS),
            )
        })
        .collect();
    let mut out = Vec::with_capacity(size + 8192);
    let mut top = 0;
    while out.len() < size {
        for row in 1..=ROWS {
            let line = &source[(top + usize::from(row)) % source.len()];
            out.extend_from_slice(format!("\x1b[{row};1H\x1b[K{line}").as_bytes());
        }
        out.extend_from_slice(format!("\x1b[{};7H", ROWS / 2).as_bytes());
        top += 1;
    }
    out
}

/// A screen the size of the shared pane, without scrollback.
fn pane_screen() -> Screen {
    Screen::new(Size::new(COLS, ROWS), 0)
}

/// The old emulator, for the side-by-side parse figures.
fn vt100_parser() -> vt100::Parser {
    let rows = NonZeroU16::new(ROWS).expect("ROWS is a non-zero constant");
    let cols = NonZeroU16::new(COLS).expect("COLS is a non-zero constant");
    vt100::Parser::new(rows, cols, 0)
}

/// The benchmark's uplink messages: the row updates a host sends while a program writes
/// 1 MiB of `sgr` text, one update per 16 KiB read (a busy uplink; a paced one sends fewer).
fn output_messages() -> Vec<HostMsg> {
    let mut screen = pane_screen();
    let mut sent: Option<ScreenState> = None;
    sgr_text(INPUT)[..INPUT]
        .chunks(PAYLOAD)
        .map(|bytes| {
            screen.feed(bytes);
            let now = screen.export(sent.as_ref());
            let update = now.update_from(1, sent.as_ref());
            sent = Some(now);
            HostMsg::Rows(update)
        })
        .collect()
}

/// Encodes `msgs` as the uplink does: one zlib stream, a chunk closed at `CHUNK_TARGET`.
fn encode_stream(msgs: &[HostMsg]) -> Vec<Vec<u8>> {
    let mut encoder = Encoder::new();
    let mut chunks = Vec::new();
    for msg in msgs {
        encoder.push(msg).expect("a message encodes");
        if encoder.pending() >= CHUNK_TARGET {
            chunks.push(encoder.finish_chunk().expect("a chunk encodes"));
        }
    }
    if encoder.pending() > 0 {
        chunks.push(encoder.finish_chunk().expect("a chunk encodes"));
    }
    chunks
}

/// Decodes a whole stream of chunks with a fresh decoder, as the relay does per connection.
fn decode_stream(chunks: &[Vec<u8>]) -> Vec<HostMsg> {
    let mut decoder = Decoder::new();
    let mut msgs = Vec::new();
    for chunk in chunks {
        msgs.extend(
            decoder
                .decode::<HostMsg>(&chunk[4..])
                .expect("our own chunk decodes"),
        );
    }
    msgs
}

/// The codec's inner framing without zlib: `u32 BE length | msgpack` per message.
fn encode_msgpack(msgs: &[HostMsg], out: &mut Vec<u8>) {
    out.clear();
    for msg in msgs {
        let start = out.len();
        out.extend_from_slice(&[0; 4]);
        rmp_serde::encode::write_named(out, msg).expect("a message encodes");
        let len = u32::try_from(out.len() - start - 4).expect("a message is under 4 GiB");
        out[start..start + 4].copy_from_slice(&len.to_be_bytes());
    }
}

/// Reads back what [`encode_msgpack`] wrote.
fn decode_msgpack(mut raw: &[u8]) -> Vec<HostMsg> {
    let mut msgs = Vec::new();
    while let Some((head, rest)) = raw.split_first_chunk::<4>() {
        let (msg, rest) = rest.split_at(u32::from_be_bytes(*head) as usize);
        msgs.push(rmp_serde::from_slice::<HostMsg>(msg).expect("our own message decodes"));
        raw = rest;
    }
    msgs
}

/// Frame codec throughput, with zlib and as msgpack framing alone.
fn codec(c: &mut Criterion) {
    let msgs = output_messages();
    let chunks = encode_stream(&msgs);
    assert_eq!(decode_stream(&chunks), msgs, "the zlib stream round-trips");
    let mut packed = Vec::new();
    encode_msgpack(&msgs, &mut packed);
    assert_eq!(decode_msgpack(&packed), msgs, "msgpack framing round-trips");
    let zlib_bytes: usize = chunks.iter().map(Vec::len).sum();
    eprintln!(
        "codec: {INPUT} payload bytes in {} messages -> {zlib_bytes} bytes in {} zlib chunks, \
         {} bytes as msgpack only",
        msgs.len(),
        chunks.len(),
        packed.len()
    );

    let mut group = c.benchmark_group("codec");
    group.throughput(Throughput::Bytes(INPUT as u64));
    group.bench_function("encode_zlib", |b| {
        b.iter(|| encode_stream(black_box(&msgs)))
    });
    group.bench_function("decode_zlib", |b| {
        b.iter(|| decode_stream(black_box(&chunks)))
    });
    let mut out = Vec::with_capacity(packed.len());
    group.bench_function("encode_msgpack_only", |b| {
        b.iter(|| encode_msgpack(black_box(&msgs), &mut out))
    });
    group.bench_function("decode_msgpack_only", |b| {
        b.iter(|| decode_msgpack(black_box(&packed)))
    });
    group.finish();
}

/// Parse throughput of a 120x40 pane on three kinds of output: core::term (alacritty_terminal)
/// beside vt100 0.18, which it replaced.
fn term_parse(c: &mut Criterion) {
    let inputs = [
        ("plain", plain_text(INPUT)),
        ("sgr", sgr_text(INPUT)),
        ("redraw", redraw_text(INPUT)),
    ];
    let mut group = c.benchmark_group("term_parse");
    for (name, input) in &inputs {
        group.throughput(Throughput::Bytes(input.len() as u64));
        // One parser for all iterations: a pane's parser lives as long as the pane.
        let mut screen = pane_screen();
        group.bench_function(format!("core_term/{name}"), |b| {
            b.iter(|| screen.feed(black_box(input)))
        });
        let mut parser = vt100_parser();
        group.bench_function(format!("vt100/{name}"), |b| {
            b.iter(|| parser.process(black_box(input)))
        });
    }
    group.finish();
}

/// The bytes and time of one guest frame: full, after a one-line change, and unchanged.
fn guest_frame(c: &mut Criterion) {
    let size = Size::new(COLS, ROWS + 1);
    let theme = Theme::default_dark();
    let status = GuestStatus {
        session: "bench",
        access: Access::ReadWrite,
        locked: false,
        guests: 1,
        message: None,
    };
    let mut screen = pane_screen();
    screen.feed(&sgr_text(INPUT));
    let before = std::sync::Arc::new(screen.export(None));
    let mut line = b"\x1b[20;1H\x1b[2K".to_vec();
    styled_line(
        &mut Rng(0x853c_49e6_748f_ea9b),
        &mut line,
        usize::from(COLS),
    );
    screen.feed(&line);
    let after = std::sync::Arc::new(screen.export(Some(&before)));

    let mut renderer = GuestRenderer::new(size);
    let full = renderer.frame(&before, &status, &theme);
    let one_line = renderer.frame(&after, &status, &theme);
    let unchanged = renderer.frame(&after, &status, &theme);
    eprintln!(
        "guest_frame: full 120x40 frame {} bytes, one-line diff {} bytes, unchanged {} bytes",
        full.len(),
        one_line.len(),
        unchanged.len()
    );

    let mut group = c.benchmark_group("guest_frame");
    group.bench_function("full_120x40", |b| {
        b.iter(|| GuestRenderer::new(size).frame(black_box(&before), &status, &theme))
    });
    let mut flip = false;
    group.bench_function("one_line_changed", |b| {
        b.iter(|| {
            flip = !flip;
            let screen = if flip { &before } else { &after };
            renderer.frame(black_box(screen), &status, &theme)
        })
    });
    renderer.frame(&before, &status, &theme);
    group.bench_function("unchanged", |b| {
        b.iter(|| renderer.frame(black_box(&before), &status, &theme))
    });
    group.finish();
}

/// Modest settings, so the whole run stays near a minute on two cores.
fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
}

criterion_group! {
    name = benches;
    config = config();
    targets = codec, term_parse, guest_frame
}
criterion_main!(benches);
