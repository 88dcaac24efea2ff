//! Which members of a vendor record detection can read, and a parser that keeps only those.
//!
//! Most of an audit record is never looked at: a unified audit log record carries thirty-odd
//! members and the rules read a handful. The hot path parses a line into a [`Record`] holding
//! only the members some loaded rule, the envelope or a stateful detection reads; the others are
//! validated and skipped without building anything.
//!
//! The filter keeps whole top-level members (a rule on `location.city` keeps all of
//! `location`). When any loaded rule can read any member — keyword detections, `|fieldref`
//! values — the filter keeps everything. A record the pruned parse cannot normalise, or one
//! without its vendor id (whose id is then a hash of the whole record), is parsed whole with
//! `serde_json`, so ids, quarantine reasons and raw text are the same as without the filter.

use crate::record::{Record, Val};
use crate::source::{normalise, normalise_record, Event, Rejected, Source};
use rsigma_parser::fieldpath::unescape_brackets;
use rsigma_parser::{Detection, Detections, Modifier, SigmaCollection};
use rustc_hash::FxHashSet;
use std::sync::Arc;

/// Members each source's envelope is built from (see `source::build`), and the sign-in
/// location the impossible-travel detection reads.
const ENVELOPE_MEMBERS: &[&str] = &[
    // Microsoft 365 unified audit log.
    "CreationTime",
    "Id",
    "OrganizationId",
    "UserId",
    "ClientIP",
    "ActorIpAddress",
    "Operation",
    "ObjectId",
    "Workload",
    "ResultStatus",
    // Entra ID sign-ins and directory audits.
    "createdDateTime",
    "activityDateTime",
    "id",
    "resourceTenantId",
    "homeTenantId",
    "userPrincipalName",
    "userId",
    "ipAddress",
    "appDisplayName",
    "status",
    "location",
    "result",
    "activityDisplayName",
    "initiatedBy",
    "targetResources",
    // Google Workspace Reports API activities.
    "actor",
    "events",
];

/// Lists `mamori.params.<name>` reads (see `detector::parameter`).
const PARAMETER_LISTS: &[&str] = &[
    "events",
    "Parameters",
    "ExtendedProperties",
    "ModifiedProperties",
];

/// The top-level record members detection reads; without a list, every member.
#[derive(Debug, Clone, Default)]
pub struct FieldFilter {
    kept: Option<Kept>,
}

/// The names kept, laid out for a test per member that neither hashes nor calls `memcmp`.
#[derive(Debug, Clone)]
struct Kept {
    /// A bit per [`sketch`] of each kept name: most members not kept are refused on one bit.
    sketch: Box<[u64]>,
    /// Kept names by the top eight bits of their sketch.
    buckets: Box<[Vec<Box<[u8]>>]>,
}

const SKETCH_WORDS: usize = 64;

/// Twelve bits from a name's length and three of its bytes.
fn sketch(name: &[u8]) -> usize {
    let (Some(&first), Some(&last)) = (name.first(), name.last()) else {
        return 0;
    };
    let x = (name.len() as u32 & 0xff)
        | u32::from(first) << 8
        | u32::from(name[name.len() / 2]) << 16
        | u32::from(last) << 24;
    (x.wrapping_mul(0x9E37_79B1) >> 20) as usize
}

impl FieldFilter {
    /// Keeps every member (the parse is then an ordinary JSON parse).
    pub const fn all() -> Self {
        FieldFilter { kept: None }
    }

    fn keeping(names: FxHashSet<Box<[u8]>>) -> Self {
        let mut sketch_bits = vec![0u64; SKETCH_WORDS];
        let mut buckets = vec![Vec::new(); (SKETCH_WORDS * 64) >> 4];
        for name in names {
            let at = sketch(&name);
            sketch_bits[at / 64] |= 1 << (at % 64);
            buckets[at >> 4].push(name);
        }
        FieldFilter {
            kept: Some(Kept {
                sketch: sketch_bits.into(),
                buckets: buckets.into(),
            }),
        }
    }

    pub fn keeps_everything(&self) -> bool {
        self.kept.is_none()
    }

    /// Members kept, sorted (`None`: all).
    pub fn members(&self) -> Option<Vec<&str>> {
        let mut v: Vec<&str> = self
            .kept
            .as_ref()?
            .buckets
            .iter()
            .flatten()
            .filter_map(|k| std::str::from_utf8(k).ok())
            .collect();
        v.sort_unstable();
        Some(v)
    }

    /// Keeps just these members (and nothing a rule might read besides).
    pub fn only(members: &[&str]) -> Self {
        FieldFilter::keeping(members.iter().map(|m| Box::from(m.as_bytes())).collect())
    }

    pub(crate) fn keeps(&self, key: &[u8]) -> bool {
        let Some(kept) = &self.kept else {
            return true;
        };
        let at = sketch(key);
        kept.sketch[at / 64] & (1 << (at % 64)) != 0
            && kept.buckets[at >> 4]
                .iter()
                .any(|name| crate::record::same(name, key))
    }

    /// From the rules of every source (after field-name mappings) plus what the envelope,
    /// the alert entities and the stateful detections read.
    pub(crate) fn from_parts<'a>(
        collections: impl IntoIterator<Item = &'a SigmaCollection>,
        mapped: &[(String, String)],
        entity_fields: impl IntoIterator<Item = &'a String>,
    ) -> Self {
        let mut keep = FxHashSet::default();
        for collection in collections {
            if !add_rule_fields(collection, mapped, &mut keep) {
                return FieldFilter::all();
            }
        }
        for field in entity_fields {
            if !field.starts_with("mamori.") {
                add_field(&mut keep, field);
            }
        }
        ENVELOPE_MEMBERS
            .iter()
            .for_each(|m| add_field(&mut keep, m));
        FieldFilter::keeping(keep)
    }

    /// The top-level members one source's rules can read (every member name the evaluator's
    /// index might probe): the members worth naming to it.
    pub(crate) fn rule_roots(collection: &SigmaCollection, mapped: &[(String, String)]) -> Self {
        let mut keep = FxHashSet::default();
        if !add_rule_fields(collection, mapped, &mut keep) {
            return FieldFilter::all();
        }
        FieldFilter::keeping(keep)
    }
}

/// Keeps a field's member: the name as written, unescaped (`args\[0\]` is the member
/// `args[0]`), and the root of a nested or positional path (`a.b` and `a[0]` read `a`).
fn add_field(keep: &mut FxHashSet<Box<[u8]>>, field: &str) {
    keep.insert(field.as_bytes().into());
    keep.insert(unescape_brackets(field).as_bytes().into());
    if let Some(root) = crate::record::path_root_key(field) {
        keep.insert(root.as_bytes().into());
    }
}

/// Adds the members `collection`'s rules read; `false` when they can read any member.
fn add_rule_fields(
    collection: &SigmaCollection,
    mapped: &[(String, String)],
    keep: &mut FxHashSet<Box<[u8]>>,
) -> bool {
    if reads_any_member(collection) {
        return false;
    }
    let fields = rsigma_eval::RuleFieldSet::collect(collection, &[], true);
    for name in fields.names() {
        if name.contains('*') || name.contains('?') {
            return false;
        }
        if let Some(param) = name.strip_prefix("mamori.") {
            if param.starts_with("params.") {
                PARAMETER_LISTS.iter().for_each(|l| add_field(keep, l));
            }
            continue;
        }
        add_field(keep, name);
        // A rule written for another log schema reads the mapped name.
        for (from, to) in mapped {
            if from == name {
                add_field(keep, to);
            }
        }
    }
    true
}

/// Rules whose matches do not name their fields: keyword lists, `|fieldref` (the value names
/// another field), and field-less detection items.
fn reads_any_member(collection: &SigmaCollection) -> bool {
    fn detection(d: &Detection) -> bool {
        match d {
            Detection::Keywords(_) => true,
            Detection::AllOf(items) => items
                .iter()
                .any(|i| i.field.name.is_none() || i.field.modifiers.contains(&Modifier::FieldRef)),
            Detection::AnyOf(subs) | Detection::And(subs) => subs.iter().any(detection),
            Detection::ArrayMatch { body, .. } => detection(body),
            Detection::Conditional { named, .. } => named.values().any(detection),
        }
    }
    let detections = |d: &Detections| d.named.values().any(detection);
    collection.rules.iter().any(|r| detections(&r.detection))
        || collection.filters.iter().any(|f| detections(&f.detection))
}

/// Parses one JSON object text keeping only the members `filter` keeps; `None` when the text is
/// not a JSON object (parse it with `serde_json` for the reason).
pub fn parse_record(line: &[u8], filter: &FieldFilter) -> Option<Record> {
    Record::parse(line, filter)
}

/// Parses and normalises one line with `filter`; a record rejected or without its own id is
/// parsed again whole, so the events, ids and rejections are those of [`normalise`] on the
/// whole record.
pub fn normalise_line(
    source: Source,
    line: &[u8],
    tenant: Option<&Arc<str>>,
    filter: &FieldFilter,
) -> Result<Result<Vec<Event>, Rejected>, serde_json::Error> {
    if let Some(record) = Record::parse(line, filter) {
        if has_own_id(source, &record) {
            if let Ok(events) = normalise_record(source, record, tenant) {
                return Ok(Ok(events));
            }
        }
    }
    Ok(normalise(source, serde_json::from_slice(line)?, tenant))
}

/// Whether the record names its id (else the envelope's id is a hash of the whole record).
fn has_own_id(source: Source, record: &Record) -> bool {
    let present = |v: Option<Val<'_>>| {
        v.is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty()) || v.number_text().is_some())
    };
    match source {
        Source::M365 => present(record.get("Id")),
        Source::EntraSignin | Source::EntraAudit => present(record.get("id")),
        Source::Gws => present(record.path("id.uniqueQualifier")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    #[test]
    fn the_builtin_rules_keep_what_they_read_and_drop_the_rest() {
        let rules = RuleSet::builtin().unwrap();
        let filter = rules.field_filter();
        let members = filter.members().expect("Mamori's rules name their fields");
        for needed in ["Operation", "location", "events", "status", "Parameters"] {
            assert!(members.contains(&needed), "{needed} in {members:?}");
        }
        let line = br#"{"Id":"a1","CreationTime":"2026-12-01T10:00:00","Operation":"FileDownloaded","UserId":"u@x","UnreadBy":{"deep":[1,2,{"x":"y"}]},"Version":1,"Workload":"SharePoint"}"#;
        let v = parse_record(line, &filter).unwrap().to_value();
        assert_eq!(v["Operation"], "FileDownloaded");
        assert!(v.get("UnreadBy").is_none() && v.get("Version").is_none());
    }

    #[test]
    fn bracketed_names_keep_their_members() {
        // Without the array-matching spec version, brackets are part of the member's name
        // (rsigma reads `a[0].b` as member `a[0]`, then `b`), and the name the field set
        // reports has them escaped: the member kept is the unescaped root.
        let rules = rsigma_parser::parse_sigma_yaml(
            r#"
title: bracketed
logsource: {product: entra, service: audit}
detection:
  selection:
    targetResources[0].userPrincipalName: a@example.jp
    args[-1]: x
  condition: selection
"#,
        )
        .unwrap();
        let roots = FieldFilter::rule_roots(&rules, &[]);
        for member in ["targetResources[0]", "args[-1]"] {
            assert!(
                roots.keeps(member.as_bytes()),
                "{member}: {:?}",
                roots.members()
            );
        }
        assert!(!roots.keeps(b"initiatedBy"));
        let line = br#"{"targetResources[0]":{"userPrincipalName":"a@example.jp"},"args[-1]":"x","other":1}"#;
        let v = parse_record(line, &roots).unwrap().to_value();
        assert_eq!(v["targetResources[0]"]["userPrincipalName"], "a@example.jp");
        assert_eq!(v["args[-1]"], "x");
        assert!(v.get("other").is_none());
    }

    #[test]
    fn records_without_an_id_or_rejected_are_normalised_whole() {
        let rules = RuleSet::builtin().unwrap();
        let filter = rules.field_filter();
        // No `Id`: the id is the hash of the whole record, as without the filter.
        let line =
            br#"{"CreationTime":"2026-12-01T10:00:00","Operation":"FileDownloaded","Unused":"x"}"#;
        let pruned = normalise_line(
            Source::M365,
            line,
            Some(&std::sync::Arc::from("t")),
            &filter,
        )
        .unwrap()
        .unwrap();
        let whole = normalise(
            Source::M365,
            serde_json::from_slice(line).unwrap(),
            Some(&std::sync::Arc::from("t")),
        )
        .unwrap();
        assert_eq!(pruned[0].id(), whole[0].id());
        assert_eq!(pruned[0].record.to_value()["Unused"], "x");
        // Rejected: the record kept for quarantine is the whole one.
        let bad = br#"{"Id":"b","Operation":"x","Unused":"kept for quarantine"}"#;
        let rejected = normalise_line(Source::M365, bad, Some(&std::sync::Arc::from("t")), &filter)
            .unwrap()
            .unwrap_err();
        assert_eq!(rejected.record["Unused"], "kept for quarantine");
        // Not an object, not JSON.
        assert!(normalise_line(Source::M365, b"[1]", None, &filter)
            .unwrap()
            .is_err());
        assert!(normalise_line(Source::M365, b"{\"Id\":", None, &filter).is_err());
    }

    #[test]
    fn keyword_rules_keep_every_member() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("kw.yml"),
            "title: Keyword\nid: 5d0b8a4e-0000-4000-8000-000000000001\nlogsource:\n  product: m365\ndetection:\n  keywords:\n    - 'evil'\n  condition: keywords\nlevel: low\n",
        )
        .unwrap();
        let mut rules = RuleSet::builtin().unwrap();
        rules.add_dir(dir.path()).unwrap();
        assert!(rules.field_filter().keeps_everything());
    }
}
