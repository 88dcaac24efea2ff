# Identity hygiene (Mamori): administrators' sign-in methods, staleness and domains, and high-risk
# scopes held by domain-wide delegation clients and third-party apps. Reads the Mamori extension
# sections mamori_users, mamori_oauth_tokens, mamori_domain_wide_delegation and mamori_collected_at
# (documented in docs/schemas/mamori-extensions-gws.schema.json) and ScubaGoggles' super_admins,
# privileged_users and domains.
package mamori.gws.identity

import data.mamori.gws.lib
import rego.v1

arr(x) := x if is_array(x)

arr(x) := [] if not is_array(x)

obj(x) := x if is_object(x)

obj(x) := {} if not is_object(x)

str(x) := x if is_string(x)

str(x) := "" if not is_string(x)

# A field that may be absent (a missing field would make a function call undefined).
get(o, k) := object.get(o, k, null)

# A non-empty text, or a placeholder.
text_or(x, _) := x if {
	is_string(x)
	x != ""
}

text_or(x, d) := d if not is_string(x)

text_or(x, d) := d if x == ""

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
# Users and their admin roles.
# ---------------------------------------------------------------------------

default have_users := false

have_users if is_array(input.mamori_users)

users := [u | some u in arr(input.mamori_users); is_object(u); is_string(u.primaryEmail)]

email(u) := lower(u.primaryEmail)

user_emails := {email(u) | some u in users}

user_label(u) := sprintf("%v (%v)", [u.name.fullName, u.primaryEmail]) if {
	is_object(u.name)
	is_string(u.name.fullName)
} else := u.primaryEmail

# Suspended and archived accounts cannot sign in: they are left out of the user controls.
enabled(u) if {
	get(u, "suspended") != true
	get(u, "archived") != true
}

assignment_roles(u) := {name |
	some a in arr(get(u, "roleAssignments"))
	is_object(a)
	name := role_name(a)
}

role_name(a) := "Super Admin" if get(a, "isSuperAdminRole") == true

role_name(a) := a.roleName if {
	get(a, "isSuperAdminRole") != true
	is_string(a.roleName)
}

role_name(a) := sprintf("role %v", [get(a, "roleId")]) if {
	get(a, "isSuperAdminRole") != true
	not is_string(a.roleName)
}

super_admin_flag(u) := {"Super Admin" | get(u, "isAdmin") == true}

# isDelegatedAdmin without the role assignments that explain it.
delegated_flag(u) := {"delegated admin" | get(u, "isDelegatedAdmin") == true; count(assignment_roles(u)) == 0}

# ScubaGoggles' super_admins and privileged_users, when present, also mark administrators.
scuba_super_admins := {lower(a.primaryEmail) | some a in arr(input.super_admins); is_string(a.primaryEmail)}

scuba_privileged := {lower(a.primaryEmail) | some a in arr(input.privileged_users); is_string(a.primaryEmail)}

scuba_roles(e) := {"Super Admin" | e in scuba_super_admins} | {"admin role" | e in scuba_privileged; not e in scuba_super_admins}

admin_roles(u) := ((assignment_roles(u) | super_admin_flag(u)) | delegated_flag(u)) | scuba_roles(email(u))

admins := [u | some u in users; enabled(u); count(admin_roles(u)) > 0]

admin_label(u) := sprintf("%v [%v]", [user_label(u), concat(", ", sort(admin_roles(u)))])

# Administrators in ScubaGoggles' data that Mamori's user list does not describe.
unknown_admins := {sprintf("%v [%v]", [e, concat(", ", sort(scuba_roles(e)))]) |
	some e in scuba_super_admins | scuba_privileged
	not e in user_emails
}

# Every account has at least one super administrator: finding no administrator at all means the
# role data is incomplete, and the user controls then fail rather than pass.
default admins_found := false

admins_found if count(scuba_super_admins | scuba_privileged) > 0

admins_found if {
	some u in users
	count(admin_roles(u)) > 0
}

results contains lib.verdict(
	id, false,
	"No administrator was found in mamori_users (nor in ScubaGoggles' super_admins and privileged_users): the admin role data was probably not collected, so this control cannot be judged.",
	"mamori_users（および ScubaGoggles の super_admins と privileged_users）に管理者が見つかりません。管理者ロールのデータが収集されていない可能性が高いため、このコントロールは判定できません。",
) if {
	not admins_found
	some id in ["MAMORI.GWS.IDENTITY.1", "MAMORI.GWS.IDENTITY.2"]
}

# ---------------------------------------------------------------------------
# MAMORI.GWS.IDENTITY.1: security keys or passkeys for administrators, from the Reports API
# user usage parameters accounts:num_security_keys and accounts:num_passkeys_enrolled.
# ---------------------------------------------------------------------------

# The Reports API returns int64 values as strings.
count_of(x) := x if is_number(x)

count_of(x) := to_number(x) if is_string(x)

usage(u) := obj(get(u, "accounts"))

phishing_resistant(u) if count_of(get(usage(u), "num_security_keys")) > 0

phishing_resistant(u) if count_of(get(usage(u), "num_passkeys_enrolled")) > 0

weak_admins := {admin_label(u) | some u in admins; not phishing_resistant(u)}

mfa_offenders := weak_admins | unknown_admins

results contains lib.verdict_with(
	"MAMORI.GWS.IDENTITY.1", met(have_users, mfa_offenders),
	sprintf("%v active accounts hold an admin role. Without a security key or passkey enrolled (or without usage data): %v. Administrators in ScubaGoggles' data but missing from mamori_users: %v.", [count(admins), list_en(weak_admins), list_en(unknown_admins)]),
	sprintf("管理者ロールを持つ有効なアカウントは %v 件です。セキュリティ キーまたはパスキーが未登録（または利用状況データなし）: %v。ScubaGoggles のデータでは管理者だが mamori_users に存在しない: %v。", [count(admins), list_ja(weak_admins), list_ja(unknown_admins)]),
	sort(mfa_offenders),
) if admins_found

# ---------------------------------------------------------------------------
# MAMORI.GWS.IDENTITY.2: administrators without a sign-in for 90 days or more. "Now" is the
# snapshot's mamori_collected_at, never the wall clock, so a snapshot always gives the same verdict.
# ---------------------------------------------------------------------------

stale_days := 90

day_ns := 86400000000000

ts(v) := time.parse_rfc3339_ns(v) if is_string(v)

now_ns := ts(input.mamori_collected_at)

# The Directory API reports 1970-01-01T00:00:00.000Z for accounts that never signed in.
last_login(u) := t if {
	t := ts(get(u, "lastLoginTime"))
	t > 0
}

days_since(t) := floor((now_ns - t) / day_ns)

stale_entry(u) := {
	"en": sprintf("%v: last sign-in %v days ago", [admin_label(u), days_since(last_login(u))]),
	"ja": sprintf("%v: 最終ログインは %v 日前", [admin_label(u), days_since(last_login(u))]),
} if {
	days_since(last_login(u)) >= stale_days
}

# Never signed in: stale once the account itself is 90 days old (or its age is unknown).
stale_entry(u) := {
	"en": sprintf("%v: never signed in, created %v days ago", [admin_label(u), days_since(ts(u.creationTime))]),
	"ja": sprintf("%v: ログイン履歴なし（作成から %v 日）", [admin_label(u), days_since(ts(u.creationTime))]),
} if {
	not last_login(u)
	days_since(ts(u.creationTime)) >= stale_days
}

stale_entry(u) := {
	"en": sprintf("%v: never signed in, creation date unknown", [admin_label(u)]),
	"ja": sprintf("%v: ログイン履歴なし（作成日不明）", [admin_label(u)]),
} if {
	not last_login(u)
	not ts(u.creationTime)
}

stale_entries := {e | some u in admins; e := stale_entry(u)}

stale_admins := {e.en | some e in stale_entries}

stale_admins_ja := {e.ja | some e in stale_entries}

stale_offenders := stale_admins | unknown_admins

results contains lib.verdict_with(
	"MAMORI.GWS.IDENTITY.2", met(have_users, stale_offenders),
	sprintf("%v active accounts hold an admin role (reference time %v). Without a sign-in for %v days or more: %v. Administrators in ScubaGoggles' data but missing from mamori_users: %v.", [count(admins), time.format(now_ns), stale_days, list_en(stale_admins), list_en(unknown_admins)]),
	sprintf("管理者ロールを持つ有効なアカウントは %v 件です（基準時刻 %v）。%v 日以上ログインがない: %v。ScubaGoggles のデータでは管理者だが mamori_users に存在しない: %v。", [count(admins), time.format(now_ns), stale_days, list_ja(stale_admins_ja), list_ja(unknown_admins)]),
	sort(stale_offenders),
) if {
	admins_found
	now_ns
}

results contains lib.verdict(
	"MAMORI.GWS.IDENTITY.2", false,
	"The snapshot records no valid collection time (mamori_collected_at as an RFC 3339 timestamp), so account inactivity cannot be measured.",
	"スナップショットに有効な収集時刻（RFC 3339 形式の mamori_collected_at）がないため、アカウントの非アクティブ期間を判定できません。",
) if {
	admins_found
	not now_ns
}

# ---------------------------------------------------------------------------
# MAMORI.GWS.IDENTITY.3: admin roles held by accounts outside the organization's domains
# (roles reach such accounts through groups they belong to, for example).
# ---------------------------------------------------------------------------

own_domains := {lower(d) | some d in array.concat(arr(input.domains), arr(input.alias_domains)); is_string(d)}

domain_of(e) := parts[count(parts) - 1] if {
	parts := split(e, "@")
	count(parts) > 1
}

domain_of(e) := "" if count(split(e, "@")) < 2

mamori_admin_emails := {email(u) | some u in admins}

admin_emails := (scuba_super_admins | scuba_privileged) | mamori_admin_emails

outside_admins := {e | some e in admin_emails; not domain_of(e) in own_domains}

default have_domain_data := false

have_domain_data if {
	is_array(input.super_admins)
	is_array(input.privileged_users)
	is_array(input.domains)
	count(own_domains) > 0
	count(admin_emails) > 0
	get(input, "privileged_users_error") == null
}

results contains lib.verdict_with(
	"MAMORI.GWS.IDENTITY.3", met(have_domain_data, outside_admins),
	sprintf("%v accounts hold an admin role; the organization's domains are %v. Administrators outside those domains: %v.", [count(admin_emails), list_en(own_domains), list_en(outside_admins)]),
	sprintf("管理者ロールを持つアカウントは %v 件、自組織のドメインは %v です。これらのドメイン以外の管理者: %v。", [count(admin_emails), list_ja(own_domains), list_ja(outside_admins)]),
	sort(outside_admins),
) if have_domain_data

results contains lib.verdict(
	"MAMORI.GWS.IDENTITY.3", false,
	sprintf("The administrators or the domains could not be read completely (privileged_users_error: %v; %v domains, %v administrators found), so this control cannot be judged.", [get(input, "privileged_users_error"), count(own_domains), count(admin_emails)]),
	sprintf("管理者またはドメインを完全には取得できなかったため（privileged_users_error: %v、ドメイン %v 件、管理者 %v 件）、このコントロールは判定できません。", [get(input, "privileged_users_error"), count(own_domains), count(admin_emails)]),
) if not have_domain_data

# ---------------------------------------------------------------------------
# High-risk OAuth scopes (controls 4 and 5).
# ---------------------------------------------------------------------------

auth := "https://www.googleapis.com/auth/"

# Full or read access to all mail or all files, Google Cloud, Vault, or settings that forward mail.
high_risk_scopes := {"https://mail.google.com/"} | {concat("", [auth, s]) | some s in [
	"gmail.modify", "gmail.readonly", "gmail.compose", "gmail.send", "gmail.insert", "gmail.metadata",
	"gmail.settings.basic", "gmail.settings.sharing",
	"drive", "drive.readonly", "drive.metadata", "drive.scripts",
	"cloud-platform", "ediscovery",
]}

# Write access to the directory, data transfers or Cloud Identity (read-only variants excepted).
high_risk_prefixes := {concat("", [auth, s]) | some s in ["admin.directory.", "admin.datatransfer", "cloud-identity"]}

high_risk(scope) if lower(scope) in high_risk_scopes

high_risk(scope) if {
	some p in high_risk_prefixes
	startswith(lower(scope), p)
	not endswith(lower(scope), ".readonly")
}

# Scopes as an array, or as the comma- or space-separated text the Admin console shows.
scope_list(x) := [s | some s in x; is_string(s)] if is_array(x)

scope_list(x) := [s | some s in split(replace(x, ",", " "), " "); s != ""] if is_string(x)

scope_list(x) := [] if {
	not is_array(x)
	not is_string(x)
}

risky_scopes(x) := {s | some s in scope_list(x); high_risk(s)}

# ---------------------------------------------------------------------------
# MAMORI.GWS.IDENTITY.4: domain-wide delegation clients (each can act as any user).
# ---------------------------------------------------------------------------

default have_dwd := false

have_dwd if is_array(input.mamori_domain_wide_delegation)

dwd_clients := [c | some c in arr(input.mamori_domain_wide_delegation); is_object(c)]

client_label(c) := sprintf("%v (%v)", [text_or(get(c, "displayText"), "unnamed client"), text_or(get(c, "clientId"), "no client ID")])

dwd_offenders := {sprintf("%v: %v", [client_label(c), concat(", ", sort(risky_scopes(get(c, "scopes"))))]) |
	some c in dwd_clients
	count(risky_scopes(get(c, "scopes"))) > 0
}

results contains lib.verdict_with(
	"MAMORI.GWS.IDENTITY.4", met(have_dwd, dwd_offenders),
	sprintf("%v API clients have domain-wide delegation. With high-risk scopes: %v.", [count(dwd_clients), list_en(dwd_offenders)]),
	sprintf("ドメイン全体の委任を持つ API クライアントは %v 件です。高リスクのスコープを持つもの: %v。", [count(dwd_clients), list_ja(dwd_offenders)]),
	sort(dwd_offenders),
)

# ---------------------------------------------------------------------------
# MAMORI.GWS.IDENTITY.5: third-party apps users granted high-risk scopes (Directory API tokens).
# ---------------------------------------------------------------------------

default have_tokens := false

have_tokens if is_array(input.mamori_oauth_tokens)

tokens := [t | some t in arr(input.mamori_oauth_tokens); is_object(t); is_string(t.clientId)]

risky_tokens := [t | some t in tokens; count(risky_scopes(get(t, "scopes"))) > 0]

risky_clients := {t.clientId | some t in risky_tokens}

app_names(id) := sort({t.displayText | some t in tokens; t.clientId == id; is_string(t.displayText)})

app_name(id, _) := app_names(id)[0] if count(app_names(id)) > 0

app_name(id, lang) := {"en": "unnamed app", "ja": "名前のないアプリ"}[lang] if count(app_names(id)) == 0

app_scopes(id) := {s | some t in risky_tokens; t.clientId == id; some s in risky_scopes(get(t, "scopes"))}

app_users(id) := {sprintf("%v", [get(t, "userKey")]) | some t in risky_tokens; t.clientId == id}

app_entry(id) := {
	"en": sprintf("%v (%v): %v, granted by %v users", [app_name(id, "en"), id, concat(", ", sort(app_scopes(id))), count(app_users(id))]),
	"ja": sprintf("%v (%v): %v（許可したユーザー %v 人）", [app_name(id, "ja"), id, concat(", ", sort(app_scopes(id))), count(app_users(id))]),
}

token_offenders := {app_entry(id).en | some id in risky_clients}

token_offenders_ja := {app_entry(id).ja | some id in risky_clients}

results contains lib.verdict_with(
	"MAMORI.GWS.IDENTITY.5", met(have_tokens, token_offenders),
	sprintf("Users have granted %v tokens to %v third-party apps. Apps holding high-risk scopes: %v.", [count(tokens), count({t.clientId | some t in tokens}), list_en(token_offenders)]),
	sprintf("ユーザーがサードパーティ アプリ %v 件に %v 件のトークンを許可しています。高リスクのスコープを持つアプリ: %v。", [count({t.clientId | some t in tokens}), count(tokens), list_ja(token_offenders_ja)]),
	sort(token_offenders),
)
