# Org-unit helpers for Drive and Docs, Groups for Business, Classroom and Sites: settings per OU
# (and per "<OU> (group <GROUP>)" override) of the Policy API, inheritance from the top-level OU,
# and whether a service is on in an OU.
#
# A product that refers to a rule of this package through its import (`ousettings.top_ou`) makes
# regorus evaluate every rule of the package, used or not. The rules here are therefore kept cheap;
# reading the admin logs (event_ous) is a function, called only when the top-level OU is not named.
package mamori.gws.lib.ousettings

import data.mamori.gws.lib
import rego.v1

policies := p if {
	is_object(input.policies)
	p := input.policies
} else := {}

# OU names found in the admin log events (ORG_UNIT_NAME parameters of any <product>_logs), called
# with `input`. A function, not a rule: see the note at the top of this file.
event_ous(export) := {v |
	is_object(export)
	some log in export
	is_object(log)
	is_array(log.items)
	some item in log.items
	is_object(item)
	is_array(item.events)
	some ev in item.events
	is_object(ev)
	is_array(ev.parameters)
	some p in ev.parameters
	is_object(p)
	p.name == "ORG_UNIT_NAME"
	v := p.value
}

# The top-level OU: named by tenant_info, or the only OU seen in the logs when the tenant has
# no custom OU (tenant_info.topLevelOU is then empty).
top_ou := t if {
	is_object(input.tenant_info)
	t := input.tenant_info.topLevelOU
	is_string(t)
	t != ""
} else := t if {
	ous := event_ous(input)
	count(ous) == 1
	some t in ous
} else := ""

# A setting set explicitly in an OU (or group override); undefined when the OU does not set it.
explicit(ou, section, setting) := v if {
	s := policies[ou]
	is_object(s)
	sec := s[section]
	is_object(sec)
	setting in object.keys(sec)
	v := sec[setting]
}

is_set(ou, section, setting) if {
	s := policies[ou]
	is_object(s)
	sec := s[section]
	is_object(sec)
	setting in object.keys(sec)
}

# The effective value in an OU: its own, else the top-level OU's.
resolved(ou, section, setting) := v if {
	v := explicit(ou, section, setting)
} else := v if {
	v := explicit(top_ou, section, setting)
}

# Display of the effective value, "not reported" when neither the OU nor the top-level OU sets it.
shown_en(ou, section, setting) := sprintf("%v", [v]) if {
	v := resolved(ou, section, setting)
} else := "not reported"

shown_ja(ou, section, setting) := sprintf("%v", [v]) if {
	v := resolved(ou, section, setting)
} else := "未取得"

service_state(ou, service) := upper(st) if {
	s := policies[ou]
	is_object(s)
	sec := s[sprintf("%s_service_status", [service])]
	is_object(sec)
	st := sec.serviceState
	is_string(st)
}

# The service is on in an OU when the OU turns it on, or when the OU does not turn it off and
# the top-level OU has it on.
app_enabled(ou, service) if service_state(ou, service) == "ENABLED"

app_enabled(ou, service) if {
	not service_state(ou, service) == "DISABLED"
	not service_state(ou, service) == "ENABLED"
	service_state(top_ou, service) == "ENABLED"
}

top_label := top_ou if {
	top_ou != ""
} else := "(unknown)"

# How the top-level OU sets one setting, for the details of a passing verdict.
top_en(section, setting) := sprintf("top-level OU %s: %s.%s = %s", [top_label, section, setting, shown_en(top_ou, section, setting)])

top_ja(section, setting) := sprintf("最上位の組織部門 %s: %s.%s = %s", [top_label, section, setting, shown_ja(top_ou, section, setting)])

# OUs (and group overrides) listed in the policies.
units := object.keys(policies)

# The same lookups for every OU at once, for products that judge thousands of OUs: calling
# `explicit` or `resolved` once per OU and setting costs ~25 µs a call (functions are not
# memoised), so a product binds these maps to rules once and then only indexes them.

# {ou: value} of every OU or group that sets section.setting itself (as `explicit`).
explicit_values(section, setting) := {ou: v |
	some ou, s in policies
	is_object(s)
	sec := s[section]
	is_object(sec)
	v := sec[setting]
}

# {ou: [value]} of the effective value (as `resolved`: the OU's own, else the top-level OU's) in
# every OU or group where there is one, given the map explicit_values returns for the setting.
# Each value is wrapped in an array: object.union merges objects key by key, and must replace.
resolved_values(own) := object.union({ou: [t] | t := own[top_ou]; some ou in units}, {ou: [v] | some ou, v in own})

# The same, for the OUs and groups of `among` only (a set of keys of policies).
resolved_values_in(own, among) := object.union({ou: [t] | t := own[top_ou]; some ou in among}, {ou: [v] | some ou, v in own; ou in among})

# {ou: state} of every OU or group that sets the service's state (as `service_state`).
service_states(service) := {ou: upper(st) |
	key := sprintf("%s_service_status", [service])
	some ou, s in policies
	is_object(s)
	sec := s[key]
	is_object(sec)
	st := sec.serviceState
	is_string(st)
}

# The OUs and groups where the service is on (as `app_enabled`).
enabled_units(service) := on_units(service_states(service))

on_units(states) := {ou | some ou in units; states[ou] == "ENABLED"} | {ou |
	states[top_ou] == "ENABLED"
	some ou in units
	not states[ou] in {"DISABLED", "ENABLED"}
}

# Verdict on a set of offending {"ou", "en", "ja"} entries; `ok` texts describe the passing state.
ou_verdict(id, bad, what_en, what_ja, ok_en, ok_ja) := v if {
	count(bad) == 0
	v := lib.verdict_with(id, true, ok_en, ok_ja, [])
}

ou_verdict(id, bad, what_en, what_ja, _, _) := v if {
	count(bad) > 0
	names := sort({b.ou | some b in bad})
	items_en := [sprintf("%s (%s)", [b.ou, b.en]) | some b in sort_entries(bad)]
	items_ja := [sprintf("%s（%s）", [b.ou, b.ja]) | some b in sort_entries(bad)]
	v := lib.verdict_with(
		id, false,
		sprintf("%s: %s.", [what_en, concat("; ", items_en)]),
		sprintf("%s: %s。", [what_ja, concat("、", items_ja)]),
		names,
	)
}

sort_entries(bad) := [{"ou": t[0], "en": t[1], "ja": t[2]} | some t in sort([[b.ou, b.en, b.ja] | some b in bad])]
