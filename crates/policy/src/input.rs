//! Provider exports straight into the engine's value type.
//!
//! A large tenant's export is 100 MB or more; the generic path (serde into `regorus::Value`)
//! runs at about 100–150 MB/s and first needs the whole document validated and copied. This
//! parser builds `Value`s directly from the bytes: member names and short strings are shared
//! (a list of 20,000 service principals repeats the same few dozen names), arrays and objects are
//! allocated once at their final size, and the top-level sections (already located by
//! [`mamori_core::json_scan`]) are parsed on all cores at once. A caller may leave sections out
//! (`wanted`): they are then only validated, never skipped unchecked. Errors carry the line and
//! column in the whole document.

use mamori_core::json_scan::{line_column, Member, MAX_DEPTH};
use regorus::Value;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Where and why the document is not valid JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at line {}, column {}",
            self.message, self.line, self.column
        )
    }
}

impl std::error::Error for InputError {}

/// Strings up to this length are shared between equal occurrences.
const SHARED_STRING_MAX: usize = 64;
/// A bound on the shared-string table, so a document of unique short strings cannot grow it
/// without limit.
const SHARED_STRINGS_MAX: usize = 1 << 18;

/// Parses one whole JSON document.
pub fn parse_document(text: &str) -> Result<Value, InputError> {
    let mut p = Parser::new(text.as_bytes(), 0);
    p.skip_ws();
    let v = p.value()?;
    p.skip_ws();
    if p.pos < p.text.len() {
        return Err(p.error("trailing characters after the JSON value"));
    }
    Ok(v)
}

/// Builds the top-level object of `text` from its `members` (as found by
/// [`mamori_core::json_scan::object_members`]): the members `wanted` accepts are parsed, the others
/// validated and left out. Sections are spread over the available cores, largest first.
pub fn parse_members(
    text: &str,
    members: &[Member],
    wanted: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Value, InputError> {
    // A repeated key: JSON readers keep the last occurrence.
    let mut last: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, m) in members.iter().enumerate() {
        last.insert(m.key.as_str(), i);
    }
    let mut jobs: Vec<(usize, bool)> = members
        .iter()
        .enumerate()
        .map(|(i, m)| (i, last.get(m.key.as_str()) == Some(&i) && wanted(&m.key)))
        .collect();
    jobs.sort_by_key(|&(i, _)| std::cmp::Reverse(members[i].value.len()));
    let total: usize = members.iter().map(|m| m.value.len()).sum();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len())
        // Below a few hundred kB a thread costs more than it saves.
        .min(1 + total / (256 * 1024))
        .max(1);
    let next = AtomicUsize::new(0);
    let work = || -> Result<Vec<(usize, Value)>, InputError> {
        let mut done = Vec::new();
        let mut parser = Parser::new(text.as_bytes(), 0);
        loop {
            let j = next.fetch_add(1, Ordering::Relaxed);
            let Some(&(index, parse)) = jobs.get(j) else {
                return Ok(done);
            };
            let range = members[index].value.clone();
            parser.reset(range.start);
            if parse {
                let v = parser.value()?;
                done.push((index, v));
            } else {
                parser.skip()?;
            }
            if parser.pos != range.end {
                return Err(parser.error("unexpected characters after a value"));
            }
        }
    };
    let parsed: Vec<Result<Vec<(usize, Value)>, InputError>> = if threads == 1 {
        vec![work()]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads).map(|_| s.spawn(work)).collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(InputError {
                            message: "the parser panicked".into(),
                            line: 0,
                            column: 0,
                        })
                    })
                })
                .collect()
        })
    };
    let mut map = BTreeMap::new();
    let mut first_error: Option<InputError> = None;
    for part in parsed {
        match part {
            Ok(values) => {
                for (index, v) in values {
                    map.insert(Value::from(members[index].key.as_str()), v);
                }
            }
            Err(e) => {
                // Report the error nearest the start, as a sequential reader would.
                if first_error
                    .as_ref()
                    .is_none_or(|f| (e.line, e.column) < (f.line, f.column))
                {
                    first_error = Some(e);
                }
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(Value::from(map)),
    }
}

struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
    depth: usize,
    keys: FxHashMap<&'a [u8], Value>,
    strings: FxHashMap<&'a [u8], Value>,
    values: Vec<Value>,
    entries: Vec<(Value, Value)>,
    scratch: Vec<u8>,
}

impl<'a> Parser<'a> {
    fn new(text: &'a [u8], pos: usize) -> Self {
        Parser {
            text,
            pos,
            depth: 0,
            keys: FxHashMap::default(),
            strings: FxHashMap::default(),
            values: Vec::new(),
            entries: Vec::new(),
            scratch: Vec::new(),
        }
    }

    fn reset(&mut self, pos: usize) {
        self.pos = pos;
        self.depth = 0;
    }

    fn error(&self, message: &str) -> InputError {
        self.error_at(self.pos, message)
    }

    fn error_at(&self, at: usize, message: &str) -> InputError {
        let (line, column) = line_column(self.text, at);
        let message = if at >= self.text.len() {
            format!("{message} (the document ends early: truncated?)")
        } else {
            message.to_string()
        };
        InputError {
            message,
            line,
            column,
        }
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.text.get(self.pos) {
            self.pos += 1;
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn enter(&mut self) -> Result<(), InputError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("nesting is too deep"));
        }
        Ok(())
    }

    fn value(&mut self) -> Result<Value, InputError> {
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => self.string_value(),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a value")),
            None => Err(self.error("expected a value")),
        }
    }

    /// Checks a value without building it.
    fn skip(&mut self) -> Result<(), InputError> {
        match self.peek() {
            Some(b'{') => {
                self.enter()?;
                self.pos += 1;
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                loop {
                    if self.peek() != Some(b'"') {
                        return Err(self.error("expected a member name in double quotes"));
                    }
                    self.raw_string()?;
                    self.colon()?;
                    self.skip()?;
                    if self.after_item(b'}')? {
                        self.depth -= 1;
                        return Ok(());
                    }
                }
            }
            Some(b'[') => {
                self.enter()?;
                self.pos += 1;
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                loop {
                    self.skip()?;
                    if self.after_item(b']')? {
                        self.depth -= 1;
                        return Ok(());
                    }
                }
            }
            Some(b'"') => self.raw_string().map(drop),
            _ => self.value().map(drop),
        }
    }

    fn literal(&mut self, word: &[u8], v: Value) -> Result<Value, InputError> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn colon(&mut self) -> Result<(), InputError> {
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.error("expected `:` after a member name"));
        }
        self.pos += 1;
        self.skip_ws();
        Ok(())
    }

    /// After an element or member: `,` (more follow) or `close` (done).
    fn after_item(&mut self, close: u8) -> Result<bool, InputError> {
        self.skip_ws();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                self.skip_ws();
                Ok(false)
            }
            Some(c) if c == close => {
                self.pos += 1;
                Ok(true)
            }
            _ => Err(self.error(if close == b'}' {
                "expected `,` or `}` after an object member"
            } else {
                "expected `,` or `]` after an array element"
            })),
        }
    }

    fn object(&mut self) -> Result<Value, InputError> {
        self.enter()?;
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::new_object());
        }
        let start = self.entries.len();
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a member name in double quotes"));
            }
            let key = self.key()?;
            self.colon()?;
            let v = self.value()?;
            self.entries.push((key, v));
            if self.after_item(b'}')? {
                break;
            }
        }
        self.depth -= 1;
        // Inserting in document order keeps the last of equal keys, as JSON readers do; a
        // small object is one B-tree leaf, so this costs less than collecting and sorting.
        let object: regorus::value::Object = self.entries.drain(start..).collect();
        Ok(Value::from(object))
    }

    fn array(&mut self) -> Result<Value, InputError> {
        self.enter()?;
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::new_array());
        }
        let start = self.values.len();
        loop {
            let v = self.value()?;
            self.values.push(v);
            if self.after_item(b']')? {
                break;
            }
        }
        self.depth -= 1;
        let items: Vec<Value> = self.values.drain(start..).collect();
        Ok(Value::from(items))
    }

    /// A string's raw bytes between the quotes, checked; `true` when it has escapes.
    fn raw_string(&mut self) -> Result<(&'a [u8], bool), InputError> {
        let text = self.text;
        let begin = self.pos + 1;
        let mut i = begin;
        let mut escaped = false;
        loop {
            let Some(off) = memchr::memchr2(b'"', b'\\', &text[i..]) else {
                return Err(self.error_at(text.len(), "unterminated string"));
            };
            // Control characters must be escaped in JSON strings.
            let segment = &text[i..i + off];
            if segment.iter().fold(false, |bad, &b| bad | (b < 0x20)) {
                let c = segment.iter().position(|&b| b < 0x20).unwrap_or(0);
                return Err(self.error_at(i + c, "control character in a string"));
            }
            i += off;
            if text[i] == b'"' {
                self.pos = i + 1;
                return Ok((&text[begin..i], escaped));
            }
            escaped = true;
            match text.get(i + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                Some(b'u') => {
                    let hex = text.get(i + 2..i + 6);
                    if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                        return Err(self.error_at(i, "bad \\u escape"));
                    }
                    i += 6;
                }
                Some(_) => return Err(self.error_at(i, "bad escape in a string")),
                None => return Err(self.error_at(text.len(), "unterminated string")),
            }
        }
    }

    fn unescape(&mut self, raw: &[u8], at: usize) -> Result<Value, InputError> {
        self.scratch.clear();
        let mut i = 0;
        while i < raw.len() {
            let b = raw[i];
            if b != b'\\' {
                self.scratch.push(b);
                i += 1;
                continue;
            }
            let e = raw[i + 1];
            i += 2;
            let simple = match e {
                b'"' => Some(b'"'),
                b'\\' => Some(b'\\'),
                b'/' => Some(b'/'),
                b'b' => Some(0x08),
                b'f' => Some(0x0c),
                b'n' => Some(b'\n'),
                b'r' => Some(b'\r'),
                b't' => Some(b'\t'),
                _ => None,
            };
            if let Some(c) = simple {
                self.scratch.push(c);
                continue;
            }
            let unit = |s: &[u8]| {
                u32::from_str_radix(std::str::from_utf8(s).unwrap_or("x"), 16).unwrap_or(0)
            };
            let hi = unit(&raw[i..i + 4]);
            i += 4;
            let code = if (0xD800..0xDC00).contains(&hi) {
                if raw.get(i..i + 2) != Some(b"\\u") || raw.len() < i + 6 {
                    return Err(self.error_at(at, "lone leading surrogate in a \\u escape"));
                }
                let lo = unit(&raw[i + 2..i + 6]);
                if !(0xDC00..0xE000).contains(&lo) {
                    return Err(self.error_at(at, "invalid surrogate pair in a \\u escape"));
                }
                i += 6;
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            } else if (0xDC00..0xE000).contains(&hi) {
                return Err(self.error_at(at, "lone trailing surrogate in a \\u escape"));
            } else {
                hi
            };
            let c = char::from_u32(code).ok_or_else(|| self.error_at(at, "bad \\u escape"))?;
            let mut buf = [0u8; 4];
            self.scratch
                .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        // The input was valid UTF-8 and escapes produce valid UTF-8.
        let s =
            std::str::from_utf8(&self.scratch).map_err(|_| self.error_at(at, "invalid UTF-8"))?;
        Ok(Value::from(s))
    }

    fn key(&mut self) -> Result<Value, InputError> {
        let at = self.pos;
        let (raw, escaped) = self.raw_string()?;
        if escaped {
            return self.unescape(raw, at);
        }
        if let Some(v) = self.keys.get(raw) {
            return Ok(v.clone());
        }
        let v = Value::from(utf8(raw));
        self.keys.insert(raw, v.clone());
        Ok(v)
    }

    fn string_value(&mut self) -> Result<Value, InputError> {
        let at = self.pos;
        let (raw, escaped) = self.raw_string()?;
        if escaped {
            return self.unescape(raw, at);
        }
        if raw.len() > SHARED_STRING_MAX {
            return Ok(Value::from(utf8(raw)));
        }
        if let Some(v) = self.strings.get(raw) {
            return Ok(v.clone());
        }
        let v = Value::from(utf8(raw));
        if self.strings.len() < SHARED_STRINGS_MAX {
            self.strings.insert(raw, v.clone());
        }
        Ok(v)
    }

    fn number(&mut self) -> Result<Value, InputError> {
        let text = self.text;
        let start = self.pos;
        let mut i = start;
        if text[i] == b'-' {
            i += 1;
        }
        let digits = |i: &mut usize| {
            let s = *i;
            while text.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - s
        };
        let int_start = i;
        if digits(&mut i) == 0 {
            return Err(self.error_at(i, "invalid number"));
        }
        if text[int_start] == b'0' && i - int_start > 1 {
            return Err(self.error_at(int_start, "invalid number (leading zero)"));
        }
        let mut float = false;
        if text.get(i) == Some(&b'.') {
            i += 1;
            float = true;
            if digits(&mut i) == 0 {
                return Err(self.error_at(i, "invalid number"));
            }
        }
        if let Some(b'e' | b'E') = text.get(i) {
            i += 1;
            float = true;
            if let Some(b'+' | b'-') = text.get(i) {
                i += 1;
            }
            if digits(&mut i) == 0 {
                return Err(self.error_at(i, "invalid number"));
            }
        }
        self.pos = i;
        let s = utf8(&text[start..i]);
        if !float {
            if let Ok(n) = s.parse::<u64>() {
                return Ok(Value::from(n));
            }
            if let Ok(n) = s.parse::<i64>() {
                return Ok(Value::from(n));
            }
        }
        // As serde_json does: integers out of range and decimals become f64, which must be finite.
        match s.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::from(f)),
            _ => Err(self.error_at(start, "number out of range")),
        }
    }
}

#[inline]
fn utf8(raw: &[u8]) -> &str {
    // Callers only slice whole strings and numbers out of text that was checked to be UTF-8.
    std::str::from_utf8(raw).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_core::json_scan::object_members;

    fn same_as_serde(text: &str) {
        let ours = parse_document(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let theirs = Value::from_json_str(text).unwrap();
        assert_eq!(ours, theirs, "{text}");
    }

    #[test]
    fn builds_the_same_value_as_the_generic_parser() {
        for text in [
            r#"{"a": [1, -2, 3.5, 1e3, -0.0, 18446744073709551615, -9223372036854775808], "b": {"x": null, "y": true, "z": false}}"#,
            r#"{"s": "plain", "e": "tab\tquote\"back\\slash\/ \u00e9 \u3042 \ud83d\ude00", "k\u00e9y": 1}"#,
            r#"{"dup": 1, "dup": 2, "a": {"dup": [1], "dup": [2]}}"#,
            r#"[[], {}, [[[]]], "", "日本語の文字列"]"#,
            r#"123456789012345678901234567890"#,
            "  {\n\"a\" :\t1 }  ",
        ] {
            same_as_serde(text);
        }
    }

    #[test]
    fn refuses_what_json_refuses() {
        for bad in [
            "{\"a\": tru}",
            "{\"a\": 01}",
            "{\"a\": 1.}",
            "{\"a\": -}",
            "{\"a\": \"\\x\"}",
            "{\"a\": \"\\ud800\"}",
            "{\"a\": \"\\udc00\"}",
            "{\"a\": \"tab\there\"}",
            "{\"a\": [1 2]}",
            "{\"a\": {\"b\" 1}}",
            "{\"a\": 1e999}",
            "[1,]",
            "{\"a\": 1} 2",
        ] {
            let text = bad.replace("\\there", "\there");
            assert!(parse_document(&text).is_err(), "accepted {text:?}");
        }
        let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
        assert!(parse_document(&deep).unwrap_err().message.contains("deep"));
    }

    #[test]
    fn sections_in_parallel_skip_the_unwanted_but_still_check_them() {
        let big: String = (0..50_000)
            .map(|i| format!("{{\"id\": {i}, \"name\": \"n{}\"}}", i % 7))
            .collect::<Vec<_>>()
            .join(",");
        let text = format!(
            r#"{{"users": [{big}], "other": {{"x": [1, 2]}}, "skip": [1, {{"q": 2}}], "users": [1]}}"#
        );
        let members = object_members(text.as_bytes()).unwrap();
        let v = parse_members(&text, &members, &|k| k != "skip").unwrap();
        let obj = v.as_object().unwrap();
        assert_eq!(obj.len(), 2);
        assert_eq!(v["users"], Value::from_json_str("[1]").unwrap());
        assert_eq!(v["other"]["x"][1], Value::from(2u64));

        let bad = text.replace("\"q\": 2", "\"q\": 2x");
        let members = object_members(bad.as_bytes()).unwrap();
        let err = parse_members(&bad, &members, &|k| k != "skip").unwrap_err();
        assert_eq!(err.line, 1, "{err}");
        assert!(err.message.contains("expected"), "{err}");
    }
}
