//! A vendor record as the detector reads it: the line's text kept once, and a compact tree of
//! spans into it.
//!
//! A `serde_json::Value` costs a heap string per key and string value and an ordered hash map
//! per object; for a kilobyte audit record that was most of the time the detector spent on
//! it. Here a record is three allocations — the text, the node list and the shared handle —
//! whatever its size: strings are spans of the text (only those with escapes are copied, once,
//! unescaped), objects and arrays are runs of nodes. Members the loaded rules never read are
//! validated and skipped without building nodes (see [`crate::FieldFilter`]).
//!
//! The grammar is JSON's (RFC 8259), checked as strictly as `serde_json` checks it: a line this
//! parser refuses is handed to `serde_json`, which names the error (or, for a valid JSON text
//! that is not an object, the normaliser rejects it with the usual reason). Field lookups follow
//! rsigma's `JsonEvent`: a flat key first, then dotted traversal fanning out over arrays, with
//! `[N]` positions; a member repeated within one object reads as its last value, as in
//! `serde_json`.

use crate::fields::FieldFilter;
use rsigma_eval::EventValue;
use rsigma_parser::fieldpath::{first_unescaped, unescape_brackets};
use serde_json::Value;
use std::borrow::Cow;
use std::sync::Arc;

/// Nesting a record may have (`serde_json`'s own recursion limit).
const MAX_DEPTH: usize = 128;
/// Nesting keyword searches descend into (as rsigma's `JsonEvent`).
const MAX_SEARCH_DEPTH: usize = 64;

#[derive(Debug, Clone, Copy)]
enum Node {
    Null,
    Bool(bool),
    /// A number, as written (parsed when read: rules seldom read numbers).
    Num {
        start: u32,
        len: u32,
    },
    /// A string without escapes: a span of the text.
    Str {
        start: u32,
        len: u32,
    },
    /// A string that had escapes: a span of the unescaped copies.
    Esc {
        start: u32,
        len: u32,
    },
    /// Its elements are the nodes up to `end` (each followed by its own subtree).
    Arr {
        end: u32,
    },
    /// Its members are key-value node pairs up to `end`.
    Obj {
        end: u32,
    },
}

#[derive(Debug)]
struct Tree {
    text: Box<str>,
    unescaped: String,
    nodes: Vec<Node>,
    /// Each top-level member's [`fingerprint`] and key node, for lookups that compare a few
    /// bytes of packed integers rather than every name (rules read top-level members most).
    top: Vec<(u32, u32)>,
}

/// Equal byte strings of the same length; short ones (member names) compared inline rather
/// than through `memcmp`.
#[inline]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() <= 16 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    a == b
}

/// A name's length and first and last bytes, packed.
fn fingerprint(name: &[u8]) -> u32 {
    match (name.first(), name.last()) {
        (Some(&first), Some(&last)) => {
            (name.len().min(0xffff) as u32) | u32::from(first) << 16 | u32::from(last) << 24
        }
        _ => 0,
    }
}

impl Tree {
    /// The node after `at`'s subtree.
    fn after(&self, at: u32) -> u32 {
        match self.nodes[at as usize] {
            Node::Arr { end } | Node::Obj { end } => end,
            _ => at + 1,
        }
    }

    fn str_at(&self, at: u32) -> Option<&str> {
        match self.nodes[at as usize] {
            Node::Str { start, len } => Some(&self.text[start as usize..(start + len) as usize]),
            Node::Esc { start, len } => {
                Some(&self.unescaped[start as usize..(start + len) as usize])
            }
            _ => None,
        }
    }

    fn key_bytes(&self, at: u32) -> &[u8] {
        match self.nodes[at as usize] {
            Node::Str { start, len } => {
                &self.text.as_bytes()[start as usize..(start + len) as usize]
            }
            Node::Esc { start, len } => {
                &self.unescaped.as_bytes()[start as usize..(start + len) as usize]
            }
            _ => &[],
        }
    }

    fn num_at(&self, at: u32) -> Option<&str> {
        match self.nodes[at as usize] {
            Node::Num { start, len } => Some(&self.text[start as usize..(start + len) as usize]),
            _ => None,
        }
    }
}

/// One record, cheap to clone (the tree is shared). A Google Workspace activity listing several
/// events becomes one record per event: the same tree, with `events` reading as a list of just
/// that event.
#[derive(Debug, Clone)]
pub struct Record {
    tree: Arc<Tree>,
    /// The node `events` stands for, as a list of one.
    event: Option<u32>,
}

impl Record {
    /// Parses one JSON object text keeping the top-level members `filter` keeps. `None` when
    /// the text is not a JSON object (malformed, or another JSON value): parse it with
    /// `serde_json` for the reason.
    pub fn parse(line: &[u8], filter: &FieldFilter) -> Option<Record> {
        if line.len() >= u32::MAX as usize {
            return None;
        }
        let mut p = Parser {
            b: line,
            i: 0,
            nodes: Vec::with_capacity(64),
            unescaped: String::new(),
            top: Vec::with_capacity(32),
        };
        p.record(filter)?;
        let Parser {
            nodes,
            unescaped,
            top,
            ..
        } = p;
        debug_assert!(std::str::from_utf8(line).is_ok());
        // SAFETY: the parse succeeded, so every byte of `line` is either JSON structure,
        // whitespace, a number or a literal — ASCII, which the grammar alone admits outside
        // strings — or inside a string, and every string holding a non-ASCII byte was checked
        // with `str::from_utf8` (`Parser::string`). The whole line is therefore UTF-8; checking
        // it again was a tenth of the time a record took.
        let text: Box<str> = unsafe { std::str::from_utf8_unchecked(line) }.into();
        Some(Record {
            tree: Arc::new(Tree {
                text,
                unescaped,
                nodes,
                top,
            }),
            event: None,
        })
    }

    /// The record of a value already parsed (every member kept). `None` unless an object.
    pub fn from_value(value: &Value) -> Option<Record> {
        if !value.is_object() {
            return None;
        }
        let text = serde_json::to_vec(value).ok()?;
        Record::parse(&text, &FieldFilter::all())
    }

    /// Where `s`, a string borrowed from this record (a value or a piece of one), sits in it:
    /// the envelope keeps such places instead of copies. `None` for any other string.
    pub(crate) fn span_of(&self, s: &str) -> Option<Span> {
        let within = |base: &str, escaped: bool| {
            let (from, at) = (base.as_ptr() as usize, s.as_ptr() as usize);
            (at >= from && at + s.len() <= from + base.len()).then(|| Span {
                escaped,
                start: (at - from) as u32,
                len: s.len() as u32,
            })
        };
        within(&self.tree.text, false).or_else(|| within(&self.tree.unescaped, true))
    }

    /// The string at a place [`Record::span_of`] gave.
    pub(crate) fn resolve(&self, span: Span) -> &str {
        let base: &str = if span.escaped {
            &self.tree.unescaped
        } else {
            &self.tree.text
        };
        base.get(span.start as usize..(span.start + span.len) as usize)
            .unwrap_or_default()
    }

    /// This record with `events` reading as a list holding only `event` (an element of it).
    pub(crate) fn with_event(&self, event: Val<'_>) -> Record {
        let At::Node(at) = event.at else {
            return self.clone();
        };
        Record {
            tree: Arc::clone(&self.tree),
            event: Some(at),
        }
    }

    /// The top-level object.
    pub fn root(&self) -> Val<'_> {
        Val {
            tree: &self.tree,
            at: At::Node(0),
            event: self.event,
        }
    }

    /// A top-level member.
    pub fn get(&self, key: &str) -> Option<Val<'_>> {
        self.root().get(key)
    }

    /// A member by dotted path (`initiatedBy.user.ipAddress`), objects only.
    pub fn path(&self, dotted: &str) -> Option<Val<'_>> {
        self.root().path(dotted)
    }

    /// As `serde_json` would have parsed the kept members.
    pub fn to_value(&self) -> Value {
        self.root().to_value()
    }

    /// A field as rsigma reads it: the flat key first, then a dotted path fanning out over
    /// arrays (`targetResources.userPrincipalName`), with `[N]` positions (`[-1]` the last).
    pub fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        let root = self.root();
        if let Some(v) = root.get(path) {
            return Some(v.to_event_value());
        }
        let (mut dotted, mut special) = (false, false);
        for b in path.bytes() {
            dotted |= b == b'.';
            special |= matches!(b, b'[' | b'\\');
        }
        let mut found = Found::None;
        if !special {
            // Plain `a.b.c` (what rules write): walked segment by segment, nothing parsed.
            if !dotted {
                return None;
            }
            collect_plain(root, path, &mut found);
            return found.into_value();
        }
        // Most probes miss: an absent first segment ends the search before any parsing.
        if let Some(first) = path_root_key(path) {
            root.get(&first)?;
        }
        let ops = path_ops(path);
        collect(root, &ops, &mut found);
        found.into_value()
    }

    pub fn visit_top_level_keys(&self, visit: &mut dyn FnMut(&str)) {
        for (key, _) in self.root().members() {
            visit(key);
        }
    }

    pub fn top_level_keys(&self) -> Vec<&str> {
        self.root().members().map(|(k, _)| k).collect()
    }

    /// Every string value (not keys), nested at most 64 deep, until `visit` says stop.
    pub fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        let mut found = false;
        walk_strings(self.root(), MAX_SEARCH_DEPTH, &mut |s| {
            found = found || pred(s);
            !found
        });
        found
    }

    pub fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        walk_strings(self.root(), MAX_SEARCH_DEPTH, &mut |s| {
            visit(s);
            true
        });
    }

    pub fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        let mut out = Vec::new();
        walk_strings(self.root(), MAX_SEARCH_DEPTH, &mut |s| {
            out.push(Cow::Borrowed(s));
            true
        });
        out
    }
}

/// Where a string of a record sits: in its text, or among its unescaped copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    escaped: bool,
    start: u32,
    len: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Node(u32),
    /// A list holding just this node (a Google Workspace event's `events`).
    One(u32),
}

/// A value inside a record.
#[derive(Debug, Clone, Copy)]
pub struct Val<'r> {
    tree: &'r Tree,
    at: At,
    /// At the root of a per-event record: the event `events` reads as.
    event: Option<u32>,
}

impl<'r> Val<'r> {
    fn node(&self, at: u32) -> Val<'r> {
        Val {
            tree: self.tree,
            at: At::Node(at),
            event: None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self.at, At::Node(at) if matches!(self.tree.nodes[at as usize], Node::Obj { .. }))
    }

    pub fn is_array(&self) -> bool {
        match self.at {
            At::One(_) => true,
            At::Node(at) => matches!(self.tree.nodes[at as usize], Node::Arr { .. }),
        }
    }

    pub fn as_str(&self) -> Option<&'r str> {
        match self.at {
            At::Node(at) => self.tree.str_at(at),
            At::One(_) => None,
        }
    }

    /// A number's text as written.
    pub fn number_text(&self) -> Option<&'r str> {
        match self.at {
            At::Node(at) => self.tree.num_at(at),
            At::One(_) => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        self.number_text()?.parse().ok()
    }

    pub fn as_f64(&self) -> Option<f64> {
        self.number_text()?.parse().ok()
    }

    /// What kind of JSON value this is, for messages (`a list`).
    pub fn kind(&self) -> &'static str {
        let At::Node(at) = self.at else {
            return "a list";
        };
        match self.tree.nodes[at as usize] {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Num { .. } => "a number",
            Node::Str { .. } | Node::Esc { .. } => "a string",
            Node::Arr { .. } => "a list",
            Node::Obj { .. } => "an object",
        }
    }

    /// An object's members in order (a repeated key appears each time).
    pub fn members(&self) -> Members<'r> {
        let (next, end) = match self.at {
            At::Node(at) => match self.tree.nodes[at as usize] {
                Node::Obj { end } => (at + 1, end),
                _ => (0, 0),
            },
            At::One(_) => (0, 0),
        };
        Members {
            tree: self.tree,
            next,
            end,
            event: if self.at == At::Node(0) {
                self.event
            } else {
                None
            },
        }
    }

    /// An object's member (its last value when repeated).
    pub fn get(&self, key: &str) -> Option<Val<'r>> {
        let At::Node(at) = self.at else {
            return None;
        };
        let Node::Obj { end } = self.tree.nodes[at as usize] else {
            return None;
        };
        let wanted = key.as_bytes();
        let value_at = if at == 0 {
            // The top level through its packed index.
            let print = fingerprint(wanted);
            self.tree
                .top
                .iter()
                .rev()
                .filter(|(p, _)| *p == print)
                .find(|(_, key_at)| same(self.tree.key_bytes(*key_at), wanted))
                .map(|(_, key_at)| key_at + 1)?
        } else {
            // The last of the name (as `serde_json` keeps), comparing lengths first.
            let mut found = None;
            let mut next = at + 1;
            while next < end {
                let key_at = next;
                next = self.tree.after(key_at + 1);
                if same(self.tree.key_bytes(key_at), wanted) {
                    found = Some(key_at + 1);
                }
            }
            found?
        };
        let at = match self.event {
            Some(event) if at == 0 && key == "events" => At::One(event),
            _ => At::Node(value_at),
        };
        Some(Val {
            tree: self.tree,
            at,
            event: None,
        })
    }

    /// A member by dotted path, objects only.
    pub fn path(&self, dotted: &str) -> Option<Val<'r>> {
        let mut v = *self;
        let mut rest = dotted;
        while let Some(dot) = rest.bytes().position(|b| b == b'.') {
            v = v.get(&rest[..dot])?;
            rest = &rest[dot + 1..];
        }
        v.get(rest)
    }

    /// A list's elements.
    pub fn items(&self) -> Items<'r> {
        let (next, end, one) = match self.at {
            At::One(at) => (0, 0, Some(at)),
            At::Node(at) => match self.tree.nodes[at as usize] {
                Node::Arr { end } => (at + 1, end, None),
                _ => (0, 0, None),
            },
        };
        Items {
            tree: self.tree,
            next,
            end,
            one,
        }
    }

    pub fn to_event_value(&self) -> EventValue<'r> {
        let at = match self.at {
            At::One(at) => return EventValue::Array(vec![self.node(at).to_event_value()]),
            At::Node(at) => at,
        };
        match self.tree.nodes[at as usize] {
            Node::Null => EventValue::Null,
            Node::Bool(b) => EventValue::Bool(b),
            Node::Num { .. } => {
                let raw = self.tree.num_at(at).unwrap_or("0");
                match raw.parse::<i64>() {
                    Ok(i) => EventValue::Int(i),
                    Err(_) => EventValue::Float(raw.parse().unwrap_or(f64::NAN)),
                }
            }
            Node::Str { .. } | Node::Esc { .. } => {
                EventValue::Str(Cow::Borrowed(self.tree.str_at(at).unwrap_or_default()))
            }
            Node::Arr { .. } => {
                EventValue::Array(self.items().map(|v| v.to_event_value()).collect())
            }
            Node::Obj { .. } => EventValue::Map(
                self.members()
                    .map(|(k, v)| (Cow::Borrowed(k), v.to_event_value()))
                    .collect(),
            ),
        }
    }

    pub fn to_value(&self) -> Value {
        let at = match self.at {
            At::One(at) => return Value::Array(vec![self.node(at).to_value()]),
            At::Node(at) => at,
        };
        match self.tree.nodes[at as usize] {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(b),
            Node::Num { .. } => {
                serde_json::from_str(self.tree.num_at(at).unwrap_or("0")).unwrap_or(Value::Null)
            }
            Node::Str { .. } | Node::Esc { .. } => {
                Value::String(self.tree.str_at(at).unwrap_or_default().to_string())
            }
            Node::Arr { .. } => Value::Array(self.items().map(|v| v.to_value()).collect()),
            Node::Obj { .. } => Value::Object(
                self.members()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

pub struct Members<'r> {
    tree: &'r Tree,
    next: u32,
    end: u32,
    event: Option<u32>,
}

impl<'r> Iterator for Members<'r> {
    type Item = (&'r str, Val<'r>);
    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.end {
            return None;
        }
        let key_at = self.next;
        let value_at = key_at + 1;
        self.next = self.tree.after(value_at);
        let key = self.tree.str_at(key_at).unwrap_or_default();
        let at = match self.event {
            Some(event) if key == "events" => At::One(event),
            _ => At::Node(value_at),
        };
        Some((
            key,
            Val {
                tree: self.tree,
                at,
                event: None,
            },
        ))
    }
}

pub struct Items<'r> {
    tree: &'r Tree,
    next: u32,
    end: u32,
    one: Option<u32>,
}

impl<'r> Iterator for Items<'r> {
    type Item = Val<'r>;
    fn next(&mut self) -> Option<Self::Item> {
        let at = if let Some(one) = self.one.take() {
            one
        } else if self.next < self.end {
            let at = self.next;
            self.next = self.tree.after(at);
            at
        } else {
            return None;
        };
        Some(Val {
            tree: self.tree,
            at: At::Node(at),
            event: None,
        })
    }
}

/// Calls `visit` on every string value under `v` until it returns false; false if stopped.
fn walk_strings<'r>(v: Val<'r>, depth: usize, visit: &mut dyn FnMut(&'r str) -> bool) -> bool {
    if depth == 0 {
        return true;
    }
    if let Some(s) = v.as_str() {
        return visit(s);
    }
    if v.is_array() {
        return v.items().all(|item| walk_strings(item, depth - 1, visit));
    }
    v.members()
        .all(|(_, member)| walk_strings(member, depth - 1, visit))
}

/// One step of a field path.
enum PathOp<'a> {
    /// An object's member; over a list, every element's.
    Key(Cow<'a, str>),
    /// A list position (negative: from the end); never fans out.
    Index(i64),
}

/// The first member name of a path (`a.b` → `a`, `a[0].b` → `a`), `\[` `\]` unescaped.
pub(crate) fn path_root_key(path: &str) -> Option<Cow<'_, str>> {
    let segment = match first_unescaped(path, b'.') {
        Some(0) => return None,
        Some(pos) => &path[..pos],
        None => path,
    };
    let name = match first_unescaped(segment, b'[') {
        Some(0) => return None,
        Some(pos) => &segment[..pos],
        None => segment,
    };
    (!name.is_empty()).then(|| unescape_brackets(name))
}

fn path_ops(path: &str) -> Vec<PathOp<'_>> {
    let mut ops = Vec::new();
    for part in path.split('.') {
        let indexed = first_unescaped(part, b'[')
            .and_then(|at| index_groups(&part[at..]).map(|indexes| (at, indexes)));
        match indexed {
            Some((at, indexes)) => {
                if at > 0 {
                    ops.push(PathOp::Key(unescape_brackets(&part[..at])));
                }
                ops.extend(indexes.into_iter().map(PathOp::Index));
            }
            None => ops.push(PathOp::Key(unescape_brackets(part))),
        }
    }
    ops
}

/// `[N]` or `[N][M]…`; `None` when any group is not an integer (then a literal key).
fn index_groups(mut s: &str) -> Option<Vec<i64>> {
    let mut out = Vec::new();
    while !s.is_empty() {
        let rest = s.strip_prefix('[')?;
        let close = rest.find(']')?;
        out.push(rest[..close].parse().ok()?);
        s = &rest[close + 1..];
    }
    Some(out)
}

/// The values a path reached: most paths reach one, which needs no list.
enum Found<'r> {
    None,
    One(EventValue<'r>),
    Many(Vec<EventValue<'r>>),
}

impl<'r> Found<'r> {
    fn push(&mut self, value: EventValue<'r>) {
        *self = match std::mem::replace(self, Found::None) {
            Found::None => Found::One(value),
            Found::One(first) => Found::Many(vec![first, value]),
            Found::Many(mut all) => {
                all.push(value);
                Found::Many(all)
            }
        };
    }

    fn into_value(self) -> Option<EventValue<'r>> {
        match self {
            Found::None => None,
            Found::One(value) => Some(value),
            Found::Many(all) => Some(EventValue::Array(all)),
        }
    }
}

/// [`collect`] for a dotted path without brackets or escapes: each segment a member name.
fn collect_plain<'r>(current: Val<'r>, path: &str, out: &mut Found<'r>) {
    if current.is_array() {
        for item in current.items() {
            collect_plain(item, path, out);
        }
        return;
    }
    let (key, rest) = match path.split_once('.') {
        Some((key, rest)) => (key, Some(rest)),
        None => (path, None),
    };
    if let Some(next) = current.get(key) {
        match rest {
            Some(rest) => collect_plain(next, rest, out),
            None => out.push(next.to_event_value()),
        }
    }
}

fn collect<'r>(current: Val<'r>, ops: &[PathOp<'_>], out: &mut Found<'r>) {
    let Some((op, rest)) = ops.split_first() else {
        out.push(current.to_event_value());
        return;
    };
    match op {
        PathOp::Key(key) => {
            if current.is_array() {
                for item in current.items() {
                    collect(item, ops, out);
                }
            } else if let Some(next) = current.get(key) {
                collect(next, rest, out);
            }
        }
        PathOp::Index(i) => {
            if current.is_array() {
                let items: Vec<Val<'r>> = current.items().collect();
                let len = items.len();
                let at = if *i >= 0 {
                    usize::try_from(*i).ok().filter(|&at| at < len)
                } else {
                    usize::try_from(i.unsigned_abs())
                        .ok()
                        .and_then(|back| len.checked_sub(back))
                };
                if let Some(next) = at.and_then(|at| items.get(at)) {
                    collect(*next, rest, out);
                }
            }
        }
    }
}

struct Parser<'t> {
    b: &'t [u8],
    i: usize,
    nodes: Vec<Node>,
    unescaped: String,
    top: Vec<(u32, u32)>,
}

/// Position of the first `"`, `\` or control character at or after `i` (or the end), eight
/// bytes at a time; with `STOP_WIDE`, also of the first non-ASCII byte.
fn string_end<const STOP_WIDE: bool>(b: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while i + 8 <= b.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&b[i..i + 8]);
        let w = u64::from_le_bytes(word);
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        // A zero byte in `quote` or `backslash`, or a byte below 0x20 in `w`: the lowest flag
        // is exact (a false flag only ever sits above a true one). A non-ASCII byte flags
        // itself.
        let mut flags = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (w.wrapping_sub(ONES * 0x20) & !w);
        if STOP_WIDE {
            flags |= w;
        }
        let flags = flags & HIGH;
        if flags != 0 {
            return i + (flags.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && !matches!(b[i], b'"' | b'\\' | 0..=0x1f) && !(STOP_WIDE && b[i] >= 0x80) {
        i += 1;
    }
    i
}

impl Parser<'_> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.b.get(self.i) == Some(&byte) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn at(&self) -> u32 {
        self.i as u32
    }

    fn record(&mut self, filter: &FieldFilter) -> Option<()> {
        self.ws();
        if !self.eat(b'{') {
            return None;
        }
        self.nodes.push(Node::Obj { end: 0 });
        self.ws();
        if !self.eat(b'}') {
            loop {
                if !self.eat(b'"') {
                    return None;
                }
                let unescaped_len = self.unescaped.len();
                let key = self.string(true)?;
                let (keep, print) = {
                    let name = match key {
                        Node::Str { start, len } => &self.b[start as usize..(start + len) as usize],
                        Node::Esc { start, len } => {
                            &self.unescaped.as_bytes()[start as usize..(start + len) as usize]
                        }
                        _ => return None,
                    };
                    (filter.keeps(name), fingerprint(name))
                };
                self.ws();
                if !self.eat(b':') {
                    return None;
                }
                self.ws();
                if keep {
                    self.top.push((print, self.nodes.len() as u32));
                    self.nodes.push(key);
                    self.value(1, true)?;
                } else {
                    self.unescaped.truncate(unescaped_len);
                    self.value(1, false)?;
                }
                self.ws();
                if self.eat(b',') {
                    self.ws();
                    continue;
                }
                if self.eat(b'}') {
                    break;
                }
                return None;
            }
        }
        self.nodes[0] = Node::Obj {
            end: self.nodes.len() as u32,
        };
        self.ws();
        (self.i == self.b.len()).then_some(())
    }

    /// One value at the cursor; nodes are built only when `keep`.
    fn value(&mut self, depth: usize, keep: bool) -> Option<()> {
        match *self.b.get(self.i)? {
            b'"' => {
                self.i += 1;
                let node = self.string(keep)?;
                if keep {
                    self.nodes.push(node);
                }
            }
            open @ (b'{' | b'[') => {
                if depth > MAX_DEPTH {
                    return None;
                }
                self.i += 1;
                let object = open == b'{';
                let close = if object { b'}' } else { b']' };
                let at = self.nodes.len();
                if keep {
                    self.nodes.push(Node::Null);
                }
                self.ws();
                if !self.eat(close) {
                    loop {
                        if object {
                            if !self.eat(b'"') {
                                return None;
                            }
                            let key = self.string(keep)?;
                            if keep {
                                self.nodes.push(key);
                            }
                            self.ws();
                            if !self.eat(b':') {
                                return None;
                            }
                            self.ws();
                        }
                        self.value(depth + 1, keep)?;
                        self.ws();
                        if self.eat(b',') {
                            self.ws();
                            continue;
                        }
                        if self.eat(close) {
                            break;
                        }
                        return None;
                    }
                }
                if keep {
                    let end = self.nodes.len() as u32;
                    self.nodes[at] = if object {
                        Node::Obj { end }
                    } else {
                        Node::Arr { end }
                    };
                }
            }
            b't' => self.literal(b"true", keep, Node::Bool(true))?,
            b'f' => self.literal(b"false", keep, Node::Bool(false))?,
            b'n' => self.literal(b"null", keep, Node::Null)?,
            b'-' | b'0'..=b'9' => {
                let node = self.number()?;
                if keep {
                    self.nodes.push(node);
                }
            }
            _ => return None,
        }
        Some(())
    }

    fn literal(&mut self, word: &[u8], keep: bool, node: Node) -> Option<()> {
        if !self.b[self.i..].starts_with(word) {
            return None;
        }
        self.i += word.len();
        if keep {
            self.nodes.push(node);
        }
        Some(())
    }

    fn number(&mut self) -> Option<Node> {
        let start = self.at();
        let digits = |p: &mut Self| {
            let from = p.i;
            while let Some(b'0'..=b'9') = p.b.get(p.i) {
                p.i += 1;
            }
            p.i > from
        };
        self.eat(b'-');
        if !self.eat(b'0') && !digits(self) {
            return None;
        }
        if self.eat(b'.') && !digits(self) {
            return None;
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if !digits(self) {
                return None;
            }
        }
        Some(Node::Num {
            start,
            len: self.at() - start,
        })
    }

    /// A string after its opening quote. Escapes are checked always and written out only when
    /// `keep`.
    fn string(&mut self, keep: bool) -> Option<Node> {
        let start = self.i;
        let mut stop = string_end::<true>(self.b, start);
        if self.b.get(stop).is_some_and(|&c| c >= 0x80) {
            // Not ASCII: the rest is scanned without stopping at each byte, and the string is
            // checked as UTF-8 once it ends.
            stop = string_end::<false>(self.b, stop);
            if self.b.get(stop) == Some(&b'"') {
                std::str::from_utf8(&self.b[start..stop]).ok()?;
            }
        }
        match *self.b.get(stop)? {
            b'"' => {
                self.i = stop + 1;
                return Some(Node::Str {
                    start: start as u32,
                    len: (stop - start) as u32,
                });
            }
            b'\\' => {}
            _ => return None,
        }
        let from = self.unescaped.len();
        self.i = start;
        loop {
            let stop = string_end::<false>(self.b, self.i);
            // Between escapes (ASCII), so whole characters, checked as UTF-8 here.
            let run = std::str::from_utf8(&self.b[self.i..stop]).ok()?;
            if keep {
                self.unescaped.push_str(run);
            }
            match *self.b.get(stop)? {
                b'"' => {
                    self.i = stop + 1;
                    break;
                }
                b'\\' => {
                    self.i = stop + 1;
                    let c = self.escape()?;
                    if keep {
                        self.unescaped.push(c);
                    }
                }
                _ => return None,
            }
        }
        Some(Node::Esc {
            start: from as u32,
            len: (self.unescaped.len() - from) as u32,
        })
    }

    /// The character an escape after its backslash stands for; lone surrogates are refused.
    fn escape(&mut self) -> Option<char> {
        let c = *self.b.get(self.i)?;
        self.i += 1;
        Some(match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                match high {
                    0xD800..=0xDBFF => {
                        if !(self.eat(b'\\') && self.eat(b'u')) {
                            return None;
                        }
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return None;
                        }
                        char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))?
                    }
                    0xDC00..=0xDFFF => return None,
                    _ => char::from_u32(high)?,
                }
            }
            _ => return None,
        })
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.b.get(self.i..self.i + 4)?;
        let mut n = 0u32;
        for &d in digits {
            n = n * 16 + (d as char).to_digit(16)?;
        }
        self.i += 4;
        Some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn whole(text: &str) -> Record {
        Record::parse(text.as_bytes(), &FieldFilter::all()).expect(text)
    }

    #[test]
    fn parses_what_serde_json_parses_to_the_same_value() {
        for text in [
            r#"{}"#,
            r#" { "a" : [ 1 , -2.5e3 , true , false , null , "x" , { } , [ ] ] } "#,
            r#"{"esc":"q\"b\\s\/n\nt\tu\u00e9 \ud83d\ude00 end","日本":"語","big":18446744073709551616}"#,
            r#"{"dup":1,"dup":{"inner":[{"k":"v"}]},"z":0}"#,
            "{\"crlf\":1}\r",
        ] {
            let expected: Value = serde_json::from_str(text).unwrap();
            assert_eq!(whole(text).to_value(), expected, "{text}");
        }
    }

    #[test]
    fn refuses_what_serde_json_refuses() {
        for text in [
            "",
            "[1]",
            "\"s\"",
            "{",
            r#"{"a":1,}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":-}"#,
            r#"{"a":tru}"#,
            r#"{"a":"\x"}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\udc00"}"#,
            "{\"a\":\"tab\there\"}",
            r#"{"a":1} x"#,
            r#"{"a" 1}"#,
            r#"{a:1}"#,
            r#"{"a":[1 2]}"#,
        ] {
            assert!(
                Record::parse(text.as_bytes(), &FieldFilter::all()).is_none(),
                "{text:?}"
            );
            assert!(
                serde_json::from_str::<Value>(text).map_or(true, |v| !v.is_object()),
                "{text:?}"
            );
        }
        // Not UTF-8: in a kept or skipped value, in a name, around an escape, outside strings.
        let filter = FieldFilter::only(&["a"]);
        for bytes in [
            &b"{\"a\":\"\xff\"}"[..],
            b"{\"a\":\"ok\",\"b\":\"\xe3\x81\"}",
            b"{\"\xc3\x28\":1}",
            b"{\"a\":\"\\n\xed\xa0\x80\"}",
            b"{\"a\":1\xc2\xa0}",
        ] {
            assert!(Record::parse(bytes, &filter).is_none(), "{bytes:?}");
            assert!(serde_json::from_slice::<Value>(bytes).is_err(), "{bytes:?}");
        }
        let japanese = "{\"a\":\"日本語の名前\\t田中\",\"b\":\"é\"}";
        assert_eq!(
            Record::parse(japanese.as_bytes(), &FieldFilter::all())
                .unwrap()
                .to_value(),
            serde_json::from_str::<Value>(japanese).unwrap()
        );
        // Skipped members are checked as strictly as kept ones.
        assert!(Record::parse(br#"{"a":1,"b":[1,{"c":tru}]}"#, &filter).is_none());
        assert!(Record::parse(br#"{"a":1,"b":"\q"}"#, &filter).is_none());
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200));
        assert!(Record::parse(deep.as_bytes(), &FieldFilter::all()).is_none());
    }

    #[test]
    fn keeps_only_the_filtered_members() {
        let filter = FieldFilter::only(&["a", "c"]);
        let r = Record::parse(
            br#"{"a":"1","b":{"x":["y\n"]},"c\u0000":2,"c":[3]}"#,
            &filter,
        )
        .unwrap();
        assert_eq!(r.to_value(), json!({"a": "1", "c": [3]}));
    }

    #[test]
    fn fields_read_as_rsigma_reads_json() {
        use rsigma_eval::{Event, JsonEvent};
        let value = json!({
            "a.b": "flat wins", "a": {"b": "nested"},
            "list": [{"k": "one"}, {"k": "two"}, {"other": 1}],
            "pos": [[1, 2], [3, 4]], "n": 7, "f": 1.5, "z": null,
            "esc[0]": "literal", "deep": {"x": {"y": [true]}}
        });
        let record = Record::from_value(&value).unwrap();
        let json = JsonEvent::borrow(&value);
        for path in [
            "a.b",
            "a",
            "list.k",
            "list.other",
            "list[1].k",
            "list[-1].other",
            "list[9].k",
            "pos[1][0]",
            "pos[-1][-1]",
            "n",
            "f",
            "z",
            "missing",
            "missing.x",
            "esc\\[0\\]",
            "deep.x.y",
            ".a",
            "a.",
            "list[x].k",
        ] {
            assert_eq!(record.get_field(path), json.get_field(path), "{path}");
        }
        let mut ours = record.all_string_values();
        let mut theirs = json.all_string_values();
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs);
        assert!(record.any_string_value(&|s| s == "two"));
        assert!(!record.any_string_value(&|s| s == "k"));
    }

    #[test]
    fn a_selected_event_reads_as_a_list_of_one() {
        let record = whole(r#"{"id":{"time":"t"},"events":[{"name":"a"},{"name":"b"}]}"#);
        let second = record.get("events").unwrap().items().nth(1).unwrap();
        let per_event = record.with_event(second);
        assert_eq!(
            per_event.to_value(),
            json!({"id": {"time": "t"}, "events": [{"name": "b"}]})
        );
        assert_eq!(
            per_event.get_field("events.name"),
            Some(EventValue::Str("b".into()))
        );
        assert_eq!(
            record.get_field("events.name"),
            Some(EventValue::Array(vec![
                EventValue::Str("a".into()),
                EventValue::Str("b".into())
            ]))
        );
    }
}
