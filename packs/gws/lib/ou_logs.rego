# Reading the ScubaGoggles export for the products whose settings come from the Policy API per
# OU and group and from their admin log (<product>_logs): Chat, Meet, Calendar, Gemini and
# Assured Controls. The top-level OU, the per-OU and per-group settings of the Cloud Identity
# Policy API (input.policies, with service on/off inherited from the top-level OU), the events of
# an admin log (read_log), and the OU/group verdict texts.
#
# A product that refers to a rule of this package through its import (`oulogs.top_disp`) makes
# regorus evaluate every rule of the package, used or not. The rules here are therefore kept cheap;
# the expensive reading of admin logs is done by functions (read_log, ous_in_logs), each called
# once from a rule that needs it.
package mamori.gws.lib.oulogs

import data.mamori.gws.lib
import rego.v1

# ---------------------------------------------------------------------------------------------
# Policy API settings
# ---------------------------------------------------------------------------------------------

default pols := {}

pols := input.policies if is_object(input.policies)

# The top-level OU: tenant_info.topLevelOU, or, when it is empty (no custom OU exists), the one
# OU that the admin-log events name.
default top_ou := ""

top_ou := t if {
	t := input.tenant_info.topLevelOU
	is_string(t)
	t != ""
}

top_ou := t if {
	input.tenant_info.topLevelOU == ""
	ous := ous_in_logs(input)
	count(ous) == 1
	some t in ous
}

# The top-level OU's name for details.
top_disp := top_ou if top_ou != ""

top_disp := "(unknown)" if top_ou == ""

# OUs named by any admin-log section of the export (called with `input`). A function, not a rule:
# see the note at the top of this file. (Something that is not an object has no items, events,
# parameters or name, so it is skipped without an is_object test, which would double the cost of
# this scan of every parameter of every log.)
ous_in_logs(export) := {ou |
	some _, log in export
	items := log.items
	is_array(items)
	some item in items
	is_array(item.events)
	some e in item.events
	ps := e.parameters
	is_array(ps)
	some p in ps
	p.name == "ORG_UNIT_NAME"
	ou := p.value
}

# Upper-cased service state ("ENABLED"/"DISABLED") an OU or group sets explicitly.
svc_state(ou, app) := upper(s) if {
	# One variable key per reference: regorus evaluates pols[ou][key] about ten times slower.
	p := pols[ou]
	sec := p[sprintf("%s_service_status", [app])]
	s := sec.serviceState
	is_string(s)
}

top_on(app) if svc_state(top_ou, app) == "ENABLED"

# The service is on for an OU or group: set on there, or inherited from the top-level OU and
# not switched off there.
app_on(app, ou) if svc_state(ou, app) == "ENABLED"

app_on(app, ou) if {
	not svc_state(ou, app) == "DISABLED"
	top_on(app)
}

# Every OU or group entry that sets section.field explicitly, mapped to its value.
explicit(section, field) := {ou: v |
	some ou, s in pols
	is_object(s)
	sec := s[section]
	is_object(sec)
	v := sec[field]
}

# ---------------------------------------------------------------------------------------------
# Admin-log events
# ---------------------------------------------------------------------------------------------

has_param(ps, name) if {
	some p in ps
	is_object(p)
	p.name == name
}

param(ps, name) := [p.value | some p in ps; is_object(p); p.name == name][0]

param_or(ps, name, _) := param(ps, name)

param_or(ps, name, d) := d if not has_param(ps, name)

# The new value of a change, or DELETE_APPLICATION_SETTING when a setting was removed (an OU
# went back to inheriting, or the top-level value was cleared).
ev_value(_, ps) := param(ps, "NEW_VALUE")

ev_value(e, ps) := "DELETE_APPLICATION_SETTING" if {
	not has_param(ps, "NEW_VALUE")
	e.name == "DELETE_APPLICATION_SETTING"
}

# What the rules read from one admin log (`name`, e.g. "chat_logs"): its changes of the settings
# in `settings` ("events", an empty set when the export has no such log) and the OUs and groups
# they are about. Changes of other settings are left out: the functions below only ever look for
# the settings they are given, so a product lists every setting it reads here.
#
# Parsing a log is the expensive part, and regorus caches rules but not functions, so a product
# calls this once, in a rule of its own (`admin_log := oulogs.read_log("chat_logs", settings)`),
# and passes that rule's value to the functions below. (A rule here keyed by log name would be
# evaluated for every log at once, so every product, even one that reads no log, would parse all
# of them.)
#
# Each event's parameters are read in one pass into an object by name, with built-ins: looking
# each one up with `param`, a function call with a loop of its own, made reading a log cost
# ~0.1 ms per event. An event in which two parameters share a name cannot be read that way (the
# object would not keep the first one) and is read with `param` instead; both ways give the same
# record. A non-object item, event or parameter has no id.time, parameters or name, so it is
# skipped as the is_object tests of the parameter functions skip it, without their cost.
read_log(name, settings) := {
	"events": evs,
	"ous": {ev.ou | some ev in evs; ev.group == ""},
	"groups": {ev.group | some ev in evs; ev.group != ""},
} if {
	parsed := [[item, ts, e, ps, by_name, count(by_name) == count(singles)] |
		items := input[name].items
		is_array(items)
		some item in items
		ts := time.parse_rfc3339_ns(item.id.time)
		is_array(item.events)
		some e in item.events
		ps := e.parameters
		is_array(ps)
		singles := [{p.name: p} | some p in ps]
		by_name := object.union_n(singles)
	]
	evs := {ev |
		# A new value.
		some [item, ts, _, _, m, true] in parsed
		setting := m.SETTING_NAME.value
		setting in settings
		value := m.NEW_VALUE.value
		ev := {
			"ts": ts,
			"time": item.id.time,
			"setting": setting,
			"value": value,
			"ou": object.get(m, "ORG_UNIT_NAME", {"value": "None"}).value,
			"group": object.get(m, "GROUP_EMAIL", {"value": ""}).value,
		}
	} | {ev |
		# A removed setting (no NEW_VALUE parameter at all).
		some [item, ts, e, _, m, true] in parsed
		not m.NEW_VALUE
		e.name == "DELETE_APPLICATION_SETTING"
		setting := m.SETTING_NAME.value
		setting in settings
		ev := {
			"ts": ts,
			"time": item.id.time,
			"setting": setting,
			"value": "DELETE_APPLICATION_SETTING",
			"ou": object.get(m, "ORG_UNIT_NAME", {"value": "None"}).value,
			"group": object.get(m, "GROUP_EMAIL", {"value": ""}).value,
		}
	} | {ev |
		# An event with a repeated parameter name.
		some [item, ts, e, ps, _, false] in parsed
		setting := param(ps, "SETTING_NAME")
		setting in settings
		ev := {
			"ts": ts,
			"time": item.id.time,
			"setting": setting,
			"value": ev_value(e, ps),
			"ou": param_or(ps, "ORG_UNIT_NAME", "None"),
			"group": param_or(ps, "GROUP_EMAIL", ""),
		}
	}
}

# With two or more OUs listed, events of OUs that no longer exist are ignored.
ou_filter_on if {
	is_array(input.organizational_unit_names)
	count(input.organizational_unit_names) >= 2
}

ou_listed(_) if not ou_filter_on

ou_listed(ou) if {
	ou_filter_on
	ou in input.organizational_unit_names
}

# The events of a log read by read_log that change one of `settings` for OU `ou` (not for a
# group in it).
ou_events(log, settings, ou) := {ev |
	some ev in log.events
	ev.group == ""
	ev.ou == ou
	ev.setting in settings
	ou_listed(ou)
}

# The events of a log read by read_log that change one of `settings` for group `g`.
group_events(log, settings, g) := {ev |
	some ev in log.events
	ev.group == g
	ev.setting in settings
}

# The latest events of some settings in a log read by read_log, for each OU (key: OU name) and
# group (key: "group <email>") that has any.
latest_by_scope(log, settings) := object.union(
	{ou: evs | some ou in log.ous; evs := ou_events(log, settings, ou); count(evs) > 0},
	{sprintf("group %s", [g]): evs | some g in log.groups; evs := group_events(log, settings, g); count(evs) > 0},
)

# The most recent events of a set (several when they share the timestamp).
latest(evs) := {ev | some ev in evs; ev.ts == max({e.ts | some e in evs})}

latest_values(evs) := {ev.value | some ev in latest(evs)}

latest_time(evs) := [ev.time | some ev in latest(evs)][0]

# "a, b" of the latest values, for details.
latest_text(evs) := concat(", ", sort([sprintf("%v", [v]) | some v in latest_values(evs)]))

# ---------------------------------------------------------------------------------------------
# Verdict text
# ---------------------------------------------------------------------------------------------

# {"en": …, "ja": …} for a setting's value: its entry in `labels`, else the value itself.
label_of(labels, v) := labels[v] if is_string(v)

label_of(labels, v) := {"en": sprintf("%v", [v]), "ja": sprintf("%v", [v])} if not labels[v]

# offenders maps each non-compliant OU or group to {"en": …, "ja": …} describing what it is set to.
offender_list_en(offenders) := concat("; ", [sprintf("%s (%s)", [n, offenders[n].en]) | some n in sort(object.keys(offenders))])

offender_list_ja(offenders) := concat("、", [sprintf("%s（%s）", [n, offenders[n].ja]) | some n in sort(object.keys(offenders))])

ou_verdict(id, offenders, ok, _) := lib.verdict_with(id, true, ok.en, ok.ja, []) if count(offenders) == 0

ou_verdict(id, offenders, _, what) := lib.verdict_with(
	id, false,
	sprintf("%s Non-compliant OUs/groups (%d): %s.", [what.en, count(offenders), offender_list_en(offenders)]),
	sprintf("%s準拠していない組織部門/グループ（%d 件）: %s。", [what.ja, count(offenders), offender_list_ja(offenders)]),
	sort(object.keys(offenders)),
) if count(offenders) > 0

# What the top-level OU says about a Policy API setting, for the details of a passing control.
top_note(app, app_name, section, field) := {
	"en": sprintf("The %s service is not reported as on for the top-level OU '%s', so only OUs and groups that turn it on themselves were checked, and none of them sets %s.%s to a non-compliant value.", [app_name, top_disp, section, field]),
	"ja": sprintf("最上位の組織部門「%s」で %s サービスがオンと報告されていないため、サービスを個別にオンにしている組織部門/グループのみを確認しました。%s.%s を準拠しない値にしているものはありません。", [top_disp, app_name, section, field]),
} if {
	app != ""
	not top_on(app)
} else := {
	"en": sprintf("The top-level OU '%s' sets %s.%s to %v, and no OU or group overrides it with a non-compliant value.", [top_disp, section, field, v]),
	"ja": sprintf("最上位の組織部門「%s」の %s.%s は %v で、準拠しない値で上書きしている組織部門/グループはありません。", [top_disp, section, field, v]),
} if {
	v := explicit(section, field)[top_ou]
} else := {
	"en": sprintf("%s.%s is not in the exported policies for the top-level OU '%s' and no OU or group sets a non-compliant value. A setting absent from the export is not judged as non-compliant (as in the reference), but it is unverified: confirm it in the Admin console.", [section, field, top_disp]),
	"ja": sprintf("最上位の組織部門「%s」の %s.%s はエクスポートされたポリシーに含まれておらず、準拠しない値を設定している組織部門/グループもありません。エクスポートにない設定は（参照実装と同様に）不適合とは判定しませんが、未確認です。管理コンソールで確認してください。", [top_disp, section, field]),
}

# true for the top-level OU, false for any other.
top_flag(ou) := true if {
	ou == top_ou
} else := false
