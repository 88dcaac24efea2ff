# Microsoft Teams: meeting policies, live events, external access, email integration and
# app management, read from the Teams provider sections (Get-CsTeamsMeetingPolicy,
# Get-CsTeamsMeetingBroadcastPolicy, Get-CsTenantFederationConfiguration,
# Get-CsTeamsClientConfiguration, Get-CsTenant, Get-CsTeamsAppPermissionPolicy and
# Get-M365UnifiedTenantSettings).
package mamori.m365.teams

import data.mamori.m365.lib
import rego.v1

# The objects of a section; [] when it is missing or not an array.
items(section) := [p | some p in input[section]; is_object(p)] if is_array(input[section])

items(section) := [] if not is_array(input[section])

# A section that is an array but holds nothing: the command returned no configuration.
empty(section) if {
	is_array(input[section])
	count(input[section]) == 0
}

name(p) := sprintf("%v", [p.Identity]) if p.Identity != null

name(p) := "(no Identity)" if field(p, "Identity") == null

field(p, f) := object.get(p, f, null)

# The Global (org-wide default) policy of a section, when reported.
global(section) := g if {
	gs := [p | some p in items(section); field(p, "Identity") == "Global"]
	count(gs) > 0
	g := gs[0]
}

# ---------------------------------------------------------------------------------------
# Verdicts on "no policy of the section may have X" controls. A section that was not
# reported at all yields no offender (the engine reports the control as an error because
# its section is missing); an empty one is judged unmet, since nothing could be checked.
# ---------------------------------------------------------------------------------------

no_offender_verdict(id, section, offenders, what_en, what_ja) := lib.verdict(
	id, false,
	sprintf("No %s were returned (%s is empty), so the setting could not be checked.", [what_en, section]),
	sprintf("%sが 1 件も返されなかったため（%s が空）、設定を確認できませんでした。", [what_ja, section]),
) if empty(section)

no_offender_verdict(id, section, offenders, what_en, what_ja) := lib.verdict(
	id, true,
	sprintf("%s was not reported.", [section]),
	sprintf("%s が取得されていません。", [section]),
) if not is_array(input[section])

no_offender_verdict(id, section, offenders, what_en, what_ja) := v if {
	is_array(input[section])
	count(input[section]) > 0
	v := lib.verdict_with(
		id, count(offenders) == 0,
		offender_text_en(offenders, what_en, count(items(section))),
		offender_text_ja(offenders, what_ja, count(items(section))),
		sort([x | some x in offenders]),
	)
}

offender_text_en(offenders, what, n) := sprintf("None of the %d %s allows it.", [n, what]) if count(offenders) == 0

offender_text_en(offenders, what, n) := sprintf("%d of %d %s allow it: %s.", [count(offenders), n, what, lib.names_en(offenders)]) if count(offenders) > 0

offender_text_ja(offenders, what, n) := sprintf("%d 件の%sのいずれも許可していません。", [n, what]) if count(offenders) == 0

offender_text_ja(offenders, what, n) := sprintf("%d 件中 %d 件の%sが許可しています: %s。", [n, count(offenders), what, lib.names_ja(offenders)]) if count(offenders) > 0

mp_en := "meeting policies"

mp_ja := "会議ポリシー"

# ---------------------------------------------------------------------------------------
# MS.TEAMS.1.1v1 external participants can give or request control (every policy)
# ---------------------------------------------------------------------------------------

external_control contains name(p) if {
	some p in items("meeting_policies")
	p.AllowExternalParticipantGiveRequestControl == true
}

results contains v if {
	w := no_offender_verdict("MS.TEAMS.1.1v1", "meeting_policies", external_control, mp_en, mp_ja)
	v := object.union(w, {"details": {
		"en": sprintf("External participants requesting control of shared screens: %s", [w.details.en]),
		"ja": sprintf("外部参加者による共有画面の制御の要求: %s", [w.details.ja]),
	}})
}

# ---------------------------------------------------------------------------------------
# MS.TEAMS.1.2v2 anonymous users can start meetings (every policy)
# ---------------------------------------------------------------------------------------

anonymous_start contains name(p) if {
	some p in items("meeting_policies")
	p.AllowAnonymousUsersToStartMeeting == true
}

results contains v if {
	w := no_offender_verdict("MS.TEAMS.1.2v2", "meeting_policies", anonymous_start, mp_en, mp_ja)
	v := object.union(w, {"details": {
		"en": sprintf("Anonymous users starting meetings: %s", [w.details.en]),
		"ja": sprintf("匿名ユーザーによる会議の開始: %s", [w.details.ja]),
	}})
}

# ---------------------------------------------------------------------------------------
# Global-policy controls (1.3, 1.4, 1.6, 1.7): judged on the Global policy only.
# ---------------------------------------------------------------------------------------

global_missing_verdict(id, section, what_en, what_ja) := lib.verdict(
	id, false,
	sprintf("No %s were returned (%s is empty or missing), so the Global policy could not be checked.", [what_en, section]),
	sprintf("%sが返されなかったため（%s が空または未取得）、グローバル ポリシーを確認できませんでした。", [what_ja, section]),
) if count(items(section)) == 0

global_missing_verdict(id, section, what_en, what_ja) := lib.verdict_with(
	id, false,
	sprintf("No Global (org-wide default) policy was found among the %s: %s.", [what_en, lib.names_en([name(p) | some p in items(section)])]),
	sprintf("%sにグローバル（組織全体の既定）ポリシーが見つかりません: %s。", [what_ja, lib.names_ja([name(p) | some p in items(section)])]),
	["Global"],
) if count(items(section)) > 0

# MS.TEAMS.1.3v1: neither everyone nor dial-in callers bypass the lobby in the Global policy.
results contains v if {
	g := global("meeting_policies")
	pstn := field(g, "AllowPSTNUsersToBypassLobby")
	met := lobby_ok(g)
	v := lib.verdict_with(
		"MS.TEAMS.1.3v1", met,
		sprintf("Global meeting policy: who can bypass the lobby is %v; dial-in callers can bypass the lobby: %v.", [field(g, "AutoAdmittedUsers"), pstn]),
		sprintf("グローバル会議ポリシー: ロビーをバイパスできるユーザーは %v、ダイヤルイン ユーザーのロビーのバイパスは %v です。", [field(g, "AutoAdmittedUsers"), pstn]),
		offending_global(met),
	)
}

results contains global_missing_verdict("MS.TEAMS.1.3v1", "meeting_policies", mp_en, mp_ja) if not global("meeting_policies")

offending_global(true) := []

offending_global(false) := ["Global"]

lobby_ok(g) := true if {
	field(g, "AutoAdmittedUsers") != "Everyone"
	field(g, "AllowPSTNUsersToBypassLobby") == false
} else := false

# MS.TEAMS.1.4v1: internal users are admitted automatically by the Global policy.
internal_admission := {"EveryoneInCompany", "EveryoneInSameAndFederatedCompany", "EveryoneInCompanyExcludingGuests"}

results contains v if {
	g := global("meeting_policies")
	met := field(g, "AutoAdmittedUsers") in internal_admission
	v := lib.verdict_with(
		"MS.TEAMS.1.4v1", met,
		sprintf("Global meeting policy: who can bypass the lobby (AutoAdmittedUsers) is %v; internal users are admitted automatically with EveryoneInCompany, EveryoneInCompanyExcludingGuests or EveryoneInSameAndFederatedCompany.", [field(g, "AutoAdmittedUsers")]),
		sprintf("グローバル会議ポリシー: ロビーをバイパスできるユーザー（AutoAdmittedUsers）は %v です。組織内ユーザーが自動で参加できるのは EveryoneInCompany、EveryoneInCompanyExcludingGuests、EveryoneInSameAndFederatedCompany のいずれかの場合です。", [field(g, "AutoAdmittedUsers")]),
		offending_global(met),
	)
}

results contains global_missing_verdict("MS.TEAMS.1.4v1", "meeting_policies", mp_en, mp_ja) if not global("meeting_policies")

# ---------------------------------------------------------------------------------------
# MS.TEAMS.1.5v1 dial-in users bypass the lobby (every policy)
# ---------------------------------------------------------------------------------------

pstn_bypass contains name(p) if {
	some p in items("meeting_policies")
	p.AllowPSTNUsersToBypassLobby == true
}

results contains v if {
	w := no_offender_verdict("MS.TEAMS.1.5v1", "meeting_policies", pstn_bypass, mp_en, mp_ja)
	v := object.union(w, {"details": {
		"en": sprintf("Dial-in callers bypassing the lobby: %s", [w.details.en]),
		"ja": sprintf("ダイヤルイン ユーザーによるロビーのバイパス: %s", [w.details.ja]),
	}})
}

# MS.TEAMS.1.6v1: cloud recording is off in the Global meeting policy.
results contains v if {
	g := global("meeting_policies")
	met := field(g, "AllowCloudRecording") == false
	others := sort([name(p) | some p in items("meeting_policies"); p.AllowCloudRecording == true; field(p, "Identity") != "Global"])
	v := lib.verdict_with(
		"MS.TEAMS.1.6v1", met,
		sprintf("Global meeting policy: meeting recording (AllowCloudRecording) is %v.%s", [field(g, "AllowCloudRecording"), custom_note_en(others, "allow recording")]),
		sprintf("グローバル会議ポリシー: 会議のレコーディング（AllowCloudRecording）は %v です。%s", [field(g, "AllowCloudRecording"), custom_note_ja(others, "レコーディングを許可")]),
		offending_global(met),
	)
}

results contains global_missing_verdict("MS.TEAMS.1.6v1", "meeting_policies", mp_en, mp_ja) if not global("meeting_policies")

custom_note_en(others, _) := "" if count(others) == 0

custom_note_en(others, what) := sprintf(" Custom policies that %s (allowed for specific users only): %s.", [what, lib.names_en(others)]) if count(others) > 0

custom_note_ja(others, _) := "" if count(others) == 0

custom_note_ja(others, what) := sprintf("%sしているカスタム ポリシー（特定ユーザー向けなら可）: %s。", [what, lib.names_ja(others)]) if count(others) > 0

# MS.TEAMS.1.7v2: the Global live events policy does not always record events.
results contains v if {
	g := global("broadcast_policies")
	mode := field(g, "BroadcastRecordingMode")
	met := broadcast_ok(g)
	others := sort([name(p) | some p in items("broadcast_policies"); p.BroadcastRecordingMode == "AlwaysEnabled"; field(p, "Identity") != "Global"])
	v := lib.verdict_with(
		"MS.TEAMS.1.7v2", met,
		sprintf("Global live events policy: record an event (BroadcastRecordingMode) is %v (AlwaysEnabled = always record).%s", [mode, custom_note_en(others, "always record")]),
		sprintf("グローバル ライブ イベント ポリシー: イベントの記録（BroadcastRecordingMode）は %v です（AlwaysEnabled = 常に記録する）。%s", [mode, custom_note_ja(others, "常に記録")]),
		offending_global(met),
	)
}

broadcast_ok(g) := true if {
	"BroadcastRecordingMode" in object.keys(g)
	g.BroadcastRecordingMode != "AlwaysEnabled"
} else := false

results contains global_missing_verdict("MS.TEAMS.1.7v2", "broadcast_policies", "live events policies", "ライブ イベント ポリシー") if not global("broadcast_policies")

# ---------------------------------------------------------------------------------------
# MS.TEAMS.2.x external access (federation configuration)
# ---------------------------------------------------------------------------------------

fc_en := "federation configurations"

fc_ja := "フェデレーション構成"

# An AllowedDomains value listing no domain at all (allow every external domain).
no_domains(d) if {
	is_array(d)
	count(d) == 0
}

no_domains(d) if {
	is_object(d)
	count(d) == 0
}

no_domains(d) if {
	is_string(d)
	count(d) == 0
}

open_federation contains name(p) if {
	some p in items("federation_configuration")
	p.AllowFederatedUsers == true
	no_domains(field(p, "AllowedDomains"))
}

results contains v if {
	w := no_offender_verdict("MS.TEAMS.2.1v2", "federation_configuration", open_federation, fc_en, fc_ja)
	v := object.union(w, {"details": {
		"en": sprintf("External access to every domain (AllowFederatedUsers true with no allowed-domain list): %s", [w.details.en]),
		"ja": sprintf("すべてのドメインとの外部アクセス（AllowFederatedUsers が true で許可ドメインの一覧なし）: %s", [w.details.ja]),
	}})
}

unmanaged_inbound contains name(p) if {
	some p in items("federation_configuration")
	p.AllowTeamsConsumer == true
	p.AllowTeamsConsumerInbound == true
}

results contains v if {
	w := no_offender_verdict("MS.TEAMS.2.2v2", "federation_configuration", unmanaged_inbound, fc_en, fc_ja)
	v := object.union(w, {"details": {
		"en": sprintf("Unmanaged Teams users initiating contact (AllowTeamsConsumer and AllowTeamsConsumerInbound true): %s", [w.details.en]),
		"ja": sprintf("管理されていない Teams ユーザーからの連絡の開始（AllowTeamsConsumer と AllowTeamsConsumerInbound が true）: %s", [w.details.ja]),
	}})
}

unmanaged_outbound contains name(p) if {
	some p in items("federation_configuration")
	p.AllowTeamsConsumer == true
}

results contains v if {
	w := no_offender_verdict("MS.TEAMS.2.3v2", "federation_configuration", unmanaged_outbound, fc_en, fc_ja)
	v := object.union(w, {"details": {
		"en": sprintf("Internal users contacting unmanaged Teams users (AllowTeamsConsumer true): %s", [w.details.en]),
		"ja": sprintf("組織内ユーザーから管理されていない Teams ユーザーへの連絡（AllowTeamsConsumer が true）: %s", [w.details.ja]),
	}})
}

# ---------------------------------------------------------------------------------------
# MS.TEAMS.4.1v1 email integration; not available in US government clouds
# ---------------------------------------------------------------------------------------

assigned_plans := [sprintf("%v", [x]) | some t in items("teams_tenant_info"); is_array(t.AssignedPlan); some x in t.AssignedPlan]

gov_plans := sort([x | some x in assigned_plans; gov_plan(x)])

gov_plan(x) if contains(x, "GCC")

gov_plan(x) if contains(x, "DOD")

email_channels contains name(p) if {
	some p in items("client_configuration")
	p.AllowEmailIntoChannel == true
}

results contains v if {
	count(items("teams_tenant_info")) == 0
	v := lib.verdict(
		"MS.TEAMS.4.1v1", false,
		"The Teams tenant information (teams_tenant_info, Get-CsTenant) is empty or missing, so the setting could not be checked.",
		"Teams のテナント情報（teams_tenant_info、Get-CsTenant）が空または未取得のため、設定を確認できませんでした。",
	)
}

results contains v if {
	count(items("teams_tenant_info")) > 0
	count(gov_plans) > 0
	v := object.union(
		lib.verdict(
			"MS.TEAMS.4.1v1", true,
			sprintf("Not applicable: the tenant is in a US government cloud (assigned plans %s), where Teams email integration is unavailable.", [lib.names_en(gov_plans)]),
			sprintf("対象外: テナントは米国政府機関向けクラウドにあり（割り当て済みプラン %s）、Teams のメール統合は利用できません。", [lib.names_ja(gov_plans)]),
		),
		{"not_applicable": true},
	)
}

results contains v if {
	count(items("teams_tenant_info")) > 0
	count(gov_plans) == 0
	v := lib.verdict_with(
		"MS.TEAMS.4.1v1", count(email_channels) == 0,
		email_text_en,
		email_text_ja,
		sort([x | some x in email_channels]),
	)
}

email_text_en := sprintf("Email into channels is disabled in all %d Teams client configurations.", [count(items("client_configuration"))]) if count(email_channels) == 0

email_text_en := sprintf("Users can send email to a channel address (AllowEmailIntoChannel true) in: %s.", [lib.names_en(email_channels)]) if count(email_channels) > 0

email_text_ja := sprintf("%d 件の Teams クライアント構成のすべてで、チャネルへのメール送信は無効です。", [count(items("client_configuration"))]) if count(email_channels) == 0

email_text_ja := sprintf("チャネルのメール アドレスへのメール送信（AllowEmailIntoChannel が true）が有効な構成: %s。", [lib.names_ja(email_channels)]) if count(email_channels) > 0

# ---------------------------------------------------------------------------------------
# MS.TEAMS.5.x app management: the org-wide app setting (Get-M365UnifiedTenantSettings)
# when it was reported, otherwise the app permission policies (legacy).
# ---------------------------------------------------------------------------------------

app_kinds := {
	"MS.TEAMS.5.1v2": {"setting": "DefaultApp", "field": "DefaultCatalogAppsType", "en": "Microsoft apps", "ja": "Microsoft アプリ"},
	"MS.TEAMS.5.2v2": {"setting": "GlobalApp", "field": "GlobalCatalogAppsType", "en": "third-party apps", "ja": "サードパーティ製アプリ"},
	"MS.TEAMS.5.3v2": {"setting": "PrivateApp", "field": "PrivateCatalogAppsType", "en": "custom apps", "ja": "カスタム アプリ"},
}

tenant_settings := [s | some s in input.tenant_app_settings; is_object(s)] if is_array(input.tenant_app_settings)

tenant_settings := [] if not is_array(input.tenant_app_settings)

# The org-wide value of one kind of app, when reported.
org_setting(setting) := vals[0] if {
	vals := [field(s, "SettingValue") | some s in tenant_settings; field(s, "SettingName") == setting]
	count(vals) > 0
}

results contains v if {
	some id, k in app_kinds
	val := org_setting(k.setting)
	v := lib.verdict_with(
		id, val == "None",
		sprintf("Org-wide app setting for %s (%s) is %v; it must be None so that only apps the organization approves individually are available.", [k.en, k.setting, val]),
		sprintf("%sの組織全体のアプリ設定（%s）は %v です。組織が個別に承認したアプリだけを利用可能にするため None にする必要があります。", [k.ja, k.setting, val]),
		org_offending(val, k.setting),
	)
}

org_offending(val, _) := [] if val == "None"

org_offending(val, setting) := [sprintf("org-wide %s", [setting])] if val != "None"

blocklist_policies(f) := {name(p) | some p in items("app_policies"); field(p, f) == "BlockedAppList"}

ap_en := "app permission policies"

ap_ja := "アプリのアクセス許可ポリシー"

results contains v if {
	some id, k in app_kinds
	not org_setting(k.setting)
	w := no_offender_verdict(id, "app_policies", blocklist_policies(k.field), ap_en, ap_ja)
	v := object.union(w, {"details": {
		"en": sprintf("No org-wide app setting for %s was reported; legacy %s allowing all %s except a block list (%s BlockedAppList): %s", [k.en, ap_en, k.en, k.field, w.details.en]),
		"ja": sprintf("%sの組織全体のアプリ設定は取得されていません。ブロック リスト以外の%sをすべて許可する（%s が BlockedAppList）従来の%s: %s", [k.ja, k.ja, k.field, ap_ja, w.details.ja]),
	}})
}
