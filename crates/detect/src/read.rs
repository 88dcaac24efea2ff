//! Reading audit records from files: NDJSON, a JSON array, or a saved API page
//! (`{"value": [...]}` from Graph, `{"items": [...]}` from the Reports API), plain or gzip.
//!
//! A file that cannot be read at all is an error naming it; a bad record inside a good file is
//! quarantined with where it was and why, never dropped in silence.

use crate::error::DetectError;
use serde_json::Value;
use std::io::Read;
use std::path::Path;

/// Default refusal size after decompression.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 4 << 30;

/// A record the reader could not use, kept for the operator.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Quarantined {
    pub file: String,
    /// `line 7` for NDJSON, `item 3` for an array or page.
    pub position: String,
    pub reason: String,
    /// The record's text (at most 64 KiB of it).
    pub raw: String,
}

/// What one file held.
#[derive(Debug, Default)]
pub struct Records {
    pub records: Vec<(String, Value)>,
    pub quarantined: Vec<Quarantined>,
}

const RAW_KEEP: usize = 64 << 10;

/// At most 64 KiB of a record's text, cut on a character boundary.
pub(crate) fn keep(raw: &str) -> String {
    if raw.len() <= RAW_KEEP {
        return raw.to_string();
    }
    let mut end = RAW_KEEP;
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    raw[..end].to_string()
}

/// Reads one file (gzip recognised by its magic bytes) into records.
pub fn read_file(path: &Path, max_bytes: u64) -> Result<Records, DetectError> {
    let name = path.display().to_string();
    let io = |source| DetectError::Io {
        path: name.clone(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut head = [0u8; 2];
    let n = file.read(&mut head).map_err(io)?;
    let file = std::fs::File::open(path).map_err(io)?;
    let reader: Box<dyn Read> = if n == 2 && head == [0x1f, 0x8b] {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut bytes = Vec::new();
    reader
        .take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| DetectError::Io {
            path: name.clone(),
            source: e,
        })?;
    if bytes.len() as u64 > max_bytes {
        return Err(DetectError::TooLarge {
            path: name,
            limit: max_bytes,
        });
    }
    read_bytes(&name, &bytes)
}

/// Reads records from a buffer already in memory (`name` is what errors call it).
pub fn read_bytes(name: &str, bytes: &[u8]) -> Result<Records, DetectError> {
    let text = std::str::from_utf8(bytes).map_err(|e| DetectError::Format {
        path: name.to_string(),
        reason: format!("not UTF-8 text (byte {})", e.valid_up_to()),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = text.trim_start();
    let mut out = Records::default();
    if trimmed.is_empty() {
        return Ok(out);
    }
    if trimmed.starts_with('[') {
        let items: Vec<Box<serde_json::value::RawValue>> =
            serde_json::from_str(trimmed).map_err(|e| DetectError::Format {
                path: name.to_string(),
                reason: format!("not a JSON array: {e}"),
            })?;
        push_items(name, items, &mut out);
        return Ok(out);
    }
    // An object: a saved API page when it is the only value and holds the records' list;
    // otherwise NDJSON.
    let mut stream = serde_json::Deserializer::from_str(trimmed).into_iter::<Value>();
    if let Some(Ok(Value::Object(first))) = stream.next() {
        let rest = &trimmed[stream.byte_offset()..];
        if rest.trim().is_empty() {
            for key in ["value", "items", "records"] {
                if let Some(list) = first.get(key) {
                    let Value::Array(_) = list else {
                        return Err(DetectError::Format {
                            path: name.to_string(),
                            reason: format!("`{key}` of the API page is not a list"),
                        });
                    };
                    let items: Vec<Box<serde_json::value::RawValue>> =
                        serde_json::from_value(list.clone()).unwrap_or_default();
                    push_items(name, items, &mut out);
                    return Ok(out);
                }
            }
            // A page of the Reports API with no activity in the range has no `items`.
            if first.get("kind").and_then(Value::as_str) == Some("admin#reports#activities") {
                return Ok(out);
            }
            // One record on its own, perhaps pretty-printed.
            out.records.push(("item 1".into(), Value::Object(first)));
            return Ok(out);
        }
    }
    if !trimmed.starts_with('{') {
        return Err(DetectError::Format {
            path: name.to_string(),
            reason: "neither NDJSON, a JSON array nor an API page".into(),
        });
    }
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(v @ Value::Object(_)) => out.records.push((format!("line {}", index + 1), v)),
            Ok(other) => out.quarantined.push(Quarantined {
                file: name.to_string(),
                position: format!("line {}", index + 1),
                reason: format!("not a JSON object but {}", crate::source::kind_of(&other)),
                raw: keep(line),
            }),
            Err(e) => out.quarantined.push(Quarantined {
                file: name.to_string(),
                position: format!("line {}", index + 1),
                reason: format!("not JSON: {e}"),
                raw: keep(line),
            }),
        }
    }
    Ok(out)
}

fn push_items(name: &str, items: Vec<Box<serde_json::value::RawValue>>, out: &mut Records) {
    for (index, raw) in items.into_iter().enumerate() {
        let position = format!("item {}", index + 1);
        match serde_json::from_str::<Value>(raw.get()) {
            Ok(v @ Value::Object(_)) => out.records.push((position, v)),
            Ok(other) => out.quarantined.push(Quarantined {
                file: name.to_string(),
                position,
                reason: format!("not a JSON object but {}", crate::source::kind_of(&other)),
                raw: keep(raw.get()),
            }),
            Err(e) => out.quarantined.push(Quarantined {
                file: name.to_string(),
                position,
                reason: format!("not JSON: {e}"),
                raw: keep(raw.get()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_shapes() {
        let nd = read_bytes("a", b"{\"id\":1}\n\n{\"id\":2}\nnot json\n[1]\n").unwrap();
        assert_eq!(nd.records.len(), 2);
        assert_eq!(nd.quarantined.len(), 2);
        assert_eq!(nd.quarantined[0].position, "line 4");
        let arr = read_bytes("b", b"[{\"id\":1}, 5, {\"id\":3}]").unwrap();
        assert_eq!(arr.records.len(), 2);
        assert_eq!(arr.quarantined[0].position, "item 2");
        let page = read_bytes(
            "c",
            b"{\"@odata.nextLink\": \"x\", \"value\": [{\"id\":1}]}",
        )
        .unwrap();
        assert_eq!(page.records.len(), 1);
        let items = read_bytes(
            "d",
            b"{\"kind\": \"admin#reports#activities\", \"items\": [{}, {}]}",
        )
        .unwrap();
        assert_eq!(items.records.len(), 2);
        let empty_page = read_bytes("e", b"{\"kind\": \"admin#reports#activities\"}").unwrap();
        assert!(empty_page.records.is_empty() && empty_page.quarantined.is_empty());
    }

    #[test]
    fn unreadable_files_are_errors_naming_them() {
        let e = read_bytes("bad.json", b"[{\"id\": 1},").unwrap_err();
        assert!(e.to_string().contains("bad.json"), "{e}");
        let e = read_bytes("bin", &[0xff, 0xfe, 0x00]).unwrap_err();
        assert!(e.to_string().contains("UTF-8"), "{e}");
        let e = read_bytes("csv", b"a,b,c\n1,2,3\n").unwrap_err();
        assert!(e.to_string().contains("NDJSON"), "{e}");
    }
}
