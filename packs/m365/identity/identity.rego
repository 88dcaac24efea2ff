# Identity hygiene (Mamori): privileged accounts' sign-in methods, staleness and origin, and
# high-risk permissions held by third-party applications. Reads the Mamori extension sections
# mamori_users, mamori_service_principals, mamori_oauth2_permission_grants (documented in
# docs/schemas/mamori-extensions-m365.schema.json) and ScubaGear's risky_third_party_service_principals.
package mamori.m365.identity

import data.mamori.m365.lib
import rego.v1

arr(x) := x if is_array(x)

arr(x) := [] if not is_array(x)

obj(x) := x if is_object(x)

obj(x) := {} if not is_object(x)

str(x) := x if is_string(x)

str(x) := "" if not is_string(x)

# A field that may be absent (a missing field would make a function call undefined).
get(o, k) := object.get(o, k, null)

list_en(xs) := "none" if count(xs) == 0

list_en(xs) := lib.names_en(xs) if count(xs) > 0

list_ja(xs) := "なし" if count(xs) == 0

list_ja(xs) := lib.names_ja(xs) if count(xs) > 0

# A control is met only when the data it reads is there and nothing offends: a snapshot without
# the data never passes (the engine reports such controls as `error`).
met(have, offenders) if {
	have == true
	count(offenders) == 0
}

met(have, offenders) := false if {
	not have == true
}

met(have, offenders) := false if {
	have == true
	count(offenders) > 0
}

# ---------------------------------------------------------------------------
# Users and their privileged roles.
# ---------------------------------------------------------------------------

default have_users := false

have_users if is_array(input.mamori_users)

users := [u | some u in arr(input.mamori_users); is_object(u); is_string(u.id)]

user_ids := {u.id | some u in users}

user_label(u) := sprintf("%v (%v)", [u.displayName, u.userPrincipalName]) if {
	is_string(u.displayName)
	is_string(u.userPrincipalName)
} else := u.userPrincipalName if {
	is_string(u.userPrincipalName)
} else := u.id

# Disabled accounts cannot sign in: they are left out of the user controls.
enabled(u) if object.get(u, "accountEnabled", true) != false

# Active assignments and PIM-eligible schedules both give the role.
role_entries(u) := [r | some r in array.concat(arr(get(u, "roleAssignments")), arr(get(u, "roleEligibilitySchedules"))); is_object(r)]

role_definition(r) := obj(get(r, "roleDefinition"))

role_name(r) := role_definition(r).displayName if is_string(role_definition(r).displayName)

role_name(r) := str(get(r, "roleDefinitionId")) if not is_string(role_definition(r).displayName)

# Built-in roles: the role definition id is the template id.
role_template(r) := lower(role_definition(r).templateId) if is_string(role_definition(r).templateId)

role_template(r) := lower(str(get(r, "roleDefinitionId"))) if not is_string(role_definition(r).templateId)

# Roles Mamori treats as privileged whatever the isPrivileged flag says: the roles of Microsoft's
# "Require phishing-resistant MFA for administrators" template, the roles ScubaGear treats as highly
# privileged, and the other administrator roles Microsoft labels privileged.
privileged_templates := {
	"62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
	"e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
	"7be44c8a-adaf-4e2a-84d6-ab2649e08a13": "Privileged Authentication Administrator",
	"194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
	"b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
	"9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
	"158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
	"fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
	"c4e39bd9-1100-46d3-8c65-fb160da0071f": "Authentication Administrator",
	"729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
	"966707d0-3269-4727-9be2-8c3a10f19b9d": "Password Administrator",
	"8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2": "Hybrid Identity Administrator",
	"29232cdf-9323-42fd-ade2-1d097af3e4de": "Exchange Administrator",
	"f28a1f50-f6e7-4571-818b-6a12f2af6b6c": "SharePoint Administrator",
	"b0f54661-2d74-4c50-afa3-1ec803f12efe": "Billing Administrator",
	"3a2c62db-5318-420d-8d74-23affee5d9d5": "Intune Administrator",
	"8329153b-31d0-4727-b945-745eb3bc5f31": "Domain Name Administrator",
	"be2f45a1-457d-42af-a067-6ec1fa63bc45": "External Identity Provider Administrator",
}

privileged_names := {lower(n) | some n in privileged_templates}

privileged_role(r) if role_definition(r).isPrivileged == true

privileged_role(r) if privileged_templates[role_template(r)]

privileged_role(r) if lower(role_name(r)) in privileged_names

# ScubaGear's privileged_users (Get-PrivilegedUser), when present, also marks role holders.
scuba_privileged := {id: u | some id, u in obj(input.privileged_users); is_object(u)}

scuba_roles(id) := {sprintf("%v", [n]) | some n in arr(scuba_privileged[id].roles)}

# scuba_roles of every id of privileged_users, computed once.
scuba_role_sets := {id: {sprintf("%v", [n]) | rs := u.roles; is_array(rs); some n in rs} | some id, u in scuba_privileged}

privileged_roles(u) := {role_name(r) | some r in role_entries(u); privileged_role(r)} | scuba_roles(u.id)

# The facts below are computed once per user (by position in `users`) rather than by calling
# the functions above for every use: tenants can have thousands of privileged accounts. Rules
# used inside a loop are bound to a local variable first, which regorus looks up faster.

# A role entry's name and privilege depend only on its roleDefinition and roleDefinitionId:
# each user's entries are reduced to those two fields, so each distinct role is judged once.
role_key_fields := ["roleDefinition", "roleDefinitionId"]

user_role_keys := {i: keys |
	fields := role_key_fields
	some i, u in users
	keys := {object.filter(r, fields) |
		some f in ["roleAssignments", "roleEligibilitySchedules"]
		rs := u[f]
		is_array(rs)
		some r in rs
		is_object(r)
	}
	count(keys) > 0
}

# The name of each privileged role, by key.
privileged_key_names := {k: role_name(k) |
	some k in {key | some keys in user_role_keys; some key in keys}
	privileged_role(k)
}

# privileged_roles(u) of each user holding one, by position.
user_privileged_roles := {i: roles |
	keys := user_role_keys
	names := privileged_key_names
	scuba := scuba_role_sets
	some i, u in users
	roles := {names[k] | some k in object.get(keys, i, set())} | object.get(scuba, u.id, set())
	count(roles) > 0
}

# Enabled users holding a privileged role, with their labels.
admin_rows := [{"i": i, "u": u, "label": sprintf("%v [%v]", [user_label(u), concat(", ", sort(roles))])} |
	all_users := users
	some i, roles in user_privileged_roles
	u := all_users[i]
	object.get(u, "accountEnabled", true) != false
]

admins := [r.u | some r in admin_rows]

admin_label(u) := sprintf("%v [%v]", [user_label(u), concat(", ", sort(privileged_roles(u)))])

# Holders of privileged roles in ScubaGear's data that Mamori's user list does not describe.
unknown_admins := {sprintf("%v [%v]", [object.get(scuba_privileged[id], "DisplayName", id), concat(", ", sort(scuba_roles(id)))]) |
	some id, _ in scuba_privileged
	not id in user_ids
}

# Every tenant has at least one Global Administrator: finding no privileged account at all means
# the role data is incomplete, and the user controls then fail rather than pass.
default privileged_found := false

privileged_found if count(scuba_privileged) > 0

privileged_found if count(user_privileged_roles) > 0

results contains lib.verdict(
	id, false,
	"No account holding a privileged role was found in mamori_users (nor in ScubaGear's privileged_users): the role assignments were probably not collected, so this control cannot be judged.",
	"mamori_users（および ScubaGear の privileged_users）に特権ロールを持つアカウントが見つかりません。ロールの割り当てが収集されていない可能性が高いため、このコントロールは判定できません。",
) if {
	not privileged_found
	some id in ["MAMORI.M365.IDENTITY.1", "MAMORI.M365.IDENTITY.2", "MAMORI.M365.IDENTITY.3"]
}

# ---------------------------------------------------------------------------
# MAMORI.M365.IDENTITY.1: phishing-resistant methods for privileged accounts.
# ---------------------------------------------------------------------------

phishing_resistant_types := {
	"#microsoft.graph.fido2authenticationmethod",
	"#microsoft.graph.windowshelloforbusinessauthenticationmethod",
	"#microsoft.graph.platformcredentialauthenticationmethod",
}

method_type(m) := lower(m["@odata.type"]) if is_string(m["@odata.type"])

phishing_resistant(u) if {
	some m in arr(get(u, "authenticationMethods"))
	is_object(m)
	method_type(m) in phishing_resistant_types
}

phishing_resistant(u) if count(arr(get(obj(get(u, "authorizationInfo")), "certificateUserIds"))) > 0

# Positions of the administrators that phishing_resistant(u) holds for.
phishing_resistant_admins := {r.i |
	some r in admin_rows
	ms := r.u.authenticationMethods
	is_array(ms)
	some m in ms
	t := m["@odata.type"]
	is_string(t)
	lower(t) in phishing_resistant_types
	is_object(m)
} | {r.i |
	some r in admin_rows
	ai := r.u.authorizationInfo
	is_object(ai)
	ids := ai.certificateUserIds
	is_array(ids)
	count(ids) > 0
}

no_phishing_resistant := {r.label | some r in admin_rows; not phishing_resistant_admins[r.i]}

mfa_offenders := no_phishing_resistant | unknown_admins

results contains lib.verdict_with(
	"MAMORI.M365.IDENTITY.1", met(have_users, mfa_offenders),
	sprintf("%v enabled accounts hold a privileged role. Without a phishing-resistant method (passkey/FIDO2, Windows Hello for Business, platform credential or certificate): %v. Privileged in ScubaGear's data but missing from mamori_users: %v.", [count(admins), list_en(no_phishing_resistant), list_en(unknown_admins)]),
	sprintf("特権ロールを持つ有効なアカウントは %v 件です。フィッシング耐性のある方法（パスキー/FIDO2、Windows Hello for Business、プラットフォーム資格情報、証明書）が未登録: %v。ScubaGear のデータでは特権を持つが mamori_users に存在しない: %v。", [count(admins), list_ja(no_phishing_resistant), list_ja(unknown_admins)]),
	sort(mfa_offenders),
) if privileged_found

# ---------------------------------------------------------------------------
# MAMORI.M365.IDENTITY.2: privileged accounts without a sign-in for 90 days or more.
# "Now" is the collection time recorded in the snapshot (mamori_collected_at, else ScubaGear's
# timestamp_zulu), never the wall clock, so a snapshot always gives the same verdict.
# ---------------------------------------------------------------------------

stale_days := 90

day_ns := 86400000000000

ts(v) := time.parse_rfc3339_ns(v) if is_string(v)

now_ns := ts(input.mamori_collected_at)

now_ns := ts(input.timestamp_zulu) if not ts(input.mamori_collected_at)

sign_in(u) := obj(get(u, "signInActivity"))

attempts(u) := {t | some f in ["lastSignInDateTime", "lastNonInteractiveSignInDateTime"]; t := ts(get(sign_in(u), f))}

# The last successful sign-in when recorded (Microsoft has kept it since December 2023), else the
# latest interactive or non-interactive sign-in attempt.
last_sign_in(u) := ts(get(sign_in(u), "lastSuccessfulSignInDateTime"))

last_sign_in(u) := max(attempts(u)) if {
	not ts(get(sign_in(u), "lastSuccessfulSignInDateTime"))
	count(attempts(u)) > 0
}

days_since(t) := floor((now_ns - t) / day_ns)

stale_entry(u) := {
	"en": sprintf("%v: last sign-in %v days ago", [admin_label(u), days_since(last_sign_in(u))]),
	"ja": sprintf("%v: 最終サインインは %v 日前", [admin_label(u), days_since(last_sign_in(u))]),
} if {
	days_since(last_sign_in(u)) >= stale_days
}

# Never signed in: stale once the account itself is 90 days old (or its age is unknown).
stale_entry(u) := {
	"en": sprintf("%v: never signed in, created %v days ago", [admin_label(u), days_since(ts(u.createdDateTime))]),
	"ja": sprintf("%v: サインイン履歴なし（作成から %v 日）", [admin_label(u), days_since(ts(u.createdDateTime))]),
} if {
	not last_sign_in(u)
	days_since(ts(u.createdDateTime)) >= stale_days
}

stale_entry(u) := {
	"en": sprintf("%v: never signed in, creation date unknown", [admin_label(u)]),
	"ja": sprintf("%v: サインイン履歴なし（作成日不明）", [admin_label(u)]),
} if {
	not last_sign_in(u)
	not ts(u.createdDateTime)
}

# last_sign_in(u), in a single function for the loop over administrators.
last_sign_in_of(u) := t if {
	sa := u.signInActivity
	is_object(sa)
	v := sa.lastSuccessfulSignInDateTime
	is_string(v)
	t := time.parse_rfc3339_ns(v)
} else := max(times) if {
	sa := u.signInActivity
	is_object(sa)
	times := {t | some f in ["lastSignInDateTime", "lastNonInteractiveSignInDateTime"]; v := sa[f]; is_string(v); t := time.parse_rfc3339_ns(v)}
	count(times) > 0
}

# stale_entry(u) of each administrator, with the label and last sign-in computed once.
stale_entries contains {
	"en": sprintf("%v: last sign-in %v days ago", [r.label, d]),
	"ja": sprintf("%v: 最終サインインは %v 日前", [r.label, d]),
} if {
	now := now_ns
	day := day_ns
	limit := stale_days
	some r in admin_rows
	d := floor((now - last_sign_in_of(r.u)) / day)
	d >= limit
}

never_signed_in := [r | some r in admin_rows; not last_sign_in_of(r.u)]

stale_entries contains {
	"en": sprintf("%v: never signed in, created %v days ago", [r.label, d]),
	"ja": sprintf("%v: サインイン履歴なし（作成から %v 日）", [r.label, d]),
} if {
	some r in never_signed_in
	d := days_since(ts(r.u.createdDateTime))
	d >= stale_days
}

stale_entries contains {
	"en": sprintf("%v: never signed in, creation date unknown", [r.label]),
	"ja": sprintf("%v: サインイン履歴なし（作成日不明）", [r.label]),
} if {
	some r in never_signed_in
	not ts(r.u.createdDateTime)
}

stale_admins := {e.en | some e in stale_entries}

stale_admins_ja := {e.ja | some e in stale_entries}

stale_offenders := stale_admins | unknown_admins

results contains lib.verdict_with(
	"MAMORI.M365.IDENTITY.2", met(have_users, stale_offenders),
	sprintf("%v enabled accounts hold a privileged role (reference time %v). Without a sign-in for %v days or more: %v. Privileged in ScubaGear's data but missing from mamori_users: %v.", [count(admins), time.format(now_ns), stale_days, list_en(stale_admins), list_en(unknown_admins)]),
	sprintf("特権ロールを持つ有効なアカウントは %v 件です（基準時刻 %v）。%v 日以上サインインがない: %v。ScubaGear のデータでは特権を持つが mamori_users に存在しない: %v。", [count(admins), time.format(now_ns), stale_days, list_ja(stale_admins_ja), list_ja(unknown_admins)]),
	sort(stale_offenders),
) if {
	privileged_found
	now_ns
}

results contains lib.verdict(
	"MAMORI.M365.IDENTITY.2", false,
	"The snapshot records no collection time (mamori_collected_at or timestamp_zulu as an RFC 3339 timestamp), so account inactivity cannot be measured.",
	"スナップショットに収集時刻（RFC 3339 形式の mamori_collected_at または timestamp_zulu）がないため、アカウントの非アクティブ期間を判定できません。",
) if {
	privileged_found
	not now_ns
}

# ---------------------------------------------------------------------------
# MAMORI.M365.IDENTITY.3: guest or external accounts holding privileged roles.
# ---------------------------------------------------------------------------

external(u) if lower(str(get(u, "userType"))) == "guest"

# B2B collaboration users keep #EXT# in their UPN even when their userType is Member.
external(u) if contains(lower(str(get(u, "userPrincipalName"))), "#ext#")

external_admins := {r.label |
	some r in admin_rows
	t := r.u.userType
	is_string(t)
	lower(t) == "guest"
} | {r.label |
	some r in admin_rows
	n := r.u.userPrincipalName
	is_string(n)
	contains(lower(n), "#ext#")
}

external_offenders := external_admins | unknown_admins

results contains lib.verdict_with(
	"MAMORI.M365.IDENTITY.3", met(have_users, external_offenders),
	sprintf("%v enabled accounts hold a privileged role. Guest or external accounts among them: %v. Privileged in ScubaGear's data but missing from mamori_users: %v.", [count(admins), list_en(external_admins), list_en(unknown_admins)]),
	sprintf("特権ロールを持つ有効なアカウントは %v 件です。そのうちゲストまたは外部のアカウント: %v。ScubaGear のデータでは特権を持つが mamori_users に存在しない: %v。", [count(admins), list_ja(external_admins), list_ja(unknown_admins)]),
	sort(external_offenders),
) if privileged_found

# ---------------------------------------------------------------------------
# Third-party applications and high-risk permissions (controls 4 and 5).
# ---------------------------------------------------------------------------

# Permissions that give tenant-wide read or write access to mail, files, chats, the directory,
# roles, applications or authentication policy (Microsoft Graph, Exchange Online, SharePoint).
high_risk_permissions := {
	"mail.read", "mail.readwrite", "mail.send", "mailboxsettings.readwrite", "full_access_as_app",
	"ews.accessasuser.all", "eas.accessasuser.all",
	"files.read.all", "files.readwrite.all", "sites.read.all", "sites.readwrite.all",
	"sites.manage.all", "sites.fullcontrol.all",
	"chat.read.all", "chat.readwrite.all", "channelmessage.read.all",
	"directory.readwrite.all", "directory.accessasuser.all", "user.readwrite.all",
	"group.readwrite.all", "groupmember.readwrite.all", "domain.readwrite.all",
	"rolemanagement.readwrite.directory", "approleassignment.readwrite.all",
	"application.readwrite.all", "policy.readwrite.conditionalaccess",
	"userauthenticationmethod.readwrite.all",
}

high_risk(name) if lower(name) in high_risk_permissions

# Publishers' home tenants of Microsoft's own applications, which are not third-party.
microsoft_tenants := {"f8cdef31-a31e-4b4a-93e4-5f571e91255a", "72f988bf-86f1-41af-91ab-2d7cd011db47"}

# ---------------------------------------------------------------------------
# MAMORI.M365.IDENTITY.4: admin-consented application permissions (ScubaGear's
# risky_third_party_service_principals: service principals owned by another tenant).
# ---------------------------------------------------------------------------

# Tenants can list tens of thousands of service principals, nearly all without a high-risk
# permission, so the rules below touch each of them as little as possible. Rules read inside a
# loop are first bound to a local variable, which regorus looks up faster.
all_sps := arr(input.risky_third_party_service_principals)

# The names of all listed permissions, judged once each.
# (X[_] is undefined, not an error, when X is not a collection.)
listed_permission_names := {n | some sp in all_sps; n := sp.Permissions[_].RoleDisplayName} | {n | some sp in all_sps; n := sp.RiskyPermissions[_].RoleDisplayName}

high_risk_names := {n | some n in listed_permission_names; is_string(n); high_risk(n)}

# Positions of the service principals that list a high-risk name (ScubaGear 1.8 lists the
# permissions under Permissions; older versions under RiskyPermissions). The iteration is kept
# inside the reference (x[_].RoleDisplayName in risky), which regorus runs ~30% faster than a
# separate `some p in` over 186,000 permissions.
candidate_sps := {i |
	risky := high_risk_names
	some i, sp in all_sps
	sp.Permissions[_].RoleDisplayName in risky
} | {i |
	risky := high_risk_names
	some i, sp in all_sps
	sp.RiskyPermissions[_].RoleDisplayName in risky
}

# Service principals whose publisher is Microsoft (AppOwnerOrganizationId, in any case) are not
# third-party. They are rare in ScubaGear's list: they are looked for one by one only when a
# Microsoft tenant id appears in the list at all.
sp_owners := [o | some sp in all_sps; o := sp.AppOwnerOrganizationId]

owners_text := lower(json.marshal(sp_owners))

default microsoft_present := false

microsoft_present if {
	text := owners_text
	some t in microsoft_tenants
	contains(text, t)
}

# Candidates published by Microsoft; looked for only when a Microsoft tenant id appears in the
# list at all.
default microsoft_candidates := set()

microsoft_candidates := {i |
	sps := all_sps
	some i in candidate_sps
	o := sps[i].AppOwnerOrganizationId
	is_string(o)
	lower(o) in microsoft_tenants
} if microsoft_present

# The number of service principals published by Microsoft, counted on the owners lower-cased all
# at once (the JSON text of the list, lower-cased and read back, is the list of the lower-cased
# values) rather than with a call of lower() for each of tens of thousands of owners.
default microsoft_owned_count := 0

microsoft_owned_count := count([1 | some o in json.unmarshal(owners_text); microsoft_tenants[o]]) if microsoft_present

# Third-party service principals (objects not published by Microsoft) with high-risk permissions
# granted with admin consent. Only the candidates are read permission by permission.
app_offenders := {sprintf("%v (%v): %v", [name, app_id, concat(", ", sort(perms))]) |
	risky := high_risk_names
	sps := all_sps
	microsoft := microsoft_candidates
	some i in candidate_sps
	not microsoft[i]
	sp := sps[i]
	is_object(sp)
	perms := {n |
		some f in ["Permissions", "RiskyPermissions"]
		ps := sp[f]
		is_array(ps)
		some p in ps
		n := p.RoleDisplayName
		risky[n]
		object.get(p, "IsAdminConsented", true) != false
	}
	count(perms) > 0

	# The name and app id, or a placeholder when either is not a non-empty text (without a
	# function call, which costs more than the rest of the loop).
	name := array.concat([v | v := sp.DisplayName; is_string(v); v != ""], ["unnamed application"])[0]
	app_id := array.concat([v | v := sp.AppId; is_string(v); v != ""], ["no app ID"])[0]
}

# The number of third-party service principals: every element has AppOwnerOrganizationId (so is
# an object) in ScubaGear's list, else the objects are counted one by one.
third_party_count := count(all_sps) - microsoft_owned_count if count(sp_owners) == count(all_sps)

third_party_count := count([1 | some sp in all_sps; is_object(sp)]) - microsoft_owned_count if count(sp_owners) != count(all_sps)

format_failed if "Format-RiskyThirdPartyServicePrincipals" in arr(input.aad_unsuccessful_commands)

results contains lib.verdict_with(
	"MAMORI.M365.IDENTITY.4", met(have_app_data, app_offenders),
	sprintf("%v third-party applications hold admin-consented permissions ScubaGear classifies as risky. With high-risk application permissions: %v.", [third_party_count, list_en(app_offenders)]),
	sprintf("ScubaGear がリスクありと分類する管理者の同意済みアクセス許可を持つサードパーティ アプリケーションは %v 件です。高リスクのアプリケーション アクセス許可を持つもの: %v。", [third_party_count, list_ja(app_offenders)]),
	sort(app_offenders),
) if not format_failed

results contains lib.verdict(
	"MAMORI.M365.IDENTITY.4", false,
	"The provider command Format-RiskyThirdPartyServicePrincipals did not succeed, so the third-party applications could not be identified.",
	"プロバイダーのコマンド Format-RiskyThirdPartyServicePrincipals が成功しなかったため、サードパーティ アプリケーションを特定できませんでした。",
) if format_failed

# ---------------------------------------------------------------------------
# MAMORI.M365.IDENTITY.5: delegated permissions consented for all users (oauth2PermissionGrants
# with consentType AllPrincipals) to applications owned by another tenant.
# ---------------------------------------------------------------------------

default have_grant_data := false

have_grant_data if {
	is_array(input.mamori_oauth2_permission_grants)
	is_array(input.mamori_service_principals)
	is_array(input.tenant_details)
}

default have_app_data := false

have_app_data if is_array(input.risky_third_party_service_principals)

home_tenant := lower(arr(input.tenant_details)[0].TenantId) if is_string(arr(input.tenant_details)[0].TenantId)

# Applications published by Microsoft or by the tenant itself are not third-party.
own_tenants contains t if some t in microsoft_tenants

own_tenants contains home_tenant

service_principals := [sp | some sp in arr(input.mamori_service_principals); is_object(sp); is_string(sp.id)]

sp_of(id) := object.get(sps_by_ref, id, [])

# The service principals of each id a grant refers to. Grants and service principals can both
# number in the thousands: the service principals are looked up by id, not scanned per grant.
grants := [g | some g in arr(input.mamori_oauth2_permission_grants); is_object(g)]

grant_refs := {get(g, "clientId") | some g in grants} | {get(g, "resourceId") | some g in grants}

referenced_sps := [sp | some sp in service_principals; grant_refs[sp.id]]

referenced_sp_ids := {sp.id | some sp in referenced_sps}

# Ids are unique in Microsoft Graph; a list that repeats one is grouped the slow way.
sps_by_ref := {sp.id: [sp] | some sp in referenced_sps} if count(referenced_sp_ids) == count(referenced_sps)

sps_by_ref := {id: [sp | some sp in referenced_sps; sp.id == id] | some id in referenced_sp_ids} if count(referenced_sp_ids) != count(referenced_sps)

first_party(sps) if {
	some sp in sps
	lower(str(get(sp, "appOwnerOrganizationId"))) in own_tenants
}

# A grant's client application, by language (a grant may name a service principal since deleted).
sp_labels(id) := sort({sprintf("%v (%v)", [str(get(sp, "displayName")), str(get(sp, "appId"))]) | some sp in sp_of(id)})

grant_client_label(g, _) := sp_labels(get(g, "clientId"))[0] if count(sp_labels(get(g, "clientId"))) > 0

grant_client_label(g, lang) := sprintf({"en": "unknown application %v", "ja": "不明なアプリケーション %v"}[lang], [get(g, "clientId")]) if {
	count(sp_labels(get(g, "clientId"))) == 0
}

sp_names(id) := sort({sp.displayName | some sp in sp_of(id); is_string(sp.displayName)})

grant_resource_label(g) := sp_names(get(g, "resourceId"))[0] if count(sp_names(get(g, "resourceId"))) > 0

grant_resource_label(g) := sprintf("%v", [get(g, "resourceId")]) if count(sp_names(get(g, "resourceId"))) == 0

tenant_wide_grants := [g |
	some g in grants
	lower(str(get(g, "consentType"))) == "allprincipals"
	not first_party(sp_of(get(g, "clientId")))
]

grant_scopes(g) := {s | some s in split(str(get(g, "scope")), " "); s != ""}

risky_grant_scopes(g) := {s | some s in grant_scopes(g); high_risk(s)}

risky_grants := [g | some g in tenant_wide_grants; count(risky_grant_scopes(g)) > 0]

grant_entries := {sprintf("%v: %v on %v", [grant_client_label(g, "en"), concat(", ", sort(risky_grant_scopes(g))), grant_resource_label(g)]) | some g in risky_grants}

grant_entries_ja := {sprintf("%v: %v（リソース: %v）", [grant_client_label(g, "ja"), concat(", ", sort(risky_grant_scopes(g))), grant_resource_label(g)]) | some g in risky_grants}

results contains lib.verdict_with(
	"MAMORI.M365.IDENTITY.5", met(have_grant_data, grant_entries),
	sprintf("%v delegated permission grants to third-party applications were consented for all users. With high-risk permissions: %v.", [count(tenant_wide_grants), list_en(grant_entries)]),
	sprintf("全ユーザーを代理して同意されたサードパーティ アプリケーションへの委任されたアクセス許可の付与は %v 件です。高リスクのアクセス許可を含むもの: %v。", [count(tenant_wide_grants), list_ja(grant_entries_ja)]),
	sort(grant_entries),
)
