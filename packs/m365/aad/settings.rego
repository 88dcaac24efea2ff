# Microsoft Entra ID: authentication methods (MS.AAD.3.3-3.5), applications and consent
# (MS.AAD.5.x), password expiry (MS.AAD.6.1) and guest access (MS.AAD.8.x).
package mamori.m365.aad

import data.mamori.m365.lib
import rego.v1

# ---------------------------------------------------------------------------
# Authentication methods policy (Get-MgBetaPolicyAuthenticationMethodPolicy).
# ---------------------------------------------------------------------------

method_configs := [s |
	some m in arr(input.authentication_method)
	some s in arr(get(m, ["authentication_method_feature_settings"]))
	is_object(s)
]

authenticator_configs := [s | some s in method_configs; s.Id == "MicrosoftAuthenticator"]

authenticator_enabled_configs := [s | some s in authenticator_configs; s.State == "enabled"]

feature(s, name) := get(s, ["FeatureSettings", name])

authenticator_issues(s) := (issue_if(
	object.get(s, "IsSoftwareOathEnabled", null) != false,
	"Microsoft Authenticator OTP codes are allowed",
	"Microsoft Authenticator の OTP（ワンタイム パスコード）が許可されている",
) | context_issues(s, "DisplayAppInformationRequiredState", "application name", "アプリケーション名")) | context_issues(s, "DisplayLocationInformationRequiredState", "geographic location", "地理的な場所")

context_issues(s, name, what_en, what_ja) := issue_if(
	get(feature(s, name), ["State"]) != "enabled",
	sprintf("showing the %v in notifications is %v, not enabled", [what_en, get(feature(s, name), ["State"])]),
	sprintf("通知での%v表示が %v で、有効ではない", [what_ja, get(feature(s, name), ["State"])]),
) | issue_if(
	get(feature(s, name), ["IncludeTarget", "Id"]) != "all_users",
	sprintf("showing the %v does not target all users (target: %v)", [what_en, get(feature(s, name), ["IncludeTarget", "Id"])]),
	sprintf("%v表示の対象がすべてのユーザーではない（対象: %v）", [what_ja, get(feature(s, name), ["IncludeTarget", "Id"])]),
)

all_authenticator_issues := {i | some s in authenticator_enabled_configs; some i in authenticator_issues(s)}

results contains lib.verdict(
	"MS.AAD.3.3v2", true,
	"Microsoft Authenticator is not enabled in the authentication methods policy, so its login context settings do not apply.",
	"認証方法ポリシーで Microsoft Authenticator が有効になっていないため、サインイン時のコンテキスト表示の設定は対象外です。",
) if count(authenticator_enabled_configs) == 0

results contains lib.verdict_with(
	"MS.AAD.3.3v2", count(all_authenticator_issues) == 0,
	authenticator_text("en"), authenticator_text("ja"),
	authenticator_resources,
) if count(authenticator_enabled_configs) > 0

default authenticator_resources := []

authenticator_resources := ["MicrosoftAuthenticator"] if count(all_authenticator_issues) > 0

authenticator_text("en") := "Microsoft Authenticator is enabled, OTP is not allowed, and it shows the application name and geographic location to all users." if count(all_authenticator_issues) == 0

authenticator_text("ja") := "Microsoft Authenticator は有効で、OTP は許可されておらず、すべてのユーザーにアプリケーション名と地理的な場所が表示されます。" if count(all_authenticator_issues) == 0

authenticator_text(lang) := t if {
	count(all_authenticator_issues) > 0
	t := {
		"en": sprintf("Microsoft Authenticator is enabled but: %v.", [concat("; ", sort([i.en | some i in all_authenticator_issues]))]),
		"ja": sprintf("Microsoft Authenticator は有効ですが、次の問題があります: %v。", [concat("、", sort([i.ja | some i in all_authenticator_issues]))]),
	}[lang]
}

# MS.AAD.3.4v1: the authentication methods migration is complete.
migration_states := [object.get(pol, "PolicyMigrationState", "not reported") |
	some m in arr(input.authentication_method)
	pol := get(m, ["authentication_method_policy"])
	is_object(pol)
]

default migration_complete := false

migration_complete if {
	count(migration_states) > 0
	every s in migration_states {
		s in {"migrationComplete", null}
	}
}

migration_state_text := list_en({sprintf("%v", [s]) | some s in migration_states}) if count(migration_states) > 0

migration_state_text := "not reported" if count(migration_states) == 0

results contains lib.verdict(
	"MS.AAD.3.4v1", migration_complete,
	sprintf("The Manage migration state of the authentication methods policy is %v (required: migrationComplete).", [migration_state_text]),
	sprintf("認証方法ポリシーの移行の管理の状態は %v です（必要な値: migrationComplete）。", [migration_state_text]),
) if migration_complete

results contains lib.verdict_with(
	"MS.AAD.3.4v1", false,
	sprintf("The Manage migration state of the authentication methods policy is %v (required: migrationComplete).", [migration_state_text]),
	sprintf("認証方法ポリシーの移行の管理の状態は %v です（必要な値: migrationComplete）。", [migration_state_text]),
	["authenticationMethodsPolicy"],
) if not migration_complete

# MS.AAD.3.5v2: SMS, voice call and email OTP are disabled.
weak_methods_enabled := {s.Id |
	some s in method_configs
	s.Id in {"Sms", "Voice", "Email"}
	object.get(s, "State", null) != "disabled"
}

results contains lib.verdict_with(
	"MS.AAD.3.5v2", count(weak_methods_enabled) == 0,
	sprintf("Weak authentication methods (SMS, Voice call, Email OTP) not disabled: %v.", [list_en(weak_methods_enabled)]),
	sprintf("無効化されていない弱い認証方法（SMS、音声通話、メール OTP）: %v。", [list_ja(weak_methods_enabled)]),
	sort(weak_methods_enabled),
)

# ---------------------------------------------------------------------------
# Authorization policy (Get-MgBetaPolicyAuthorizationPolicy).
# ---------------------------------------------------------------------------

authorization_policies := [p | some p in arr(input.authorization_policies); is_object(p)]

policy_id(p) := p.Id if is_string(p.Id)

policy_id(p) := "authorizationPolicy" if not is_string(p.Id)

# MS.AAD.5.1v1: only administrators register applications.
app_creation_allowed := {policy_id(p) | some p in authorization_policies; get(p, ["DefaultUserRolePermissions", "AllowedToCreateApps"]) == true}

results contains lib.verdict_with(
	"MS.AAD.5.1v1", count(app_creation_allowed) == 0,
	sprintf("Authorization policies that let non-admin users register applications (Users can register applications = Yes): %v.", [list_en(app_creation_allowed)]),
	sprintf("管理者以外のユーザーにアプリケーションの登録を許可している認可ポリシー（ユーザーはアプリケーションを登録できる = はい）: %v。", [list_ja(app_creation_allowed)]),
	sort(app_creation_allowed),
)

# MS.AAD.5.2v1: only administrators consent to applications.
grant_policies(p) := strset(object.get(p, "PermissionGrantPolicyIdsAssignedToDefaultUserRole", []))

risky_classifications := [x | some x in arr(input.risky_delegated_permission_classifications); x != null]

# User consent for all apps (legacy) or left to Microsoft (recommended).
consent_broad := {policy_id(p) |
	some p in authorization_policies
	some g in grant_policies(p)
	g in {"ManagePermissionGrantsForSelf.microsoft-user-default-recommended", "ManagePermissionGrantsForSelf.microsoft-user-default-legacy"}
}

# Consent for verified publishers' low-impact permissions, while some of them are classified risky.
consent_low_risky := {policy_id(p) |
	some p in authorization_policies
	"ManagePermissionGrantsForSelf.microsoft-user-default-low" in grant_policies(p)
	count(risky_classifications) > 0
}

consent_offenders := consent_broad | consent_low_risky

risky_permission_names := {sprintf("%v", [v]) |
	some x in risky_classifications
	is_object(x)
	some v in as_list(object.get(x, "RiskyPermClassifications", []))
}

as_list(v) := v if is_array(v)

as_list(v) := [v] if not is_array(v)

consent_text("en") := "Users cannot consent to applications on their own (no user consent policy is assigned, or only low-impact consent with no risky permission classified as low)." if count(consent_offenders) == 0

consent_text("ja") := "ユーザーは自分でアプリケーションに同意できません（ユーザー同意のポリシーが割り当てられていないか、低リスクの同意のみでリスクの高いアクセス許可が低に分類されていません）。" if count(consent_offenders) == 0

consent_text(lang) := t if {
	count(consent_offenders) > 0
	t := {
		"en": sprintf("Authorization policies that let users consent to applications: %v (consent for all apps or managed by Microsoft: %v; consent for low-impact permissions while risky permissions are classified low: %v; risky permissions: %v).", [list_en(consent_offenders), list_en(consent_broad), list_en(consent_low_risky), list_en(risky_permission_names)]),
		"ja": sprintf("ユーザーにアプリケーションへの同意を許可している認可ポリシー: %v（すべてのアプリまたは Microsoft 管理の同意: %v、リスクの高いアクセス許可が低に分類された状態での低リスク同意: %v、リスクの高いアクセス許可: %v）。", [list_ja(consent_offenders), list_ja(consent_broad), list_ja(consent_low_risky), list_ja(risky_permission_names)]),
	}[lang]
}

results contains lib.verdict_with("MS.AAD.5.2v1", count(consent_offenders) == 0, consent_text("en"), consent_text("ja"), sort(consent_offenders))

# MS.AAD.5.3v1: the admin consent workflow is enabled (directory setting EnableAdminConsentRequests).
admin_consent_values := [{"group": object.get(g, "DisplayName", "?"), "value": sprintf("%v", [object.get(v, "Value", null)])} |
	some g in arr(input.directory_settings)
	is_object(g)
	some v in arr(object.get(g, "Values", []))
	is_object(v)
	v.Name == "EnableAdminConsentRequests"
]

admin_consent_off := {x.group | some x in admin_consent_values; lower(x.value) != "true"}

default admin_consent_on := false

admin_consent_on if {
	count(admin_consent_values) > 0
	count(admin_consent_off) == 0
}

results contains lib.verdict(
	"MS.AAD.5.3v1", true,
	"The admin consent workflow is enabled (EnableAdminConsentRequests = true): users can request admin consent for applications.",
	"管理者の同意ワークフローが有効です（EnableAdminConsentRequests = true）。ユーザーはアプリへの管理者の同意を要求できます。",
) if admin_consent_on

results contains lib.verdict_with(
	"MS.AAD.5.3v1", false,
	sprintf("The admin consent workflow is not enabled: EnableAdminConsentRequests is not set%v.", [off_where("en")]),
	sprintf("管理者の同意ワークフローが有効ではありません。EnableAdminConsentRequests が true に設定されていません%v。", [off_where("ja")]),
	sort(admin_consent_off),
) if not admin_consent_on

off_where("en") := sprintf(" to true in the directory settings %v", [list_en(admin_consent_off)]) if count(admin_consent_off) > 0

off_where("en") := " in any directory setting" if count(admin_consent_off) == 0

off_where("ja") := sprintf("（ディレクトリ設定: %v）", [list_ja(admin_consent_off)]) if count(admin_consent_off) > 0

off_where("ja") := "（該当するディレクトリ設定がありません）" if count(admin_consent_off) == 0

# ---------------------------------------------------------------------------
# Default app management policy: application credentials (MS.AAD.5.5-5.7).
# ---------------------------------------------------------------------------

app_mgmt_policies := [p | some p in arr(input.default_app_management_policy); is_object(p)] if is_array(input.default_app_management_policy)

app_mgmt_policies := [input.default_app_management_policy] if is_object(input.default_app_management_policy)

app_mgmt_policies := [] if {
	not is_array(input.default_app_management_policy)
	not is_object(input.default_app_management_policy)
}

scope_label := {
	"ApplicationRestrictions": {"en": "applications", "ja": "アプリケーション"},
	"ServicePrincipalRestrictions": {"en": "service principals", "ja": "サービス プリンシパル"},
}

restrictions(scope, cred, rtype) := [r |
	some p in app_mgmt_policies
	some r in arr(get(p, [scope, cred]))
	is_object(r)
	r.RestrictionType == rtype
]

# The earliest representable date: the restriction also applies to apps created before it was set.
all_apps_date(v) if v == null

all_apps_date(v) if v == "/Date(-62135596800000)/"

all_apps_date(v) if {
	is_string(v)
	startswith(v, "0001-01-01")
}

# ISO 8601 duration in days (years as 365, months as 30); null when it cannot be read.
duration_days(d) := n if {
	is_string(d)
	m := regex.find_all_string_submatch_n(`^P(?:([0-9]+)Y)?(?:([0-9]+)M)?(?:([0-9]+)W)?(?:([0-9]+)D)?(?:T.*)?$`, d, 1)
	count(m) == 1
	g := m[0]
	n := ((num(g[1]) * 365 + num(g[2]) * 30) + num(g[3]) * 7) + num(g[4])
} else := null

num(s) := 0 if s == ""

num(s) := to_number(s) if s != ""

restriction_issues(scope, cred, rtype, max_days) := {issue(
	sprintf("%v (%v): not configured", [rtype, scope_label[scope].en]),
	sprintf("%v（%v）: 未構成", [rtype, scope_label[scope].ja]),
)} if count(restrictions(scope, cred, rtype)) == 0

restriction_issues(scope, cred, rtype, max_days) := {i |
	some r in restrictions(scope, cred, rtype)
	some i in one_restriction_issues(scope, r, max_days)
} if count(restrictions(scope, cred, rtype)) > 0

one_restriction_issues(scope, r, max_days) := (issue_if(
	object.get(r, "State", null) != "enabled",
	sprintf("%v (%v): the restriction is not enabled", [r.RestrictionType, scope_label[scope].en]),
	sprintf("%v（%v）: 制限が有効になっていない", [r.RestrictionType, scope_label[scope].ja]),
) | issue_if(
	date_limited(object.get(r, "RestrictForAppsCreatedAfterDateTime", null)),
	sprintf("%v (%v): applies only to apps created after %v, so older apps are exempt", [r.RestrictionType, scope_label[scope].en, object.get(r, "RestrictForAppsCreatedAfterDateTime", null)]),
	sprintf("%v（%v）: %v 以降に作成されたアプリにのみ適用され、既存のアプリは対象外", [r.RestrictionType, scope_label[scope].ja, object.get(r, "RestrictForAppsCreatedAfterDateTime", null)]),
)) | lifetime_issue(scope, r, max_days)

lifetime_issue(_, _, max_days) := set() if max_days == null

lifetime_issue(scope, r, max_days) := issue_if(
	lifetime_exceeded(object.get(r, "MaxLifetime", null), max_days),
	sprintf("%v (%v): the maximum lifetime is %v, more than %v days", [r.RestrictionType, scope_label[scope].en, object.get(r, "MaxLifetime", null), max_days]),
	sprintf("%v（%v）: 最長有効期間が %v で、%v 日を超えている", [r.RestrictionType, scope_label[scope].ja, object.get(r, "MaxLifetime", null), max_days]),
) if max_days != null

lifetime_within(d, max_days) if {
	n := duration_days(d)
	n != null
	n <= max_days
}

both_scopes_issues(cred, types, max_days) := {i |
	some scope in ["ApplicationRestrictions", "ServicePrincipalRestrictions"]
	some rtype in types
	some i in restriction_issues(scope, cred, rtype, max_days)
}

# MS.AAD.5.5v1 ("Application Password Addition SHOULD be blocked") and 5.6v1 ("Application password
# lifetime SHOULD be restricted to 180 days or less") concern passwords: as in the reference, the
# passwordAddition and passwordLifetime restrictions are judged, not the symmetric key ones. The
# portal's maximum is exclusive (the baseline's instructions set 181 days to allow 180), so a
# MaxLifetime of up to 181 days complies, as in the reference.
password_addition_issues := both_scopes_issues("PasswordCredentials", ["passwordAddition"], null)

password_lifetime_issues := both_scopes_issues("PasswordCredentials", ["passwordLifetime"], 181)

# The reference accepts up to 366 days (one year, leap years included).
certificate_lifetime_issues := both_scopes_issues("KeyCredentials", ["asymmetricKeyLifetime"], 366)

issues_en(s) := concat("; ", sort([i.en | some i in s]))

issues_ja(s) := concat("、", sort([i.ja | some i in s]))

app_mgmt_missing_en := "The default app management policy was not in the export (older provider versions do not collect it), so application credential restrictions were not assessed."

app_mgmt_missing_ja := "エクスポートに既定のアプリ管理ポリシーが含まれていないため（古いバージョンのプロバイダーは収集しません）、アプリケーションの資格情報の制限は評価していません。"

not_assessed(id) := object.union(lib.verdict(id, true, app_mgmt_missing_en, app_mgmt_missing_ja), {"not_applicable": true})

results contains not_assessed(id) if {
	count(app_mgmt_policies) == 0
	some id in {"MS.AAD.5.5v1", "MS.AAD.5.6v1", "MS.AAD.5.7v1"}
}

results contains lib.verdict_with(
	"MS.AAD.5.5v1", count(password_addition_issues) == 0,
	app_cred_text_en(password_addition_issues, "Adding passwords is blocked for all applications and service principals"),
	app_cred_text_ja(password_addition_issues, "すべてのアプリケーションとサービス プリンシパルでパスワードの追加がブロックされています"),
	sort([i.en | some i in password_addition_issues]),
) if count(app_mgmt_policies) > 0

# Lifetimes only matter while passwords can still be added.
results contains lib.verdict(
	"MS.AAD.5.6v1", true,
	"Adding passwords is blocked for all applications and service principals, so their lifetime restriction is not needed.",
	"すべてのアプリケーションとサービス プリンシパルでパスワードの追加がブロックされているため、有効期間の制限は不要です。",
) if {
	count(app_mgmt_policies) > 0
	count(password_addition_issues) == 0
}

results contains lib.verdict_with(
	"MS.AAD.5.6v1", count(password_lifetime_issues) == 0,
	app_cred_text_en(password_lifetime_issues, "Password lifetimes are limited to 180 days or less (a MaxLifetime of at most P181D, the portal's limit being exclusive) for all applications and service principals"),
	app_cred_text_ja(password_lifetime_issues, "すべてのアプリケーションとサービス プリンシパルでパスワードの有効期間が 180 日以下（ポータルの上限は未満の指定のため MaxLifetime は P181D 以下）に制限されています"),
	sort([i.en | some i in password_lifetime_issues]),
) if {
	count(app_mgmt_policies) > 0
	count(password_addition_issues) > 0
}

results contains lib.verdict_with(
	"MS.AAD.5.7v1", count(certificate_lifetime_issues) == 0,
	app_cred_text_en(certificate_lifetime_issues, "Certificate lifetimes are limited to one year for all applications and service principals"),
	app_cred_text_ja(certificate_lifetime_issues, "すべてのアプリケーションとサービス プリンシパルで証明書の有効期間が 1 年以内に制限されています"),
	sort([i.en | some i in certificate_lifetime_issues]),
) if count(app_mgmt_policies) > 0

app_cred_text_en(s, ok) := sprintf("%v.", [ok]) if count(s) == 0

app_cred_text_en(s, _) := sprintf("Default app management policy restrictions not meeting the requirement: %v.", [issues_en(s)]) if count(s) > 0

app_cred_text_ja(s, ok) := sprintf("%v。", [ok]) if count(s) == 0

app_cred_text_ja(s, _) := sprintf("既定のアプリ管理ポリシーで要件を満たしていない制限: %v。", [issues_ja(s)]) if count(s) > 0

# ---------------------------------------------------------------------------
# MS.AAD.6.1v1: user passwords never expire (Get-MgBetaDomain).
# ---------------------------------------------------------------------------

int_max := 2147483647

# A single domain may be exported as an object instead of a one-element array.
domains := [d | some d in input.domain_settings; is_object(d)] if is_array(input.domain_settings)

domains := [input.domain_settings] if is_object(input.domain_settings)

domains := [] if {
	not is_array(input.domain_settings)
	not is_object(input.domain_settings)
}

managed_domains := [d | some d in domains; d.IsVerified == true; d.AuthenticationType == "Managed"; is_string(d.Id)]

federated_domains := {d.Id | some d in domains; d.IsVerified == true; d.AuthenticationType == "Federated"}

root_domains := [d | some d in managed_domains; d.IsRoot == true]

never_expires(d) if object.get(d, "PasswordValidityPeriodInDays", null) in {int_max, null}

password_ok(d) if {
	d.IsRoot == true
	never_expires(d)
}

password_ok(d) if {
	d.IsRoot != true
	some r in root_domains
	endswith(d.Id, concat("", [".", r.Id]))
	never_expires(r)
}

expiring(lang) := {validity_label(d, lang) | some d in managed_domains; not password_ok(d)}

validity_label(d, "en") := sprintf("%v (follows its root domain, which is missing or lets passwords expire)", [d.Id]) if object.get(d, "PasswordValidityPeriodInDays", null) == null

validity_label(d, "ja") := sprintf("%v（ルート ドメインの設定に従うが、そのルート ドメインがないかパスワードに有効期限がある）", [d.Id]) if object.get(d, "PasswordValidityPeriodInDays", null) == null

validity_label(d, "en") := sprintf("%v (passwords expire after %v days)", [d.Id, d.PasswordValidityPeriodInDays]) if object.get(d, "PasswordValidityPeriodInDays", null) != null

validity_label(d, "ja") := sprintf("%v（パスワードの有効期限 %v 日）", [d.Id, d.PasswordValidityPeriodInDays]) if object.get(d, "PasswordValidityPeriodInDays", null) != null

expiring_domains := expiring("en")

compliant_domains := {d.Id | some d in managed_domains; password_ok(d)}

default password_never_expires := false

password_never_expires if {
	count(compliant_domains) > 0
	count(expiring_domains) == 0
}

federated_note("en") := sprintf(" Federated domains, whose password policy is set by the identity provider: %v.", [list_en(federated_domains)]) if count(federated_domains) > 0

federated_note("ja") := sprintf(" フェデレーション ドメイン（パスワード ポリシーは ID プロバイダー側で設定）: %v。", [list_ja(federated_domains)]) if count(federated_domains) > 0

federated_note(_) := "" if count(federated_domains) == 0

results contains lib.verdict_with(
	"MS.AAD.6.1v1", password_never_expires,
	sprintf("Verified managed domains whose passwords never expire: %v. Domains whose passwords expire (or whose root domain is not verified and managed): %v.%v", [list_en(compliant_domains), list_en(expiring_domains), federated_note("en")]),
	sprintf("パスワードが無期限の確認済みマネージド ドメイン: %v。パスワードに有効期限があるドメイン（またはルート ドメインが確認済みマネージドでないもの）: %v。%v", [list_ja(compliant_domains), list_ja(expiring("ja")), federated_note("ja")]),
	sort(expiring_domains),
) if count(managed_domains) > 0

results contains lib.verdict(
	"MS.AAD.6.1v1", false,
	sprintf("No verified domain with managed authentication was reported, so the password expiration policy could not be confirmed.%v", [federated_note("en")]),
	sprintf("マネージド認証の確認済みドメインが報告されていないため、パスワードの有効期限ポリシーを確認できませんでした。%v", [federated_note("ja")]),
) if count(managed_domains) == 0

# ---------------------------------------------------------------------------
# Guest access (MS.AAD.8.x).
# ---------------------------------------------------------------------------

guest_levels := {
	"2af84b1e-32c8-42b7-82bc-daa82404023b": {"en": "Restricted access (own directory objects only)", "ja": "最も制限の厳しいアクセス（自分のディレクトリ オブジェクトのみ）"},
	"10dae51f-b6af-4016-8d66-8c2a99b929b3": {"en": "Limited access", "ja": "制限付きアクセス"},
	"a0b1b346-4d3e-4e8b-98f8-753987be4970": {"en": "Same as member users", "ja": "メンバー ユーザーと同じアクセス"},
}

guest_level(id, lang) := guest_levels[id][lang]

guest_level(id, lang) := {"en": sprintf("unknown (%v)", [id]), "ja": sprintf("不明（%v）", [id])}[lang] if not guest_levels[id]

guest_access_open := {policy_id(p) |
	some p in authorization_policies
	not object.get(p, "GuestUserRoleId", null) in {"2af84b1e-32c8-42b7-82bc-daa82404023b", "10dae51f-b6af-4016-8d66-8c2a99b929b3"}
}

guest_access_by_policy(lang) := {sprintf("%v: %v", [policy_id(p), guest_level(object.get(p, "GuestUserRoleId", null), lang)]) | some p in authorization_policies}

results contains lib.verdict_with(
	"MS.AAD.8.1v1", count(guest_access_open) == 0,
	sprintf("Guest user access level by authorization policy: %v (allowed: Limited access or Restricted access).", [list_en(guest_access_by_policy("en"))]),
	sprintf("認可ポリシーごとのゲスト ユーザーのアクセス レベル: %v（許可される値: 制限付きアクセス または 最も制限の厳しいアクセス）。", [list_ja(guest_access_by_policy("ja"))]),
	sort(guest_access_open),
)

guest_invites_open := {policy_id(p) |
	some p in authorization_policies
	not object.get(p, "AllowInvitesFrom", null) in {"adminsAndGuestInviters", "none"}
}

invites_by_policy := {sprintf("%v: %v", [policy_id(p), object.get(p, "AllowInvitesFrom", null)]) | some p in authorization_policies}

results contains lib.verdict_with(
	"MS.AAD.8.2v1", count(guest_invites_open) == 0,
	sprintf("Guest invite setting (AllowInvitesFrom) by authorization policy: %v (allowed: adminsAndGuestInviters, or none).", [list_en(invites_by_policy)]),
	sprintf("認可ポリシーごとのゲスト招待の設定（AllowInvitesFrom）: %v（許可される値: adminsAndGuestInviters または none）。", [list_ja(invites_by_policy)]),
	sort(guest_invites_open),
)

date_limited(v) := true if {
	not all_apps_date(v)
} else := false

lifetime_exceeded(d, max_days) := true if {
	not lifetime_within(d, max_days)
} else := false
