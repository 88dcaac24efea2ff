# Assured Controls: Access Approvals and the access-management regime for Google staff (Policy
# API, per OU and group), and the per-app switches for features that may process data outside
# the chosen data region (admin log, assuredcontrols_logs).
package mamori.gws.assuredcontrols

import data.mamori.gws.lib
import data.mamori.gws.lib.oulogs
import rego.v1

# This product's admin log, read once (see read_log in lib/ou_logs.rego), with the settings read
# from it (section 2).
admin_log := oulogs.read_log("assuredcontrols_logs", {s | some s, _ in region_apps})

ou_events(settings, ou) := oulogs.ou_events(admin_log, settings, ou)

# ---------------------------------------------------------------------------------------------
# 1.1 Access Approvals
# ---------------------------------------------------------------------------------------------

no_approval := {ou: {"en": sprintf("customer approval for Google staff access = %v", [v]), "ja": sprintf("Google スタッフのアクセスに対するお客様の承認 = %v", [v])} |
	some ou, v in oulogs.explicit("access_approval_axa_user_scoping", "requiresCustomerApproval")
	v != true
}

results contains oulogs.ou_verdict(
	"GWS.ASSUREDCONTROLS.1.1v1", no_approval,
	oulogs.top_note("", "", "access_approval_axa_user_scoping", "requiresCustomerApproval"),
	{"en": "Google staff access to customer data should require the organization's approval (Access Approvals).", "ja": "Google スタッフによる顧客データへのアクセスには、組織の承認（アクセス承認）を必須にすることが推奨されます。"},
)

# ---------------------------------------------------------------------------------------------
# 1.2 Access management regime
# ---------------------------------------------------------------------------------------------

regime_label := {
	"PREFERENCE_UNSPECIFIED": {"en": "no preference (any Google staff)", "ja": "指定なし（すべての Google スタッフ）"},
	"EU_GOOGLE_STAFF": {"en": "EU Google staff or via EU virtual desktop", "ja": "EU の Google スタッフまたは EU の仮想デスクトップ経由"},
}

wrong_regime := {ou: {"en": sprintf("access management: %s", [oulogs.label_of(regime_label, v).en]), "ja": sprintf("アクセス管理: %s", [oulogs.label_of(regime_label, v).ja])} |
	some ou, v in oulogs.explicit("access_management_user_scoping", "accessManagementRegime")
	not v in {"US_GOOGLE_STAFF", "CJIS_IRS_1075_GOOGLE_STAFF"}
}

results contains oulogs.ou_verdict(
	"GWS.ASSUREDCONTROLS.1.2v1", wrong_regime,
	oulogs.top_note("", "", "access_management_user_scoping", "accessManagementRegime"),
	{"en": "Google staff access should be limited to U.S. Google staff (or to CJIS/IRS 1075-authorized staff).", "ja": "Google スタッフのアクセスは、米国の Google スタッフ（または CJIS / IRS 1075 の認可を受けたスタッフ）に限定することが推奨されます。"},
)

# ---------------------------------------------------------------------------------------------
# 2.1 Features that may process data outside the data region (admin log)
# ---------------------------------------------------------------------------------------------

region_apps := {
	"CalendarNonRegionalizedFunctionalityStateSettingsProto state": "Calendar",
	"DocsNonRegionalizedFunctionalityStateSettingsProto state": "Drive and Docs",
	"GmailNonRegionalizedFunctionalityStateSettingsProto state": "Gmail",
	"ChatNonRegionalizedFunctionalityStateSettingsProto state": "Chat",
	"MeetNonRegionalizedFunctionalityStateSettingsProto state": "Meet",
	"GeminiNonRegionalizedFunctionalityStateSettingsProto state": "Gemini",
}

# Apps of which the top-level OU has no recorded state.
unrecorded_apps := sort([app | some s, app in region_apps; count(ou_events({s}, oulogs.top_ou)) == 0])

# Apps whose latest state in a set of events is ENABLED.
enabled_apps(evs_of) := sort([app | some s, app in region_apps; "ENABLED" in oulogs.latest_values(evs_of[s])])

ou_region_events(ou) := {s: ou_events({s}, ou) | some s, _ in region_apps}

group_region_events(g) := {s: oulogs.group_events(admin_log, {s}, g) | some s, _ in region_apps}

multi_region := object.union(
	{ou: d |
		some ou in admin_log.ous
		apps := enabled_apps(ou_region_events(ou))
		count(apps) > 0
		d := {"en": sprintf("multi-region features on for %s", [concat(", ", apps)]), "ja": sprintf("複数リージョンで処理する機能がオン: %s", [concat("、", apps)])}
	},
	{sprintf("group %s", [g]): d |
		some g in admin_log.groups
		apps := enabled_apps(group_region_events(g))
		count(apps) > 0
		d := {"en": sprintf("multi-region features on for %s", [concat(", ", apps)]), "ja": sprintf("複数リージョンで処理する機能がオン: %s", [concat("、", apps)])}
	},
)

results contains lib.verdict_with(
	"GWS.ASSUREDCONTROLS.2.1v1", false,
	sprintf("The admin log has no recorded state for the top-level OU '%s' of the data-region switch for: %s. Without it the setting cannot be confirmed, so (as in the reference) the policy is not counted as met: check Data > Compliance > Data regions by hand.", [oulogs.top_disp, concat(", ", unrecorded_apps)]),
	sprintf("最上位の組織部門「%s」について、次のアプリのデータ リージョン設定の記録が管理ログにありません: %s。記録がないと設定を確認できないため、（参照実装と同様に）適合とは判定しません。［データ］>［コンプライアンス］>［データのリージョン］を手動で確認してください。", [oulogs.top_disp, concat("、", unrecorded_apps)]),
	[oulogs.top_disp],
) if count(unrecorded_apps) > 0

results contains oulogs.ou_verdict(
	"GWS.ASSUREDCONTROLS.2.1v1", multi_region,
	{
		"en": sprintf("The top-level OU '%s' has features that may process data outside the data region turned off for Calendar, Drive and Docs, Gmail, Chat, Meet and Gemini, and no OU or group in the log turns them on.", [oulogs.top_disp]),
		"ja": sprintf("最上位の組織部門「%s」では、カレンダー、ドライブとドキュメント、Gmail、Chat、Meet、Gemini のデータ リージョン外で処理する可能性のある機能がオフで、ログ上でオンにしている組織部門/グループはありません。", [oulogs.top_disp]),
	},
	{"en": "Features that may process data outside the chosen data region should be off.", "ja": "選択したデータ リージョンの外でデータを処理する可能性のある機能は、オフにすることが推奨されます。"},
) if count(unrecorded_apps) == 0
