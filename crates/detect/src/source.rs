//! The audit-log sources Mamori reads, and how one vendor record becomes the events rules see:
//! the record as the vendor wrote it, plus a small common envelope under `mamori`.

use crate::record::{Record, Span, Val};
use jiff::Timestamp;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// Key of the common envelope inside each event. No vendor uses it at the top level.
pub const ENVELOPE: &str = "mamori";

/// The audit-log sources: Mamori's one vocabulary (`mamori_core::LogSource`).
pub use mamori_core::LogSource as Source;

/// The Sigma `logsource.product` of Mamori's own rules for a source.
pub fn product(source: Source) -> &'static str {
    match source {
        Source::M365 => "m365",
        Source::EntraSignin | Source::EntraAudit => "entra",
        Source::Gws => "google_workspace",
    }
}

/// Field holding the record's time, as the vendor names it.
pub fn time_field(source: Source) -> &'static str {
    match source {
        Source::M365 => "CreationTime",
        Source::EntraSignin => "createdDateTime",
        Source::EntraAudit => "activityDateTime",
        Source::Gws => "id.time",
    }
}

/// A piece of envelope text: a string of the record itself (kept as its place, not copied), a
/// word of Mamori's, the tenant named by the caller (shared by a whole batch), or a string made
/// for this event (a content hash).
#[derive(Debug, Clone)]
enum Text {
    Record(Span),
    Fixed(&'static str),
    Shared(Arc<str>),
    Owned(Box<str>),
}

/// The common envelope: what every source's record says in its own words, in one shape. Its
/// texts are read through [`Event`]'s accessors (most are places in the record).
#[derive(Debug, Clone)]
pub struct Envelope {
    tenant: Text,
    source: Source,
    /// Unix seconds of the record's time.
    epoch: i64,
    /// The vendor's record id; for a Google Workspace activity listing several events, the
    /// event's index follows it (`<id>#<index>`).
    id: Text,
    id_index: Option<u32>,
    actor: Option<Text>,
    src_ip: Option<Text>,
    action: Option<Text>,
    /// `success`, `failure` or `unknown`.
    outcome: &'static str,
    target: Option<Text>,
    /// The Sigma logsource service of this event (Google Workspace: the application name;
    /// Entra ID: `signin` / `audit`; Microsoft 365: the record's workload).
    service: Text,
}

/// Unix seconds as RFC 3339 in UTC (`2026-12-01T10:00:00Z`).
pub fn epoch_text(epoch: i64) -> String {
    Timestamp::from_second(epoch)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// One event ready for the rules: the vendor's record, and the envelope rules read under
/// `mamori`.
#[derive(Debug, Clone)]
pub struct Event {
    envelope: Envelope,
    pub record: Record,
}

impl Event {
    fn text<'a>(&'a self, text: &'a Text) -> &'a str {
        match text {
            Text::Record(span) => self.record.resolve(*span),
            Text::Fixed(s) => s,
            Text::Shared(s) => s,
            Text::Owned(s) => s,
        }
    }

    pub fn tenant(&self) -> &str {
        self.text(&self.envelope.tenant)
    }

    pub fn source(&self) -> Source {
        self.envelope.source
    }

    /// Unix seconds of the record's time.
    pub fn epoch(&self) -> i64 {
        self.envelope.epoch
    }

    /// The record's time, RFC 3339 in UTC: derived when shown, not built for every event.
    pub fn time(&self) -> String {
        epoch_text(self.epoch())
    }

    /// The vendor's record id (for Google Workspace, the activity's id plus the event's index
    /// when the activity lists several events).
    pub fn id(&self) -> Cow<'_, str> {
        let id = self.text(&self.envelope.id);
        match self.envelope.id_index {
            None => Cow::Borrowed(id),
            Some(index) => Cow::Owned(format!("{id}#{index}")),
        }
    }

    pub fn actor(&self) -> Option<&str> {
        self.envelope.actor.as_ref().map(|t| self.text(t))
    }

    pub fn src_ip(&self) -> Option<&str> {
        self.envelope.src_ip.as_ref().map(|t| self.text(t))
    }

    pub fn action(&self) -> Option<&str> {
        self.envelope.action.as_ref().map(|t| self.text(t))
    }

    /// `success`, `failure` or `unknown`.
    pub fn outcome(&self) -> &'static str {
        self.envelope.outcome
    }

    pub fn target(&self) -> Option<&str> {
        self.envelope.target.as_ref().map(|t| self.text(t))
    }

    /// The Sigma logsource service of this event (Google Workspace: the application name;
    /// Entra ID: `signin` / `audit`; Microsoft 365: the record's workload).
    pub fn service(&self) -> &str {
        self.text(&self.envelope.service)
    }
}

/// Why a record could not become an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub String);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A record refused, handed back whole for quarantine.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub why: Malformed,
    pub record: Value,
}

/// A string member (non-empty) or a number's text, by dotted path.
fn text<'r>(value: Val<'r>, path: &str) -> Option<&'r str> {
    let v = value.path(path)?;
    match v.as_str() {
        Some("") => None,
        Some(s) => Some(s),
        None => v.number_text(),
    }
}

/// Parses the vendors' timestamps: RFC 3339 with an offset, or (Management Activity API)
/// a civil date-time that is UTC.
pub fn parse_time(raw: &str) -> Option<Timestamp> {
    if let Ok(ts) = raw.parse::<Timestamp>() {
        return Some(ts);
    }
    let civil: jiff::civil::DateTime = raw.parse().ok()?;
    civil
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

/// Unix seconds of a vendor timestamp: the forms the vendors write
/// (`2026-12-01T10:00:00`, `…:00Z`, `…:00.1234567Z`) read directly, anything else through
/// [`parse_time`].
pub fn epoch_seconds(raw: &str) -> Option<i64> {
    fast_epoch(raw.as_bytes()).or_else(|| parse_time(raw).map(|t| t.as_second()))
}

/// `YYYY-MM-DDTHH:MM:SS`, an optional fraction and an optional `Z`, in UTC; `None` for any
/// other form (including offsets and out-of-range fields, left to jiff's checks).
fn fast_epoch(b: &[u8]) -> Option<i64> {
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        b[from..to].iter().try_fold(0i64, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
        })
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction.iter().take_while(|d| d.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        rest = &fraction[digits..];
    }
    if !(rest.is_empty() || rest == b"Z") {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    // jiff's range ends within year 9999; the vendors' times are far inside this one.
    if !(1000..=8999).contains(&year)
        || !(1..=12).contains(&month)
        || day < 1
        || day > month_days[(month - 1) as usize]
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    // Days since 1970-01-01 of a proleptic Gregorian date (era-based, exact for all years here).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let m = (month + 9) % 12;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// `ClientIP` of the Management Activity API carries a port at times (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`); the address is what rules and entities want.
pub fn strip_port(ip: &str) -> &str {
    let ip = ip.trim();
    if let Some(rest) = ip.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match ip.rsplit_once(':') {
        // One colon: an IPv4 address with a port. More: a bare IPv6 address.
        Some((addr, port)) if !addr.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => {
            addr
        }
        _ => ip,
    }
}

/// Turns one vendor record into its events (a Google Workspace activity holds several; the
/// others one), each with its envelope. `tenant` overrides the tenant the record names.
pub fn normalise(
    source: Source,
    record: Value,
    tenant: Option<&Arc<str>>,
) -> Result<Vec<Event>, Rejected> {
    let Some(parsed) = Record::from_value(&record) else {
        let why = if record.is_object() {
            "nested deeper than 128 levels".to_string()
        } else {
            format!("not a JSON object but {}", kind_of(&record))
        };
        return Err(Rejected {
            why: Malformed(why),
            record,
        });
    };
    match check(source, &parsed) {
        Ok(epoch) => Ok(build(source, parsed, tenant, epoch, Some(&record))),
        Err(why) => Err(Rejected { why, record }),
    }
}

/// [`normalise`] of a record parsed from text that names its own id (no content hash needed);
/// a refusal carries only the reason (the caller quarantines the whole text).
pub(crate) fn normalise_record(
    source: Source,
    record: Record,
    tenant: Option<&Arc<str>>,
) -> Result<Vec<Event>, Malformed> {
    let epoch = check(source, &record)?;
    Ok(build(source, record, tenant, epoch, None))
}

fn check(source: Source, record: &Record) -> Result<i64, Malformed> {
    if source == Source::Gws {
        match record.get("events") {
            Some(events) if events.is_array() && events.items().next().is_some() => {
                if let Some(i) = events.items().position(|e| !e.is_object()) {
                    return Err(Malformed(format!("events[{i}] is not an object")));
                }
            }
            Some(events) if events.is_array() => {
                return Err(Malformed("an activity without `events`".into()));
            }
            None => return Err(Malformed("an activity without `events`".into())),
            Some(other) => {
                return Err(Malformed(format!(
                    "`events` is {} instead of a list",
                    other.kind()
                )))
            }
        }
    }
    let time_raw = text(record.root(), time_field(source))
        .ok_or_else(|| Malformed(format!("no `{}` (the record's time)", time_field(source))))?;
    epoch_seconds(time_raw).ok_or_else(|| {
        Malformed(format!(
            "`{}` is not a time: {:?}",
            time_field(source),
            truncate(time_raw, 60)
        ))
    })
}

/// A string of `record` as envelope text: its place in the record.
fn place(record: &Record, s: &str) -> Text {
    record
        .span_of(s)
        .map_or_else(|| Text::Owned(s.into()), Text::Record)
}

/// The tenant the caller names, else the first of `members` the record names.
fn tenant_text(record: &Record, tenant: Option<&Arc<str>>, members: &[&str]) -> Text {
    if let Some(tenant) = tenant {
        return Text::Shared(Arc::clone(tenant));
    }
    members
        .iter()
        .find_map(|m| text(record.root(), m))
        .map_or(Text::Fixed(""), |s| place(record, s))
}

/// The envelope and events of a checked record. `whole` is the record as read, for the content
/// hash of one without an id (`None` only for records that name their id).
fn build(
    source: Source,
    record: Record,
    tenant: Option<&Arc<str>>,
    epoch: i64,
    whole: Option<&Value>,
) -> Vec<Event> {
    let root = record.root();
    let field = |path: &str| text(root, path).map(|s| place(&record, s));
    let own_id = |path: &str| {
        field(path).unwrap_or_else(|| {
            Text::Owned(
                match whole {
                    Some(whole) => content_id(whole),
                    None => content_id(&record.to_value()),
                }
                .into(),
            )
        })
    };
    let envelope = match source {
        Source::M365 => {
            let status = root.get("ResultStatus").and_then(|v| v.as_str());
            let outcome = match status {
                Some(s)
                    if ["succeeded", "success", "true"]
                        .iter()
                        .any(|w| s.eq_ignore_ascii_case(w)) =>
                {
                    "success"
                }
                Some(s)
                    if ["failed", "failure", "false"]
                        .iter()
                        .any(|w| s.eq_ignore_ascii_case(w)) =>
                {
                    "failure"
                }
                _ if root.get("Operation").and_then(|v| v.as_str()) == Some("UserLoginFailed") => {
                    "failure"
                }
                _ => "unknown",
            };
            Envelope {
                tenant: tenant_text(&record, tenant, &["OrganizationId"]),
                source,
                epoch,
                id: own_id("Id"),
                id_index: None,
                actor: field("UserId"),
                src_ip: ["ClientIP", "ActorIpAddress"]
                    .iter()
                    .find_map(|k| {
                        root.get(k)
                            .and_then(|v| v.as_str())
                            .filter(|s| !s.is_empty())
                    })
                    .map(|ip| place(&record, strip_port(ip))),
                action: field("Operation"),
                outcome,
                target: field("ObjectId"),
                service: field("Workload").unwrap_or(Text::Fixed("audit")),
            }
        }
        Source::EntraSignin => {
            let outcome = match record.path("status.errorCode").and_then(|v| v.as_i64()) {
                Some(0) => "success",
                Some(_) => "failure",
                None => "unknown",
            };
            Envelope {
                tenant: tenant_text(&record, tenant, &["resourceTenantId", "homeTenantId"]),
                source,
                epoch,
                id: own_id("id"),
                id_index: None,
                actor: field("userPrincipalName").or_else(|| field("userId")),
                src_ip: field("ipAddress"),
                action: Some(Text::Fixed("sign-in")),
                outcome,
                target: field("appDisplayName"),
                service: Text::Fixed("signin"),
            }
        }
        Source::EntraAudit => {
            let outcome = match root.get("result").and_then(|v| v.as_str()) {
                Some("success") => "success",
                Some("failure") | Some("timeout") => "failure",
                _ => "unknown",
            };
            let target = root
                .get("targetResources")
                .and_then(|t| t.items().next())
                .and_then(|t| text(t, "userPrincipalName").or_else(|| text(t, "displayName")))
                .map(|s| place(&record, s));
            Envelope {
                tenant: tenant_text(&record, tenant, &[]),
                source,
                epoch,
                id: own_id("id"),
                id_index: None,
                actor: field("initiatedBy.user.userPrincipalName")
                    .or_else(|| field("initiatedBy.app.displayName")),
                src_ip: field("initiatedBy.user.ipAddress"),
                action: field("activityDisplayName"),
                outcome,
                target,
                service: Text::Fixed("audit"),
            }
        }
        Source::Gws => return normalise_gws(&record, tenant, epoch, whole),
    };
    vec![Event { envelope, record }]
}

/// A Reports API activity lists one or more events; each becomes its own event, reading as the
/// activity with an `events` list holding just that one, so a rule's `events.name` and
/// `events.parameters.*` conditions speak of the same event.
fn normalise_gws(
    record: &Record,
    tenant: Option<&Arc<str>>,
    epoch: i64,
    whole: Option<&Value>,
) -> Vec<Event> {
    let root = record.root();
    let field = |path: &str| text(root, path).map(|s| place(record, s));
    let application = field("id.applicationName").unwrap_or(Text::Fixed(""));
    let base_id = field("id.uniqueQualifier").unwrap_or_else(|| {
        // The activity without its events, as before events were split.
        let mut activity = whole.cloned().unwrap_or_else(|| record.to_value());
        if let Some(members) = activity.as_object_mut() {
            members.remove("events");
        }
        Text::Owned(content_id(&activity).into())
    });
    let tenant = tenant_text(record, tenant, &["id.customerId"]);
    let actor = field("actor.email").or_else(|| field("actor.profileId"));
    let src_ip = field("ipAddress");
    let events: Vec<Val<'_>> = root
        .get("events")
        .map(|e| e.items().collect())
        .unwrap_or_default();
    let count = events.len();
    let mut out = Vec::with_capacity(count);
    for (index, event) in events.into_iter().enumerate() {
        let name = text(event, "name");
        let parameter = |wanted: &str| gws_parameter(event, wanted);
        let outcome = match name {
            Some(n)
                if n.contains("failure")
                    || n == "login_challenge"
                        && parameter("login_challenge_status").and_then(|v| v.as_str())
                            == Some("Challenge Failed") =>
            {
                "failure"
            }
            Some(n) if n.contains("success") => "success",
            _ => "unknown",
        };
        let target = [
            "doc_title",
            "USER_EMAIL",
            "app_name",
            "affected_email_address",
        ]
        .iter()
        .find_map(|k| parameter(k).and_then(|v| v.as_str()))
        .map(|s| place(record, s));
        let envelope = Envelope {
            tenant: tenant.clone(),
            source: Source::Gws,
            epoch,
            id: base_id.clone(),
            id_index: (count > 1).then_some(index as u32),
            actor: actor.clone(),
            src_ip: src_ip.clone(),
            action: name.map(|s| place(record, s)),
            outcome,
            target,
            service: application.clone(),
        };
        let record = if count == 1 {
            record.clone()
        } else {
            record.with_event(event)
        };
        out.push(Event { envelope, record });
    }
    out
}

/// A Reports API event parameter's value (`value`, `intValue`, `boolValue`, `multiValue` or
/// `multiIntValue`); the last of that name when repeated.
fn gws_parameter<'r>(event: Val<'r>, wanted: &str) -> Option<Val<'r>> {
    let mut found = None;
    for p in event.get("parameters").into_iter().flat_map(|l| l.items()) {
        if p.get("name").and_then(|n| n.as_str()) != Some(wanted) {
            continue;
        }
        let value = [
            "value",
            "intValue",
            "boolValue",
            "multiValue",
            "multiIntValue",
        ]
        .iter()
        .find_map(|k| p.get(k));
        if value.is_some() {
            found = value;
        }
    }
    found
}

/// A record without an id gets one from its content, so the same record read twice is still
/// recognised as one.
fn content_id(record: &Value) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(record.to_string().as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn management_activity_time_is_utc_and_ports_are_dropped() {
        let events = normalise(
            Source::M365,
            json!({"CreationTime": "2026-12-01T10:00:00", "Id": "a", "Operation": "UserLoginFailed",
                   "ClientIP": "203.0.113.7:51234", "UserId": "u@example.jp", "ResultStatus": "Failed",
                   "OrganizationId": "t1", "Workload": "AzureActiveDirectory"}),
            None,
        )
        .unwrap();
        let e = &events[0];
        assert_eq!(e.time(), "2026-12-01T10:00:00Z");
        assert_eq!(e.src_ip(), Some("203.0.113.7"));
        assert_eq!(e.outcome(), "failure");
        assert_eq!(e.tenant(), "t1");
        assert_eq!(strip_port("[2001:db8::1]:443"), "2001:db8::1");
        assert_eq!(strip_port("2001:db8::1"), "2001:db8::1");
    }

    #[test]
    fn a_workspace_activity_becomes_one_event_per_entry() {
        let events = normalise(
            Source::Gws,
            json!({"id": {"time": "2026-12-01T10:00:00.000Z", "uniqueQualifier": "-42", "applicationName": "drive", "customerId": "C01"},
                   "actor": {"email": "a@example.jp"}, "ipAddress": "198.51.100.2",
                   "events": [{"name": "download", "parameters": [{"name": "doc_title", "value": "x"}]},
                              {"name": "delete"}]}),
            None,
        )
        .unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].id(), "-42#0");
        assert_eq!(events[0].target(), Some("x"));
        assert_eq!(events[1].action(), Some("delete"));
        assert_eq!(
            events[1].record.to_value()["events"],
            json!([{"name": "delete"}])
        );
        assert_eq!(events[1].service(), "drive");
    }

    #[test]
    fn vendor_timestamps_read_directly_agree_with_jiff() {
        for raw in [
            "2026-12-01T10:00:00",
            "2026-12-01T10:00:00Z",
            "2026-12-01T10:00:00.1234567Z",
            "2024-02-29T23:59:59.999Z",
            "1969-12-31T23:59:59Z",
            "2000-03-01T00:00:00",
            "1600-01-01T00:00:00Z",
            "8999-12-31T23:59:59Z",
        ] {
            assert_eq!(
                fast_epoch(raw.as_bytes()),
                parse_time(raw).map(|t| t.as_second()),
                "{raw}"
            );
        }
        for odd in [
            "2026-12-01T10:00:00+09:00",
            "2025-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-12-01T24:00:00Z",
            "2026-12-01T10:00:00.Z",
            "2026-12-01 10:00:00",
            "2026-12-01T10:00:00ZZ",
        ] {
            assert_eq!(fast_epoch(odd.as_bytes()), None, "{odd}");
        }
        assert_eq!(
            epoch_seconds("2026-12-01T19:00:00+09:00"),
            epoch_seconds("2026-12-01T10:00:00Z")
        );
    }

    #[test]
    fn records_without_a_time_are_malformed() {
        let err = normalise(Source::EntraSignin, json!({"id": "x"}), None).unwrap_err();
        assert!(err.why.0.contains("createdDateTime"), "{}", err.why);
        assert_eq!(err.record, json!({"id": "x"}), "handed back whole");
        let err = normalise(Source::EntraSignin, json!([1]), None).unwrap_err();
        assert!(err.why.0.contains("not a JSON object"), "{}", err.why);
        let err = normalise(
            Source::Gws,
            json!({"id": {"time": "yesterday"}, "events": [{}]}),
            None,
        )
        .unwrap_err();
        assert!(err.why.0.contains("not a time"), "{}", err.why);
        let err = normalise(
            Source::Gws,
            json!({"id": {"time": "2026-12-01T00:00:00Z"}, "events": []}),
            None,
        )
        .unwrap_err();
        assert!(err.why.0.contains("without `events`"), "{}", err.why);
    }
}
