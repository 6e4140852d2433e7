//! The relay survives garbage and half-finished handshakes, and still serves a real guest.

mod common;

use common::env::{TestEnv, WAIT, wait_prompt};
use common::guest::GuestOptions;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What one hostile connection does, chosen by its number.
async fn misbehave(port: u16, n: u32) {
    let Ok(Ok(mut s)) = tokio::time::timeout(
        Duration::from_secs(5),
        TcpStream::connect(("127.0.0.1", port)),
    )
    .await
    else {
        return;
    };
    let mut junk = vec![0u8; 64 + (n as usize % 512)];
    getrandom::fill(&mut junk).expect("random");
    let _ = match n % 5 {
        // Random bytes straight away.
        0 => s.write_all(&junk).await,
        // A valid banner, then random bytes where the key exchange should be.
        1 => {
            let _ = s.write_all(b"SSH-2.0-OpenSSH_9.2\r\n").await;
            s.write_all(&junk).await
        }
        // A valid banner, then drop mid-handshake.
        2 => s.write_all(b"SSH-2.0-OpenSSH_9.2\r\n").await,
        // Half a banner.
        3 => s.write_all(b"SSH-2.").await,
        // Connect and say nothing.
        _ => Ok(()),
    };
    // Read a little of what the relay says, bounded, then drop the connection.
    let mut buf = [0u8; 256];
    let _ = tokio::time::timeout(Duration::from_millis(20), s.read(&mut buf)).await;
}

#[test]
fn a_thousand_hostile_connections_do_not_stop_a_real_guest() {
    let env = TestEnv::bash();
    let port = env.port;
    let started = Instant::now();
    env.rt.block_on(async move {
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..1000u32 {
            // At most 50 at a time.
            if tasks.len() >= 50 {
                tasks.join_next().await;
            }
            tasks.spawn(misbehave(port, n));
        }
        while tasks.join_next().await.is_some() {}
    });
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    let g = env.guest(&env.rw(), GuestOptions::default());
    wait_prompt(&g);
    g.type_str("echo still-$((40+2))\r");
    g.wait_for_text("still-42", WAIT)
        .expect("and its keys still work");
}

/// Logs in to the relay as a host, sends one raw chunk body, and returns the reason of the
/// relay's Reject, which must be all it sends before it closes the connection.
async fn host_chunk_reason(port: u16, body: Vec<u8>) -> anyhow::Result<String> {
    use cotty::net::proto::{HOST_USER, RelayMsg, UPLINK_SUBSYSTEM};
    struct Any;
    impl russh::client::Handler for Any {
        type Error = anyhow::Error;
        async fn check_server_key(
            &mut self,
            _k: &russh::keys::PublicKeyOrCertificate,
        ) -> anyhow::Result<bool> {
            Ok(true)
        }
    }
    let cfg = std::sync::Arc::new(russh::client::Config::default());
    let mut h = russh::client::connect(cfg, ("127.0.0.1", port), Any).await?;
    h.authenticate_none(HOST_USER).await?;
    let ch = h.channel_open_session().await?;
    ch.request_subsystem(true, UPLINK_SUBSYSTEM).await?;
    let mut stream = ch.into_stream();
    stream.write_all(&(body.len() as u32).to_be_bytes()).await?;
    stream.write_all(&body).await?;
    let mut said = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut said)).await??;
    let mut reader = cotty::net::codec::FrameReader::new(&said[..]);
    match reader.next::<RelayMsg>().await?.as_deref() {
        Some([RelayMsg::Reject { reason, .. }]) => Ok(reason.clone()),
        other => anyhow::bail!("expected one Reject, got {other:?}"),
    }
}

/// `len` zeros, deflated and flushed.
fn zeros(len: usize) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut z, &vec![0u8; len]).expect("deflate");
    std::io::Write::flush(&mut z).expect("flush");
    z.get_ref().clone()
}

#[test]
fn a_hostile_host_frame_ends_only_its_own_connection() {
    let env = TestEnv::bash();
    let port = env.port;
    // A chunk that inflates past the limit: the relay says so and ends only that connection.
    let reason = env.rt.block_on(host_chunk_reason(port, zeros(32 << 20)));
    let reason = reason.expect("the bomb ends its connection with a reason");
    assert!(
        reason.contains("limit"),
        "the reason names the limit: {reason}"
    );
    // The relay and the real session carry on.
    let g = env.guest(&env.rw(), GuestOptions::default());
    wait_prompt(&g);
}
