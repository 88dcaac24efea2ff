//! The OpenAPI 3.0 document of `/api/v1`, served at `/api/v1/openapi.json`. Written here by
//! hand next to the routes; a test checks that every route in [`crate::api::routes`] is
//! described and schemathesis (CI) checks the server against it.

use serde_json::{json, Map, Value};

fn id_param(name: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "integer", "format": "int64", "minimum": 1}})
}

fn query(name: &str, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description})
}

fn int() -> Value {
    json!({"type": "integer", "format": "int64"})
}

/// Page sizes are clamped to 1..=max rather than refused.
fn limit(max: i64) -> Value {
    json!({"type": "integer", "format": "int64", "description": format!("Clamped to 1-{max}")})
}

fn list_of(item: &str) -> Value {
    json!({"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": format!("#/components/schemas/{item}")}}}})
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn errors(statuses: &[&str]) -> Map<String, Value> {
    let mut m = Map::new();
    for s in statuses {
        let description = match *s {
            "400" => "The request is malformed.",
            "401" => "Not signed in.",
            "403" => "The role may not do this, or the CSRF token is missing.",
            "404" => "No such object in the caller's scope.",
            "409" => "The object is in a state that forbids this.",
            "413" => "The body is larger than the server accepts (as sent or decompressed).",
            "415" => "The body is not JSON (Content-Type: application/json), or its Content-Encoding is neither gzip nor identity.",
            "422" => "The body does not have the expected fields.",
            "429" => "Log processing of the tenant is throttled: retry after the Retry-After header's seconds (code log_processing_throttled, with reason and since).",
            _ => "Error.",
        };
        m.insert(
            s.to_string(),
            json!({"description": description, "content": {"application/json": {"schema": reference("Error")}}}),
        );
    }
    m
}

struct Op {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    description: Option<&'static str>,
    params: Vec<Value>,
    body: Option<Value>,
    /// A request body other than JSON: its `content` map.
    raw_body: Option<Value>,
    ok: (&'static str, Option<Value>),
    errors: &'static [&'static str],
    public: bool,
}

fn op(method: &'static str, path: &'static str, summary: &'static str) -> Op {
    Op {
        method,
        path,
        summary,
        description: None,
        params: vec![],
        body: None,
        raw_body: None,
        ok: ("200", Some(json!({"type": "object"}))),
        errors: &["401", "403"],
        public: false,
    }
}

impl Op {
    fn params(mut self, p: Vec<Value>) -> Self {
        self.params = p;
        self
    }
    fn body(mut self, schema: Value) -> Self {
        self.body = Some(schema);
        self
    }
    fn ok(mut self, status: &'static str, schema: Option<Value>) -> Self {
        self.ok = (status, schema);
        self
    }
    fn errors(mut self, e: &'static [&'static str]) -> Self {
        self.errors = e;
        self
    }
    fn description(mut self, d: &'static str) -> Self {
        self.description = Some(d);
        self
    }
    fn raw_body(mut self, content: Value) -> Self {
        self.raw_body = Some(content);
        self
    }
}

fn operations() -> Vec<Op> {
    let status_filter =
        json!({"type": "string", "enum": ["active", "open", "reopened", "resolved"]});
    let severity = json!({"type": "string", "enum": ["critical", "high", "medium", "low", "info"]});
    let exception_status = json!({"type": "string", "enum": ["requested", "approved", "rejected", "expired", "revoked"]});
    let job_status =
        json!({"type": "string", "enum": ["queued", "running", "succeeded", "failed"]});
    let alert_status =
        json!({"type": "string", "enum": ["open", "acknowledged", "resolved", "false_positive"]});
    let alert_status_filter = json!({"type": "string", "enum": ["active", "open", "acknowledged", "resolved", "false_positive"]});
    let log_source =
        json!({"type": "string", "enum": ["m365", "entra-signin", "entra-audit", "gws"]});
    let format = json!({"type": "string", "enum": ["json", "ocsf"]});
    let ndjson = json!({"type": "string", "description": "NDJSON: one JSON object (an audit record as the source's API returns it) per line"});
    vec![
        Op { public: true, ..op("get", "/api/v1/openapi.json", "This document").errors(&[]) },
        op("get", "/api/v1/me", "The caller, its role and what it may do").errors(&["401"]),
        op("get", "/api/v1/customers", "Customers in the caller's scope").ok("200", Some(list_of("Customer"))),
        op("post", "/api/v1/customers", "Create a customer (operator_admin)")
            .body(json!({"type": "object", "required": ["name"], "additionalProperties": false, "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "name_ja": {"type": "string", "nullable": true},
                "time_zone": {"type": "string", "nullable": true, "example": "Asia/Tokyo"}}}))
            .ok("201", Some(reference("Customer")))
            .errors(&["400", "401", "403", "422"]),
        op("get", "/api/v1/customers/{id}", "One customer").params(vec![id_param("id")])
            .ok("200", Some(reference("Customer"))).errors(&["400", "401", "403", "404"]),
        op("get", "/api/v1/tenants", "Tenants (SaaS connections)")
            .params(vec![query("customer_id", int(), "Only this customer's")])
            .ok("200", Some(list_of("Tenant"))).errors(&["400", "401", "403"]),
        op("post", "/api/v1/tenants", "Connect a tenant (operator_admin); credentials are encrypted at rest")
            .body(json!({"type": "object", "required": ["customer_id", "app", "display_name", "credentials"], "additionalProperties": false, "properties": {
                "customer_id": int(), "app": {"type": "string", "enum": ["m365", "gws"]},
                "display_name": {"type": "string", "minLength": 1},
                "credentials": {"type": "object", "description": "The connector configuration, as in docs/connect-m365.md / docs/connect-gws.md"},
                "schedule_cron": {"type": "string", "nullable": true, "example": "0 3 * * *"},
                "schedule_time_zone": {"type": "string", "nullable": true, "example": "Asia/Tokyo"}}}))
            .ok("201", Some(reference("Tenant"))).errors(&["400", "401", "403", "404", "422"]),
        op("get", "/api/v1/tenants/{id}", "One tenant with its next scheduled runs").params(vec![id_param("id")])
            .errors(&["400", "401", "403", "404"]),
        op("put", "/api/v1/tenants/{id}/schedule", "Set or clear the scan schedule (cron, time zone)")
            .params(vec![id_param("id")])
            .body(json!({"type": "object", "additionalProperties": false, "properties": {
                "cron": {"type": "string", "nullable": true, "minLength": 1}, "time_zone": {"type": "string", "nullable": true}}}))
            .ok("200", Some(reference("Tenant"))).errors(&["400", "401", "403", "404", "422"]),
        op("get", "/api/v1/tenants/{id}/scores", "Posture score history (oldest first)")
            .params(vec![id_param("id"),
                query("kind", json!({"type": "string", "enum": ["overall", "app", "framework"]}), "Score kind"),
                query("key", json!({"type": "string"}), "App or framework id"),
                query("limit", limit(1000), "Points")])
            .ok("200", Some(list_of("ScorePoint"))).errors(&["400", "401", "403", "404"]),
        op("post", "/api/v1/tenants/{id}/scans", "Queue a scan now").params(vec![id_param("id")])
            .ok("202", Some(reference("Job"))).errors(&["400", "401", "403", "404", "409"]),
        op("get", "/api/v1/tenants/{id}/logs", "The tenant's audit-log processing: streams, flood guard, the last hour's metering, spooled batches")
            .params(vec![id_param("id")]).ok("200", Some(reference("LogStatus"))).errors(&["400", "401", "403", "404"]),
        op("post", "/api/v1/tenants/{id}/logs/{source}", "Push a batch of the tenant's audit logs (NDJSON, gzip allowed) for threat detection")
            .description("Roles: operator_admin, analyst, customer_admin (its own customer's tenants). The body is NDJSON,                 one audit record per line, plain or gzip (Content-Encoding: gzip, or recognised by gzip's magic bytes);                 at most 16 MiB as sent and 128 MiB decompressed by default (413 beyond). An empty body, or one without                 a single JSON object line, is refused (400, naming the first bad line); other lines that are not JSON                 objects are accepted, counted in malformed_lines and quarantined by the worker. An unknown source is 400                 with the list of sources. The flood guard: while the tenant is throttled, 429 with Retry-After (seconds                 until the throttle ends, 60 when it has no end) and code log_processing_throttled; while its log                 processing is suspended, 403 with code log_processing_suspended, the reason and the time since when.                 202: the batch is spooled; the workers process batches of one tenant and source in arrival order.")
            .params(vec![id_param("id"), json!({"name": "source", "in": "path", "required": true, "schema": log_source.clone()})])
            .raw_body(json!({
                "application/x-ndjson": {"schema": ndjson},
                "text/plain": {"schema": ndjson},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary", "description": "NDJSON, gzip-compressed or plain"}}}))
            .ok("202", Some(reference("SpooledBatch")))
            .errors(&["400", "401", "403", "404", "413", "415", "429"]),
        op("post", "/api/v1/tenants/{id}/logs/suspend", "Suspend the tenant's log processing (operator_admin): pushes are refused, pulls and spooled batches wait")
            .params(vec![id_param("id")])
            .body(json!({"type": "object", "required": ["reason"], "additionalProperties": false, "properties": {
                "reason": {"type": "string", "minLength": 1, "maxLength": 2000}}}))
            .ok("200", Some(reference("LogGuard"))).errors(&["400", "401", "403", "404", "422"]),
        op("post", "/api/v1/tenants/{id}/logs/resume", "Resume the tenant's log processing (operator_admin)")
            .params(vec![id_param("id")])
            .body(json!({"type": "object", "additionalProperties": false, "properties": {
                "note": {"type": "string", "maxLength": 2000}}}))
            .ok("200", Some(reference("LogGuard"))).errors(&["400", "401", "403", "404", "422"]),
        op("get", "/api/v1/scans", "Scans, newest first")
            .params(vec![query("tenant_id", int(), "Only this tenant's"), query("limit", limit(500), "Page size")])
            .ok("200", Some(list_of("Scan"))).errors(&["400", "401", "403"]),
        op("get", "/api/v1/scans/{id}", "One scan").params(vec![id_param("id")])
            .ok("200", Some(reference("Scan"))).errors(&["400", "401", "403", "404"]),
        op("get", "/api/v1/scans/{id}/results", "Control results of a scan; format=ocsf: a JSON array of OCSF 1.3.0 Compliance Findings (class_uid 2003)")
            .params(vec![id_param("id"), query("format", format.clone(), "json (default): {items}; ocsf: OCSF Compliance Findings")])
            .ok("200", Some(json!({"oneOf": [list_of("ControlResult"), {"type": "array", "items": reference("OcsfFinding")}]})))
            .errors(&["400", "401", "403", "404"]),
        op("get", "/api/v1/scans/{id}/drift", "New failures, regressions, resolved controls and changed settings since the previous scan")
            .params(vec![id_param("id")]).errors(&["400", "401", "403", "404"]),
        op("get", "/api/v1/findings", "Findings with filters and paging (most severe first)")
            .params(vec![query("customer_id", int(), ""), query("tenant_id", int(), ""),
                query("status", status_filter, "active = open or reopened"), query("severity", severity.clone(), ""),
                query("control", json!({"type": "string"}), "Control id prefix, e.g. MS.AAD"),
                query("accepted", json!({"type": "boolean"}), "Covered by an approved exception"),
                query("limit", limit(500), "Page size (default 50)"),
                query("offset", json!({"type": "integer", "format": "int64", "minimum": 0}), "")])
            .ok("200", Some(json!({"type": "object", "required": ["items", "total", "total_exact", "limit", "offset"], "properties": {
                "items": {"type": "array", "items": {"type": "object"}}, "total": int(),
                "total_exact": {"type": "boolean", "description": "false when more than 10,000 findings match: total is then 10000, a lower bound"},
                "limit": int(), "offset": int()}})))
            .errors(&["400", "401", "403"]),
        op("get", "/api/v1/findings/{id}", "A finding with its control (remediation) and history")
            .params(vec![id_param("id")]).errors(&["400", "401", "403", "404"]),
        op("get", "/api/v1/alerts", "Threat alerts, most recent activity first; format=ocsf: a JSON array of OCSF 1.3.0 Detection Findings (class_uid 2004)")
            .params(vec![query("tenant_id", int(), "Only this tenant's"),
                query("status", alert_status_filter, "A triage state; active = open or acknowledged"),
                query("severity", severity.clone(), ""), query("source", log_source, ""),
                query("rule_id", json!({"type": "string"}), "Exact rule id, e.g. mamori.entra_signin.password_spray"),
                query("active", json!({"type": "boolean"}), "Only alerts that still need attention (open or acknowledged)"),
                query("since", json!({"type": "string", "format": "date-time"}), "Alerts whose last event is at or after this"),
                query("limit", limit(1000), "Page size (default 50)"),
                query("offset", json!({"type": "integer", "format": "int64", "minimum": 0}), ""),
                query("format", format, "json (default): {items, limit, offset}; ocsf: OCSF Detection Findings")])
            .ok("200", Some(json!({"oneOf": [
                {"type": "object", "required": ["items", "limit", "offset"], "properties": {
                    "items": {"type": "array", "items": reference("Alert")}, "limit": int(), "offset": int()}},
                {"type": "array", "items": reference("OcsfFinding")}]})))
            .errors(&["400", "401", "403"]),
        op("get", "/api/v1/alerts/{id}", "An alert with its status history").params(vec![id_param("id")])
            .ok("200", Some(json!({"type": "object", "required": ["alert", "history"], "properties": {
                "alert": reference("Alert"), "history": {"type": "array", "items": reference("AlertEvent")}}})))
            .errors(&["400", "401", "403", "404"]),
        op("post", "/api/v1/alerts/{id}/status", "Move an alert through its triage (operator_admin, analyst, customer_admin); audited")
            .params(vec![id_param("id")])
            .body(json!({"type": "object", "required": ["status"], "additionalProperties": false, "properties": {
                "status": alert_status, "note": {"type": "string", "maxLength": 2000}}}))
            .ok("200", Some(reference("Alert"))).errors(&["400", "401", "403", "404", "409", "422"]),
        op("get", "/api/v1/exceptions", "Risk acceptances")
            .params(vec![query("tenant_id", int(), ""), query("status", exception_status, "")])
            .ok("200", Some(list_of("Exception"))).errors(&["400", "401", "403"]),
        op("post", "/api/v1/exceptions", "Request a risk acceptance (expires at most 366 days ahead)")
            .body(json!({"type": "object", "required": ["tenant_id", "control_id", "reason", "expires_at"], "additionalProperties": false, "properties": {
                "tenant_id": int(), "control_id": {"type": "string", "minLength": 1}, "resource_key": {"type": "string", "nullable": true},
                "reason": {"type": "string", "minLength": 1}, "expires_at": {"type": "string", "format": "date-time"}}}))
            .ok("201", Some(reference("Exception"))).errors(&["400", "401", "403", "404", "409", "422"]),
        op("get", "/api/v1/exceptions/{id}", "One risk acceptance").params(vec![id_param("id")])
            .ok("200", Some(reference("Exception"))).errors(&["400", "401", "403", "404"]),
        op("post", "/api/v1/exceptions/{id}/approve", "Approve (not one's own request)").params(vec![id_param("id")])
            .body(reference("Decision")).ok("200", Some(reference("Exception"))).errors(&["400", "401", "403", "404", "409", "422"]),
        op("post", "/api/v1/exceptions/{id}/reject", "Reject").params(vec![id_param("id")])
            .body(reference("Decision")).ok("200", Some(reference("Exception"))).errors(&["400", "401", "403", "404", "409", "422"]),
        op("post", "/api/v1/exceptions/{id}/revoke", "Revoke; its findings are open again").params(vec![id_param("id")])
            .body(reference("Decision")).ok("200", Some(reference("Exception"))).errors(&["400", "401", "403", "404", "409", "422"]),
        op("get", "/api/v1/users", "Users in the caller's scope").errors(&["401", "403"]),
        op("post", "/api/v1/users", "Create a user (argon2id password hash)")
            .body(json!({"type": "object", "required": ["username", "role", "password"], "additionalProperties": false, "properties": {
                "username": {"type": "string", "minLength": 1}, "display_name": {"type": "string", "nullable": true},
                "role": {"type": "string", "enum": ["operator_admin", "analyst", "investigator", "billing", "customer_admin", "customer_viewer"]},
                "customer_id": {"type": "integer", "format": "int64", "nullable": true},
                "lang": {"type": "string", "enum": ["ja", "en"], "nullable": true},
                "password": {"type": "string", "minLength": 10}}}))
            .ok("201", None).errors(&["400", "401", "403", "409", "422"]),
        op("post", "/api/v1/users/{id}/disable", "Disable a user: their sessions end, their API tokens stop working (not oneself)")
            .params(vec![id_param("id")]).ok("200", None).errors(&["400", "401", "403", "404"]),
        op("post", "/api/v1/users/{id}/enable", "Enable a disabled user again (not oneself)")
            .params(vec![id_param("id")]).ok("200", None).errors(&["400", "401", "403", "404"]),
        op("post", "/api/v1/users/{id}/password", "Reset a user's password; every session and API token of theirs ends (not oneself: see /api/v1/me/password)")
            .params(vec![id_param("id")])
            .body(json!({"type": "object", "required": ["password"], "additionalProperties": false, "properties": {
                "password": {"type": "string", "minLength": 10}}}))
            .ok("204", None).errors(&["400", "401", "403", "404", "422"]),
        op("post", "/api/v1/users/{id}/revoke", "End every session and revoke every API token of a user (not oneself)")
            .params(vec![id_param("id")]).ok("200", None).errors(&["400", "401", "403", "404"]),
        op("post", "/api/v1/me/password", "Change one's own password, giving the current one; every other session and API token ends")
            .body(json!({"type": "object", "required": ["current_password", "new_password"], "additionalProperties": false, "properties": {
                "current_password": {"type": "string"}, "new_password": {"type": "string", "minLength": 10}}}))
            .ok("204", None).errors(&["400", "401", "403", "422", "429"]),
        op("get", "/api/v1/tokens", "The caller's API tokens (secrets are never shown again)").errors(&["401"]),
        op("post", "/api/v1/tokens", "Create an API token; the secret is in this response only")
            .body(json!({"type": "object", "required": ["name"], "additionalProperties": false, "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 100}, "expires_at": {"type": "string", "format": "date-time", "nullable": true}}}))
            .ok("201", None).errors(&["400", "401", "403", "422"]),
        op("delete", "/api/v1/tokens/{id}", "Revoke one of the caller's tokens").params(vec![id_param("id")])
            .ok("204", None).errors(&["400", "401", "403", "404"]),
        op("get", "/api/v1/jobs", "The scan job queue")
            .params(vec![query("status", job_status, ""), query("limit", limit(1000), "")])
            .ok("200", Some(list_of("Job"))).errors(&["400", "401", "403"]),
        op("get", "/api/v1/audit", "Audit log, newest first").params(vec![query("limit", limit(1000), "")])
            .errors(&["400", "401", "403"]),
        op("get", "/api/v1/notification-channels", "Notification channels").errors(&["401", "403"]),
        op("post", "/api/v1/notification-channels", "Add a channel (signed webhook, Slack, Teams, e-mail)")
            .body(json!({"type": "object", "required": ["name", "config"], "additionalProperties": false, "properties": {
                "name": {"type": "string"}, "customer_id": {"type": "integer", "format": "int64", "nullable": true},
                "min_severity": {"type": "string", "enum": ["critical", "high", "medium", "low", "info"]},
                "lang": {"type": "string", "enum": ["ja", "en"]},
                "config": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string", "enum": ["webhook", "slack", "teams", "email"]}}}}}))
            .ok("201", None).errors(&["400", "401", "403", "404", "422"]),
        op("delete", "/api/v1/notification-channels/{id}", "Remove a channel").params(vec![id_param("id")])
            .ok("204", None).errors(&["400", "401", "403", "404"]),
    ]
}

fn schemas() -> Value {
    let ts = json!({"type": "string", "format": "date-time"});
    let ts_null = json!({"type": "string", "format": "date-time", "nullable": true});
    json!({
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"}}}}},
        "Customer": {"type": "object", "required": ["id", "name", "time_zone", "created_at"], "properties": {
            "id": int(), "name": {"type": "string"}, "name_ja": {"type": "string", "nullable": true}, "time_zone": {"type": "string"}, "created_at": ts}},
        "Tenant": {"type": "object", "required": ["id", "customer_id", "app", "display_name", "has_credentials", "schedule_time_zone", "created_at"], "properties": {
            "id": int(), "customer_id": int(), "app": {"type": "string", "enum": ["m365", "gws"]}, "display_name": {"type": "string"},
            "has_credentials": {"type": "boolean"}, "credentials_key_id": {"type": "string", "nullable": true},
            "schedule_cron": {"type": "string", "nullable": true}, "schedule_time_zone": {"type": "string"}, "created_at": ts}},
        "Scan": {"type": "object", "required": ["id", "tenant_id", "status", "created_at", "request_count"], "properties": {
            "id": int(), "tenant_id": int(), "status": {"type": "string", "enum": ["queued", "running", "succeeded", "failed"]},
            "created_at": ts, "started_at": ts_null, "finished_at": ts_null, "request_count": int(), "error": {"type": "string", "nullable": true}}},
        "Job": {"type": "object", "required": ["id", "tenant_id", "status"], "properties": {
            "id": int(), "tenant_id": int(), "status": {"type": "string", "enum": ["queued", "running", "succeeded", "failed"]},
            "scheduled_for": ts_null, "attempts": int(), "scan_id": {"type": "integer", "format": "int64", "nullable": true}}},
        "ScorePoint": {"type": "object", "required": ["tenant_id", "scan_id", "at", "score"], "properties": {
            "tenant_id": int(), "scan_id": int(), "at": ts, "kind": {"type": "string"}, "key": {"type": "string"},
            "score": {"type": "number", "minimum": 0, "maximum": 100}, "passed": int(), "failed": int(), "accepted": int(), "errors": int()}},
        "Exception": {"type": "object", "required": ["id", "tenant_id", "control_id", "reason", "status", "expires_at"], "properties": {
            "id": int(), "tenant_id": int(), "customer_id": int(), "control_id": {"type": "string"},
            "resource_key": {"type": "string", "nullable": true}, "reason": {"type": "string"},
            "requested_by": int(), "requested_at": ts, "decided_by": {"type": "integer", "format": "int64", "nullable": true},
            "decided_at": ts_null, "decision_note": {"type": "string"},
            "status": {"type": "string", "enum": ["requested", "approved", "rejected", "expired", "revoked"]},
            "expires_at": ts, "needs_review": {"type": "boolean"}}},
        "Decision": {"type": "object", "additionalProperties": false, "properties": {"note": {"type": "string"}}},
        "ControlResult": {"type": "object", "required": ["scan_id", "control_id", "status", "severity"], "properties": {
            "scan_id": int(), "control_id": {"type": "string"}, "status": {"type": "string"}, "severity": {"type": "string"},
            "details_en": {"type": "string"}, "details_ja": {"type": "string"}, "resources": {"type": "array", "items": {"type": "string"}}}},
        "OcsfFinding": {"type": "object", "description": "An OCSF 1.3.0 finding: type_uid = class_uid * 100 + activity_id",
            "required": ["class_uid", "category_uid", "activity_id", "type_uid", "severity_id", "time", "metadata", "finding_info"], "properties": {
            "class_uid": {"type": "integer", "enum": [2003, 2004]}, "category_uid": {"type": "integer"}, "activity_id": {"type": "integer"},
            "type_uid": {"type": "integer"}, "severity_id": {"type": "integer"}, "status_id": {"type": "integer"}, "time": int(),
            "metadata": {"type": "object"}, "finding_info": {"type": "object"}}},
        "Alert": {"type": "object", "required": ["id", "tenant_id", "customer_id", "rule_id", "source", "severity", "title", "status", "count", "first_seen", "last_seen"], "properties": {
            "id": int(), "tenant_id": int(), "customer_id": int(), "tenant_name": {"type": "string"}, "rule_id": {"type": "string"},
            "source": {"type": "string", "enum": ["m365", "entra-signin", "entra-audit", "gws"]},
            "kind": {"type": "string", "enum": ["detection", "correlation"]},
            "severity": {"type": "string", "enum": ["critical", "high", "medium", "low", "info"]},
            "title": reference("Localized"), "response": reference("Localized"),
            "attack": {"type": "array", "items": {"type": "string"}, "description": "MITRE ATT&CK technique ids"},
            "entities": {"type": "object", "additionalProperties": {"type": "string"}},
            "event_ids": {"type": "array", "items": {"type": "string"}}, "count": int(),
            "first_seen": ts, "last_seen": ts,
            "status": {"type": "string", "enum": ["open", "acknowledged", "resolved", "false_positive"]},
            "created_at": ts, "updated_at": ts}},
        "AlertEvent": {"type": "object", "required": ["id", "alert_id", "at", "to_status"], "properties": {
            "id": int(), "alert_id": int(), "at": ts, "actor_user_id": {"type": "integer", "format": "int64", "nullable": true},
            "from_status": {"type": "string", "nullable": true}, "to_status": {"type": "string"}, "note": {"type": "string"}}},
        "Localized": {"type": "object", "required": ["en", "ja"], "properties": {"en": {"type": "string"}, "ja": {"type": "string"}}},
        "LogGuard": {"type": "object", "required": ["tenant_id", "state", "reason", "since"], "properties": {
            "tenant_id": int(), "state": {"type": "string", "enum": ["normal", "throttled", "suspended"]}, "reason": {"type": "string"},
            "since": ts, "until": ts_null, "set_by": {"type": "integer", "format": "int64", "nullable": true}, "updated_at": ts}},
        "LogStatus": {"type": "object", "required": ["tenant_id", "streams", "guard_state", "meter", "spool"], "properties": {
            "tenant_id": int(),
            "streams": {"type": "array", "items": {"type": "object", "properties": {
                "source": {"type": "string"}, "checkpoint": {"type": "object", "nullable": true, "description": "The pull connector's checkpoint"}, "version": int(), "events": int(), "duplicates": int(),
                "quarantined": int(), "last_event_at": ts_null, "last_error": {"type": "string", "nullable": true}, "updated_at": ts}}},
            "guard": {"allOf": [reference("LogGuard")], "nullable": true},
            "guard_state": {"type": "string", "enum": ["normal", "throttled", "suspended"], "description": "The state in force now"},
            "meter": {"type": "array", "description": "Events and bytes per minute (unix minutes), the last 60 minutes",
                "items": {"type": "object", "properties": {"tenant_id": int(), "minute": int(), "events": int(), "bytes": int()}}},
            "spool": {"type": "object", "properties": {"batches": int(), "bytes": int()}},
            "quarantine": {"type": "array", "description": "The newest 20 records that could not become events (the first 64 KiB of each)",
                "items": {"type": "object", "properties": {"id": int(), "tenant_id": int(), "source": {"type": "string"}, "at": ts,
                    "reason": {"type": "string"}, "raw": {"type": "string"}}}}}},
        "SpooledBatch": {"type": "object", "required": ["batch_id", "events", "bytes", "malformed_lines"], "properties": {
            "batch_id": int(), "events": {"type": "integer", "format": "int64", "description": "Non-empty lines"},
            "bytes": {"type": "integer", "format": "int64", "description": "Bytes after decompression"},
            "malformed_lines": {"type": "integer", "format": "int64", "description": "Lines that are not a JSON object; the worker quarantines them"}}},
    })
}

/// The document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for o in operations() {
        let mut responses = errors(o.errors);
        if o.body.is_some() {
            responses.extend(errors(&["400", "415", "422"]));
        }
        if o.raw_body.is_some() {
            responses.extend(errors(&["400", "413", "415"]));
        }
        let mut ok = json!({"description": "Success."});
        if let Some(schema) = o.ok.1 {
            ok["content"] = json!({"application/json": {"schema": schema}});
        }
        responses.insert(o.ok.0.to_string(), ok);
        let mut operation = json!({
            "summary": o.summary,
            "operationId": format!("{}{}", o.method, o.path.replace(['/', '{', '}', '.', '-'], "_")),
            "parameters": o.params,
            "responses": responses,
        });
        if o.public {
            operation["security"] = json!([]);
        }
        if let Some(d) = o.description {
            operation["description"] = json!(d);
        }
        if let Some(body) = o.body {
            operation["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": body}}});
        }
        if let Some(content) = o.raw_body {
            operation["requestBody"] = json!({"required": true, "content": content});
        }
        paths
            .entry(o.path.to_string())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("path item")
            .insert(o.method.to_string(), operation);
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Mamori API", "version": env!("CARGO_PKG_VERSION"),
            "description": "SaaS security posture management: customers, tenants, scans, findings, risk acceptances; \
                            threat alerts from audit logs (pulled or pushed). \
                            Authenticate with `Authorization: Bearer mmr_…` (API token) or the dashboard's session \
                            cookie plus the `X-CSRF-Token` header for writes."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE},
            },
            "schemas": schemas(),
        },
    })
}

/// Every (method, path) the document describes, for the coverage test.
pub fn described() -> Vec<(String, String)> {
    operations()
        .into_iter()
        .map(|o| (o.method.to_uppercase(), o.path.to_string()))
        .collect()
}
