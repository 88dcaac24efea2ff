//! Credential encryption at rest: XChaCha20-Poly1305 (AEAD) under a 32-byte master key.
//!
//! Stored form: `nonce (24 bytes) || ciphertext || tag (16 bytes)`, with the tenant id bound as
//! associated data so a ciphertext copied to another tenant's row does not decrypt (notification
//! channel configurations likewise, under their own domain and the channel id). Each row
//! also records the key's fingerprint ([`MasterKey::key_id`]) so a wrong key is reported as such
//! instead of as corruption.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::Error;

/// Environment variable holding the master key, base64 (standard alphabet) of 32 bytes.
pub const MASTER_KEY_ENV: &str = "MAMORI_MASTER_KEY";
/// Name of the key file created under the data directory when the variable is not set.
pub const MASTER_KEY_FILE: &str = "master.key";

const NONCE_LEN: usize = 24;

/// The 32-byte key that encrypts tenant credentials. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey({})", self.key_id())
    }
}

impl MasterKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Self {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&key);
        MasterKey(bytes)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        MasterKey(bytes)
    }

    /// Parses base64 (standard alphabet, padding optional) of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .map_err(|_| Error::MasterKey("the master key is not valid base64".into()))?;
        let bytes: [u8; 32] = decoded.try_into().map_err(|v: Vec<u8>| {
            Error::MasterKey(format!("the master key must be 32 bytes, got {}", v.len()))
        })?;
        Ok(MasterKey(bytes))
    }

    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    /// `MAMORI_MASTER_KEY` when set, else the key file `DATA_DIR/master.key`, created with
    /// mode 0600 (and the directory with 0700) on first use.
    pub fn from_env_or_file(data_dir: &Path) -> Result<Self, Error> {
        match std::env::var(MASTER_KEY_ENV) {
            Ok(value) if !value.trim().is_empty() => {
                Self::from_base64(&value).map_err(|e| prefixed(MASTER_KEY_ENV, e))
            }
            _ => Self::load_or_create_file(&data_dir.join(MASTER_KEY_FILE)),
        }
    }

    /// Reads the key file, or creates it with a new random key (mode 0600) when it is missing.
    /// A key file readable by group or others is refused.
    pub fn load_or_create_file(path: &Path) -> Result<Self, Error> {
        let io = |what: &str, e: std::io::Error| {
            Error::MasterKey(format!("{what} {}: {e}", path.display()))
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                check_private(path)?;
                Self::from_base64(&text).map_err(|e| prefixed(&path.display().to_string(), e))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    create_private_dir(dir).map_err(|e| io("cannot create directory for", e))?;
                }
                let key = Self::generate();
                let mut file = match open_private_new(path) {
                    Ok(file) => file,
                    // Another process created it between our read and create: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        return Self::load_or_create_file(path)
                    }
                    Err(e) => return Err(io("cannot create key file", e)),
                };
                file.write_all(format!("{}\n", key.to_base64()).as_bytes())
                    .and_then(|_| file.sync_all())
                    .map_err(|e| io("cannot write key file", e))?;
                tracing::info!(path = %path.display(), key_id = %key.key_id(), "created master key file");
                Ok(key)
            }
            Err(e) => Err(io("cannot read key file", e)),
        }
    }

    /// A fingerprint that names the key without revealing it: the first 8 bytes of
    /// SHA-256("mamori master key id" || key), in hex.
    pub fn key_id(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"mamori master key id\0");
        h.update(self.0);
        h.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }

    pub(crate) fn encrypt(&self, tenant_id: i64, plaintext: &[u8]) -> Vec<u8> {
        self.seal(&aad(tenant_id), plaintext)
    }

    /// `None` when the ciphertext does not authenticate under this key.
    pub(crate) fn decrypt(&self, tenant_id: i64, stored: &[u8]) -> Option<Vec<u8>> {
        self.open(&aad(tenant_id), stored)
    }

    /// Encrypts with `aad` bound as associated data: `nonce || ciphertext || tag`.
    pub(crate) fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ct = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("XChaCha20-Poly1305 encryption does not fail for in-memory buffers");
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// `None` when the ciphertext does not authenticate under this key and `aad`.
    pub(crate) fn open(&self, aad: &[u8], stored: &[u8]) -> Option<Vec<u8>> {
        if stored.len() < NONCE_LEN + 16 {
            return None;
        }
        let (nonce, ct) = stored.split_at(NONCE_LEN);
        self.cipher()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
            .ok()
    }
}

fn prefixed(source: &str, e: Error) -> Error {
    match e {
        Error::MasterKey(m) => Error::MasterKey(format!("{source}: {m}")),
        other => other,
    }
}

fn aad(tenant_id: i64) -> Vec<u8> {
    format!("mamori tenant credentials v1; tenant {tenant_id}").into_bytes()
}

/// Associated data of a notification channel's configuration: its own domain, so neither a
/// tenant's ciphertext nor another channel's decrypts as this channel's.
pub(crate) fn channel_aad(channel_id: i64) -> Vec<u8> {
    format!("mamori notification channel config v1; channel {channel_id}").into_bytes()
}

/// Decrypted tenant credentials (the connector's credentials file, as bytes). `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials(pub Vec<u8>);

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials(<{} bytes redacted>)", self.0.len())
    }
}

impl Credentials {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(unix)]
fn open_private_new(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private_new(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| Error::MasterKey(format!("{}: {e}", path.display())))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(Error::MasterKey(format!(
            "key file {} is accessible by group or others (mode {:o}); run chmod 600 on it",
            path.display(),
            mode & 0o777
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), Error> {
    Ok(())
}

/// Default key file path for a data directory.
pub fn key_file_path(data_dir: &Path) -> PathBuf {
    data_dir.join(MASTER_KEY_FILE)
}
