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

email(u) := lower(u.primaryEmail)

# (u.name is an object and u.name.fullName a string; see the type tests below.)
user_label(u) := sprintf("%v (%v)", [u.name.fullName, u.primaryEmail]) if {
	u.name >= {}
	u.name.fullName >= ""
	u.name.fullName < []
} else := u.primaryEmail

# ScubaGoggles' super_admins and privileged_users, when present, also mark administrators.
scuba_super_admins := {lower(a.primaryEmail) | some a in arr(input.super_admins); is_string(a.primaryEmail)}

scuba_privileged := {lower(a.primaryEmail) | some a in arr(input.privileged_users); is_string(a.primaryEmail)}

scuba_emails := scuba_super_admins | scuba_privileged

scuba_roles(e) := {"Super Admin" | e in scuba_super_admins} | {"admin role" | e in scuba_privileged; not e in scuba_super_admins}

# Users are the objects of mamori_users with a string primaryEmail. Their admin roles are those of
# their role assignments, "Super Admin" when isAdmin, "delegated admin" when isDelegatedAdmin
# without role assignments, and those ScubaGoggles' lists give their address (in lower case).
#
# Tenants have tens of thousands of users and a few hundred administrators, so each user is
# touched as little as possible: a few cheap tests find the users that may hold an admin role,
# and only those are examined further. The loops also avoid what is slow in regorus: rules read
# inside a loop are first bound to a local variable, and types are tested by comparison (Rego
# orders null < booleans < numbers < strings < arrays < objects, so x is a string when
# x >= "" and x < []) rather than by calling is_string and the like.
all_users := arr(input.mamori_users)

# Positions of the users flagged isAdmin or isDelegatedAdmin, and of those with role assignments
# (or a roleAssignments that is not an empty array).
# (The iteration is kept inside the reference, us[i].field, which regorus runs ~15% faster than
# a separate `some i, u in`.)
flagged_users := {i | us := all_users; us[i].isAdmin == true} | {i | us := all_users; us[i].isDelegatedAdmin == true}

assignment_users := {i | us := all_users; us[i].roleAssignments != []}

# Positions of the users whose address, in lower case, is in ScubaGoggles' lists. Fast path: the
# addresses of all users, in lower case, name each listed address exactly as many times as the
# users that may hold an admin role name it in that very case.
default scuba_listed_users := set()

all_emails_text := lower(json.marshal([e | us := all_users; e := us[_].primaryEmail]))

exact_scuba_listed := {i |
	us := all_users
	listed := scuba_emails
	some i in flagged_users | assignment_users
	listed[us[i].primaryEmail]
}

scuba_listed_users := exact_scuba_listed if {
	count(scuba_emails) > 0
	scuba_fast_path
}

scuba_listed_users := {i |
	listed := scuba_emails
	some i, u in all_users
	e := u.primaryEmail
	is_string(e)
	listed[lower(e)]
} if {
	count(scuba_emails) > 0
	not scuba_fast_path
}

# Without escapes in the text (so in no address), each address of the list that a user has
# appears there at least once per such user, as its JSON text in lower case.
scuba_fast_path if {
	text := all_emails_text
	us := all_users
	not contains(text, "\\")
	every e in scuba_emails {
		count(split(text, lower(json.marshal(e)))) - 1 == count({i | some i in exact_scuba_listed; us[i].primaryEmail == e})
	}
}

# Users with role assignments that are not otherwise known to hold a role, whose
# roleAssignments is an array holding an object (assignment_roles(u) is then not empty).
assigned_only_users := {i |
	us := all_users
	some i in (assignment_users - flagged_users) - scuba_listed_users
	ras := us[i].roleAssignments
	is_array(ras)
	some a in ras
	is_object(a)
}

# Positions of the users holding an admin role (suspended and archived ones included).
role_holders := {i |
	us := all_users
	some i in (flagged_users | scuba_listed_users) | assigned_only_users
	e := us[i].primaryEmail
	e >= ""
	e < []
}

# Suspended and archived accounts cannot sign in: they are left out of the user controls.
admins := {i |
	us := all_users
	some i in (flagged_users | scuba_listed_users) | assigned_only_users
	u := us[i]
	e := u.primaryEmail
	e >= ""
	e < []
	not u.suspended == true
	not u.archived == true
}

# The name of a role assignment (an object).
role_name(a) := "Super Admin" if a.isSuperAdminRole == true
else := n if {
	n := a.roleName
	n >= ""
	n < []
} else := sprintf("role %v", [get(a, "roleId")])

scuba_roles_by_user := {i: scuba_roles(lower(us[i].primaryEmail)) | us := all_users; some i in scuba_listed_users}

# The labels of the administrators named by controls 1 and 2 (those without a security key or
# passkey, and the stale ones), by position: "<user label> [<admin roles>]".
labelled_admins := (weak_positions | object.keys(stale_days_by_admin)) | (object.keys(stale_created) | stale_unknown)

# The role assignments of these administrators (a := u.roleAssignments[j] with j < "" iterates
# the elements of an array only), named once per distinct roleId, roleName and isSuperAdminRole.
role_key_names := {k: role_name({"roleId": k[0], "roleName": k[1], "isSuperAdminRole": k[2]}) |
	some k in {[a.roleId, a.roleName, a.isSuperAdminRole] |
		us := all_users
		some i in labelled_admins
		a := us[i].roleAssignments[j]
		j < ""
	}
}

admin_labels := {i: sprintf("%v [%v]", [user_label(u), concat(", ", sort(roles))]) |
	us := all_users
	key_names := role_key_names
	scuba := scuba_roles_by_user
	some i in labelled_admins
	u := us[i]
	assigned := {key_names[[a.roleId, a.roleName, a.isSuperAdminRole]] | a := u.roleAssignments[j]; j < ""} | {role_name(a) | a := u.roleAssignments[j]; j < ""; a >= {}; not [a.roleId, a.roleName, a.isSuperAdminRole]}
	roles := ((assigned | {"Super Admin" | u.isAdmin == true}) | {"delegated admin" | u.isDelegatedAdmin == true; assigned == set()}) | object.get(scuba, i, set())
}

# Administrators in ScubaGoggles' data that Mamori's user list does not describe.
scuba_found := {lower(e) | us := all_users; some i in scuba_listed_users; e := us[i].primaryEmail; is_string(e)}

unknown_admins := {sprintf("%v [%v]", [e, concat(", ", sort(scuba_roles(e)))]) |
	some e in scuba_emails
	not e in scuba_found
}

# Every account has at least one super administrator: finding no administrator at all means the
# role data is incomplete, and the user controls then fail rather than pass.
default admins_found := false

admins_found if count(scuba_emails) > 0

admins_found if {
	count(scuba_emails) == 0
	count(admins) > 0
}

admins_found if {
	count(scuba_emails) == 0
	count(admins) == 0
	count(role_holders) > 0
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

# Administrators with a security key or passkey, by position: the parameter, a number or (as the
# Reports API returns int64 values) a string, is above zero. The values, mostly "0", "1" and
# "2", are judged once each.
security_key_values := {v | us := all_users; some i in admins; v := us[i].accounts.num_security_keys}

positive_security_key_values := {v | some v in security_key_values; v > true; v < []; to_number(v) > 0}

with_security_key := {i |
	us := all_users
	positive := positive_security_key_values
	some i in admins
	positive[us[i].accounts.num_security_keys]
}

passkey_values := {v | us := all_users; some i in admins - with_security_key; v := us[i].accounts.num_passkeys_enrolled}

positive_passkey_values := {v | some v in passkey_values; v > true; v < []; to_number(v) > 0}

with_passkey := {i |
	us := all_users
	positive := positive_passkey_values
	some i in admins - with_security_key
	positive[us[i].accounts.num_passkeys_enrolled]
}

phishing_resistant_admins := with_security_key | with_passkey

weak_positions := admins - phishing_resistant_admins

weak_admins := {labels[i] | labels := admin_labels; some i in weak_positions}

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
# The last sign-in of each administrator that signed in, by position.
last_logins := {i: t |
	us := all_users
	some i in admins
	v := us[i].lastLoginTime
	v >= ""
	v < []
	t := time.parse_rfc3339_ns(v)
	t > 0
}

days_since(t) := floor((now_ns - t) / day_ns)

# Days since the last sign-in, for the administrators stale for it. A span under stale_days - 1
# days cannot round up to stale_days, so only longer ones are divided.
stale_days_by_admin := {i: d |
	now := now_ns
	day := day_ns
	limit := stale_days
	shortest := (limit - 1) * day
	some i, t in last_logins
	now - t >= shortest
	d := floor((now - t) / day)
	d >= limit
}

# Never signed in: stale once the account itself is 90 days old (or its age is unknown).
never_signed_in := {i | logins := last_logins; some i in admins; not logins[i]}

stale_created := {i: d |
	us := all_users
	some i in never_signed_in
	d := days_since(ts(us[i].creationTime))
	d >= stale_days
}

stale_unknown := {i | us := all_users; some i in never_signed_in; not ts(us[i].creationTime)}

stale_entries contains {
	"en": sprintf("%v: last sign-in %v days ago", [labels[i], d]),
	"ja": sprintf("%v: 最終ログインは %v 日前", [labels[i], d]),
} if {
	labels := admin_labels
	some i, d in stale_days_by_admin
}

stale_entries contains {
	"en": sprintf("%v: never signed in, created %v days ago", [labels[i], d]),
	"ja": sprintf("%v: ログイン履歴なし（作成から %v 日）", [labels[i], d]),
} if {
	labels := admin_labels
	some i, d in stale_created
}

stale_entries contains {
	"en": sprintf("%v: never signed in, creation date unknown", [labels[i]]),
	"ja": sprintf("%v: ログイン履歴なし（作成日不明）", [labels[i]]),
} if {
	labels := admin_labels
	some i in stale_unknown
}

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

admin_email_list := [us[i].primaryEmail | us := all_users; some i in admins]

# The addresses in lower case (as email(u)); most are already.
mamori_admin_emails := {e | some e in admin_email_list} if {
	text := json.marshal(admin_email_list)
	lower(text) == text
}

mamori_admin_emails := {lower(e) | some e in admin_email_list} if {
	text := json.marshal(admin_email_list)
	lower(text) != text
}

admin_emails := scuba_emails | mamori_admin_emails

# Fast path for tenants with thousands of administrators: with the addresses one per line, when
# no address holds a line break and no own domain an "@" or a line break, the lines ending with
# "@<own domain>" are those whose domain_of is an own domain, each found once.
default all_admins_inside := false

all_admins_inside if {
	every d in own_domains {
		not contains(d, "@")
		not contains(d, "\n")
	}
	text := concat("", [concat("\n", admin_emails), "\n"])
	count(split(text, "\n")) == count(admin_emails) + 1
	sum([(count(split(text, concat("", ["@", d, "\n"]))) - 1) | some d in own_domains]) == count(admin_emails)
}

outside_admins := set() if all_admins_inside

outside_admins := {e | some e in admin_emails; not domain_of(e) in own_domains} if not all_admins_inside

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

# Tenants can hold tens of thousands of tokens, most with the same few scope lists: each distinct
# list is judged once, and each app's names, scopes and users are gathered in one pass.
token_scope_lists := {get(t, "scopes") | some t in tokens}

risky_scope_lists := {x: scopes | some x in token_scope_lists; scopes := risky_scopes(x); count(scopes) > 0}

risky_tokens := [t | risky := risky_scope_lists; some t in tokens; risky[get(t, "scopes")]]

risky_clients := {t.clientId | some t in risky_tokens}

app_name_pairs := {[t.clientId, t.displayText] | clients := risky_clients; some t in tokens; clients[t.clientId]; is_string(t.displayText)}

app_names(id) := sort({n | some [c, n] in app_name_pairs; c == id})

app_name(id, _) := app_names(id)[0] if count(app_names(id)) > 0

app_name(id, lang) := {"en": "unnamed app", "ja": "名前のないアプリ"}[lang] if count(app_names(id)) == 0

app_scope_pairs := {[t.clientId, s] | risky := risky_scope_lists; some t in risky_tokens; some s in risky[get(t, "scopes")]}

app_scopes(id) := {s | some [c, s] in app_scope_pairs; c == id}

app_user_pairs := {[t.clientId, sprintf("%v", [get(t, "userKey")])] | some t in risky_tokens}

app_users(id) := {u | some [c, u] in app_user_pairs; c == id}

app_entry(id) := {
	"en": sprintf("%v (%v): %v, granted by %v users", [app_name(id, "en"), id, concat(", ", sort(app_scopes(id))), count(app_users(id))]),
	"ja": sprintf("%v (%v): %v（許可したユーザー %v 人）", [app_name(id, "ja"), id, concat(", ", sort(app_scopes(id))), count(app_users(id))]),
}

app_entries := {id: app_entry(id) | some id in risky_clients}

token_offenders := {e.en | some e in app_entries}

token_offenders_ja := {e.ja | some e in app_entries}

results contains lib.verdict_with(
	"MAMORI.GWS.IDENTITY.5", met(have_tokens, token_offenders),
	sprintf("Users have granted %v tokens to %v third-party apps. Apps holding high-risk scopes: %v.", [count(tokens), count({t.clientId | some t in tokens}), list_en(token_offenders)]),
	sprintf("ユーザーがサードパーティ アプリ %v 件に %v 件のトークンを許可しています。高リスクのスコープを持つアプリ: %v。", [count({t.clientId | some t in tokens}), count(tokens), list_ja(token_offenders_ja)]),
	sort(token_offenders),
)
