# Google Chat: conversation and space history, external file sharing, external chat, and
# content reporting. Settings 1-4 come from the Policy API per OU and group (only where Chat is
# on); content reporting (5.x) is only visible in the admin log (chat_logs).
package mamori.gws.chat

import data.mamori.gws.lib
import data.mamori.gws.lib.oulogs
import rego.v1

# This product's admin log, read once (see read_log in lib/ou_logs.rego), with the settings read
# from it (section 5).
admin_log := oulogs.read_log("chat_logs", {cr_one, cr_group, cr_spaces, cr_restrict, cr_types})

ou_events(settings, ou) := oulogs.ou_events(admin_log, settings, ou)

chat_on(ou) if oulogs.app_on("chat", ou)

# ---------------------------------------------------------------------------------------------
# 1. Chat history
# ---------------------------------------------------------------------------------------------

history_off := {ou: {"en": "history is off by default", "ja": "履歴がデフォルトでオフ"} |
	some ou, v in oulogs.explicit("chat_chat_history", "historyOnByDefault")
	chat_on(ou)
	v == false
}

results contains oulogs.ou_verdict(
	"GWS.CHAT.1.1v1", history_off,
	oulogs.top_note("chat", "Chat", "chat_chat_history", "historyOnByDefault"),
	{"en": "Chat history must be on by default.", "ja": "チャットの履歴はデフォルトでオンにする必要があります。"},
)

history_changeable := {ou: {"en": sprintf("users may change their history setting (allowUserModification = %v)", [v]), "ja": sprintf("ユーザーが履歴設定を変更可能（allowUserModification = %v）", [v])} |
	some ou, v in oulogs.explicit("chat_chat_history", "allowUserModification")
	chat_on(ou)
	v != false
}

results contains oulogs.ou_verdict(
	"GWS.CHAT.1.2v1", history_changeable,
	oulogs.top_note("chat", "Chat", "chat_chat_history", "allowUserModification"),
	{"en": "Users must not be able to change their chat history setting.", "ja": "ユーザーがチャットの履歴設定を変更できないようにする必要があります。"},
)

# ---------------------------------------------------------------------------------------------
# 2. External file sharing
# ---------------------------------------------------------------------------------------------

file_sharing_label := {
	"ALL_FILES": {"en": "all files", "ja": "すべてのファイル"},
	"IMAGES_ONLY": {"en": "images only", "ja": "画像のみ"},
	"FILE_SHARING_OPTION_UNSPECIFIED": {"en": "unspecified", "ja": "未指定"},
}

external_files := {ou: {"en": sprintf("external file sharing allows %s", [oulogs.label_of(file_sharing_label, v).en]), "ja": sprintf("外部ファイル共有で%sを許可", [oulogs.label_of(file_sharing_label, v).ja])} |
	some ou, v in oulogs.explicit("chat_chat_file_sharing", "externalFileSharing")
	chat_on(ou)
	v != "NO_FILES"
}

results contains oulogs.ou_verdict(
	"GWS.CHAT.2.1v1", external_files,
	oulogs.top_note("chat", "Chat", "chat_chat_file_sharing", "externalFileSharing"),
	{"en": "External file sharing in Chat must be set to no files.", "ja": "Chat の外部ファイル共有は「ファイル共有を許可しない」にする必要があります。"},
)

# ---------------------------------------------------------------------------------------------
# 3. Space history
# ---------------------------------------------------------------------------------------------

space_history_label := {
	"DEFAULT_HISTORY_OFF": {"en": "off by default", "ja": "デフォルトでオフ"},
	"DEFAULT_HISTORY_ON": {"en": "on by default (users can turn it off)", "ja": "デフォルトでオン（ユーザーがオフにできる）"},
	"HISTORY_ALWAYS_OFF": {"en": "always off", "ja": "常にオフ"},
	"HISTORY_STATE_UNSPECIFIED": {"en": "unspecified", "ja": "未指定"},
}

space_history := {ou: {"en": sprintf("space history is %s", [oulogs.label_of(space_history_label, v).en]), "ja": sprintf("スペースの履歴が%s", [oulogs.label_of(space_history_label, v).ja])} |
	some ou, v in oulogs.explicit("chat_space_history", "historyState")
	chat_on(ou)
	v != "HISTORY_ALWAYS_ON"
}

results contains oulogs.ou_verdict(
	"GWS.CHAT.3.1v1", space_history,
	oulogs.top_note("chat", "Chat", "chat_space_history", "historyState"),
	{"en": "History for spaces should be always on.", "ja": "スペースの履歴は「常にオン」にすることが推奨されます。"},
)

# ---------------------------------------------------------------------------------------------
# 4. External chat
# ---------------------------------------------------------------------------------------------

external_chat := {ou: {"en": sprintf("external chat is allowed with %v", [r]), "ja": sprintf("外部チャットを許可（対象: %v）", [r])} |
	some ou, s in oulogs.pols
	is_object(s)
	sec := s.chat_external_chat_restriction
	is_object(sec)
	sec.allowExternalChat == true
	r := sec.externalChatRestriction
	r != "TRUSTED_DOMAINS"
	chat_on(ou)
}

results contains oulogs.ou_verdict(
	"GWS.CHAT.4.1v1", external_chat,
	oulogs.top_note("chat", "Chat", "chat_external_chat_restriction", "externalChatRestriction"),
	{"en": "When external chat is allowed it must be limited to allowlisted (trusted) domains.", "ja": "外部チャットを許可する場合は、許可リストに登録された（信頼できる）ドメインに限定する必要があります。"},
)

# ---------------------------------------------------------------------------------------------
# 5. Content reporting (admin log)
# ---------------------------------------------------------------------------------------------

cr_one := "ContentReportingProto one_on_one_reporting"

cr_group := "ContentReportingProto group_chat_reporting"

cr_spaces := "ContentReportingProto room_reporting"

cr_restrict := "ContentReportingProto room_restrictions"

cr_keys := [cr_one, cr_group, cr_spaces, cr_restrict]

cr_label := {
	cr_one: {"en": "1:1 direct messages not reportable", "ja": "1 対 1 のメッセージを報告できない"},
	cr_group: {"en": "group messages not reportable", "ja": "グループ メッセージを報告できない"},
	cr_spaces: {"en": "spaces not reportable", "ja": "スペースを報告できない"},
	cr_restrict: {"en": "reporting limited to discoverable spaces", "ja": "報告が検索可能なスペースに限定"},
}

# A value that leaves content reporting off. On the top-level OU a removed setting
# (DELETE_APPLICATION_SETTING) means reporting was switched off, as it cannot inherit; on a
# child OU it is indistinguishable from going back to inheritance, so it is not counted.
cr_bad(k, v, _) if {
	k != cr_restrict
	v == "CONTENT_REPORTING_STATE_DISABLED"
}

cr_bad(k, v, true) if {
	k != cr_restrict
	v == "DELETE_APPLICATION_SETTING"
}

cr_bad(k, v, _) if {
	k == cr_restrict
	v == "SPACE_RESTRICTIONS_DISCOVERABLE_SPACES_ONLY"
}

cr_bad(k, v, true) if {
	k == cr_restrict
	v == "DELETE_APPLICATION_SETTING"
}

cr_missing(ou) := [k | some k in cr_keys; count(ou_events({k}, ou)) == 0]

cr_problems(ou) := [cr_label[k] | some k in cr_keys; some v in oulogs.latest_values(ou_events({k}, ou)); cr_bad(k, v, oulogs.top_flag(ou))]

reporting_off := {ou: {"en": concat(", ", {p.en | some p in probs}), "ja": concat("、", {p.ja | some p in probs})} |
	some ou in admin_log.ous
	count(cr_missing(ou)) == 0
	probs := cr_problems(ou)
	count(probs) > 0
}

cr_caveat := {
	"en": "Child OUs that switched reporting off entirely cannot be told apart from OUs that inherit in the log: check child OUs by hand.",
	"ja": "ログ上では、報告を完全にオフにした子組織部門と設定を継承している子組織部門を区別できません。子組織部門は手動で確認してください。",
}

results contains lib.verdict_with(
	"GWS.CHAT.5.1v1", false,
	sprintf("The admin log has no complete record of the content-reporting settings for the top-level OU '%s' (no event for: %s). Without it the setting cannot be confirmed, so (as in the reference) the policy is not counted as met: check Apps > Google Workspace > Google Chat > Content reporting by hand.", [oulogs.top_disp, concat(", ", cr_missing(oulogs.top_ou))]),
	sprintf("最上位の組織部門「%s」のコンテンツ報告の設定が管理ログに揃っていません（イベントなし: %s）。記録がないと設定を確認できないため、（参照実装と同様に）適合とは判定しません。［アプリ］>［Google Workspace］>［Google Chat］>［コンテンツの報告］を手動で確認してください。", [oulogs.top_disp, concat("、", cr_missing(oulogs.top_ou))]),
	[oulogs.top_disp],
) if count(cr_missing(oulogs.top_ou)) > 0

results contains v if {
	count(cr_missing(oulogs.top_ou)) == 0
	v := oulogs.ou_verdict(
		"GWS.CHAT.5.1v1", reporting_off,
		{
			"en": sprintf("Content reporting is on for 1:1 messages, group messages and all spaces in the top-level OU '%s' (last change %s), and no OU in the log turns it off. %s", [oulogs.top_disp, oulogs.latest_time(ou_events({cr_one}, oulogs.top_ou)), cr_caveat.en]),
			"ja": sprintf("最上位の組織部門「%s」では 1 対 1 のメッセージ、グループ メッセージ、すべてのスペースでコンテンツの報告がオンです（最終変更 %s）。ログ上で報告をオフにしている組織部門はありません。%s", [oulogs.top_disp, oulogs.latest_time(ou_events({cr_one}, oulogs.top_ou)), cr_caveat.ja]),
		},
		{"en": "Users must be able to report content in every conversation type.", "ja": "すべての会話の種類でユーザーがコンテンツを報告できるようにする必要があります。"},
	)
}

cr_types := "ContentReportingProto report_types"

all_categories := {"HARASSMENT", "DISCRIMINATION", "EXPLICIT_CONTENT", "SPAM", "CONFIDENTIAL_INFORMATION", "SENSITIVE_INFORMATION", "OTHER"}

# "[system_violation: HARASSMENT\n, system_violation: \t SPAM\n]" -> {"HARASSMENT", "SPAM"}
categories(v) := {trim_space(replace(trim(x, " []\n\t"), "system_violation:", "")) | some x in split(v, ",")}

missing_categories(v, _) := all_categories - categories(v) if {
	is_string(v)
	v != "DELETE_APPLICATION_SETTING"
}

missing_categories(v, true) := all_categories if v == "DELETE_APPLICATION_SETTING"

missing_categories(v, false) := set() if v == "DELETE_APPLICATION_SETTING"

missing_categories(v, _) := all_categories if not is_string(v)

categories_off := {ou: {"en": sprintf("categories not selected: %s", [concat(", ", sort(miss))]), "ja": sprintf("未選択のカテゴリ: %s", [concat("、", sort(miss))])} |
	some ou in admin_log.ous
	evs := ou_events({cr_types}, ou)
	count(evs) > 0
	miss := union({missing_categories(v, oulogs.top_flag(ou)) | some v in oulogs.latest_values(evs)})
	count(miss) > 0
}

results contains lib.verdict_with(
	"GWS.CHAT.5.2v1", false,
	sprintf("The admin log has no record of the content-reporting categories for the top-level OU '%s', so they cannot be confirmed and (as in the reference) the policy is not counted as met: check Apps > Google Workspace > Google Chat > Content reporting by hand.", [oulogs.top_disp]),
	sprintf("最上位の組織部門「%s」のコンテンツ報告カテゴリの記録が管理ログにないため確認できず、（参照実装と同様に）適合とは判定しません。［アプリ］>［Google Workspace］>［Google Chat］>［コンテンツの報告］を手動で確認してください。", [oulogs.top_disp]),
	[oulogs.top_disp],
) if count(ou_events({cr_types}, oulogs.top_ou)) == 0

results contains v if {
	evs := ou_events({cr_types}, oulogs.top_ou)
	count(evs) > 0
	v := oulogs.ou_verdict(
		"GWS.CHAT.5.2v1", categories_off,
		{
			"en": sprintf("All seven reporting categories are selected in the top-level OU '%s' (last change %s), and no OU in the log deselects any.", [oulogs.top_disp, oulogs.latest_time(evs)]),
			"ja": sprintf("最上位の組織部門「%s」では 7 つの報告カテゴリがすべて選択されており（最終変更 %s）、ログ上で選択を外している組織部門はありません。", [oulogs.top_disp, oulogs.latest_time(evs)]),
		},
		{"en": "All content-reporting categories should be selected.", "ja": "コンテンツ報告のカテゴリはすべて選択することが推奨されます。"},
	)
}
