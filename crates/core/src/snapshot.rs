//! The snapshot — Mamori's central piece of data: one tenant's configuration as collected, in
//! its provider schema, with the record of every section the collector could or could not read.
//!
//! [`Snapshot`] is the one type for it, used by the connectors (which build it), the CLI (which
//! reads and writes it), the worker and the store. Files are read here too, once, into memory,
//! plain or gzip, with a limit on the decompressed size so a hostile file cannot exhaust memory.

use crate::json_scan::{self, Member};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Write};
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
    #[error("{path}: unsupported mamori_snapshot version {found} (this build reads version {FORMAT_VERSION})")]
    Version { path: PathBuf, found: String },
    #[error("{path}: cannot write: {source}")]
    Write { path: PathBuf, source: io::Error },
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

/// Reads the whole decompressed content of `path` (plain or gzip) into memory, refusing more
/// than `max_bytes`. Parsing from memory is several times faster than from a reader.
pub fn read_bytes(path: &Path, max_bytes: u64) -> Result<Vec<u8>, SnapshotError> {
    let mut reader = open(path, max_bytes)?;
    // A plain file's size is known: read it in one allocation instead of doubling (which would
    // briefly hold the document twice). A gzip file grows from there.
    let hint = std::fs::metadata(path).map_or(0, |m| m.len().min(max_bytes));
    let mut bytes = Vec::with_capacity(hint as usize + 1);
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| classify_io(path, e, max_bytes))?;
    Ok(bytes)
}

/// Reads and parses one JSON document from `path` (plain or gzip) into `T`.
pub fn load<T: DeserializeOwned>(path: &Path, max_bytes: u64) -> Result<T, SnapshotError> {
    let bytes = read_bytes(path, max_bytes)?;
    from_slice(path, &bytes, max_bytes)
}

/// Parses one JSON document (plain or gzip) from bytes in memory.
pub fn load_bytes<T: DeserializeOwned>(
    name: &Path,
    bytes: Vec<u8>,
    max_bytes: u64,
) -> Result<T, SnapshotError> {
    let mut reader = open_reader(name, io::Cursor::new(bytes), max_bytes)?;
    let mut plain = Vec::new();
    reader
        .read_to_end(&mut plain)
        .map_err(|e| classify_io(name, e, max_bytes))?;
    from_slice(name, &plain, max_bytes)
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

fn from_slice<T: DeserializeOwned>(
    path: &Path,
    bytes: &[u8],
    max_bytes: u64,
) -> Result<T, SnapshotError> {
    serde_json::from_slice(bytes).map_err(|e| classify(path, e, max_bytes))
}

fn classify_io(path: &Path, err: io::Error, limit: u64) -> SnapshotError {
    classify(path, serde_json::Error::io(err), limit)
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

/// The envelope version this build writes and reads (`"mamori_snapshot": 1`).
pub const FORMAT_VERSION: u64 = 1;

/// The data section that carries the collection record, where the engine reads it to explain
/// an `error`.
pub const COLLECTION_SECTION: &str = "mamori_collection";

crate::text_enum! {
    /// Whether a collector could read a section.
    pub enum SectionStatus("section status") {
        Ok = "ok",
        Failed = "failed",
    }
}

/// What happened to one section during collection. A failed section is absent from the data —
/// never an empty list — so every control that reads it reports `error` with this reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionRecord {
    pub status: SectionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// The permission (Graph application permission, OAuth scope, admin role) the section needs.
    #[serde(default)]
    pub permission: String,
}

impl SectionRecord {
    pub fn ok(permission: &str) -> Self {
        SectionRecord {
            status: SectionStatus::Ok,
            reason: None,
            http_status: None,
            permission: permission.to_string(),
        }
    }

    pub fn failed(permission: &str, reason: String, http_status: Option<u16>) -> Self {
        SectionRecord {
            status: SectionStatus::Failed,
            reason: Some(reason),
            http_status,
            permission: permission.to_string(),
        }
    }
}

/// One tenant's configuration at one time (docs/schemas/mamori-snapshot.md).
///
/// The provider export is kept as JSON text: it is parsed once, straight into whatever reads it
/// (the policy engine's value, a drift comparison), and written back without a copy through
/// `serde_json::Value`.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The schema of the data: `scubagear` (Microsoft 365) or `scubagoggles` (Google Workspace).
    pub schema: SourceKind,
    /// What results from this snapshot are called: the file it was read from, else the tenant.
    pub name: String,
    /// The tenant for people (primary domain); empty for a bare provider export.
    pub tenant: String,
    /// RFC 3339 UTC, when collected by Mamori.
    pub collected_at: Option<String>,
    pub collector: Option<String>,
    /// Requests, retries and throttling per section, when collected by Mamori.
    pub requests: Value,
    /// The collection record of each section (empty for an export from another tool).
    pub sections: BTreeMap<String, SectionRecord>,
    /// Whether this came wrapped in the Mamori envelope or as a bare provider export.
    pub enveloped: bool,
    /// The provider export (the `data` object) as JSON text. Its structure was checked when it
    /// was read; each value's tokens are checked by whoever parses it (the engine).
    data: Text,
    /// Where each top-level section lies in `data`, in document order.
    members: Vec<Member>,
}

/// A snapshot's text: owned, or a large plain file mapped into memory, so its bytes are neither
/// copied nor zero-filled (they come straight from the page cache).
enum Text {
    Owned(String),
    Mapped(memmap2::Mmap),
}

/// Plain files at least this large are mapped rather than read.
const MAP_AT_BYTES: u64 = 16 << 20;

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Text::Owned(s) => s,
            // SAFETY: the mapping was checked to be UTF-8 when it was made (`Snapshot::read`),
            // and it is a private read-only map. As with every memory map (ripgrep documents the
            // same), a file truncated or rewritten by another process while it is being read is
            // outside this guarantee.
            Text::Mapped(m) => unsafe { std::str::from_utf8_unchecked(m) },
        }
    }
}

impl Clone for Text {
    fn clone(&self) -> Self {
        Text::Owned(self.to_string())
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Text({} bytes)", self.len())
    }
}

impl Snapshot {
    /// A snapshot of freshly collected data. The collection record is also written into the
    /// data as `mamori_collection`, where the packs read it.
    pub fn collected(
        schema: SourceKind,
        tenant: &str,
        collected_at: &str,
        mut data: Map<String, Value>,
        sections: BTreeMap<String, SectionRecord>,
        requests: Value,
    ) -> Snapshot {
        data.insert(
            COLLECTION_SECTION.to_string(),
            serde_json::to_value(&sections).unwrap_or(Value::Null),
        );
        let data = serde_json::to_string(&data).expect("a JSON map always serializes");
        let members =
            json_scan::object_members(data.as_bytes()).expect("serde_json writes well-formed JSON");
        Snapshot {
            schema,
            name: tenant.to_string(),
            tenant: tenant.to_string(),
            collected_at: Some(collected_at.to_string()),
            collector: Some(concat!("mamori ", env!("CARGO_PKG_VERSION")).to_string()),
            requests,
            sections,
            enveloped: true,
            data: Text::Owned(data),
            members,
        }
    }

    /// Reads `path` (plain or gzip, at most `max_bytes` decompressed) as `from`: a bare
    /// provider export (`scubagear`, `scubagoggles`) or a Mamori snapshot (`mamori`).
    pub fn read(path: &Path, from: SourceKind, max_bytes: u64) -> Result<Snapshot, SnapshotError> {
        if let Some(map) = map_plain_file(path, max_bytes)? {
            let text = match std::str::from_utf8(&map) {
                Ok(_) => Text::Mapped(map),
                Err(e) => return Err(invalid_utf8(path, &map, e)),
            };
            return Snapshot::from_text(path, text, from);
        }
        let bytes = read_bytes(path, max_bytes)?;
        Snapshot::from_vec(path, bytes, from)
    }

    /// Like [`Snapshot::read`], on decompressed bytes in memory; `path` names them in errors.
    pub fn from_slice(
        path: &Path,
        bytes: &[u8],
        from: SourceKind,
    ) -> Result<Snapshot, SnapshotError> {
        Snapshot::from_vec(path, bytes.to_vec(), from)
    }

    /// Like [`Snapshot::from_slice`], keeping `bytes` as the snapshot's text without a copy (a
    /// bare provider export is its own data).
    pub fn from_vec(
        path: &Path,
        bytes: Vec<u8>,
        from: SourceKind,
    ) -> Result<Snapshot, SnapshotError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(SnapshotError::Empty {
                path: path.to_owned(),
            });
        }
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => return Err(invalid_utf8(path, e.as_bytes(), e.utf8_error())),
        };
        Snapshot::from_text(path, Text::Owned(text), from)
    }

    fn from_text(path: &Path, text: Text, from: SourceKind) -> Result<Snapshot, SnapshotError> {
        let name = path.display().to_string();
        let shape = |message: &str| SnapshotError::Shape {
            path: path.to_owned(),
            message: message.to_string(),
        };
        if text.bytes().all(|b| b.is_ascii_whitespace()) {
            return Err(SnapshotError::Empty {
                path: path.to_owned(),
            });
        }
        let top = top_level_members(path, &text)?;
        match from {
            SourceKind::Mamori => {
                let field = |key: &str| top.iter().rev().find(|m| m.key == key);
                let parse = |key: &str| -> Result<Option<Value>, SnapshotError> {
                    field(key)
                        .map(|m| {
                            serde_json::from_str::<Value>(&text[m.value.clone()]).map_err(|e| {
                                SnapshotError::Json {
                                    path: path.to_owned(),
                                    message: format!("{key}: {e}"),
                                }
                            })
                        })
                        .transpose()
                };
                let string = |key: &str| -> Result<Option<String>, SnapshotError> {
                    match parse(key)? {
                        None | Some(Value::Null) => Ok(None),
                        Some(Value::String(s)) => Ok(Some(s)),
                        Some(_) => Err(shape(&format!("\"{key}\" must be a string"))),
                    }
                };
                match parse("mamori_snapshot")? {
                    Some(Value::Number(n)) if n.as_u64() == Some(FORMAT_VERSION) => {}
                    Some(other) => {
                        return Err(SnapshotError::Version {
                            path: path.to_owned(),
                            found: other.to_string(),
                        })
                    }
                    None => {
                        return Err(shape("not a Mamori snapshot (no \"mamori_snapshot\" key)"))
                    }
                }
                let schema = match parse("schema")? {
                    Some(Value::String(s)) => match s.parse::<SourceKind>() {
                        Ok(SourceKind::Mamori) | Err(_) => {
                            return Err(shape(&format!(
                                "\"schema\" must be scubagear or scubagoggles, not {s:?}"
                            )))
                        }
                        Ok(kind) => kind,
                    },
                    _ => return Err(shape("a Mamori snapshot needs a \"schema\" string")),
                };
                let data = match field("data") {
                    Some(m) if text.as_bytes()[m.value.start] == b'{' => {
                        Text::Owned(text[m.value.clone()].to_string())
                    }
                    _ => return Err(shape("a Mamori snapshot needs a \"data\" object")),
                };
                let members = top_level_members(path, &data)?;
                let sections = collection_record(path, &data, &members)?;
                Ok(Snapshot {
                    schema,
                    name,
                    tenant: string("tenant")?.unwrap_or_default(),
                    collected_at: string("collected_at")?,
                    collector: string("collector")?,
                    requests: parse("requests")?.unwrap_or(Value::Null),
                    sections,
                    enveloped: true,
                    data,
                    members,
                })
            }
            schema => {
                let sections = collection_record(path, &text, &top)?;
                Ok(Snapshot {
                    schema,
                    name,
                    tenant: String::new(),
                    collected_at: None,
                    collector: None,
                    requests: Value::Null,
                    sections,
                    enveloped: false,
                    data: text,
                    members: top,
                })
            }
        }
    }

    /// The top-level sections of the data with the byte range of each value in
    /// [`Snapshot::data_json`], in document order (a repeated key: the last one counts).
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// The JSON text of one top-level section of the data, if present.
    pub fn section_json(&self, key: &str) -> Option<&str> {
        self.members
            .iter()
            .rev()
            .find(|m| m.key == key)
            .map(|m| &self.data[m.value.clone()])
    }

    /// The provider export (with `mamori_collection` when collected by Mamori), as JSON text.
    pub fn data_json(&self) -> &str {
        &self.data
    }

    /// The provider export parsed into `T` (the engine's value, a `serde_json::Value`, …).
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.data)
    }

    /// Sections the collector could not read, with their records.
    pub fn failed_sections(&self) -> impl Iterator<Item = (&String, &SectionRecord)> {
        self.sections
            .iter()
            .filter(|(_, r)| r.status != SectionStatus::Ok)
    }

    /// The envelope as JSON bytes (a bare provider export stays bare).
    pub fn to_json(&self) -> Vec<u8> {
        if !self.enveloped {
            return self.data.as_bytes().to_vec();
        }
        #[derive(Serialize)]
        struct Head<'a> {
            mamori_snapshot: u64,
            schema: &'a str,
            tenant: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            collected_at: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            collector: Option<&'a str>,
            requests: &'a Value,
        }
        let mut out = serde_json::to_vec(&Head {
            mamori_snapshot: FORMAT_VERSION,
            schema: self.schema.as_str(),
            tenant: &self.tenant,
            collected_at: self.collected_at.as_deref(),
            collector: self.collector.as_deref(),
            requests: &self.requests,
        })
        .expect("a snapshot always serializes");
        // The data is already JSON text: splice it in rather than parse and re-serialize it.
        out.pop(); // the closing brace
        out.reserve(self.data.len() + 9);
        out.extend_from_slice(b",\"data\":");
        out.extend_from_slice(self.data.as_bytes());
        out.push(b'}');
        out
    }

    /// The bytes of [`Snapshot::to_json`], gzip-compressed when `path` ends in `.gz`.
    pub fn to_file_bytes(&self, path: &Path) -> Result<Vec<u8>, SnapshotError> {
        let json = self.to_json();
        if path.extension().is_some_and(|e| e == "gz") {
            let werr = |source| SnapshotError::Write {
                path: path.to_owned(),
                source,
            };
            let mut gz = flate2::write::GzEncoder::new(
                Vec::with_capacity(json.len() / 8),
                flate2::Compression::default(),
            );
            gz.write_all(&json).map_err(werr)?;
            gz.finish().map_err(werr)
        } else {
            Ok(json)
        }
    }

    /// Writes the snapshot to `path` atomically (gzip when it ends in `.gz`).
    pub fn write(&self, path: &Path) -> Result<(), SnapshotError> {
        write_atomically(path, &self.to_file_bytes(path)?)
    }
}

/// The top-level members of `text`, which must be a JSON object.
fn top_level_members(path: &Path, text: &str) -> Result<Vec<Member>, SnapshotError> {
    let first = text.bytes().find(|b| !b.is_ascii_whitespace());
    if first != Some(b'{') {
        // Valid JSON of another kind is a shape problem; anything else is not JSON at all.
        return Err(match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => SnapshotError::Shape {
                path: path.to_owned(),
                message: "a provider export is a JSON object of sections, this is not an object"
                    .to_string(),
            },
            Err(e) => classify(path, e, u64::MAX),
        });
    }
    json_scan::object_members(text.as_bytes()).map_err(|e| SnapshotError::Json {
        path: path.to_owned(),
        message: if e.eof {
            format!(
                "the document ends early (truncated?) at line {}, column {}",
                e.line, e.column
            )
        } else {
            e.to_string()
        },
    })
}

fn invalid_utf8(path: &Path, bytes: &[u8], e: std::str::Utf8Error) -> SnapshotError {
    let (line, column) = json_scan::line_column(bytes, e.valid_up_to());
    SnapshotError::Json {
        path: path.to_owned(),
        message: format!("invalid UTF-8 at line {line}, column {column}"),
    }
}

/// A large plain (not gzip) file, mapped; `None` for a small or compressed one, which is read.
fn map_plain_file(path: &Path, max_bytes: u64) -> Result<Option<memmap2::Mmap>, SnapshotError> {
    let open_err = |source| SnapshotError::Open {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(open_err)?;
    let meta = file.metadata().map_err(open_err)?;
    if !meta.is_file() || meta.len() < MAP_AT_BYTES {
        return Ok(None);
    }
    let mut magic = [0u8; 2];
    let n = read_prefix(&mut (&file), &mut magic).map_err(|source| SnapshotError::Read {
        path: path.to_owned(),
        source,
    })?;
    if n == 2 && magic == [0x1f, 0x8b] {
        return Ok(None);
    }
    if meta.len() > max_bytes {
        return Err(SnapshotError::TooLarge {
            path: path.to_owned(),
            limit: max_bytes,
        });
    }
    // SAFETY: a read-only private map of a regular file; see `Text::deref` for the caveat
    // every memory map has (another process truncating the file while it is read).
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|source| SnapshotError::Read {
        path: path.to_owned(),
        source,
    })?;
    Ok(Some(map))
}

fn collection_record(
    path: &Path,
    text: &str,
    members: &[Member],
) -> Result<BTreeMap<String, SectionRecord>, SnapshotError> {
    let Some(member) = members.iter().rev().find(|m| m.key == COLLECTION_SECTION) else {
        return Ok(BTreeMap::new());
    };
    let record: Option<BTreeMap<String, SectionRecord>> =
        serde_json::from_str(&text[member.value.clone()]).map_err(|e| SnapshotError::Shape {
            path: path.to_owned(),
            message: format!("{COLLECTION_SECTION}: {e}"),
        })?;
    Ok(record.unwrap_or_default())
}

/// Writes to a temporary file beside `path`, then renames, so no half-written file remains.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SnapshotError> {
    let werr = |p: &Path, source| SnapshotError::Write {
        path: p.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| {
        werr(
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "not a file path"),
        )
    })?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).map_err(|e| werr(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        werr(path, e)
    })
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

    #[test]
    fn a_collected_snapshot_round_trips_through_a_file() {
        let mut sections = BTreeMap::new();
        sections.insert("users".to_string(), SectionRecord::ok("User.Read.All"));
        sections.insert(
            "roles".to_string(),
            SectionRecord::failed("RoleManagement.Read.All", "HTTP 403".into(), Some(403)),
        );
        let mut data = Map::new();
        data.insert("users".into(), serde_json::json!([{"id": 1}]));
        let snap = Snapshot::collected(
            SourceKind::Scubagear,
            "sakura.example",
            "2026-12-07T00:00:00Z",
            data,
            sections,
            serde_json::json!({}),
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json.gz");
        snap.write(&path).unwrap();
        let back = Snapshot::read(&path, SourceKind::Mamori, 1 << 20).unwrap();
        assert_eq!(back.schema, SourceKind::Scubagear);
        assert_eq!(back.tenant, "sakura.example");
        assert_eq!(back.sections, snap.sections);
        assert_eq!(back.failed_sections().count(), 1);
        let data: Value = back.data().unwrap();
        assert_eq!(data["users"][0]["id"], 1);
        assert_eq!(data["mamori_collection"]["roles"]["http_status"], 403);
    }

    #[test]
    fn a_large_plain_file_is_mapped_and_read_the_same() {
        let filler = "x".repeat(1000);
        let items: Vec<String> = (0..17_000).map(|i| format!("\"{i}-{filler}\"")).collect();
        let doc = format!(
            "{{\"big\": [{}], \"small\": {{\"a\": 1}}}}",
            items.join(",")
        );
        assert!(doc.len() as u64 >= MAP_AT_BYTES);
        let f = write(doc.as_bytes());
        let snap = Snapshot::read(f.path(), SourceKind::Scubagear, 1 << 30).unwrap();
        assert!(matches!(snap.data, Text::Mapped(_)));
        assert_eq!(snap.data_json(), doc);
        assert_eq!(snap.section_json("small"), Some("{\"a\": 1}"));
        assert_eq!(snap.clone().data_json(), doc);
        let err = Snapshot::read(f.path(), SourceKind::Scubagear, 1 << 20).unwrap_err();
        assert!(matches!(err, SnapshotError::TooLarge { .. }), "{err}");

        let mut bad = doc.into_bytes();
        let at = bad.len() - 20;
        bad[at] = 0xff;
        let f = write(&bad);
        let err = Snapshot::read(f.path(), SourceKind::Scubagear, 1 << 30)
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid UTF-8"), "{err}");
    }

    #[test]
    fn envelope_errors_name_the_problem() {
        let cases: Vec<(&str, &str)> = vec![
            (r#"{"data": {}}"#, "no \"mamori_snapshot\" key"),
            (
                r#"{"mamori_snapshot": 2, "schema": "scubagear", "data": {}}"#,
                "unsupported mamori_snapshot version 2",
            ),
            (
                r#"{"mamori_snapshot": 1, "schema": "mamori", "data": {}}"#,
                "must be scubagear or scubagoggles",
            ),
            (
                r#"{"mamori_snapshot": 1, "data": {}}"#,
                "needs a \"schema\" string",
            ),
            (
                r#"{"mamori_snapshot": 1, "schema": "scubagear", "data": []}"#,
                "needs a \"data\" object",
            ),
            (
                r#"{"mamori_snapshot": 1, "schema": "scubagear", "data": {"mamori_collection": 3}}"#,
                "mamori_collection",
            ),
            ("[1]", "wrong shape"),
        ];
        for (text, expected) in cases {
            let err =
                Snapshot::from_slice(Path::new("x.json"), text.as_bytes(), SourceKind::Mamori)
                    .unwrap_err()
                    .to_string();
            assert!(
                err.contains(expected),
                "{err:?} should contain {expected:?}"
            );
            assert!(err.starts_with("x.json: "), "{err}");
        }
        let err = Snapshot::from_slice(Path::new("e.json"), b"[1]", SourceKind::Scubagear)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not an object"), "{err}");
    }
}
