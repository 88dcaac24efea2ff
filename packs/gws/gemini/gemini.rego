# Gemini: Gemini app access for users without a Gemini license and access to pre-release
# (Alpha/Beta) Gemini features. The Policy API does not expose either setting, so both are read
# from the admin log (gemini_logs); without any change recorded for the top-level OU the Google
# default (off) applies, which the reference counts as compliant.
package mamori.gws.gemini

import data.mamori.gws.lib.oulogs
import rego.v1

# This product's admin log, read once (see read_log in lib/ou_logs.rego), with the settings read
# from it.
admin_log := oulogs.read_log("gemini_logs", unlicensed | alpha)

ou_events(settings, ou) := oulogs.ou_events(admin_log, settings, ou)

turned_on(evs) := {
	"en": sprintf("turned on %s", [oulogs.latest_time(evs)]),
	"ja": sprintf("%s にオン", [oulogs.latest_time(evs)]),
}

log_note(settings, name_en, name_ja) := {
	"en": sprintf("No change of %s is recorded in the admin log for the top-level OU '%s'; as in the reference, Google's default (off) is taken to apply. The log only covers recent changes: confirm in the Admin console. No OU or group in the log turns it on.", [name_en, oulogs.top_disp]),
	"ja": sprintf("最上位の組織部門「%s」について%sの変更は管理ログに記録されていないため、参照実装と同様に Google の既定値（オフ）が適用されているものとみなします。ログは最近の変更しか含まないため、管理コンソールで確認してください。ログ上でオンにしている組織部門/グループはありません。", [oulogs.top_disp, name_ja]),
} if {
	count(ou_events(settings, oulogs.top_ou)) == 0
} else := {
	"en": sprintf("The top-level OU '%s' last set %s to %s (%s); no OU or group where the setting applies has it turned on.", [oulogs.top_disp, name_en, oulogs.latest_text(ou_events(settings, oulogs.top_ou)), oulogs.latest_time(ou_events(settings, oulogs.top_ou))]),
	"ja": sprintf("最上位の組織部門「%s」の%sの最終設定値は %s（%s）です。この設定が適用される組織部門/グループで、オンになっているものはありません。", [oulogs.top_disp, name_ja, oulogs.latest_text(ou_events(settings, oulogs.top_ou)), oulogs.latest_time(ou_events(settings, oulogs.top_ou))]),
}

# ---------------------------------------------------------------------------------------------
# 1.1 Gemini app for users without a license (only where the Gemini app is on)
# ---------------------------------------------------------------------------------------------

unlicensed := {"BardNonDuetEnablementProto enable_bard_non_duet_access"}

# For an OU its own events, for a group the OU named in the group's event: the Gemini app must be
# on there for the setting to matter.
unlicensed_on := {k: turned_on(evs) |
	some k, evs in oulogs.latest_by_scope(admin_log, unlicensed)
	some ev in oulogs.latest(evs)
	ev.value == "true"
	oulogs.app_on("gemini_app", ev.ou)
}

app_note := {
	"en": " The Gemini app itself is not reported as on for the top-level OU, so the setting only matters where an OU or group turns the app on.",
	"ja": " 最上位の組織部門では Gemini アプリ自体がオンと報告されていないため、この設定はアプリをオンにしている組織部門/グループでのみ意味を持ちます。",
} if {
	not oulogs.top_on("gemini_app")
} else := {"en": "", "ja": ""}

note_1_1 := {lang: concat("", [text, app_note[lang]]) |
	some lang, text in log_note(unlicensed, "Gemini app access regardless of license", "ライセンスに関係なく Gemini アプリへのアクセスを許可する設定")
}

results contains oulogs.ou_verdict(
	"GWS.GEMINI.1.1v1", unlicensed_on,
	note_1_1,
	{"en": "Users without a Gemini license must not be able to use the Gemini app.", "ja": "Gemini のライセンスを持たないユーザーが Gemini アプリを使えないようにする必要があります。"},
)

# ---------------------------------------------------------------------------------------------
# 2.1 Alpha/Beta Gemini features (two setting names have carried this switch)
# ---------------------------------------------------------------------------------------------

alpha := {"GenAiAlphaSettingsProto alpha_enabled", "Beta Gemini Features Beta Features enabled"}

alpha_on := {k: turned_on(evs) |
	some k, evs in oulogs.latest_by_scope(admin_log, alpha)
	"true" in oulogs.latest_values(evs)
}

results contains oulogs.ou_verdict(
	"GWS.GEMINI.2.1v1", alpha_on,
	log_note(alpha, "access to Alpha Gemini features", "Gemini のアルファ版機能へのアクセス"),
	{"en": "Alpha (pre-release) Gemini features must be off.", "ja": "Gemini のアルファ版（プレリリース）機能はオフにする必要があります。"},
)
