# Common controls: 2-step verification, context-aware access, post-SSO verification, session
# length, passwords, privileged accounts, conflicting accounts, account recovery, API access,
# Marketplace apps, Takeout, system-defined alerts, data regions, additional services and
# multi-party approval. Settings come from `policies` (per OU and group override, inheriting
# from the top-level OU); older evidence from commoncontrols_logs; admins from super_admins,
# privileged_users and inbound_sso_assignments. Helpers are in helpers.rego.
package mamori.gws.commoncontrols

import data.mamori.gws.lib
import rego.v1

# ---------------------------------------------------------------------------
# GWS.COMMONCONTROLS.1.x: 2-step verification

enroll_sec := "security_two_step_verification_enrollment"

factor_sec := "security_two_step_verification_enforcement_factor"

enforce_sec := "security_two_step_verification_enforcement"

# The 2SV settings each OU sets itself, read once for all OUs.
enroll_values := explicit_values(enroll_sec, "allowEnrollment")

factor_values := explicit_values(factor_sec, "allowedSignInFactorSet")

enforce_values := explicit_values(enforce_sec, "enforcedFrom")

# OUs whose users may enroll in 2SV (own value, else the top-level OU's).
enroll_allowed_ous := {ou |
	some ou, _ in policies
	resolved_in(enroll_values, ou) == true
}

enforced_date(v) if {
	is_string(v)
	ns := time.parse_rfc3339_ns(v)
	ns != 0
	ns <= time.now_ns()
}

methods_en := {
	"ALL": "any method",
	"NO_TELEPHONY": "any except verification codes by text or phone call",
	"PASSKEY_ONLY": "only security key",
	"PASSKEY_PLUS_IP_BOUND_SECURITY_CODE": "security key, and security codes without remote access",
	"PASSKEY_PLUS_SECURITY_CODE": "security key, and security codes with remote access",
}

methods_ja := {
	"ALL": "すべて",
	"NO_TELEPHONY": "テキスト メッセージまたは電話による確認コード以外",
	"PASSKEY_ONLY": "セキュリティ キーのみ",
	"PASSKEY_PLUS_IP_BOUND_SECURITY_CODE": "セキュリティ キーのみ（リモート アクセスなしのセキュリティ コードを許可）",
	"PASSKEY_PLUS_SECURITY_CODE": "セキュリティ キーのみ（リモート アクセスありのセキュリティ コードを許可）",
}

method_en(v) := sprintf("%v", [object.get(methods_en, v, v)])

method_ja(v) := sprintf("%v", [object.get(methods_ja, v, v)])

no_enroll contains {"ou": ou, "en": "users cannot turn on 2-step verification", "ja": "ユーザーが 2 段階認証プロセスを有効にできません"} if {
	some ou, v in enroll_values
	v == false
}

# OUs that may enroll and whose own enforcement date is missing, unreadable, the epoch or in
# the future.
not_enforced_bad contains {"ou": ou, "en": sprintf("2-step verification is not enforced (enforced from %v)", [v]), "ja": sprintf("2 段階認証プロセスが適用されていません（適用開始日: %v）", [v])} if {
	some ou, v in enforce_values
	ou in enroll_allowed_ous
	not enforced_date(v)
}

bad_1_1 contains b if some b in no_enroll

bad_1_1 contains {"ou": ou, "en": sprintf("allowed methods are \"%s\", not only security key", [method_en(m)]), "ja": sprintf("許可されている方法が「%s」で、セキュリティ キーのみではありません", [method_ja(m)])} if {
	some ou, m in factor_values
	ou in enroll_allowed_ous
	m != "PASSKEY_ONLY"
}

bad_1_1 contains b if {
	some b in not_enforced_bad
	resolved_in(factor_values, b.ou) == "PASSKEY_ONLY"
}

results contains ou_verdict("GWS.COMMONCONTROLS.1.1v1", bad_1_1, factor_sec, "allowedSignInFactorSet", "phishing-resistant 2SV (enforced, security key only)", "フィッシング耐性のある 2 段階認証プロセス（適用済み・セキュリティ キーのみ）")

bad_1_2 contains b if some b in no_enroll

bad_1_2 contains b if some b in not_enforced_bad

results contains ou_verdict("GWS.COMMONCONTROLS.1.2v1", bad_1_2, enforce_sec, "enforcedFrom", "2SV enforcement", "2 段階認証プロセスの適用")

bad_1_3 contains b if some b in no_enroll

bad_1_3 contains {"ou": ou, "en": "verification codes by text message and phone call are allowed", "ja": "テキスト メッセージと電話による確認コードが許可されています"} if {
	some ou, m in factor_values
	ou in enroll_allowed_ous
	m == "ALL"
}

bad_1_3 contains b if {
	some b in not_enforced_bad
	resolved_in(factor_values, b.ou) != "ALL"
}

results contains ou_verdict("GWS.COMMONCONTROLS.1.3v1", bad_1_3, factor_sec, "allowedSignInFactorSet", "2SV methods without SMS or voice", "SMS・音声以外の 2 段階認証プロセスの方法")

# The enrollment period and device trust only matter where 2SV can be turned on and is enforced:
# an OU where users cannot turn on 2SV, or where it is not enforced, fails 1.4 and 1.5 as it fails
# 1.1-1.3 (as the reference does), whatever its enrollment period or device trust setting.
bad_1_4 contains b if some b in no_enroll

bad_1_4 contains b if some b in not_enforced_bad

grace_periods := {ou: s |
	some ou, d in explicit_values("security_two_step_verification_grace_period", "enrollmentGracePeriod")
	s := duration_seconds(d)
}

bad_1_4 contains {"ou": ou, "en": en, "ja": ja} if {
	some ou, s in grace_periods
	s == 0
	en := "the new user enrollment period is None"
	ja := "新しいユーザーの登録期間が「なし」です"
}

bad_1_4 contains {"ou": ou, "en": en, "ja": ja} if {
	some ou, s in grace_periods
	s > 604800
	en := sprintf("the new user enrollment period is %s (more than 1 week)", [friendly_duration_en(s)])
	ja := sprintf("新しいユーザーの登録期間が %sです（1 週間を超えています）", [friendly_duration_ja(s)])
}

results contains ou_verdict("GWS.COMMONCONTROLS.1.4v1", bad_1_4, "security_two_step_verification_grace_period", "enrollmentGracePeriod", "2SV new user enrollment period (1 day to 1 week)", "2 段階認証プロセスの新しいユーザーの登録期間（1 日以上 1 週間以内）")

bad_1_5 contains b if some b in no_enroll

bad_1_5 contains b if some b in not_enforced_bad

bad_1_5 contains {"ou": ou, "en": "users may trust the device", "ja": "ユーザーがデバイスを信頼できます"} if {
	some ou, v in explicit_values("security_two_step_verification_device_trust", "allowTrustingDevice")
	v == true
}

results contains ou_verdict("GWS.COMMONCONTROLS.1.5v1", bad_1_5, "security_two_step_verification_device_trust", "allowTrustingDevice", "device trust disabled (\"Allow user to trust device\" off)", "デバイスの信頼の禁止")

# ---------------------------------------------------------------------------
# GWS.COMMONCONTROLS.2.1: context-aware access (admin log TOGGLE_CAA_ENABLEMENT; not per OU)

caa_events := {{"t": e.t, "v": v} |
	some e in log_events
	e.event.name == "TOGGLE_CAA_ENABLEMENT"
	v := caa_value(e.event)
}

caa_value(event) := param(event, "NEW_VALUE") if has_param(event, "NEW_VALUE")

caa_value(event) := param(event, "TOGGLE_CAA_ENABLEMENT") if not has_param(event, "NEW_VALUE")

results contains lib.verdict(
	"GWS.COMMONCONTROLS.2.1v1", false,
	"No context-aware access change (TOGGLE_CAA_ENABLEMENT) is in the admin logs collected; its state cannot be told from the logs and the default (off) does not comply. Check Security > Access and data control > Context-Aware Access.",
	"収集した管理ログにコンテキストアウェア アクセスの変更（TOGGLE_CAA_ENABLEMENT）がありません。ログから状態を判断できず、既定値（オフ）は要件を満たしません。［セキュリティ］>［アクセスとデータ管理］>［コンテキストアウェア アクセス］を確認してください。",
) if count(caa_events) == 0

results contains lib.verdict(
	"GWS.COMMONCONTROLS.2.1v1", last == {"ENABLED"},
	sprintf("The latest context-aware access change in the admin logs set it to %s.", [concat("/", last)]),
	sprintf("管理ログ上の最新のコンテキストアウェア アクセスの変更で、状態は %s に設定されています。", [concat("/", last)]),
) if {
	count(caa_events) > 0
	last := last_values(caa_events)
}

# ---------------------------------------------------------------------------
# GWS.COMMONCONTROLS.3.x: post-SSO verification (admin logs, per OU)

sso_setting_3_1 := "SsoPolicyProto challenge_selection_behavior"

sso_setting_3_2 := "SsoPolicyProto sso_profile_challenge_selection_behavior"

sso_ok_3_1 := {"PERFORM_CHALLENGE_SELECTION", "DELETE_APPLICATION_SETTING"}

sso_ok_3_2 := {"SSO_PROFILES_PERFORM_CHALLENGE_SELECTION", "DELETE_APPLICATION_SETTING"}

# {"ou", "en", "ja"} for each OU whose latest change leaves post-SSO verification off.
sso_bad(setting, ok) := {{"ou": ou, "en": sprintf("post-SSO verification is set to %s", [concat("/", last)]), "ja": sprintf("SSO 後の確認が %s に設定されています", [concat("/", last)])} |
	events := setting_events(setting)
	some ou in {e.ou | some e in events}
	last := last_values({e | some e in events; e.ou == ou})
	count(last - ok) > 0
}

sso_top_seen(setting) if {
	some e in setting_events(setting)
	e.ou == top_ou
}

sso_verdict(id, setting, ok, _, _) := lib.verdict(
	id, false,
	sprintf("No change of \"%s\" for the top-level OU %s is in the admin logs collected; the state cannot be told from the logs and the default does not comply. Check Security > Authentication > Login challenges > Post-SSO verification.", [setting, top_label]),
	sprintf("収集した管理ログに最上位の組織部門「%s」の「%s」の変更がありません。ログから状態を判断できず、既定値は要件を満たしません。［セキュリティ］>［認証］>［ログイン時の本人確認］>［SSO 後の確認］を確認してください。", [top_label, setting]),
) if not sso_top_seen(setting)

sso_verdict(id, setting, ok, label_en, label_ja) := lib.verdict_with(
	id, count(bad) == 0,
	sso_text_en(bad, label_en), sso_text_ja(bad, label_ja), bad_names(bad),
) if {
	sso_top_seen(setting)
	bad := sso_bad(setting, ok)
}

sso_text_en(bad, label) := sprintf("Post-SSO verification for %s is on in every OU with a logged change.", [label]) if count(bad) == 0

sso_text_en(bad, label) := sprintf("Post-SSO verification for %s is off in %d OU(s): %s.", [label, count(bad_names(bad)), listing_en(bad)]) if count(bad) > 0

sso_text_ja(bad, label) := sprintf("%sの SSO 後の確認は、変更が記録されたすべての組織部門でオンです。", [label]) if count(bad) == 0

sso_text_ja(bad, label) := sprintf("%sの SSO 後の確認がオフの組織部門が %d 件あります: %s。", [label, count(bad_names(bad)), listing_ja(bad)]) if count(bad) > 0

results contains sso_verdict("GWS.COMMONCONTROLS.3.1v1", sso_setting_3_1, sso_ok_3_1, "users signing in with the organization's SSO profile", "組織の SSO プロファイルでログインするユーザー")

results contains sso_verdict("GWS.COMMONCONTROLS.3.2v1", sso_setting_3_2, sso_ok_3_2, "users signing in with other SSO profiles", "その他の SSO プロファイルでログインするユーザー")

# ---------------------------------------------------------------------------
# GWS.COMMONCONTROLS.4.1: web session duration at most 12 hours

bad_4_1 contains {"ou": ou, "en": sprintf("web session duration is %s", [friendly_duration_en(s)]), "ja": sprintf("ウェブ セッションの継続時間が %sです", [friendly_duration_ja(s)])} if {
	some ou, d in explicit_values("security_session_controls", "webSessionDuration")
	s := duration_seconds(d)
	s > 43200
}

results contains ou_verdict("GWS.COMMONCONTROLS.4.1v1", bad_4_1, "security_session_controls", "webSessionDuration", "web session duration (12 hours at most)", "ウェブ セッションの継続時間（12 時間以内）")

# ---------------------------------------------------------------------------
# GWS.COMMONCONTROLS.5.x: passwords

pw := "security_password"

bad_5_1 contains {"ou": ou, "en": sprintf("password strength is %s, not STRONG", [upper(v)]), "ja": sprintf("パスワードの強度が %s で、STRONG（安全なパスワードを適用）ではありません", [upper(v)])} if {
	some ou, v in explicit_values(pw, "allowedStrength")
	is_string(v)
	upper(v) != "STRONG"
}

results contains ou_verdict("GWS.COMMONCONTROLS.5.1v1", bad_5_1, pw, "allowedStrength", "enforced strong passwords", "安全なパスワードの適用")

min_length_bad(limit) := {{"ou": ou, "en": sprintf("minimum password length is %v (below %d)", [n, limit]), "ja": sprintf("パスワードの最小文字数が %v です（%d 未満）", [n, limit])} |
	some ou, n in explicit_values(pw, "minimumLength")
	is_number(n)
	n < limit
}

results contains ou_verdict("GWS.COMMONCONTROLS.5.2v1", min_length_bad(12), pw, "minimumLength", "minimum password length of 12", "パスワードの最小文字数 12")

results contains ou_verdict("GWS.COMMONCONTROLS.5.3v1", min_length_bad(16), pw, "minimumLength", "minimum password length of 16", "パスワードの最小文字数 16")

bad_5_4 contains {"ou": ou, "en": "the password policy is not enforced at next sign-in", "ja": "次回ログイン時にパスワード ポリシーが適用されません"} if {
	some ou, v in explicit_values(pw, "enforceRequirementsAtLogin")
	v != true
}

results contains ou_verdict("GWS.COMMONCONTROLS.5.4v1", bad_5_4, pw, "enforceRequirementsAtLogin", "password policy enforced at next sign-in", "次回ログイン時のパスワード ポリシーの適用")

bad_5_5 contains {"ou": ou, "en": "password reuse is allowed", "ja": "パスワードの再利用が許可されています"} if {
	some ou, v in explicit_values(pw, "allowReuse")
	v == true
}

results contains ou_verdict("GWS.COMMONCONTROLS.5.5v1", bad_5_5, pw, "allowReuse", "no password reuse", "パスワードの再利用の禁止")

bad_5_6 contains {"ou": ou, "en": sprintf("passwords expire after %s", [friendly_duration_en(s)]), "ja": sprintf("パスワードが %sで失効します", [friendly_duration_ja(s)])} if {
	some ou, d in explicit_values(pw, "expirationDuration")
	s := duration_seconds(d)
	s != 0
}

results contains ou_verdict("GWS.COMMONCONTROLS.5.6v1", bad_5_6, pw, "expirationDuration", "passwords that never expire", "パスワードを無期限にする設定")

# ---------------------------------------------------------------------------
# GWS.COMMONCONTROLS.6.1: privileged accounts do not sign in through a third-party IdP

privileged := [u | is_array(input.privileged_users); some u in input.privileged_users; is_object(u)]

sso_assignments := [a | is_array(input.inbound_sso_assignments); some a in input.inbound_sso_assignments; is_object(a)]

org_units := [u |
	is_object(input.organizational_units)
	is_array(input.organizational_units.organizationUnits)
	some u in input.organizational_units.organizationUnits
	is_object(u)
	is_string(u.orgUnitPath)
]

fetch_error(e) if {
	e != null
	e != ""
}

priv_error := input.privileged_users_error if fetch_error(input.privileged_users_error)

sso_error := input.inbound_sso_assignments_error if fetch_error(input.inbound_sso_assignments_error)

# "/Parent/Child" for the user's "Parent/Child" ("" or "/" is the root).
user_path(u) := concat("", ["/", trim_left(p, "/")]) if {
	p := u.orgUnitPath
	is_string(p)
} else := "/"

# The OU path and its ancestors, nearest first, ending with "/".
ancestors("/") := ["/"]

ancestors(path) := array.concat(
	[concat("", ["/", concat("/", array.slice(parts, 0, count(parts) - i))]) | some i in numbers.range(0, count(parts) - 1)],
	["/"],
) if {
	path != "/"
	parts := split(trim_prefix(path, "/"), "/")
}

# SSO modes assigned to the OU at `path` (orgUnitId "id:x" is targeted as "orgUnits/x").
ou_modes(path) := {a.ssoMode |
	some u in org_units
	u.orgUnitPath == path
	is_string(u.orgUnitId)
	some a in sso_assignments
	a.targetOrgUnit == concat("", ["orgUnits/", trim_prefix(u.orgUnitId, "id:")])
}

group_modes(u) := {a.ssoMode |
	is_array(u.groupKeys)
	some k in u.groupKeys
	some a in sso_assignments
	a.targetGroup == concat("", ["groups/", k])
}

# Modes of the nearest OU (the user's own or an ancestor) with an SSO profile assignment.
nearest_modes(u) := found[0] if {
	found := [m | some p in ancestors(user_path(u)); m := ou_modes(p); count(m) > 0]
	count(found) > 0
}

sso_on(modes) if {
	some m in modes
	m != "SSO_OFF"
}

bad_6_1 contains {"ou": u.primaryEmail, "en": sprintf("signs in through SSO by a group assignment (%s)", [concat(", ", group_modes(u))]), "ja": sprintf("グループへの割り当てで SSO を使用しています（%s）", [concat("、", group_modes(u))])} if {
	some u in privileged
	sso_on(group_modes(u))
}

bad_6_1 contains {"ou": u.primaryEmail, "en": sprintf("signs in through SSO assigned to OU %s or its parent (%s)", [user_path(u), concat(", ", m)]), "ja": sprintf("組織部門「%s」またはその上位への割り当てで SSO を使用しています（%s）", [user_path(u), concat("、", m)])} if {
	some u in privileged
	count(group_modes(u)) == 0
	m := nearest_modes(u)
	sso_on(m)
}

results contains lib.verdict(
	"GWS.COMMONCONTROLS.6.1v1", false,
	sprintf("The privileged users could not be listed (%v), so it cannot be told whether admin accounts sign in through a third-party IdP.", [priv_error]),
	sprintf("特権ユーザーを取得できなかったため（%v）、管理者アカウントがサードパーティの IdP でログインしているか判断できません。", [priv_error]),
) if priv_error

results contains lib.verdict(
	"GWS.COMMONCONTROLS.6.1v1", false,
	sprintf("The inbound SSO profile assignments could not be listed (%v), so it cannot be told whether admin accounts sign in through a third-party IdP.", [sso_error]),
	sprintf("受信 SSO プロファイルの割り当てを取得できなかったため（%v）、管理者アカウントがサードパーティの IdP でログインしているか判断できません。", [sso_error]),
) if {
	not priv_error
	sso_error
}

results contains lib.verdict_with(
	"GWS.COMMONCONTROLS.6.1v1", count(bad_6_1) == 0,
	text_6_1_en, text_6_1_ja, bad_names(bad_6_1),
) if {
	not priv_error
	not sso_error
}

admin_count := count({u.primaryEmail | some u in privileged})

text_6_1_en := sprintf("None of the %d privileged account(s) is assigned an SSO profile; they sign in with Google accounts.", [admin_count]) if count(bad_6_1) == 0

text_6_1_en := sprintf("%d privileged account(s) sign in through a third-party IdP: %s.", [count(bad_names(bad_6_1)), listing_en(bad_6_1)]) if count(bad_6_1) > 0

text_6_1_ja := sprintf("%d 件の特権アカウントのいずれにも SSO プロファイルが割り当てられておらず、Google アカウントでログインします。", [admin_count]) if count(bad_6_1) == 0

text_6_1_ja := sprintf("サードパーティの IdP でログインする特権アカウントが %d 件あります: %s。", [count(bad_names(bad_6_1)), listing_ja(bad_6_1)]) if count(bad_6_1) > 0

# ---------------------------------------------------------------------------
# GWS.COMMONCONTROLS.6.2: two to eight super admins, not counting break-glass accounts

super_admins := {a.primaryEmail | is_array(input.super_admins); some a in input.super_admins; is_object(a); is_string(a.primaryEmail)}

break_glass := {lower(a) | is_array(input.break_glass_accounts); some a in input.break_glass_accounts; is_string(a)}

counted_admins := {a | some a in super_admins; not lower(a) in break_glass}

excluded_admins := super_admins - counted_admins

default ok_6_2 := false

ok_6_2 if {
	count(counted_admins) >= 2
	count(counted_admins) <= 8
}

results contains lib.verdict_with(
	"GWS.COMMONCONTROLS.6.2v1", ok_6_2,
	sprintf("%d super admin(s) count towards the limit of 2 to 8: %s; break-glass accounts excluded: %s.", [count(counted_admins), names_or_none(counted_admins, "en"), names_or_none(excluded_admins, "en")]),
	sprintf("上限（2〜8 人）の対象となる特権管理者は %d 人です: %s。除外したブレークグラス アカウント: %s。", [count(counted_admins), names_or_none(counted_admins, "ja"), names_or_none(excluded_admins, "ja")]),
	resources_6_2(ok_6_2),
)

resources_6_2(true) := []

resources_6_2(false) := sort(counted_admins)

names_or_none(xs, "en") := lib.names_en(xs) if count(xs) > 0

names_or_none(xs, "ja") := lib.names_ja(xs) if count(xs) > 0

names_or_none(xs, "en") := "none" if count(xs) == 0

names_or_none(xs, "ja") := "なし" if count(xs) == 0

# ---------------------------------------------------------------------------
# GWS.COMMONCONTROLS.7.1: replace conflicting unmanaged accounts

bad_7_1 contains {"ou": ou, "en": sprintf("conflicting accounts are handled with %v", [v]), "ja": sprintf("競合するアカウントの扱いが %v です", [v])} if {
	some ou, v in explicit_values("provisioning_conflicting_accounts_management", "option")
	v != "REPLACE_CONFLICTING_ACCOUNT"
}

results contains ou_verdict("GWS.COMMONCONTROLS.7.1v1", bad_7_1, "provisioning_conflicting_accounts_management", "option", "replacement of conflicting unmanaged accounts", "競合する管理対象外アカウントの置き換え")

# ---------------------------------------------------------------------------
# GWS.COMMONCONTROLS.8.x: account self-recovery

bad_8_1 contains {"ou": ou, "en": "super admins may recover their own accounts", "ja": "特権管理者が自分でアカウントを復元できます"} if {
	some ou, v in explicit_values("security_super_admin_account_recovery", "enableAccountRecovery")
	v == true
}

results contains ou_verdict("GWS.COMMONCONTROLS.8.1v1", bad_8_1, "security_super_admin_account_recovery", "enableAccountRecovery", "super admin self-recovery disabled", "特権管理者のアカウント復元の無効化")

bad_8_2 contains {"ou": ou, "en": "users and non-super admins may recover their own accounts", "ja": "ユーザーと特権管理者以外の管理者が自分でアカウントを復元できます"} if {
	some ou, v in explicit_values("security_user_account_recovery", "enableAccountRecovery")
	v == true
}

results contains ou_verdict("GWS.COMMONCONTROLS.8.2v1", bad_8_2, "security_user_account_recovery", "enableAccountRecovery", "user self-recovery disabled", "ユーザーのアカウント復元の無効化")

# ---------------------------------------------------------------------------
# GWS.COMMONCONTROLS.10.x: app access to Google APIs

api_sec := "api_controls_google_services"

# Each service must be restricted; a "<SERVICE>_HIGH_RISK" entry (restricted, but users may
# grant low-risk scopes) also counts as restricted for 10.1.
required_services := [
	"DRIVE_ALL", "GMAIL_ALL", "CLASSROOM_ALL", "CHAT", "MEET", "CALENDAR_ALL",
	"CONTACTS_ALL", "GSUITE_ADMIN_ALL", "VAULT_ALL", "CLOUD_PLATFORM", "CLOUD_BILLING",
	"CLOUD_ML", "APPS_SCRIPT_RUNTIME", "APPS_SCRIPT_API", "TASKS", "GROUPS", "CLOUD_SEARCH",
	"SIGN_IN",
]

high_risk_name(s) := concat("", [trim_suffix(s, "_ALL"), "_HIGH_RISK"])

service_entries(ou) := [e |
	v := explicit(ou, api_sec, "services")
	is_array(v)
	some e in v
	is_object(e)
]

restricted_groups(ou) := {e.scopesGroup | some e in service_entries(ou); e.isEnabled == false}

api_ous := {ou | some ou, _ in explicit_values(api_sec, "services")}

bad_10_1 contains {"ou": ou, "en": sprintf("not restricted to trusted apps: %s", [concat(", ", unrestricted)]), "ja": sprintf("信頼できるアプリに制限されていないサービス: %s", [concat("、", unrestricted)])} if {
	some ou in api_ous
	missing := {s | some s in required_services; not s in restricted_groups(ou); not high_risk_name(s) in restricted_groups(ou)}
	open := {e.scopesGroup | some e in service_entries(ou); e.isEnabled != false}
	unrestricted := sort(missing | open)
	count(unrestricted) > 0
}

results contains lib.verdict(
	"GWS.COMMONCONTROLS.10.1v1", false,
	"The policy export has no API access settings for Google services (api_controls_google_services), so it cannot be shown that third-party apps are restricted; the default (unrestricted) does not comply.",
	"ポリシーのエクスポートに Google サービスの API アクセス設定（api_controls_google_services）がないため、サードパーティ アプリが制限されていることを確認できません。既定値（制限なし）は要件を満たしません。",
) if count(api_ous) == 0

results contains ou_verdict("GWS.COMMONCONTROLS.10.1v1", bad_10_1, api_sec, "services", "restricted access to Google services by third-party apps", "サードパーティ アプリによる Google サービスへのアクセス制限") if count(api_ous) > 0

bad_10_2 contains {"ou": ou, "en": sprintf("users may grant low-risk scopes of %s to untrusted apps", [concat(", ", services)]), "ja": sprintf("信頼できないアプリに %s の低リスク スコープへのアクセスをユーザーが許可できます", [concat("、", services)])} if {
	some ou in api_ous
	services := sort({trim_suffix(e.scopesGroup, "_HIGH_RISK") | some e in service_entries(ou); is_string(e.scopesGroup); endswith(e.scopesGroup, "_HIGH_RISK")})
	count(services) > 0
}

results contains ou_verdict("GWS.COMMONCONTROLS.10.2v1", bad_10_2, api_sec, "services", "no user consent to low-risk scopes", "低リスク スコープへのユーザー同意の禁止")

bad_10_3 contains {"ou": ou, "en": "unconfigured internal apps are trusted", "ja": "未設定の内部アプリが信頼されています"} if {
	some ou, v in explicit_values("api_controls_internal_apps", "trustInternalApps")
	v != false
}

results contains ou_verdict("GWS.COMMONCONTROLS.10.3v1", bad_10_3, "api_controls_internal_apps", "trustInternalApps", "untrusted internal apps", "内部アプリを信頼しない設定")

# Values of accessLevel that let users reach unconfigured third-party apps.
third_party_open := {
	"UNSPECIFIED_UBER_BLOCK": {"en": "users may access any third-party app", "ja": "ユーザーはすべてのサードパーティ アプリにアクセスできます"},
	"ALLOW_SIGN_IN_SCOPES_ONLY": {"en": "users may access third-party apps that only request the basic sign-in information", "ja": "ユーザーは Google でログインに必要な基本情報のみを要求するサードパーティ アプリにアクセスできます"},
}

third_party_levels := explicit_values("api_controls_unconfigured_third_party_apps", "accessLevel")

bad_10_4 contains {"ou": ou, "en": third_party_open[v].en, "ja": third_party_open[v].ja} if {
	some ou, v in third_party_levels
	third_party_open[v]
}

# Values other than BLOCK_ALL_SCOPES that the reference check does not count as open (newer
# API names such as ALLOW_SIGN_IN_ONLY): not failed, but pointed out for a manual check.
unknown_10_4 contains sprintf("%s: %v", [ou, v]) if {
	some ou, v in third_party_levels
	not third_party_open[v]
	not v in {"BLOCK_ALL_SCOPES", "BLOCK_ALL"}
}

note_10_4(lang) := "" if count(unknown_10_4) == 0

note_10_4("en") := sprintf(" Values not recognised as open access were not counted as non-compliant; check that they block all third-party apps: %s.", [concat("; ", sort(unknown_10_4))]) if count(unknown_10_4) > 0

note_10_4("ja") := sprintf("開放的な設定として認識できない値は違反として数えていません。サードパーティ アプリをすべてブロックしているか確認してください: %s。", [concat("、", sort(unknown_10_4))]) if count(unknown_10_4) > 0

results contains object.union(v, {"details": {"en": concat("", [v.details.en, note_10_4("en")]), "ja": concat("", [v.details.ja, note_10_4("ja")])}}) if {
	v := ou_verdict("GWS.COMMONCONTROLS.10.4v1", bad_10_4, "api_controls_unconfigured_third_party_apps", "accessLevel", "blocked access to unconfigured third-party apps", "未設定のサードパーティ アプリへのアクセスのブロック")
}

bad_10_5 contains {"ou": ou, "en": "less secure apps are allowed", "ja": "安全性の低いアプリが許可されています"} if {
	some ou, v in explicit_values("security_less_secure_apps", "allowLessSecureApps")
	v != false
}

results contains ou_verdict("GWS.COMMONCONTROLS.10.5v1", bad_10_5, "security_less_secure_apps", "allowLessSecureApps", "blocked less secure apps", "安全性の低いアプリのブロック")

# ---------------------------------------------------------------------------
# GWS.COMMONCONTROLS.11.1: only allowlisted Marketplace apps

mkt := "workspace_marketplace_apps_access_options"

bad_11_1 contains {"ou": ou, "en": sprintf("Marketplace access level is %v", [v]), "ja": sprintf("Marketplace のアクセス レベルが %v です", [v])} if {
	some ou, v in explicit_values(mkt, "accessLevel")
	not v in {"ALLOW_LISTED_APPS", "ALLOW_NONE"}
}

bad_11_1 contains {"ou": ou, "en": "any internal app may be installed even if not allowlisted", "ja": "許可リストにない内部アプリもインストールできます"} if {
	some ou, v in explicit_values(mkt, "allowAllInternalApps")
	v != false
}

results contains ou_verdict("GWS.COMMONCONTROLS.11.1v1", bad_11_1, mkt, "accessLevel", "allowlisted Marketplace apps only", "許可リストに登録された Marketplace アプリのみの許可")

# ---------------------------------------------------------------------------
# GWS.COMMONCONTROLS.12.1: Google Takeout disabled

bad_12_1 contains {"ou": ou, "en": "Takeout is on for services without an individual admin control", "ja": "個別の管理機能がないサービスで Google データエクスポートがオンです"} if {
	some ou, st in service_states("takeout")
	st != "DISABLED"
}

bad_12_1 contains {"ou": ou, "en": sprintf("Takeout is on for %s", [concat(", ", apps)]), "ja": sprintf("%s で Google データエクスポートがオンです", [concat("、", apps)])} if {
	some ou, settings in policies
	is_object(settings)
	apps := sort([takeout_app(trim_suffix(k, "_user_takeout")) |
		some k, sec in settings
		endswith(k, "_user_takeout")
		is_object(sec)
		sec.takeoutStatus != "DISABLED"
	])
	count(apps) > 0
}

takeout_names := {
	"blogger": "Blogger", "books": "Google Books", "location_history": "Timeline (Location History)",
	"maps": "Google Maps", "pay": "Google Pay", "photos": "Google Photos", "play": "Google Play",
	"play_console": "Google Play Console", "youtube": "YouTube",
}

takeout_app(k) := object.get(takeout_names, k, k)

results contains ou_verdict("GWS.COMMONCONTROLS.12.1v1", bad_12_1, "takeout_service_status", "serviceState", "Google Takeout disabled", "Google データエクスポートの無効化")

# ---------------------------------------------------------------------------
# GWS.COMMONCONTROLS.13.1: required system-defined alert rules enabled

required_alerts := {
	"Account suspension warning", "Calendar settings changed", "Device compromised",
	"Domain data export initiated", "Drive settings changed", "Email settings changed",
	"Gmail potential employee spoofing", "Google Operations", "Government-backed attacks",
	"Leaked password", "Malware message detected post-delivery", "Mobile settings changed",
	"Phishing in inboxes due to bad whitelist", "Phishing message detected post-delivery",
	"Rate limited recipient", "SSO profile added", "SSO profile updated",
	"Spike in user-reported spam", "Super admin password reset", "Suspicious device activity",
	"Suspicious login", "Suspicious message reported", "Suspicious programmatic login",
	"User granted Admin privilege", "User suspended (Google identity alert)",
	"User suspended due to suspicious activity", "User suspended for spamming",
	"User suspended for spamming through relay", "User's Admin privilege revoked",
	"User-reported phishing",
}

alert_rules := [r |
	some _, settings in policies
	is_object(settings)
	is_array(settings.rule_system_defined_alerts)
	some r in settings.rule_system_defined_alerts
	is_object(r)
]

inactive_alerts := {r.displayName | some r in alert_rules; r.displayName in required_alerts; r.state != "ACTIVE"}

missing_alerts := required_alerts - {r.displayName | some r in alert_rules}

results contains lib.verdict(
	"GWS.COMMONCONTROLS.13.1v1", false,
	"The policy export has no system-defined alert rules (rule_system_defined_alerts), so it cannot be shown that the required rules are on.",
	"ポリシーのエクスポートにシステム定義のアラートルール（rule_system_defined_alerts）がないため、必須のルールがオンであることを確認できません。",
) if count(alert_rules) == 0

results contains lib.verdict_with(
	"GWS.COMMONCONTROLS.13.1v1", count(inactive_alerts) == 0,
	sprintf("%d of the %d required system-defined rules are reported; off: %s; not reported: %s.", [count(required_alerts) - count(missing_alerts), count(required_alerts), names_or_none(inactive_alerts, "en"), names_or_none(missing_alerts, "en")]),
	sprintf("必須のシステム定義ルール %d 件のうち %d 件が報告されています。オフのルール: %s。未報告のルール: %s。", [count(required_alerts), count(required_alerts) - count(missing_alerts), names_or_none(inactive_alerts, "ja"), names_or_none(missing_alerts, "ja")]),
	sort(inactive_alerts),
) if count(alert_rules) > 0

# ---------------------------------------------------------------------------
# GWS.COMMONCONTROLS.15.x: data regions

bad_15_1 contains {"ou": ou, "en": sprintf("data at rest region is %v", [v]), "ja": sprintf("保存データのリージョンが %v です", [v])} if {
	some ou, v in explicit_values("data_regions_data_at_rest_region", "region")
	v != "US"
}

results contains ou_verdict("GWS.COMMONCONTROLS.15.1v1", bad_15_1, "data_regions_data_at_rest_region", "region", "data at rest stored in the United States", "保存データの米国リージョンへの保存")

bad_15_2 contains {"ou": ou, "en": "data is not limited to processing in the data-at-rest region", "ja": "データ処理が保存データのリージョンに限定されていません"} if {
	some ou, v in explicit_values("data_regions_data_processing_region", "limitToStorageRegion")
	v != true
}

results contains ou_verdict("GWS.COMMONCONTROLS.15.2v1", bad_15_2, "data_regions_data_processing_region", "limitToStorageRegion", "data processed in the data-at-rest region", "保存データのリージョンでのデータ処理")

# ---------------------------------------------------------------------------
# GWS.COMMONCONTROLS.16.x: additional Google services

# "Enterprise service restrictions" ENABLED means additional services without an individual
# control are off.
bad_16_1 contains {"ou": ou, "en": "services without an individual control are on", "ja": "個別の管理機能がないサービスへのアクセスがオンです"} if {
	some ou, st in service_states("enterprise_service_restrictions")
	st != "ENABLED"
}

results contains ou_verdict("GWS.COMMONCONTROLS.16.1v1", bad_16_1, "enterprise_service_restrictions_service_status", "serviceState", "additional services without individual control off", "個別の管理機能がないサービスのオフ")

bad_16_2 contains {"ou": ou, "en": "Early Access apps are on", "ja": "早期アクセス アプリがオンです"} if {
	some ou, st in service_states("early_access_apps")
	st == "ENABLED"
}

results contains ou_verdict("GWS.COMMONCONTROLS.16.2v1", bad_16_2, "early_access_apps_service_status", "serviceState", "Early Access apps off", "早期アクセス アプリのオフ")

# ---------------------------------------------------------------------------
# GWS.COMMONCONTROLS.17.1: multi-party approval for sensitive admin actions

bad_17_1 contains {"ou": ou, "en": sprintf("multi-party approval is %v", [v]), "ja": sprintf("マルチパーティ承認が %v です", [v])} if {
	some ou, v in explicit_values("multi_party_approval_require_approvals", "multiPartyApprovalState")
	v != "ENABLED"
}

results contains ou_verdict("GWS.COMMONCONTROLS.17.1v1", bad_17_1, "multi_party_approval_require_approvals", "multiPartyApprovalState", "multi-party approval for sensitive admin actions", "機密性の高い管理操作のマルチパーティ承認")
