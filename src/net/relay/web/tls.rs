//! HTTPS on the relay's port: the certificate and key of `--tls-cert` / `--tls-key`, read
//! once at start-up into a rustls acceptor (ring, no aws-lc build), offering HTTP/1.1 only.
//!
//! Browsers refuse a websocket to `ws://` from an `https://` page and warn about an `http://`
//! page, so a relay on the open internet either has its own certificate here or sits behind
//! a TLS proxy (`--public-url`, `--trust-proxy`).

use anyhow::{Context, Result, anyhow, bail};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The PEM files of `--tls-cert` and `--tls-key`, which come as a pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first (certbot's `fullchain.pem`).
    pub cert: PathBuf,
    /// The certificate's private key (certbot's `privkey.pem`).
    pub key: PathBuf,
}

/// What to say about a certificate file that cannot be used.
const CERT_HINT: &str = "give --tls-cert a PEM file with the certificate chain, leaf first \
     (certbot's fullchain.pem)";
/// What to say about a key file that cannot be used.
const KEY_HINT: &str = "give --tls-key the PEM file of the certificate's private key \
     (certbot's privkey.pem)";

impl TlsFiles {
    /// Reads both files and builds the acceptor. Every error names the file, its flag and
    /// what to give instead.
    pub fn acceptor(&self) -> Result<TlsAcceptor> {
        let certs = read_certs(&self.cert)?;
        let key = read_key(&self.key)?;
        let provider = Arc::new(ring::default_provider());
        let mut cfg = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("invariant: ring supports the default TLS versions")?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .with_context(|| {
                format!(
                    "the TLS key {} does not fit the certificate {}; pass the key that belongs \
                     to the certificate (--tls-key, --tls-cert)",
                    self.key.display(),
                    self.cert.display()
                )
            })?;
        // The web is HTTP/1.1 only: websockets upgrade over it, and one protocol is less to
        // defend.
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(cfg)))
    }
}

/// Reads a file for `--tls-cert` / `--tls-key`, naming it and the flag on failure.
fn read(path: &Path, flag: &str) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| {
        format!(
            "failed to read the TLS file {} ({flag}); check the path and that this user may read it",
            path.display()
        )
    })
}

/// The certificates of a PEM file, leaf first.
fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let pem = read(path, "--tls-cert")?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            anyhow!(
                "the TLS certificate {} is not valid PEM ({e}); {CERT_HINT}",
                path.display()
            )
        })?;
    if certs.is_empty() {
        bail!(
            "the TLS certificate {} holds no certificate; {CERT_HINT}",
            path.display()
        );
    }
    Ok(certs)
}

/// The private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    let pem = read(path, "--tls-key")?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        anyhow!(
            "the TLS key {} holds no usable private key ({e}); {KEY_HINT}",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path, cert: &str, key: &str) -> TlsFiles {
        let files = TlsFiles {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::write(&files.cert, cert).expect("write");
        std::fs::write(&files.key, key).expect("write");
        files
    }

    fn err(files: &TlsFiles) -> String {
        match files.acceptor() {
            Ok(_) => panic!("bad files were accepted"),
            Err(e) => format!("{e:#}"),
        }
    }

    #[test]
    fn a_missing_file_is_named_with_its_flag() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = TlsFiles {
            cert: dir.path().join("none.pem"),
            key: dir.path().join("key.pem"),
        };
        let e = err(&f);
        assert!(e.contains("none.pem") && e.contains("--tls-cert"), "{e}");
    }

    #[test]
    fn files_without_pem_say_what_to_give() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = files(dir.path(), "not a certificate\n", "");
        let e = err(&f);
        assert!(e.contains("cert.pem") && e.contains("fullchain.pem"), "{e}");
        let cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let f = files(dir.path(), cert, "nothing here\n");
        let e = err(&f);
        assert!(e.contains("key.pem") && e.contains("--tls-key"), "{e}");
    }
}
