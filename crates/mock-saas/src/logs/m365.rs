//! Microsoft 365 records: unified audit log (Office 365 Management Activity API common schema
//! plus the Entra ID, Exchange, SharePoint and Teams fields), Graph `signIn` and Graph
//! `directoryAudit`.

use super::{
    business_hours, iso_plain, iso_z, office_ip, usual_ip, LogEvent, Person, Place, Population,
    Source, PLACES,
};
use crate::names::Rng;
use serde_json::{json, Value};

/// An application users sign in to: (display name, app id, resource display name, resource id).
#[derive(Debug, Clone, Copy)]
pub(super) struct App {
    pub name: &'static str,
    pub id: &'static str,
    pub resource: &'static str,
    pub resource_id: &'static str,
}

pub(super) const APPS: [App; 6] = [
    App {
        name: "Office 365 Exchange Online",
        id: "00000002-0000-0ff1-ce00-000000000000",
        resource: "Office 365 Exchange Online",
        resource_id: "00000002-0000-0ff1-ce00-000000000000",
    },
    App {
        name: "Microsoft Teams",
        id: "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
        resource: "Microsoft Teams Services",
        resource_id: "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",
    },
    App {
        name: "OfficeHome",
        id: "4765445b-32c6-49b0-83e6-1d93765276ca",
        resource: "Office 365 SharePoint Online",
        resource_id: "00000003-0000-0ff1-ce00-000000000000",
    },
    App {
        name: "Microsoft Office",
        id: "d3590ed6-52b3-4102-aeff-aad2292ab01c",
        resource: "Microsoft Graph",
        resource_id: "00000003-0000-0000-c000-000000000000",
    },
    App {
        name: "Office 365 SharePoint Online",
        id: "00000003-0000-0ff1-ce00-000000000000",
        resource: "Office 365 SharePoint Online",
        resource_id: "00000003-0000-0ff1-ce00-000000000000",
    },
    App {
        name: "Azure Portal",
        id: "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
        resource: "Windows Azure Service Management API",
        resource_id: "797f4846-ba00-4fd7-ba43-dac1f8f63013",
    },
];

/// How a sign-in ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Success; `mfa`: a second factor was asked for and given.
    Success { mfa: bool },
    /// 50126: wrong user name or password.
    BadPassword,
    /// 500121: the push notification was denied.
    MfaDenied,
}

/// One sign-in attempt.
pub(super) struct SignIn<'a> {
    pub pop: &'a Population,
    pub person: &'a Person,
    pub t: i64,
    pub ip: String,
    pub place: Place,
    pub app: App,
    pub outcome: Outcome,
    /// Risk level during sign-in and risk event types (Identity Protection).
    pub risk: Option<(&'static str, &'static [&'static str])>,
    /// Browser and operating system.
    pub device: (&'static str, &'static str),
}

const DEVICES: [(&str, &str); 5] = [
    ("Edge 131.0.0", "Windows10"),
    ("Chrome 131.0.0", "Windows10"),
    ("Safari 18.1", "MacOs"),
    ("Mobile Safari 18.1", "Ios"),
    ("Chrome Mobile 131.0.0", "Android"),
];

fn user_agent(device: (&str, &str)) -> &'static str {
    match device.1 {
        "MacOs" => "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        "Ios" => "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "Android" => "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        _ => "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    }
}

/// The person's usual device.
pub(super) fn device_of(p: &Person) -> (&'static str, &'static str) {
    DEVICES[(p.weight as usize + p.home) % DEVICES.len()]
}

/// A PUID-shaped key (`1003200012AB34CD`) stable per person.
fn puid(p: &Person) -> String {
    let h = p.id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |a, b| {
        (a ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    format!("10032000{:08X}", h as u32)
}

fn ev(source: Source, stream: &'static str, t: i64, record: Value) -> LogEvent {
    LogEvent {
        source,
        stream,
        time_ms: t,
        record,
    }
}

/// The sign-in as a Graph `signIn` and as the unified audit log's `UserLoggedIn` /
/// `UserLoginFailed` (Audit.AzureActiveDirectory, RecordType 15).
pub(super) fn sign_in(s: &SignIn, rng: &mut Rng) -> [LogEvent; 2] {
    let p = s.person;
    let id = rng.guid();
    let correlation = rng.guid();
    let (error_code, failure, details, ual_error) = match s.outcome {
        Outcome::Success { mfa: true } => (0, Value::Null, json!("MFA requirement satisfied by claim in the token"), None),
        Outcome::Success { mfa: false } => (0, Value::Null, Value::Null, None),
        Outcome::BadPassword => (
            50126,
            json!("Error validating credentials due to invalid username or password."),
            json!("The user didn't enter the right credentials. It's expected to see some number of these errors in your logs due to users making mistakes."),
            Some(("50126", "InvalidUserNameOrPassword")),
        ),
        Outcome::MfaDenied => (
            500121,
            json!("Authentication failed during strong authentication request."),
            json!("MFA denied; user declined the authentication"),
            Some(("500121", "Authentication failed during strong authentication request.")),
        ),
    };
    let push = |result: bool, detail: &str| {
        json!({"authenticationStepDateTime": iso_z(s.t + 20_000), "authenticationMethod": "Authenticator App",
            "authenticationMethodDetail": format!("{} の iPhone", p.display), "succeeded": result,
            "authenticationStepResultDetail": detail, "authenticationStepRequirement": "Primary authentication"})
    };
    let password = |ok: bool| {
        json!({"authenticationStepDateTime": iso_z(s.t), "authenticationMethod": "Password", "authenticationMethodDetail": "Password in the cloud",
            "succeeded": ok, "authenticationStepResultDetail": if ok { "Correct password" } else { "Invalid username or password or Invalid on-premise username or password." },
            "authenticationStepRequirement": "Primary authentication"})
    };
    let (auth_details, requirement) = match s.outcome {
        Outcome::Success { mfa: true } if s.risk.is_none() && rng.chance(70) => (
            vec![
                json!({"authenticationStepDateTime": iso_z(s.t), "authenticationMethod": "Previously satisfied", "authenticationMethodDetail": null,
                "succeeded": true, "authenticationStepResultDetail": "First factor requirement satisfied by claim in the token", "authenticationStepRequirement": "Primary authentication"}),
            ],
            "multiFactorAuthentication",
        ),
        Outcome::Success { mfa: true } => (
            vec![password(true), push(true, "MFA successfully completed")],
            "multiFactorAuthentication",
        ),
        Outcome::Success { mfa: false } => (vec![password(true)], "singleFactorAuthentication"),
        Outcome::BadPassword => (vec![password(false)], "singleFactorAuthentication"),
        Outcome::MfaDenied => (
            vec![
                password(true),
                push(false, "MFA denied; user declined the authentication"),
            ],
            "multiFactorAuthentication",
        ),
    };
    let (risk_level, risk_events) = match s.risk {
        Some((level, events)) => (level, events.to_vec()),
        None => ("none", Vec::new()),
    };
    let anonymized = risk_events.contains(&"anonymizedIPAddress");
    let success = error_code == 0;
    let device_id = if success && s.risk.is_none() {
        rng.guid()
    } else {
        String::new()
    };
    let graph = json!({
        "id": id,
        "createdDateTime": iso_z(s.t),
        "userDisplayName": p.display,
        "userPrincipalName": p.upn,
        "userId": p.id,
        "appId": s.app.id,
        "appDisplayName": s.app.name,
        "ipAddress": s.ip,
        "clientAppUsed": "Browser",
        "correlationId": correlation,
        "conditionalAccessStatus": if success { "success" } else { "notApplied" },
        "isInteractive": true,
        "riskDetail": "none",
        "riskLevelAggregated": risk_level,
        "riskLevelDuringSignIn": risk_level,
        "riskState": if risk_events.is_empty() { "none" } else { "atRisk" },
        "riskEventTypes": risk_events,
        "riskEventTypes_v2": risk_events,
        "resourceDisplayName": s.app.resource,
        "resourceId": s.app.resource_id,
        "status": {"errorCode": error_code, "failureReason": failure, "additionalDetails": details},
        "deviceDetail": {"deviceId": device_id, "displayName": if device_id.is_empty() { Value::Null } else { json!(format!("PC-{}", &p.id[..6])) },
            "operatingSystem": s.device.1, "browser": s.device.0, "isCompliant": !device_id.is_empty(), "isManaged": !device_id.is_empty(),
            "trustType": if device_id.is_empty() { Value::Null } else { json!("Azure AD joined") }},
        "location": {"city": s.place.city, "state": s.place.state, "countryOrRegion": s.place.country,
            "geoCoordinates": {"altitude": null, "latitude": s.place.lat, "longitude": s.place.lon}},
        "appliedConditionalAccessPolicies": [{"id": "5c8f2b1e-3d4a-4e6b-9f70-1a2b3c4d5e6f", "displayName": "全ユーザー - 多要素認証を要求",
            "enforcedGrantControls": ["Mfa"], "enforcedSessionControls": [], "result": if success { "success" } else { "notApplied" }}],
        "authenticationRequirement": requirement,
        "authenticationDetails": auth_details,
        "authenticationMethodsUsed": if requirement == "multiFactorAuthentication" { json!(["Password", "Authenticator App"]) } else { json!(["Password"]) },
        "networkLocationDetails": if business_hours(s.t) && s.risk.is_none() && s.ip.starts_with("203.0.113.") {
            json!([{"networkType": "namedNetwork", "networkNames": ["本社・拠点ネットワーク"]}])
        } else if anonymized {
            json!([{"networkType": "extranet", "networkNames": []}])
        } else { json!([]) },
        "flaggedForReview": false,
        "homeTenantId": s.pop.tenant_id,
        "resourceTenantId": s.pop.tenant_id,
        "userType": "member",
        "tokenIssuerType": "AzureAD",
    });
    let mut ual = json!({
        "CreationTime": iso_plain(s.t),
        "Id": rng.guid(),
        "Operation": if success { "UserLoggedIn" } else { "UserLoginFailed" },
        "OrganizationId": s.pop.tenant_id,
        "RecordType": 15,
        "ResultStatus": if success { "Success" } else { "Failed" },
        "UserKey": p.id,
        "UserType": 0,
        "Version": 1,
        "Workload": "AzureActiveDirectory",
        "ClientIP": s.ip,
        "ObjectId": s.app.resource_id,
        "UserId": p.upn,
        "AzureActiveDirectoryEventType": 1,
        "ExtendedProperties": [
            {"Name": "ResultStatusDetail", "Value": if success { "Redirect" } else { "Failure" }},
            {"Name": "UserAgent", "Value": user_agent(s.device)},
            {"Name": "RequestType", "Value": "OAuth2:Authorize"},
        ],
        "ModifiedProperties": [],
        "Actor": [{"ID": p.id, "Type": 0}, {"ID": p.upn, "Type": 5}],
        "ActorContextId": s.pop.tenant_id,
        "ActorIpAddress": s.ip,
        "InterSystemsId": correlation,
        "IntraSystemId": id,
        "SupportTicketId": "",
        "Target": [{"ID": s.app.resource_id, "Type": 0}],
        "TargetContextId": s.pop.tenant_id,
        "ApplicationId": s.app.id,
        "DeviceProperties": [
            {"Name": "OS", "Value": s.device.1},
            {"Name": "BrowserType", "Value": s.device.0.split(' ').next().unwrap_or("Edge")},
            {"Name": "IsCompliantAndManaged", "Value": if device_id.is_empty() { "False" } else { "True" }},
            {"Name": "SessionId", "Value": correlation},
        ],
        "ErrorNumber": error_code.to_string(),
    });
    if let Some((code, text)) = ual_error {
        ual["ErrorCode"] = json!(code);
        ual["LogonError"] = json!(text);
    }
    [
        ev(Source::EntraSignin, "signIns", s.t, graph),
        ev(Source::M365, "Audit.AzureActiveDirectory", s.t, ual),
    ]
}

/// A `targetResource` for a user, with modified properties `(name, old, new)`.
pub(super) fn user_target(p: &Person, modified: &[(&str, &str, &str)]) -> Value {
    json!({"id": p.id, "displayName": null, "type": "User", "userPrincipalName": p.upn, "groupType": null,
        "modifiedProperties": modified.iter().map(|(n, o, v)| json!({"displayName": n, "oldValue": o, "newValue": v})).collect::<Vec<_>>()})
}

/// A directory activity as a Graph `directoryAudit` and as the unified audit log's Entra ID
/// record (Audit.AzureActiveDirectory, RecordType 8; the operation name with a final period).
#[allow(clippy::too_many_arguments)]
pub(super) fn directory_audit(
    pop: &Population,
    t: i64,
    actor: &Person,
    ip: &str,
    activity: &str,
    category: &str,
    operation_type: &str,
    targets: Vec<Value>,
    rng: &mut Rng,
) -> [LogEvent; 2] {
    let id = rng.guid();
    let correlation = rng.guid();
    let graph = json!({
        "id": format!("Directory_{}_{}", correlation.split('-').next().unwrap_or("0").to_uppercase(), rng.below(90_000_000) + 10_000_000),
        "category": category,
        "correlationId": correlation,
        "result": "success",
        "resultReason": "",
        "activityDisplayName": activity,
        "activityDateTime": iso_z(t),
        "loggedByService": "Core Directory",
        "operationType": operation_type,
        "initiatedBy": {"app": null, "user": {"id": actor.id, "displayName": null, "userPrincipalName": actor.upn, "ipAddress": ip, "userType": null, "homeTenantId": null, "homeTenantName": null}},
        "targetResources": targets,
        "additionalDetails": [{"key": "User-Agent", "value": user_agent(device_of(actor))}],
    });
    let first = &graph["targetResources"][0];
    let modified: Vec<Value> = first["modifiedProperties"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| json!({"Name": m["displayName"], "NewValue": m["newValue"], "OldValue": m["oldValue"]}))
        .collect();
    let mut target = vec![
        json!({"ID": format!("{}_{}", first["type"].as_str().unwrap_or("User"), first["id"].as_str().unwrap_or_default()), "Type": 2}),
    ];
    if let Some(upn) = first["userPrincipalName"].as_str() {
        target.push(json!({"ID": upn, "Type": 5}));
    }
    if let Some(name) = first["displayName"].as_str() {
        target.push(json!({"ID": name, "Type": 1}));
    }
    let ual = json!({
        "CreationTime": iso_plain(t),
        "Id": id,
        "Operation": format!("{activity}."),
        "OrganizationId": pop.tenant_id,
        "RecordType": 8,
        "ResultStatus": "Success",
        "UserKey": format!("{}@{}", puid(actor), pop.domain),
        "UserType": 0,
        "Version": 1,
        "Workload": "AzureActiveDirectory",
        "ClientIP": null,
        "ObjectId": first["userPrincipalName"].as_str().or(first["displayName"].as_str()).or(first["id"].as_str()).unwrap_or_default(),
        "UserId": actor.upn,
        "AzureActiveDirectoryEventType": 1,
        "ExtendedProperties": [
            {"Name": "additionalDetails", "Value": "{}"},
            {"Name": "extendedAuditEventCategory", "Value": first["type"].as_str().unwrap_or("User")},
        ],
        "ModifiedProperties": modified,
        "Actor": [{"ID": actor.upn, "Type": 5}, {"ID": format!("User_{}", actor.id), "Type": 2}, {"ID": puid(actor), "Type": 3}],
        "ActorContextId": pop.tenant_id,
        "ActorIpAddress": ip,
        "InterSystemsId": correlation,
        "IntraSystemId": rng.guid(),
        "SupportTicketId": "",
        "Target": target,
        "TargetContextId": pop.tenant_id,
    });
    [
        ev(Source::EntraAudit, "directoryAudits", t, graph),
        ev(Source::M365, "Audit.AzureActiveDirectory", t, ual),
    ]
}

/// An Exchange admin cmdlet (Audit.Exchange, RecordType 1) with its `Parameters`.
#[allow(clippy::too_many_arguments)]
pub(super) fn exchange_admin(
    pop: &Population,
    t: i64,
    actor: &Person,
    ip: &str,
    cmdlet: &str,
    object_id: &str,
    parameters: &[(&str, &str)],
    rng: &mut Rng,
) -> LogEvent {
    let record = json!({
        "CreationTime": iso_plain(t),
        "Id": rng.guid(),
        "Operation": cmdlet,
        "OrganizationId": pop.tenant_id,
        "RecordType": 1,
        "ResultStatus": "True",
        "UserKey": puid(actor),
        "UserType": if actor.admin { 2 } else { 0 },
        "Version": 1,
        "Workload": "Exchange",
        "ClientIP": ip,
        "ObjectId": object_id,
        "UserId": actor.upn,
        "AppId": "",
        "ClientAppId": "",
        "ExternalAccess": false,
        "OrganizationName": format!("{}.onmicrosoft.com", pop.tenant_name),
        "OriginatingServer": format!("TYCPR01MB{} (15.20.8207.017)", 1000 + rng.below(9000)),
        "Parameters": parameters.iter().map(|(n, v)| json!({"Name": n, "Value": v})).collect::<Vec<_>>(),
        "SessionId": rng.guid(),
        "TokenObjectId": actor.id,
        "TokenTenantId": pop.tenant_id,
    });
    ev(Source::M365, "Audit.Exchange", t, record)
}

/// A file in one of the tenant's SharePoint sites.
pub(super) struct FileRef {
    pub site: &'static str,
    pub folder: &'static str,
    pub name: String,
}

const SITES: [&str; 6] = [
    "Sales",
    "Finance",
    "HR",
    "Engineering",
    "AllCompany",
    "Legal",
];
const FOLDERS: [&str; 4] = [
    "Shared Documents",
    "Shared Documents/2026",
    "Shared Documents/顧客",
    "Shared Documents/Archive",
];
const STEMS: [&str; 12] = [
    "見積書",
    "契約書_ドラフト",
    "議事録",
    "売上報告",
    "Board_Minutes",
    "Pricing",
    "顧客リスト",
    "経費精算",
    "採用計画",
    "Roadmap",
    "請求書",
    "提案書",
];
const EXTENSIONS: [&str; 5] = ["xlsx", "docx", "pptx", "pdf", "csv"];

pub(super) fn random_file(rng: &mut Rng) -> FileRef {
    FileRef {
        site: SITES[rng.below(SITES.len())],
        folder: FOLDERS[rng.below(FOLDERS.len())],
        name: format!(
            "{}_{:03}.{}",
            STEMS[rng.below(STEMS.len())],
            rng.below(400),
            EXTENSIONS[rng.below(EXTENSIONS.len())]
        ),
    }
}

/// A SharePoint file or sharing operation (Audit.SharePoint; RecordType 6, or 14 for sharing
/// operations).
pub(super) fn sharepoint(
    pop: &Population,
    t: i64,
    p: &Person,
    ip: &str,
    operation: &str,
    file: &FileRef,
    rng: &mut Rng,
) -> LogEvent {
    let site_url = format!(
        "https://{}.sharepoint.com/sites/{}/",
        pop.tenant_name, file.site
    );
    let ext = file.name.rsplit('.').next().unwrap_or_default();
    let sharing = matches!(
        operation,
        "SharingSet" | "AnonymousLinkCreated" | "SharingInvitationCreated"
    );
    let mut record = json!({
        "CreationTime": iso_plain(t),
        "Id": rng.guid(),
        "Operation": operation,
        "OrganizationId": pop.tenant_id,
        "RecordType": if sharing { 14 } else { 6 },
        "UserKey": format!("i:0h.f|membership|{}@live.com", puid(p).to_lowercase()),
        "UserType": 0,
        "Version": 1,
        "Workload": "SharePoint",
        "ClientIP": ip,
        "ObjectId": format!("{site_url}{}/{}", file.folder, file.name),
        "UserId": p.upn,
        "CorrelationId": rng.guid(),
        "EventSource": "SharePoint",
        "ItemType": "File",
        "ListId": rng.guid(),
        "ListItemUniqueId": rng.guid(),
        "Site": rng.guid(),
        "UserAgent": user_agent(device_of(p)),
        "WebId": rng.guid(),
        "SourceFileExtension": ext,
        "SiteUrl": site_url,
        "SourceFileName": file.name,
        "SourceRelativeUrl": file.folder,
    });
    if operation == "SharingSet" {
        record["TargetUserOrGroupName"] = json!(format!("partner{}@example.com", rng.below(50)));
        record["TargetUserOrGroupType"] = json!("Guest");
        record["EventData"] = json!("<PermissionsGranted>Contribute</PermissionsGranted>");
    } else if operation == "AnonymousLinkCreated" {
        record["EventData"] = json!("<Type>View</Type>");
    }
    ev(Source::M365, "Audit.SharePoint", t, record)
}

/// An ordinary Microsoft 365 event (or a few related ones) of `p` at `t`.
pub(super) fn ordinary(
    pop: &Population,
    p: &Person,
    t: i64,
    rng: &mut Rng,
    out: &mut Vec<LogEvent>,
) {
    let ip = usual_ip(p, t);
    let r = rng.below(1000);
    if r < 150 || (r >= 960 && !p.admin) {
        let app = APPS[rng.below(if p.admin { APPS.len() } else { APPS.len() - 1 })];
        let mut s = SignIn {
            pop,
            person: p,
            t,
            ip: ip.clone(),
            place: PLACES[p.home],
            app,
            outcome: Outcome::Success {
                mfa: !ip.starts_with("203.0.113.") || rng.chance(20),
            },
            risk: None,
            device: device_of(p),
        };
        if rng.chance(3) {
            // A mistyped password, then the right one.
            s.outcome = Outcome::BadPassword;
            out.extend(sign_in(&s, rng));
            s.t = t + 20_000 + rng.below(40_000) as i64;
            s.outcome = Outcome::Success { mfa: true };
        }
        out.extend(sign_in(&s, rng));
    } else if r < 700 {
        let op = match rng.below(1000) {
            0..=599 => "FileAccessed",
            600..=849 => "FileModified",
            850..=929 => "FileUploaded",
            930..=979 => "FileDownloaded",
            980..=989 => "FileDeleted",
            990..=996 => "SharingSet",
            _ => "AnonymousLinkCreated",
        };
        let file = random_file(rng);
        out.push(sharepoint(pop, t, p, &ip, op, &file, rng));
    } else if r < 820 {
        if p.admin && rng.chance(8) {
            // Mailbox delegation for an assistant: ordinary admin work.
            let staff = pop.staff();
            let owner = &staff[rng.below(staff.len())];
            let delegate = &staff[rng.below(staff.len())];
            out.push(exchange_admin(
                pop,
                t,
                p,
                &ip,
                "Add-MailboxPermission",
                &owner.upn,
                &[
                    ("Identity", &owner.upn),
                    ("User", &delegate.upn),
                    ("AccessRights", "FullAccess"),
                    ("InheritanceType", "All"),
                ],
                rng,
            ));
        } else if rng.chance(2) {
            // An inbox rule that files newsletters: internal, no forwarding.
            let name = "ニュースレター";
            out.push(exchange_admin(
                pop,
                t,
                p,
                &ip,
                "New-InboxRule",
                &format!("{}\\{name}", p.upn),
                &[
                    ("Name", name),
                    ("From", "news@example.com"),
                    ("MoveToFolder", "ニュースレター"),
                    ("StopProcessingRules", "True"),
                ],
                rng,
            ));
        } else {
            out.push(ev(Source::M365, "Audit.Exchange", t, json!({
                "CreationTime": iso_plain(t), "Id": rng.guid(), "Operation": "Send", "OrganizationId": pop.tenant_id,
                "RecordType": 2, "ResultStatus": "Succeeded", "UserKey": puid(p), "UserType": 0, "Version": 1,
                "Workload": "Exchange", "ClientIP": ip, "UserId": p.upn, "ExternalAccess": false, "InternalLogonType": 0,
                "LogonType": 0, "LogonUserSid": format!("S-1-5-21-{}", rng.below(1_000_000_000)), "MailboxGuid": rng.guid(),
                "MailboxOwnerSid": format!("S-1-5-21-{}", rng.below(1_000_000_000)), "MailboxOwnerUPN": p.upn,
                "OrganizationName": format!("{}.onmicrosoft.com", pop.tenant_name),
                "OriginatingServer": format!("TYCPR01MB{} (15.20.8207.017)", 1000 + rng.below(9000)),
                "ClientInfoString": "Client=OWA;Action=ViaProxy",
                "Item": {"Id": format!("RgAAAA{}", rng.guid().replace('-', "")), "InternetMessageId": format!("<{}@{}.prod.outlook.com>", rng.guid(), pop.tenant_name),
                    "ParentFolder": {"Id": format!("LgAAAA{}", rng.guid().replace('-', "")), "Path": "\\Sent Items"},
                    "SizeInBytes": 4000 + rng.below(200_000), "Subject": "Re: お見積りの件"},
            })));
        }
    } else if r < 960 {
        let op = if rng.chance(85) {
            "TeamsSessionStarted"
        } else {
            "MemberAdded"
        };
        let mut record = json!({
            "CreationTime": iso_plain(t), "Id": rng.guid(), "Operation": op, "OrganizationId": pop.tenant_id,
            "RecordType": 25, "UserKey": p.id, "UserType": 0, "Version": 1, "Workload": "MicrosoftTeams",
            "ClientIP": ip, "UserId": p.upn,
            "ExtraProperties": [{"Key": "OS", "Value": device_of(p).1}, {"Key": "ClientType", "Value": "Desktop"}],
        });
        if op == "MemberAdded" {
            let staff = pop.staff();
            let m = &staff[rng.below(staff.len())];
            record["TeamName"] = json!(format!(
                "{}チーム",
                ["営業", "経理", "開発", "総務"][rng.below(4)]
            ));
            record["TeamGuid"] = json!(format!("19:{}@thread.tacv2", rng.guid().replace('-', "")));
            record["Members"] = json!([{"UPN": m.upn, "Role": 1, "DisplayName": m.display}]);
        }
        out.push(ev(Source::M365, "Audit.General", t, record));
    } else {
        // Directory work by an administrator in business hours (at night: nothing).
        if !business_hours(t) {
            return;
        }
        let staff = pop.staff();
        let target = &staff[rng.below(staff.len())];
        let admins = pop.admins();
        let ip = office_ip(p);
        match rng.below(20) {
            0 if std::ptr::eq(p, &admins[0]) => {
                // The role administrator assigns a helpdesk role now and then.
                let role = ["Helpdesk Administrator", "User Administrator"][rng.below(2)];
                let template = if role == "Helpdesk Administrator" {
                    "729827e3-9c14-49f7-bb1b-9608f156bbb8"
                } else {
                    "fe930be7-5e62-47db-91af-98c3a49a38b1"
                };
                out.extend(directory_audit(
                    pop,
                    t,
                    p,
                    &ip,
                    "Add member to role",
                    "RoleManagement",
                    "Assign",
                    vec![user_target(
                        target,
                        &[
                            ("Role.DisplayName", "", &format!("\"{role}\"")),
                            ("Role.TemplateId", "", &format!("\"{template}\"")),
                        ],
                    )],
                    rng,
                ));
            }
            0..=9 => out.extend(directory_audit(
                pop,
                t,
                p,
                &ip,
                "Update user",
                "UserManagement",
                "Update",
                vec![user_target(
                    target,
                    &[
                        ("JobTitle", "[]", "[\"主任\"]"),
                        ("Included Updated Properties", "", "\"JobTitle\""),
                    ],
                )],
                rng,
            )),
            10..=16 => {
                let group = format!(
                    "{}-members",
                    ["sales", "finance", "engineering", "all-staff"][rng.below(4)]
                );
                out.extend(directory_audit(
                    pop,
                    t,
                    p,
                    &ip,
                    "Add member to group",
                    "GroupManagement",
                    "Assign",
                    vec![user_target(
                        target,
                        &[("Group.DisplayName", "", &format!("\"{group}\""))],
                    )],
                    rng,
                ));
            }
            _ => out.extend(directory_audit(
                pop,
                t,
                p,
                &ip,
                "Reset user password",
                "UserManagement",
                "Update",
                vec![user_target(target, &[])],
                rng,
            )),
        }
    }
}
