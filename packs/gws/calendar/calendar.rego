# Google Calendar: external sharing of primary and secondary calendars, the external-invitation
# warning, Calendar Interop and paid appointment schedules, read from the Policy API per OU and
# group (only where Calendar is on).
package mamori.gws.calendar

import data.mamori.gws.lib.oulogs
import rego.v1

calendar_on(ou) if oulogs.app_on("calendar", ou)

sharing_label := {
	"EXTERNAL_ALL_INFO_READ_ONLY": {"en": "all event details visible to outsiders", "ja": "外部ユーザーにすべての予定の詳細を公開"},
	"EXTERNAL_ALL_INFO_READ_WRITE": {"en": "all event details, and outsiders can change calendars", "ja": "すべての予定の詳細を公開し、外部ユーザーが変更可能"},
	"EXTERNAL_ALL_INFO_READ_WRITE_MANAGE": {"en": "all event details, and outsiders can manage calendars", "ja": "すべての予定の詳細を公開し、外部ユーザーが管理可能"},
}

# ---------------------------------------------------------------------------------------------
# 1. External sharing
# ---------------------------------------------------------------------------------------------

overshared(section) := {ou: {"en": sprintf("external sharing: %s", [oulogs.label_of(sharing_label, v).en]), "ja": sprintf("外部共有: %s", [oulogs.label_of(sharing_label, v).ja])} |
	some ou, v in oulogs.explicit(section, "maxAllowedExternalSharing")
	calendar_on(ou)
	v != "EXTERNAL_FREE_BUSY_ONLY"
}

results contains oulogs.ou_verdict(
	"GWS.CALENDAR.1.1v1", overshared("calendar_primary_calendar_max_allowed_external_sharing"),
	oulogs.top_note("calendar", "Calendar", "calendar_primary_calendar_max_allowed_external_sharing", "maxAllowedExternalSharing"),
	{"en": "Primary calendars must share only free/busy information outside the organization.", "ja": "メインカレンダーの外部共有は「予定の有無のみ」にする必要があります。"},
)

results contains oulogs.ou_verdict(
	"GWS.CALENDAR.1.2v1", overshared("calendar_secondary_calendar_max_allowed_external_sharing"),
	oulogs.top_note("calendar", "Calendar", "calendar_secondary_calendar_max_allowed_external_sharing", "maxAllowedExternalSharing"),
	{"en": "Secondary calendars must share only free/busy information outside the organization.", "ja": "セカンダリ カレンダーの外部共有は「予定の有無のみ」にする必要があります。"},
)

# ---------------------------------------------------------------------------------------------
# 2. External invitation warning
# ---------------------------------------------------------------------------------------------

no_warning := {ou: {"en": sprintf("warning before inviting external guests = %v", [v]), "ja": sprintf("外部ゲスト招待時の警告 = %v", [v])} |
	some ou, v in oulogs.explicit("calendar_external_invitations", "warnOnInvite")
	calendar_on(ou)
	v != true
}

results contains oulogs.ou_verdict(
	"GWS.CALENDAR.2.1v1", no_warning,
	oulogs.top_note("calendar", "Calendar", "calendar_external_invitations", "warnOnInvite"),
	{"en": "Users must be warned before they invite guests from outside the organization.", "ja": "組織外のゲストを招待する前にユーザーに警告する必要があります。"},
)

# ---------------------------------------------------------------------------------------------
# 3. Calendar Interop
# ---------------------------------------------------------------------------------------------

interop_on := {ou: {"en": sprintf("Calendar Interop enabled = %v", [v]), "ja": sprintf("Calendar Interop の有効化 = %v", [v])} |
	some ou, v in oulogs.explicit("calendar_interoperability", "enableInteroperability")
	calendar_on(ou)
	v != false
}

results contains oulogs.ou_verdict(
	"GWS.CALENDAR.3.1v1", interop_on,
	oulogs.top_note("calendar", "Calendar", "calendar_interoperability", "enableInteroperability"),
	{"en": "Calendar Interop with Microsoft Exchange should be off unless the mission requires it.", "ja": "Microsoft Exchange との Calendar Interop は、業務上必要な場合を除きオフにすることが推奨されます。"},
)

# ---------------------------------------------------------------------------------------------
# 4. Paid appointment schedules
# ---------------------------------------------------------------------------------------------

payments_on := {ou: {"en": sprintf("payments for appointment schedules enabled = %v", [v]), "ja": sprintf("予約スケジュールの支払いの有効化 = %v", [v])} |
	some ou, v in oulogs.explicit("calendar_appointment_schedules", "enablePayments")
	calendar_on(ou)
	v != false
}

results contains oulogs.ou_verdict(
	"GWS.CALENDAR.4.1v1", payments_on,
	oulogs.top_note("calendar", "Calendar", "calendar_appointment_schedules", "enablePayments"),
	{"en": "Paid appointment schedules should be off.", "ja": "有料の予約スケジュールはオフにすることが推奨されます。"},
)
