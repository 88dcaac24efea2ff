//! The generated streams held for the imitation servers: each record serialised once, indexed
//! by time, with the few fields the APIs filter on.

use super::{generate, LogEvent, LogSpec, Manifest, Source};
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::HashMap;
use std::ops::Range;

/// One stored record.
#[derive(Debug)]
pub struct Entry {
    pub time_ms: i64,
    pub raw: Box<RawValue>,
    /// Reports API: the event names of the activity.
    pub names: Vec<Box<str>>,
    /// Reports API: the actor's address.
    pub ip: Box<str>,
}

impl Entry {
    pub fn new(source: Source, time_ms: i64, record: &Value) -> Entry {
        let (names, ip) = if source == Source::Gws {
            (
                record["events"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e["name"].as_str().map(Box::from))
                    .collect(),
                Box::from(record["ipAddress"].as_str().unwrap_or_default()),
            )
        } else {
            (Vec::new(), Box::from(""))
        };
        let text = serde_json::to_string(record).unwrap_or_else(|_| "null".into());
        Entry {
            time_ms,
            raw: RawValue::from_string(text)
                .unwrap_or_else(|_| RawValue::from_string("null".into()).expect("null is JSON")),
            names,
            ip,
        }
    }
}

/// A stream's entries in time order (oldest first).
#[derive(Debug, Default)]
pub struct Stream {
    pub entries: Vec<Entry>,
}

impl Stream {
    /// Indices of the entries with `from_ms <= time < to_ms`.
    pub fn range(&self, from_ms: i64, to_ms: i64) -> Range<usize> {
        let lo = self.entries.partition_point(|e| e.time_ms < from_ms);
        let hi = self.entries.partition_point(|e| e.time_ms < to_ms);
        lo..hi.max(lo)
    }

    /// Adds entries and keeps the order (stable for equal times).
    pub fn merge(&mut self, more: Vec<Entry>) {
        self.entries.extend(more);
        self.entries.sort_by_key(|e| e.time_ms);
    }
}

/// A Management Activity API content blob: a slice of one content type's stream.
#[derive(Debug, Clone)]
pub struct Blob {
    pub content_type: &'static str,
    pub id: String,
    pub created_ms: i64,
    pub range: Range<usize>,
}

/// Minutes of events per content blob.
pub const BLOB_WINDOW_MS: i64 = 15 * super::MINUTE;
/// How long after its window a blob becomes available.
pub const BLOB_DELAY_MS: i64 = 20 * super::MINUTE;
/// Most records in one blob.
pub const BLOB_MAX_RECORDS: usize = 1000;

/// Every stream of a spec, generated once.
pub struct LogStore {
    pub manifest: Manifest,
    pub start_ms: i64,
    pub end_ms: i64,
    streams: HashMap<&'static str, Stream>,
    empty: Stream,
    /// Content blobs per content type, oldest first.
    pub blobs: HashMap<&'static str, Vec<Blob>>,
}

impl LogStore {
    pub fn build(spec: &LogSpec) -> LogStore {
        let generated = generate(spec);
        let mut streams: HashMap<&'static str, Stream> = HashMap::new();
        for LogEvent {
            source,
            stream,
            time_ms,
            record,
        } in generated.events
        {
            streams
                .entry(stream)
                .or_default()
                .entries
                .push(Entry::new(source, time_ms, &record));
        }
        let tenant = spec
            .m365
            .as_ref()
            .map(|p| p.tenant_id.replace('-', ""))
            .unwrap_or_default();
        let mut blobs = HashMap::new();
        for ct in super::CONTENT_TYPES {
            let short = match ct {
                "Audit.AzureActiveDirectory" => "aad",
                "Audit.Exchange" => "exo",
                "Audit.SharePoint" => "spo",
                _ => "gen",
            };
            let mut list: Vec<Blob> = Vec::new();
            if let Some(s) = streams.get(ct) {
                let mut i = 0;
                while i < s.entries.len() {
                    let window = s.entries[i].time_ms.div_euclid(BLOB_WINDOW_MS);
                    let mut j = i;
                    while j < s.entries.len()
                        && j - i < BLOB_MAX_RECORDS
                        && s.entries[j].time_ms.div_euclid(BLOB_WINDOW_MS) == window
                    {
                        j += 1;
                    }
                    let n = list
                        .iter()
                        .rev()
                        .take_while(|b| {
                            b.id.starts_with(&super::compact_minute(window * BLOB_WINDOW_MS))
                        })
                        .count();
                    list.push(Blob {
                        content_type: ct,
                        id: format!(
                            "{}${}${tenant}{short}${n:02}",
                            super::compact_minute(window * BLOB_WINDOW_MS),
                            super::compact_minute(window * BLOB_WINDOW_MS),
                        ),
                        created_ms: (window + 1) * BLOB_WINDOW_MS + BLOB_DELAY_MS + n as i64 * 1000,
                        range: i..j,
                    });
                    i = j;
                }
            }
            blobs.insert(ct, list);
        }
        LogStore {
            manifest: generated.manifest,
            start_ms: spec.start_ms,
            end_ms: spec.end_ms,
            streams,
            empty: Stream::default(),
            blobs,
        }
    }

    pub fn stream(&self, name: &str) -> &Stream {
        self.streams.get(name).unwrap_or(&self.empty)
    }

    pub fn stream_mut(&mut self, name: &'static str) -> &mut Stream {
        self.streams.entry(name).or_default()
    }

    /// A content blob by id.
    pub fn blob(&self, id: &str) -> Option<&Blob> {
        self.blobs.values().flatten().find(|b| b.id == id)
    }
}
