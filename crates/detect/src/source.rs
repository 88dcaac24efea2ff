//! The audit-log sources Mamori reads, and how one vendor record becomes the events rules see:
//! the record as the vendor wrote it, plus a small common envelope under `mamori`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

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

/// The common envelope: what every source's record says in its own words, in one shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub tenant: String,
    pub source: Source,
    /// Unix seconds of the record's time ([`Envelope::time`] gives its RFC 3339 form).
    pub epoch: i64,
    /// The vendor's record id (for Google Workspace, the activity's id plus the event's index).
    pub id: String,
    pub actor: Option<String>,
    pub src_ip: Option<String>,
    pub action: Option<String>,
    /// `success`, `failure` or `unknown`.
    pub outcome: &'static str,
    pub target: Option<String>,
    /// The Sigma logsource service of this event (Google Workspace: the application name;
    /// Entra ID: `signin` / `audit`; Microsoft 365: the record's workload).
    pub service: String,
}

impl Envelope {
    /// The record's time, RFC 3339 in UTC: derived when shown, not built for every event.
    pub fn time(&self) -> String {
        epoch_text(self.epoch)
    }
}

/// Unix seconds as RFC 3339 in UTC (`2026-12-01T10:00:00Z`).
pub fn epoch_text(epoch: i64) -> String {
    Timestamp::from_second(epoch)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// One event ready for the rules: the vendor's record with the envelope under `mamori`.
#[derive(Debug, Clone)]
pub struct Event {
    pub envelope: Envelope,
    pub record: Value,
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

fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

fn text(value: &Value, path: &str) -> Option<String> {
    match lookup(value, path)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
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

/// `ClientIP` of the Management Activity API carries a port at times (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`); the address is what rules and entities want.
pub fn strip_port(ip: &str) -> String {
    let ip = ip.trim();
    if let Some(rest) = ip.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest).to_string();
    }
    match ip.rsplit_once(':') {
        // One colon: an IPv4 address with a port. More: a bare IPv6 address.
        Some((addr, port)) if !addr.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => {
            addr.to_string()
        }
        _ => ip.to_string(),
    }
}

/// Turns one vendor record into its events (a Google Workspace activity holds several; the
/// others one), each with its envelope. `tenant` overrides the tenant the record names.
pub fn normalise(
    source: Source,
    record: Value,
    tenant: Option<&str>,
) -> Result<Vec<Event>, Rejected> {
    match check(source, &record) {
        Ok(epoch) => build(source, record, tenant, epoch),
        Err(why) => Err(Rejected { why, record }),
    }
}

fn check(source: Source, record: &Value) -> Result<i64, Malformed> {
    let Value::Object(_) = record else {
        return Err(Malformed(format!(
            "not a JSON object but {}",
            kind_of(record)
        )));
    };
    if source == Source::Gws {
        match record.get("events") {
            Some(Value::Array(events)) if !events.is_empty() => {
                if let Some(i) = events.iter().position(|e| !e.is_object()) {
                    return Err(Malformed(format!("events[{i}] is not an object")));
                }
            }
            Some(Value::Array(_)) | None => {
                return Err(Malformed("an activity without `events`".into()));
            }
            Some(other) => {
                return Err(Malformed(format!(
                    "`events` is {} instead of a list",
                    kind_of(other)
                )))
            }
        }
    }
    let time_raw = text(record, time_field(source))
        .ok_or_else(|| Malformed(format!("no `{}` (the record's time)", time_field(source))))?;
    let time = parse_time(&time_raw).ok_or_else(|| {
        Malformed(format!(
            "`{}` is not a time: {:?}",
            time_field(source),
            truncate(&time_raw, 60)
        ))
    })?;
    Ok(time.as_second())
}

fn build(
    source: Source,
    record: Value,
    tenant: Option<&str>,
    epoch: i64,
) -> Result<Vec<Event>, Rejected> {
    let named_tenant = |path: &str| text(&record, path);
    match source {
        Source::M365 => {
            let outcome = match text(&record, "ResultStatus").as_deref() {
                Some(s)
                    if ["succeeded", "success", "true"]
                        .contains(&s.to_ascii_lowercase().as_str()) =>
                {
                    "success"
                }
                Some(s)
                    if ["failed", "failure", "false"]
                        .contains(&s.to_ascii_lowercase().as_str()) =>
                {
                    "failure"
                }
                _ if text(&record, "Operation").as_deref() == Some("UserLoginFailed") => "failure",
                _ => "unknown",
            };
            let envelope = Envelope {
                tenant: tenant
                    .map(str::to_string)
                    .or_else(|| named_tenant("OrganizationId"))
                    .unwrap_or_default(),
                source,
                epoch,
                id: text(&record, "Id").unwrap_or_else(|| content_id(&record)),
                actor: text(&record, "UserId"),
                src_ip: text(&record, "ClientIP")
                    .or_else(|| text(&record, "ActorIpAddress"))
                    .map(|ip| strip_port(&ip)),
                action: text(&record, "Operation"),
                outcome,
                target: text(&record, "ObjectId"),
                service: text(&record, "Workload").unwrap_or_else(|| "audit".into()),
            };
            Ok(vec![Event { envelope, record }])
        }
        Source::EntraSignin => {
            let outcome = match lookup(&record, "status.errorCode").and_then(Value::as_i64) {
                Some(0) => "success",
                Some(_) => "failure",
                None => "unknown",
            };
            let envelope = Envelope {
                tenant: tenant
                    .map(str::to_string)
                    .or_else(|| named_tenant("resourceTenantId"))
                    .or_else(|| named_tenant("homeTenantId"))
                    .unwrap_or_default(),
                source,
                epoch,
                id: text(&record, "id").unwrap_or_else(|| content_id(&record)),
                actor: text(&record, "userPrincipalName").or_else(|| text(&record, "userId")),
                src_ip: text(&record, "ipAddress"),
                action: Some("sign-in".into()),
                outcome,
                target: text(&record, "appDisplayName"),
                service: "signin".into(),
            };
            Ok(vec![Event { envelope, record }])
        }
        Source::EntraAudit => {
            let outcome = match text(&record, "result").as_deref() {
                Some("success") => "success",
                Some("failure") | Some("timeout") => "failure",
                _ => "unknown",
            };
            let target = lookup(&record, "targetResources")
                .and_then(Value::as_array)
                .and_then(|t| t.first())
                .and_then(|t| text(t, "userPrincipalName").or_else(|| text(t, "displayName")));
            let envelope = Envelope {
                tenant: tenant.map(str::to_string).unwrap_or_default(),
                source,
                epoch,
                id: text(&record, "id").unwrap_or_else(|| content_id(&record)),
                actor: text(&record, "initiatedBy.user.userPrincipalName")
                    .or_else(|| text(&record, "initiatedBy.app.displayName")),
                src_ip: text(&record, "initiatedBy.user.ipAddress"),
                action: text(&record, "activityDisplayName"),
                outcome,
                target,
                service: "audit".into(),
            };
            Ok(vec![Event { envelope, record }])
        }
        Source::Gws => Ok(normalise_gws(record, tenant, epoch)),
    }
}

/// A Reports API activity lists one or more events; each becomes its own event, with the
/// activity's other members and an `events` array holding just that one, so a rule's
/// `events.name` and `events.parameters.*` conditions speak of the same event.
fn normalise_gws(record: Value, tenant: Option<&str>, epoch: i64) -> Vec<Event> {
    let Value::Object(mut activity) = record else {
        unreachable!("checked: an object")
    };
    let Some(Value::Array(events)) = activity.remove("events") else {
        unreachable!("checked: a list of events")
    };
    let id_member = |name: &str| activity.get("id").and_then(|id| text(id, name));
    let application = id_member("applicationName").unwrap_or_default();
    let base_id = id_member("uniqueQualifier")
        .unwrap_or_else(|| content_id(&Value::Object(activity.clone())));
    let count = events.len();
    let mut out = Vec::with_capacity(count);
    for (index, event) in events.into_iter().enumerate() {
        let name = text(&event, "name");
        let params = parameter_map(event.get("parameters"));
        // The last event takes the activity itself; the others a copy.
        let mut record: Map<String, Value> = if index + 1 == count {
            std::mem::take(&mut activity)
        } else {
            activity.clone()
        };
        record.insert("events".into(), Value::Array(vec![event]));
        let record = Value::Object(record);
        let outcome = match name.as_deref() {
            Some(n)
                if n.contains("failure")
                    || n == "login_challenge"
                        && params.get("login_challenge_status").and_then(Value::as_str)
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
        .find_map(|k| params.get(*k).and_then(Value::as_str).map(str::to_string));
        let envelope = Envelope {
            tenant: tenant
                .map(str::to_string)
                .or_else(|| text(&record, "id.customerId"))
                .unwrap_or_default(),
            source: Source::Gws,
            epoch,
            id: if count == 1 {
                base_id.clone()
            } else {
                format!("{base_id}#{index}")
            },
            actor: text(&record, "actor.email").or_else(|| text(&record, "actor.profileId")),
            src_ip: text(&record, "ipAddress"),
            action: name,
            outcome,
            target,
            service: application.clone(),
        };
        out.push(Event { envelope, record });
    }
    out
}

/// The Reports API's `[{name, value|intValue|boolValue|multiValue|…}]` as a map from name to
/// value, for the envelope's target (rules read the list itself).
fn parameter_map(parameters: Option<&Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for p in parameters.and_then(Value::as_array).into_iter().flatten() {
        let Some(name) = p.get("name").and_then(Value::as_str) else {
            continue;
        };
        let value = [
            "value",
            "intValue",
            "boolValue",
            "multiValue",
            "multiIntValue",
        ]
        .iter()
        .find_map(|k| p.get(*k).cloned());
        if let Some(v) = value {
            out.insert(name.to_string(), v);
        }
    }
    out
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
        let e = &events[0].envelope;
        assert_eq!(e.time(), "2026-12-01T10:00:00Z");
        assert_eq!(e.src_ip.as_deref(), Some("203.0.113.7"));
        assert_eq!(e.outcome, "failure");
        assert_eq!(e.tenant, "t1");
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
        assert_eq!(events[0].envelope.id, "-42#0");
        assert_eq!(events[0].envelope.target.as_deref(), Some("x"));
        assert_eq!(events[1].envelope.action.as_deref(), Some("delete"));
        assert_eq!(events[1].record["events"].as_array().unwrap().len(), 1);
        assert_eq!(events[1].envelope.service, "drive");
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
