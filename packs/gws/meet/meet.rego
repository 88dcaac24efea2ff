# Google Meet: who can join meetings, which meetings users can join, host management, the
# external-participant label and automatic recording/transcription come from the Policy API per
# OU and group (only where Meet is on); the sharing of Gemini meeting notes (6.x) is only
# visible in the admin log (meet_logs).
package mamori.gws.meet

import data.mamori.gws.lib.oulogs
import rego.v1

# This product's admin log, read once (see read_log in lib/ou_logs.rego), with the settings read
# from it (section 6).
admin_log := oulogs.read_log("meet_logs", {notes_manage, notes_default})

ou_events(settings, ou) := oulogs.ou_events(admin_log, settings, ou)

meet_on(ou) if oulogs.app_on("meet", ou)

# ---------------------------------------------------------------------------------------------
# 1. Meeting access
# ---------------------------------------------------------------------------------------------

audience_label := {
	"OPEN": {"en": "open: anyone with the link can join without asking", "ja": "オープン: リンクを知っていれば誰でもリクエストなしで参加可能"},
	"ALLOWED_AUDIENCE_UNSPECIFIED": {"en": "unspecified", "ja": "未指定"},
}

open_meetings := {ou: {"en": sprintf("meeting access is %s", [oulogs.label_of(audience_label, v).en]), "ja": sprintf("会議へのアクセスが%s", [oulogs.label_of(audience_label, v).ja])} |
	some ou, v in oulogs.explicit("meet_meet_joining", "allowedAudience")
	meet_on(ou)
	not v in {"TRUSTED", "RESTRICTED"}
}

results contains oulogs.ou_verdict(
	"GWS.MEET.1.1v1", open_meetings,
	oulogs.top_note("meet", "Meet", "meet_meet_joining", "allowedAudience"),
	{"en": "Who can join meetings without asking must be limited to users in the organization (Trusted) or to invited users (Restricted).", "ja": "リクエストなしで会議に参加できるユーザーは、組織内のユーザー（信頼できる）または招待されたユーザー（制限付き）に限定する必要があります。"},
)

# ---------------------------------------------------------------------------------------------
# 2. Meetings users can join
# ---------------------------------------------------------------------------------------------

join_label := {
	"ALL": {"en": "any meeting, including ones created with personal accounts", "ja": "個人アカウントで作成された会議を含むすべての会議"},
}

any_meetings := {ou: {"en": sprintf("users can join %s", [oulogs.label_of(join_label, v).en]), "ja": sprintf("参加できる会議: %s", [oulogs.label_of(join_label, v).ja])} |
	some ou, v in oulogs.explicit("meet_safety_access", "meetingsAllowedToJoin")
	meet_on(ou)
	not v in {"SAME_ORGANIZATION_ONLY", "ANY_WORKSPACE_ORGANIZATION"}
}

results contains oulogs.ou_verdict(
	"GWS.MEET.2.1v1", any_meetings,
	oulogs.top_note("meet", "Meet", "meet_safety_access", "meetingsAllowedToJoin"),
	{"en": "Users must not be able to join meetings created by accounts outside any Google Workspace organization.", "ja": "Google Workspace の組織に属さないアカウントが作成した会議に、ユーザーが参加できないようにする必要があります。"},
)

# ---------------------------------------------------------------------------------------------
# 3. Host management, 4. external participants
# ---------------------------------------------------------------------------------------------

no_host_mgmt := {ou: {"en": sprintf("host management at call start is %v", [v]), "ja": sprintf("通話開始時のホスト管理が %v", [v])} |
	some ou, v in oulogs.explicit("meet_safety_host_management", "enableHostManagement")
	meet_on(ou)
	v != true
}

results contains oulogs.ou_verdict(
	"GWS.MEET.3.1v1", no_host_mgmt,
	oulogs.top_note("meet", "Meet", "meet_safety_host_management", "enableHostManagement"),
	{"en": "Video calls must start with host management turned on.", "ja": "ビデオ通話はホスト管理をオンにした状態で開始する必要があります。"},
)

no_ext_label := {ou: {"en": sprintf("external-participant label is %v", [v]), "ja": sprintf("外部参加者のラベル表示が %v", [v])} |
	some ou, v in oulogs.explicit("meet_safety_external_participants", "enableExternalLabel")
	meet_on(ou)
	v != true
}

results contains oulogs.ou_verdict(
	"GWS.MEET.4.1v1", no_ext_label,
	oulogs.top_note("meet", "Meet", "meet_safety_external_participants", "enableExternalLabel"),
	{"en": "External or unidentified participants must be labelled in meetings.", "ja": "会議で外部または身元不明の参加者にラベルを表示する必要があります。"},
)

# ---------------------------------------------------------------------------------------------
# 5. Automatic recording and transcription
# ---------------------------------------------------------------------------------------------

auto_recording := {ou: {"en": sprintf("automatic recording enabled = %v", [v]), "ja": sprintf("自動録画の有効化 = %v", [v])} |
	some ou, v in oulogs.explicit("meet_automatic_recording", "enabled")
	meet_on(ou)
	v != false
}

results contains oulogs.ou_verdict(
	"GWS.MEET.5.1v1", auto_recording,
	oulogs.top_note("meet", "Meet", "meet_automatic_recording", "enabled"),
	{"en": "Automatic recording of meetings must be off.", "ja": "会議の自動録画はオフにする必要があります。"},
)

auto_transcription := {ou: {"en": sprintf("automatic transcription enabled = %v", [v]), "ja": sprintf("自動文字起こしの有効化 = %v", [v])} |
	some ou, v in oulogs.explicit("meet_automatic_transcription", "enabled")
	meet_on(ou)
	v != false
}

results contains oulogs.ou_verdict(
	"GWS.MEET.5.2v1", auto_transcription,
	oulogs.top_note("meet", "Meet", "meet_automatic_transcription", "enabled"),
	{"en": "Automatic transcription of meetings must be off.", "ja": "会議の自動文字起こしはオフにする必要があります。"},
)

# ---------------------------------------------------------------------------------------------
# 6. Gemini meeting notes (admin log). Without any change recorded for the top-level OU the
# Google default applies, which the reference counts as compliant.
# ---------------------------------------------------------------------------------------------

notes_manage := "MeetGenAiSmartNotesDocAccessProto manage_smart_notes_doc_access"

notes_default := "MeetGenAiSmartNotesDocAccessProto default_smart_notes_doc_access"

hosts_change_access := {k: {"en": sprintf("organizers may change who gets the notes (set %s)", [oulogs.latest_time(evs)]), "ja": sprintf("主催者がメモの共有先を変更可能（%s に設定）", [oulogs.latest_time(evs)])} |
	some k, evs in oulogs.latest_by_scope(admin_log, {notes_manage})
	"true" in oulogs.latest_values(evs)
}

notes_ok(v) if v in {"IN_DOMAIN", "HOSTS_AND_COHOSTS_ONLY", "DELETE_APPLICATION_SETTING"}

notes_shared := {k: {"en": sprintf("notes go by default to %s (set %s)", [oulogs.latest_text(evs), oulogs.latest_time(evs)]), "ja": sprintf("メモの既定の共有先が %s（%s に設定）", [oulogs.latest_text(evs), oulogs.latest_time(evs)])} |
	some k, evs in oulogs.latest_by_scope(admin_log, {notes_default})
	some v in oulogs.latest_values(evs)
	not notes_ok(v)
}

log_note(setting, what_en, what_ja) := {
	"en": sprintf("No change of %s is recorded in the admin log for the top-level OU '%s'; as in the reference, Google's default is taken to apply and to meet the policy (%s). The log only covers recent changes: confirm in the Admin console. No OU or group in the log sets a non-compliant value.", [setting, oulogs.top_disp, what_en]),
	"ja": sprintf("最上位の組織部門「%s」について %s の変更は管理ログに記録されていないため、参照実装と同様に Google の既定値が適用されポリシーを満たすものとみなします（%s）。ログは最近の変更しか含まないため、管理コンソールで確認してください。準拠しない値を設定している組織部門/グループはログにありません。", [oulogs.top_disp, setting, what_ja]),
} if {
	count(ou_events({setting}, oulogs.top_ou)) == 0
} else := {
	"en": sprintf("The top-level OU '%s' last set %s to %s (%s), and no OU or group in the log sets a non-compliant value.", [oulogs.top_disp, setting, oulogs.latest_text(ou_events({setting}, oulogs.top_ou)), oulogs.latest_time(ou_events({setting}, oulogs.top_ou))]),
	"ja": sprintf("最上位の組織部門「%s」の %s の最終設定値は %s（%s）で、準拠しない値を設定している組織部門/グループはログにありません。", [oulogs.top_disp, setting, oulogs.latest_text(ou_events({setting}, oulogs.top_ou)), oulogs.latest_time(ou_events({setting}, oulogs.top_ou))]),
}

results contains oulogs.ou_verdict(
	"GWS.MEET.6.1v1", hosts_change_access,
	log_note(notes_manage, "organizers cannot change who gets the notes", "主催者はメモの共有先を変更できない"),
	{"en": "Meeting organizers should not be allowed to change who gets access to Gemini meeting notes.", "ja": "Gemini の会議メモにアクセスできるユーザーを主催者が変更できないようにすることが推奨されます。"},
)

results contains oulogs.ou_verdict(
	"GWS.MEET.6.2v1", notes_shared,
	log_note(notes_default, "notes shared within the organization only", "メモは組織内でのみ共有"),
	{"en": "Gemini meeting notes must by default be shared only with the hosts and co-hosts (or at most with invitees inside the organization).", "ja": "Gemini の会議メモの既定の共有先は、主催者と共同主催者（最大でも組織内の招待者）に限定する必要があります。"},
)
