//! Reading a pushed audit-log batch (`POST /api/v1/tenants/{id}/logs/{source}`): the body as
//! sent, at most `log_push_max_body` bytes (by `Content-Length` before reading a byte, else
//! while reading), gzip when `Content-Encoding: gzip` says so or the body starts with gzip's
//! magic bytes, at most `log_push_max_decompressed` bytes once decompressed. The batch is NDJSON:
//! each non-empty line is an event. A line that is not a JSON object does not refuse the batch
//! (the worker quarantines it with its position) but is counted; a batch without a single JSON
//! object line is refused, naming the first bad line. What is spooled is always gzip: the body
//! as received when it came compressed, else compressed here.

use std::io::{BufRead, Read, Write};

use axum::body::Body;
use axum::http::{header, HeaderMap};
use futures_util::StreamExt;

use crate::error::{ApiError, ApiResult};

/// A checked batch, ready for `Store::spool_log_batch`.
#[derive(Debug)]
pub struct LogBatch {
    /// The batch, gzip-compressed.
    pub gzip: Vec<u8>,
    /// Non-empty lines.
    pub events: i64,
    /// Bytes after decompression.
    pub bytes: i64,
    /// Non-empty lines that are not a JSON object (quarantined by the worker).
    pub malformed_lines: i64,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

fn too_large(limit: u64) -> ApiError {
    ApiError::TooLarge(format!(
        "the body is larger than {}, the most one push may carry: split the batch, or compress it \
         (Content-Encoding: gzip)",
        size(limit)
    ))
}

fn decompresses_too_large(limit: u64) -> ApiError {
    ApiError::TooLarge(format!(
        "the body decompresses to more than {}, the most one push may carry: split the batch",
        size(limit)
    ))
}

/// Whether the request says its body is gzip; an encoding other than gzip or identity is
/// refused (415).
pub fn declared_gzip(headers: &HeaderMap) -> ApiResult<bool> {
    let Some(value) = headers.get(header::CONTENT_ENCODING) else {
        return Ok(false);
    };
    let value = value.to_str().unwrap_or("").trim().to_ascii_lowercase();
    match value.as_str() {
        "" | "identity" => Ok(false),
        "gzip" | "x-gzip" => Ok(true),
        other => Err(ApiError::UnsupportedMedia(format!(
            "Content-Encoding {:?} is not supported: send the body plain or as gzip",
            other.chars().take(40).collect::<String>()
        ))),
    }
}

/// The body as sent, refused (413) past `max` bytes: by its `Content-Length` before reading,
/// else as soon as the bytes read pass the limit.
pub async fn read_body(headers: &HeaderMap, body: Body, max: u64) -> ApiResult<Vec<u8>> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(too_large(max));
    }
    let mut out = Vec::with_capacity(declared.unwrap_or(0).min(max) as usize);
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("the body could not be read: {e}")))?;
        if out.len() as u64 + chunk.len() as u64 > max {
            return Err(too_large(max));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Why a line is not an event the detector can read, or `None` when it is a JSON object.
fn line_problem(line: &[u8]) -> Option<String> {
    if line.first() != Some(&b'{') {
        return Some("not a JSON object".into());
    }
    match serde_json::from_slice::<serde::de::IgnoredAny>(line) {
        Ok(_) => None,
        Err(e) => {
            let text = e.to_string();
            let position = format!(" at line {} column {}", e.line(), e.column());
            let text = text.strip_suffix(&position).unwrap_or(&text);
            Some(format!("not valid JSON at column {}: {text}", e.column()))
        }
    }
}

/// Counts the events of NDJSON read from `reader` (at most `max` bytes).
fn count_lines(reader: impl Read, max: u64, gzip: bool) -> ApiResult<LogBatch> {
    let mut reader = std::io::BufReader::with_capacity(256 << 10, reader.take(max + 1));
    let mut buf = Vec::new();
    let (mut total, mut number, mut events, mut malformed) = (0u64, 0u64, 0i64, 0i64);
    let mut first_bad: Option<(u64, String)> = None;
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(|e| {
            ApiError::BadRequest(format!(
                "the gzip body cannot be decompressed (after line {number}): {e}"
            ))
        })?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > max {
            return Err(if gzip {
                decompresses_too_large(max)
            } else {
                too_large(max)
            });
        }
        number += 1;
        let mut line = buf.as_slice();
        if number == 1 {
            line = line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line);
        }
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        events += 1;
        if let Some(problem) = line_problem(line) {
            malformed += 1;
            first_bad.get_or_insert((number, problem));
        }
    }
    if events == 0 {
        return Err(ApiError::BadRequest(
            "the body holds no event: send NDJSON, one JSON object per line".into(),
        ));
    }
    if malformed == events {
        let (line, problem) = first_bad.unwrap_or_default();
        return Err(ApiError::BadRequest(format!(
            "no line of the body is a JSON object (NDJSON, one object per line); line {line}: {problem}"
        )));
    }
    Ok(LogBatch {
        gzip: Vec::new(),
        events,
        bytes: total as i64,
        malformed_lines: malformed,
    })
}

/// Checks a body read by [`read_body`] and makes it the gzip batch to spool. CPU-bound: run it
/// off the async threads.
pub fn prepare(raw: Vec<u8>, declared_gzip: bool, max_decompressed: u64) -> ApiResult<LogBatch> {
    if raw.is_empty() {
        return Err(ApiError::BadRequest(
            "the body is empty: send NDJSON, one JSON object per line (gzip allowed)".into(),
        ));
    }
    let gzip = raw.starts_with(&GZIP_MAGIC);
    if declared_gzip && !gzip {
        return Err(ApiError::BadRequest(
            "Content-Encoding says gzip but the body is not gzip".into(),
        ));
    }
    if gzip {
        let decoder = flate2::read::MultiGzDecoder::new(raw.as_slice());
        let batch = count_lines(decoder, max_decompressed, true)?;
        Ok(LogBatch { gzip: raw, ..batch })
    } else {
        let batch = count_lines(raw.as_slice(), max_decompressed, false)?;
        let mut encoder =
            flate2::write::GzEncoder::new(Vec::with_capacity(raw.len() / 8), Default::default());
        encoder
            .write_all(&raw)
            .and_then(|()| encoder.finish())
            .map(|gzip| LogBatch { gzip, ..batch })
            .map_err(|e| ApiError::Internal(format!("compressing a pushed batch: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), Default::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn gunzip(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(data)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    const BODY: &[u8] = b"\xef\xbb\xbf{\"a\":1}\r\n\n  \n{\"b\":2}\n[1]\n{\"c\": }\n";

    #[test]
    fn counts_events_and_malformed_lines_and_stores_gzip() {
        let plain = prepare(BODY.to_vec(), false, 1 << 20).unwrap();
        assert_eq!(
            (plain.events, plain.malformed_lines, plain.bytes),
            (4, 2, BODY.len() as i64)
        );
        assert_eq!(gunzip(&plain.gzip), BODY);
        let compressed = gz(BODY);
        let g = prepare(compressed.clone(), true, 1 << 20).unwrap();
        assert_eq!((g.events, g.malformed_lines), (4, 2));
        assert_eq!(g.gzip, compressed, "a gzip body is spooled as received");
        // Recognised by its magic bytes without the header too.
        assert_eq!(prepare(compressed, false, 1 << 20).unwrap().events, 4);
    }

    #[test]
    fn refuses_empty_bodies_and_bodies_without_an_object() {
        for body in [&b""[..], b"\n \n"] {
            let e = prepare(body.to_vec(), false, 1 << 20).unwrap_err();
            assert!(matches!(e, ApiError::BadRequest(_)), "{e}");
        }
        let e = prepare(b"\nnot json\n[1]\n".to_vec(), false, 1 << 20).unwrap_err();
        assert!(e.to_string().contains("line 2: not a JSON object"), "{e}");
        let e = prepare(b"{\"a\": }\n".to_vec(), false, 1 << 20).unwrap_err();
        assert!(e.to_string().contains("line 1: not valid JSON"), "{e}");
        let e = prepare(b"{\"a\":1}\n".to_vec(), true, 1 << 20).unwrap_err();
        assert!(e.to_string().contains("not gzip"), "{e}");
        let mut broken = gz(b"{\"a\":1}\n");
        broken.truncate(broken.len() - 6);
        let e = prepare(broken, true, 1 << 20).unwrap_err();
        assert!(matches!(e, ApiError::BadRequest(_)), "{e}");
    }

    #[test]
    fn refuses_more_than_the_decompressed_limit() {
        let big = b"{\"a\":1}\n".repeat(1000);
        let e = prepare(gz(&big), true, 4096).unwrap_err();
        assert!(matches!(e, ApiError::TooLarge(_)), "{e}");
        assert!(e.to_string().contains("decompresses"), "{e}");
        assert!(prepare(gz(&big), true, big.len() as u64).is_ok());
    }

    #[test]
    fn only_gzip_or_identity() {
        let mut h = HeaderMap::new();
        assert!(!declared_gzip(&h).unwrap());
        h.insert(header::CONTENT_ENCODING, "GZIP".parse().unwrap());
        assert!(declared_gzip(&h).unwrap());
        h.insert(header::CONTENT_ENCODING, "br".parse().unwrap());
        assert!(matches!(
            declared_gzip(&h),
            Err(ApiError::UnsupportedMedia(_))
        ));
    }
}
