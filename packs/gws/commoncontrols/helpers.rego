# Common-controls helpers: the top-level OU, per-OU setting lookups with inheritance from the
# top-level OU, admin-log events of commoncontrols_logs, durations and the text of verdicts
# that list offending OUs and groups. The rules live in commoncontrols.rego.
package mamori.gws.commoncontrols

import data.mamori.gws.lib
import rego.v1

default policies := {}

policies := input.policies if is_object(input.policies)

# ---------------------------------------------------------------------------
# Top-level OU: tenant_info.topLevelOU, or the only OU named by admin-log events when the
# tenant has no custom OU (topLevelOU is then empty). Undefined when it cannot be told.

ous_with_events contains ou if {
	is_object(input)
	some log in input
	is_object(log)
	is_array(log.items)
	some item in log.items
	is_object(item)
	is_array(item.events)
	some event in item.events
	is_object(event)
	is_array(event.parameters)
	some p in event.parameters
	is_object(p)
	p.name == "ORG_UNIT_NAME"
	ou := p.value
}

tenant_top := t if {
	is_object(input.tenant_info)
	t := input.tenant_info.topLevelOU
	is_string(t)
}

top_ou := tenant_top if tenant_top != ""

top_ou := t if {
	tenant_top == ""
	count(ous_with_events) == 1
	some t in ous_with_events
}

default top_label := "(unknown)"

top_label := top_ou

# ---------------------------------------------------------------------------
# Settings. A key of `policies` is an OU or a group override ("<OU> (group <GROUP>)").

# True when the OU (or group) sets the setting itself.
is_set(ou, section, setting) if {
	sec := policies[ou][section]
	is_object(sec)
	setting in object.keys(sec)
}

# The value the OU sets itself; undefined when it does not set it.
explicit(ou, section, setting) := policies[ou][section][setting] if is_set(ou, section, setting)

# Every OU or group that sets section.setting itself, mapped to its value, in one pass over the
# policies. Rules call it once and iterate over the result: calling `explicit` for each of the
# 2,000 OUs of a large tenant costs ~25 µs per OU and rule, since functions are not memoised.
explicit_values(section, setting) := {ou: v |
	some ou, s in policies
	sec := s[section]
	is_object(sec)
	v := sec[setting]
}

# The effective value in an OU from such a map: its own, else the top-level OU's.
resolved_in(values, ou) := v if {
	v := values[ou]
} else := v if {
	v := values[top_ou]
}

# True when some OU or group reports the setting.
reported(section, setting) if {
	some s in policies
	sec := s[section]
	is_object(sec)
	_ := sec[setting]
}

top_value(section, setting) := shown(v, "en") if {
	v := explicit(top_ou, section, setting)
} else := "not reported"

top_value_ja(section, setting) := shown(v, "ja") if {
	v := explicit(top_ou, section, setting)
} else := "未取得"

# A value for display; a list is summarised by its length.
shown(v, _) := sprintf("%v", [v]) if not is_array(v)

shown(v, "en") := sprintf("%d entries", [count(v)]) if is_array(v)

shown(v, "ja") := sprintf("%d 件", [count(v)]) if is_array(v)

# Every OU or group that sets the service's state ("ENABLED"/"DISABLED") itself, mapped to it
# in upper case.
service_states(service) := {ou: upper(s) |
	some ou, s in explicit_values(sprintf("%s_service_status", [service]), "serviceState")
	is_string(s)
}

# ---------------------------------------------------------------------------
# Durations such as "43200s", "12h", "700m" or "7d" (any case), in seconds.

# `^[0-9]+[smhdSMHD]$`, without regex.match (which compiles its pattern on every call).
duration_seconds(d) := to_number(digits) * unit_seconds[unit] if {
	is_string(d)
	n := count(d)
	n >= 2
	last := substring(d, n - 1, 1)
	last in {"s", "m", "h", "d", "S", "M", "H", "D"}
	unit := lower(last)
	digits := substring(d, 0, n - 1)
	trim_left(digits, "0123456789") == ""
}

unit_seconds := {"s": 1, "m": 60, "h": 3600, "d": 86400}

friendly_duration_en(s) := "unlimited (never expires)" if s == 63072000

friendly_duration_en(s) := sprintf("%d days", [s / 86400]) if {
	s != 63072000
	s > 86400
	s % 86400 == 0
}

friendly_duration_en(s) := sprintf("%d hours", [s / 3600]) if {
	s % 86400 != 0
	s % 3600 == 0
}

friendly_duration_en(86400) := "24 hours"

friendly_duration_en(s) := sprintf("%d seconds", [s]) if s % 3600 != 0

friendly_duration_en(0) := "0 seconds"

friendly_duration_ja(s) := "無期限" if s == 63072000

friendly_duration_ja(s) := sprintf("%d 日", [s / 86400]) if {
	s != 63072000
	s > 86400
	s % 86400 == 0
}

friendly_duration_ja(s) := sprintf("%d 時間", [s / 3600]) if {
	s % 86400 != 0
	s % 3600 == 0
}

friendly_duration_ja(86400) := "24 時間"

friendly_duration_ja(s) := sprintf("%d 秒", [s]) if s % 3600 != 0

friendly_duration_ja(0) := "0 秒"

# ---------------------------------------------------------------------------
# Admin-log events (commoncontrols_logs.items[].events[]).

log_events contains {"t": t, "event": event} if {
	is_object(input.commoncontrols_logs)
	is_array(input.commoncontrols_logs.items)
	some item in input.commoncontrols_logs.items
	is_object(item)
	is_string(item.id.time)
	t := time.parse_rfc3339_ns(item.id.time)
	is_array(item.events)
	some event in item.events
	is_object(event)
	is_array(event.parameters)
}

# The value of an event parameter; undefined when the event lacks it.
param(event, name) := [p.value | some p in event.parameters; is_object(p); p.name == name][0]

has_param(event, name) if {
	some p in event.parameters
	is_object(p)
	p.name == name
}

# OUs that exist now; events of deleted OUs are ignored when the export lists at least two.
known_ou(_) if not is_array(input.organizational_unit_names)

known_ou(_) if {
	is_array(input.organizational_unit_names)
	count(input.organizational_unit_names) < 2
}

known_ou(ou) if {
	is_array(input.organizational_unit_names)
	count(input.organizational_unit_names) >= 2
	ou in input.organizational_unit_names
}

# Changes of an application setting made at OU level (not for a group), with the new value;
# a deletion of the OU's own value counts as "DELETE_APPLICATION_SETTING".
setting_events(setting) := {{"t": e.t, "ou": ou, "v": v} |
	some e in log_events
	param(e.event, "SETTING_NAME") == setting
	not has_param(e.event, "GROUP_EMAIL")
	ou := param(e.event, "ORG_UNIT_NAME")
	known_ou(ou)
	v := event_value(e.event)
}

event_value(event) := param(event, "NEW_VALUE") if has_param(event, "NEW_VALUE")

event_value(event) := "DELETE_APPLICATION_SETTING" if {
	not has_param(event, "NEW_VALUE")
	event.name == "DELETE_APPLICATION_SETTING"
}

# The values of the most recent events among `events` (a set of {"t", "v", ...}).
last_values(events) := {e.v | some e in events; e.t == max({x.t | some x in events})}

# ---------------------------------------------------------------------------
# Verdicts over offending OUs and groups. `bad` is a set of {"ou", "en", "ja"}.

bad_names(bad) := sort({b.ou | some b in bad})

listing_en(bad) := concat("; ", sort([sprintf("%s: %s", [b.ou, b.en]) | some b in bad]))

listing_ja(bad) := concat("、", sort([sprintf("「%s」: %s", [b.ou, b.ja]) | some b in bad]))

# A verdict on one per-OU setting (section.setting), shown as label_en / label_ja.
ou_verdict(id, bad, section, setting, label_en, label_ja) := lib.verdict_with(
	id, count(bad) == 0,
	ou_text_en(bad, section, setting, label_en),
	ou_text_ja(bad, section, setting, label_ja),
	bad_names(bad),
)

ou_text_en(bad, _, _, label) := sprintf("%d OU(s) or group(s) do not comply with the %s requirement: %s.", [count(bad_names(bad)), label, listing_en(bad)]) if count(bad) > 0

ou_text_en(bad, section, setting, label) := sprintf("Every OU and group that sets %s complies (top-level OU %s: %s).", [label, top_label, top_value(section, setting)]) if {
	count(bad) == 0
	reported(section, setting)
}

ou_text_en(bad, section, setting, label) := sprintf("No OU or group reports %s (%s.%s) in the policy export, so nothing non-compliant was found; the effective value could not be confirmed and should be checked in the Admin console.", [label, section, setting]) if {
	count(bad) == 0
	not reported(section, setting)
}

ou_text_ja(bad, _, _, label) := sprintf("「%s」の要件を満たさない組織部門またはグループが %d 件あります: %s。", [label, count(bad_names(bad)), listing_ja(bad)]) if count(bad) > 0

ou_text_ja(bad, section, setting, label) := sprintf("「%s」について、設定しているすべての組織部門とグループが要件を満たしています（最上位の組織部門「%s」: %s）。", [label, top_label, top_value_ja(section, setting)]) if {
	count(bad) == 0
	reported(section, setting)
}

ou_text_ja(bad, section, setting, label) := sprintf("ポリシーのエクスポートに「%s」（%s.%s）を報告した組織部門・グループがないため、違反は検出されませんでしたが、実際の値は確認できていません。管理コンソールで確認してください。", [label, section, setting]) if {
	count(bad) == 0
	not reported(section, setting)
}
