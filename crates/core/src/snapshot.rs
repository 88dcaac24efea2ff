//! Reading provider exports and snapshots from disk: plain or gzip JSON, streamed, with a size
//! limit on the decompressed bytes so a hostile file cannot exhaust memory.

use serde::de::DeserializeOwned;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use thiserror::Error;

/// Default ceiling on the decompressed size of one input (1 GiB). A ScubaGear export of a very
/// large tenant is a few hundred MB; anything beyond this is refused rather than parsed.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 1 << 30;

/// Which schema an input follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// ScubaGear `ProviderSettingsExport.json` (Microsoft 365).
    Scubagear,
    /// ScubaGoggles provider output (Google Workspace).
    Scubagoggles,
    /// Mamori's own snapshot envelope.
    Mamori,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Scubagear => "scubagear",
            SourceKind::Scubagoggles => "scubagoggles",
            SourceKind::Mamori => "mamori",
        }
    }
}

impl FromStr for SourceKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "scubagear" => Ok(SourceKind::Scubagear),
            "scubagoggles" => Ok(SourceKind::Scubagoggles),
            "mamori" => Ok(SourceKind::Mamori),
            other => Err(format!(
                "unknown source {other:?} (expected scubagear, scubagoggles or mamori)"
            )),
        }
    }
}

#[derive(Debug, Error)]
pub enum SnapshotError {
    #[error("{path}: cannot open: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("{path}: input is larger than the limit of {limit} bytes (decompressed); raise it with --max-input-size")]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{path}: the gzip stream is corrupt or truncated: {source}")]
    Gzip { path: PathBuf, source: io::Error },
    #[error("{path}: cannot read: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path}: file is empty")]
    Empty { path: PathBuf },
    #[error("{path}: not valid JSON: {message}")]
    Json { path: PathBuf, message: String },
    #[error("{path}: wrong shape: {message}")]
    Shape { path: PathBuf, message: String },
}

/// Marks an I/O error raised by [`LimitedReader`] so it can be told apart from a real one.
#[derive(Debug)]
struct LimitExceeded;
impl std::fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("input size limit exceeded")
    }
}
impl std::error::Error for LimitExceeded {}

/// Marks an I/O error raised while inflating gzip.
#[derive(Debug)]
struct GzipFailure(io::Error);
impl std::fmt::Display for GzipFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
impl std::error::Error for GzipFailure {}

struct LimitedReader<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> Read for LimitedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            // Probe for one more byte: exactly-at-limit inputs are fine.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(LimitExceeded)),
            };
        }
        let max = buf
            .len()
            .min(self.remaining.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..max])?;
        self.remaining -= n as u64;
        Ok(n)
    }
}

struct GzipTagged<R>(R);
impl<R: Read> Read for GzipTagged<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0
            .read(buf)
            .map_err(|e| io::Error::new(e.kind(), GzipFailure(e)))
    }
}

/// Opens `path` for streaming: gzip is recognised by its magic bytes, not the file name.
pub fn open(path: &Path, max_bytes: u64) -> Result<Box<dyn Read>, SnapshotError> {
    let file = File::open(path).map_err(|source| SnapshotError::Open {
        path: path.to_owned(),
        source,
    })?;
    open_reader(path, BufReader::with_capacity(256 * 1024, file), max_bytes)
}

/// Like [`open`], on any reader; `path` only names the input in errors.
pub fn open_reader(
    path: &Path,
    mut reader: impl Read + 'static,
    max_bytes: u64,
) -> Result<Box<dyn Read>, SnapshotError> {
    let mut magic = [0u8; 2];
    let n = read_prefix(&mut reader, &mut magic).map_err(|source| SnapshotError::Read {
        path: path.to_owned(),
        source,
    })?;
    if n == 0 {
        return Err(SnapshotError::Empty {
            path: path.to_owned(),
        });
    }
    let prefix = io::Cursor::new(magic[..n].to_vec());
    let chained = prefix.chain(reader);
    let inner: Box<dyn Read> = if n == 2 && magic == [0x1f, 0x8b] {
        Box::new(GzipTagged(flate2::read::MultiGzDecoder::new(chained)))
    } else {
        Box::new(chained)
    };
    Ok(Box::new(LimitedReader {
        inner,
        remaining: max_bytes,
    }))
}

fn read_prefix(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Streams and parses one JSON document from `path` (plain or gzip) into `T`.
pub fn load<T: DeserializeOwned>(path: &Path, max_bytes: u64) -> Result<T, SnapshotError> {
    let reader = open(path, max_bytes)?;
    parse(path, reader, max_bytes)
}

/// Streams and parses one JSON document (plain or gzip) from bytes in memory.
pub fn load_bytes<T: DeserializeOwned>(
    name: &Path,
    bytes: Vec<u8>,
    max_bytes: u64,
) -> Result<T, SnapshotError> {
    let reader = open_reader(name, io::Cursor::new(bytes), max_bytes)?;
    parse(name, reader, max_bytes)
}

/// Parses an already opened reader; errors name `path`.
pub fn parse<T: DeserializeOwned>(
    path: &Path,
    reader: impl Read,
    max_bytes: u64,
) -> Result<T, SnapshotError> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let value = T::deserialize(&mut de).and_then(|v| de.end().map(|_| v));
    value.map_err(|e| classify(path, e, max_bytes))
}

fn classify(path: &Path, err: serde_json::Error, limit: u64) -> SnapshotError {
    let path = path.to_owned();
    if err.is_io() {
        let io_err: io::Error = err.into();
        if let Some(inner) = io_err.get_ref() {
            if inner.is::<LimitExceeded>() {
                return SnapshotError::TooLarge { path, limit };
            }
            if let Some(gz) = inner.downcast_ref::<GzipFailure>() {
                return SnapshotError::Gzip {
                    path,
                    source: io::Error::new(gz.0.kind(), gz.0.to_string()),
                };
            }
        }
        return SnapshotError::Read {
            path,
            source: io_err,
        };
    }
    let message = if err.is_eof() {
        format!(
            "the document ends early (truncated?) at line {}, column {}",
            err.line(),
            err.column()
        )
    } else {
        err.to_string()
    };
    if err.is_data() {
        SnapshotError::Shape { path, message }
    } else {
        SnapshotError::Json { path, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn reads_plain_and_gzip_alike() {
        let doc = br#"{"a": [1, 2, 3]}"#;
        let plain: serde_json::Value = load(write(doc).path(), 1024).unwrap();
        let zipped: serde_json::Value = load(write(&gz(doc)).path(), 1024).unwrap();
        assert_eq!(plain, zipped);
        assert_eq!(plain["a"][2], 3);
    }

    #[test]
    fn refuses_inputs_over_the_limit() {
        let doc = format!("[{}]", "1,".repeat(1000) + "1");
        let err = load::<serde_json::Value>(write(doc.as_bytes()).path(), 100).unwrap_err();
        assert!(
            matches!(err, SnapshotError::TooLarge { limit: 100, .. }),
            "{err}"
        );
        let err = load::<serde_json::Value>(write(&gz(doc.as_bytes())).path(), 100).unwrap_err();
        assert!(matches!(err, SnapshotError::TooLarge { .. }), "{err}");
        // Exactly at the limit is accepted.
        let ok: serde_json::Value = load(write(b"[1]").path(), 3).unwrap();
        assert_eq!(ok, serde_json::json!([1]));
    }

    #[test]
    fn names_each_kind_of_bad_input() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"".to_vec(), "file is empty"),
            (b"not json".to_vec(), "not valid JSON"),
            (br#"{"a": [1, 2"#.to_vec(), "ends early"),
            (b"{\"a\": \"\xff\xfe\"}".to_vec(), "not valid JSON"),
            (
                gz(br#"{"a": 1}"#)[..12].to_vec(),
                "gzip stream is corrupt or truncated",
            ),
            (br#"{"a": 1} trailing"#.to_vec(), "not valid JSON"),
        ];
        for (bytes, expected) in cases {
            let f = write(&bytes);
            let err = load::<serde_json::Value>(f.path(), 1 << 20).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains(expected),
                "{text:?} should contain {expected:?}"
            );
            assert!(text.starts_with(&f.path().display().to_string()), "{text}");
            assert!(!text.contains('\n'), "one line: {text}");
        }
    }

    #[test]
    fn missing_file_is_an_open_error() {
        let err = load::<serde_json::Value>(Path::new("/nonexistent/x.json"), 10).unwrap_err();
        assert!(matches!(err, SnapshotError::Open { .. }));
    }
}
