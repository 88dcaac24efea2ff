//! A structural scan of a JSON object's top level: each member's key and the byte range of its
//! value, found without building anything. A provider export is one object of independent
//! sections, so knowing where each section lies lets the engine parse the sections it needs, in
//! parallel, straight into its own value type — instead of validating the whole document, then
//! copying it, then parsing it again.
//!
//! The scan checks the structure (strings terminated, brackets balanced and matching, members
//! separated) but not every token inside a value: the full grammar of each value is checked by
//! whoever parses or validates it (`mamori_policy::input`).

use std::ops::Range;

/// One member of the top-level object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub key: String,
    /// Byte range of the value in the scanned text (no surrounding whitespace).
    pub value: Range<usize>,
}

/// Where and why a document is not a well-formed JSON object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError {
    pub message: String,
    pub line: usize,
    pub column: usize,
    /// The document ended before the structure was complete (a truncated file).
    pub eof: bool,
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at line {}, column {}",
            self.message, self.line, self.column
        )
    }
}

impl std::error::Error for ScanError {}

/// Line and column (1-based, columns in bytes as serde_json counts them) of `offset`.
pub fn line_column(text: &[u8], offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let column = match before.iter().rposition(|&b| b == b'\n') {
        Some(nl) => offset - nl,
        None => offset + 1,
    };
    (line, column)
}

/// Deepest nesting accepted (serde_json's own limit is 128).
pub const MAX_DEPTH: usize = 256;

fn error(text: &[u8], at: usize, message: impl Into<String>) -> ScanError {
    let (line, column) = line_column(text, at);
    ScanError {
        message: message.into(),
        line,
        column,
        eof: at >= text.len(),
    }
}

fn skip_ws(text: &[u8], mut i: usize) -> usize {
    while i < text.len() && matches!(text[i], b' ' | b'\n' | b'\r' | b'\t') {
        i += 1;
    }
    i
}

/// The end (one past the closing quote) of the string whose opening quote is at `start`.
pub fn skip_string(text: &[u8], start: usize) -> Result<usize, ScanError> {
    let mut i = start + 1;
    loop {
        match memchr::memchr2(b'"', b'\\', &text[i..]) {
            Some(off) => {
                i += off;
                if text[i] == b'"' {
                    return Ok(i + 1);
                }
                i += 2; // an escape: skip the backslash and the escaped byte
                if i > text.len() {
                    return Err(error(text, text.len(), "unterminated string"));
                }
            }
            None => return Err(error(text, text.len(), "unterminated string")),
        }
    }
}

/// The end of the value starting at `start` (after whitespace), checking only its structure.
pub fn skip_value(text: &[u8], start: usize) -> Result<usize, ScanError> {
    let mut stack: Vec<u8> = Vec::new();
    let mut i = start;
    if i >= text.len() {
        return Err(error(text, i, "a value was expected"));
    }
    loop {
        if i >= text.len() {
            return Err(error(text, i, "the document ends inside a value"));
        }
        match text[i] {
            b'"' => i = skip_string(text, i)?,
            open @ (b'{' | b'[') => {
                if stack.len() >= MAX_DEPTH {
                    return Err(error(text, i, "nesting is too deep"));
                }
                stack.push(if open == b'{' { b'}' } else { b']' });
                i += 1;
            }
            close @ (b'}' | b']') => {
                if stack.pop() != Some(close) {
                    return Err(error(text, i, format!("unexpected `{}`", close as char)));
                }
                i += 1;
            }
            _ => {
                // A scalar, separator or whitespace: run to the next structural byte.
                while i < text.len() && !matches!(text[i], b'"' | b'{' | b'[' | b'}' | b']') {
                    if stack.is_empty() && matches!(text[i], b',' | b' ' | b'\n' | b'\r' | b'\t') {
                        return Ok(i);
                    }
                    i += 1;
                }
                if stack.is_empty() && (i >= text.len() || matches!(text[i], b'}' | b']')) {
                    return Ok(i);
                }
                continue;
            }
        }
        if stack.is_empty() {
            return Ok(i);
        }
    }
}

/// The members of the JSON object that is the whole of `text`, in document order (a repeated
/// key appears twice; JSON readers keep the last).
pub fn object_members(text: &[u8]) -> Result<Vec<Member>, ScanError> {
    let mut i = skip_ws(text, 0);
    if i >= text.len() {
        return Err(error(text, i, "the document is empty"));
    }
    if text[i] != b'{' {
        return Err(error(text, i, "expected a JSON object (`{`)"));
    }
    i = skip_ws(text, i + 1);
    let mut members = Vec::new();
    if i < text.len() && text[i] == b'}' {
        return finish(text, i + 1, members);
    }
    loop {
        if i >= text.len() {
            return Err(error(
                text,
                i,
                "the document ends inside the top-level object",
            ));
        }
        if text[i] != b'"' {
            return Err(error(text, i, "expected a member name in double quotes"));
        }
        let key_end = skip_string(text, i)?;
        let key = decode_key(&text[i..key_end]).map_err(|m| error(text, i, m))?;
        i = skip_ws(text, key_end);
        if i >= text.len() || text[i] != b':' {
            return Err(error(text, i, "expected `:` after a member name"));
        }
        i = skip_ws(text, i + 1);
        let end = skip_value(text, i)?;
        if end == i {
            return Err(error(text, i, "a value was expected"));
        }
        members.push(Member { key, value: i..end });
        i = skip_ws(text, end);
        match text.get(i) {
            Some(b',') => i = skip_ws(text, i + 1),
            Some(b'}') => return finish(text, i + 1, members),
            Some(_) => return Err(error(text, i, "expected `,` or `}` after a member")),
            None => {
                return Err(error(
                    text,
                    i,
                    "the document ends inside the top-level object",
                ))
            }
        }
    }
}

fn finish(text: &[u8], end: usize, members: Vec<Member>) -> Result<Vec<Member>, ScanError> {
    let rest = skip_ws(text, end);
    if rest < text.len() {
        return Err(error(
            text,
            rest,
            "trailing characters after the JSON object",
        ));
    }
    Ok(members)
}

fn decode_key(quoted: &[u8]) -> Result<String, String> {
    if !quoted.contains(&b'\\') {
        return std::str::from_utf8(&quoted[1..quoted.len() - 1])
            .map(str::to_string)
            .map_err(|_| "a member name is not valid UTF-8".to_string());
    }
    serde_json::from_slice::<String>(quoted).map_err(|e| format!("bad member name: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Vec<(String, String)> {
        object_members(text.as_bytes())
            .unwrap()
            .into_iter()
            .map(|m| (m.key, text[m.value].to_string()))
            .collect()
    }

    #[test]
    fn members_and_their_values() {
        let text = r#" { "a" : [1, {"x": "}]"}] , "b\"c":"q\\\"", "n": -1.5e3,"t":true, "o":{} } "#;
        assert_eq!(
            keys(text),
            vec![
                ("a".into(), r#"[1, {"x": "}]"}]"#.into()),
                ("b\"c".into(), r#""q\\\"""#.into()),
                ("n".into(), "-1.5e3".into()),
                ("t".into(), "true".into()),
                ("o".into(), "{}".into()),
            ]
        );
        assert!(keys("{}").is_empty());
    }

    #[test]
    fn broken_structure_is_refused_with_a_position() {
        for bad in [
            "",
            "[1]",
            "{\"a\": [1}",
            "{\"a\": 1",
            "{\"a\": \"x",
            "{\"a\" 1}",
            "{\"a\": 1} x",
            "{\"a\": }",
            "{\"a\": 1,}",
            "{a: 1}",
        ] {
            let err = object_members(bad.as_bytes()).expect_err(bad);
            assert!(err.line >= 1, "{bad}: {err}");
        }
        let err = object_members(b"{\n  \"a\": [1,\n  2").unwrap_err();
        assert!(err.eof, "{err}");
        assert_eq!(err.line, 3);
        let deep = format!("{{\"a\": {}{}}}", "[".repeat(300), "]".repeat(300));
        assert!(object_members(deep.as_bytes())
            .unwrap_err()
            .message
            .contains("deep"));
    }
}
