# Gmail helpers: the top-level OU, Gmail service state per OU or group, per-OU setting
# lookups, admin-log setting events and DNS record parsing. Rules live in gmail.rego.
package mamori.gws.gmail

import rego.v1

default policies := {}

policies := input.policies if is_object(input.policies)

# ---------------------------------------------------------------------------
# Top-level OU: tenant_info.topLevelOU, or (when it is empty because no custom OU
# exists) the only OU named by the admin-log events; "" when that is ambiguous.
# Undefined when tenant_info does not report it at all.

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

top_ou := "" if {
	tenant_top == ""
	count(ous_with_events) != 1
}

# OUs named by any admin-log event of any product (<product>_logs.items[].events[]). (Something
# that is not an object has no items, events, parameters or name, so it is skipped without an
# is_object test, which would double the cost of this scan of every parameter of every log.)
ous_with_events contains ou if {
	is_object(input)
	some log in input
	items := log.items
	is_array(items)
	some item in items
	is_array(item.events)
	some event in item.events
	ps := event.parameters
	is_array(ps)
	some p in ps
	p.name == "ORG_UNIT_NAME"
	ou := p.value
}

# ---------------------------------------------------------------------------
# Gmail service state. A key of `policies` is an OU ("Name" or "Name (in Parent)") or a
# group override ("OU (group email)"). Without its own state it inherits the top-level OU's.

# The Gmail service state each OU or group sets itself (upper case), read once for all OUs.
service_states := {ou: upper(s) |
	some ou, p in policies
	s := p.gmail_service_status.serviceState
	is_string(s)
}

top_gmail_on if service_states[top_ou] == "ENABLED"

gmail_on(ou) if service_states[ou] == "ENABLED"

gmail_on(ou) if {
	policies[ou]
	not service_states[ou] == "DISABLED"
	top_gmail_on
}

# OUs and groups where Gmail is on (gmail_on for every key of policies, without a function
# call per OU).
gmail_ous := {ou | some ou, st in service_states; st == "ENABLED"} | {ou |
	top_gmail_on
	some ou, _ in policies
	policies[ou]
	not service_states[ou] == "DISABLED"
}

# The settings of each OU or group where Gmail is on, read once for the ~25 set_values calls.
gmail_pols := {ou: s | some ou in gmail_ous; s := policies[ou]; is_object(s)}

# The value of section.field set explicitly in each OU or group where Gmail is on. (A section
# that is not an object has no fields: indexing it with a field name is undefined.) The two
# lookups are separate statements: regorus evaluates a reference with two variable keys
# (`s[section][field]`) about ten times slower, ~20 µs per OU.
set_values(section, field) := {ou: v |
	some ou, s in gmail_pols
	sec := s[section]
	v := sec[field]
}

# ---------------------------------------------------------------------------
# Admin-log events of gmail_logs that change a setting read by the rules (SETTING_NAME with
# NEW_VALUE, or a DELETE_APPLICATION_SETTING), as {ts, new_value, setting, ou, group}.

param(event, name) := [p.value | some p in event.parameters; is_object(p); p.name == name][0]

event_ou(event) := v if {
	v := param(event, "ORG_UNIT_NAME")
} else := "None"

event_group(event) := v if {
	v := param(event, "GROUP_EMAIL")
} else := ""

log_items := input.gmail_logs.items if {
	is_object(input.gmail_logs)
	is_array(input.gmail_logs.items)
} else := []

# The rules read only a few settings from the log (log_settings, in gmail.rego), and log_events
# holds only their changes. Items whose events do not mention one of them anywhere are passed
# over without being parsed (a text search of the item's events; the setting names need no
# escaping in JSON).
log_items_read := [item |
	some item in log_items
	text := json.marshal(item.events)
	count([setting | some setting in log_settings; contains(text, setting)]) > 0
]

# Each event of those items with its parameters read in one pass into an object by name, and
# whether that object is exact (no two parameters share a name). Looking parameters up with
# `param`, a function called several times per event, made reading the log cost ~0.1 ms per
# event; an event with a repeated parameter name is still read that way, and both ways give the
# same records. (A non-object item, event or parameter has no id.time, parameters or name, so it
# is skipped as by the is_object tests, which would cost more than the rest of the pass.)
log_parsed := [[item, ts, event, by_name, count(by_name) == count(singles)] |
	some item in log_items_read
	ts := time.parse_rfc3339_ns(item.id.time)
	is_array(item.events)
	some event in item.events
	ps := event.parameters
	is_array(ps)
	singles := [{p.name: p} | some p in ps]
	by_name := object.union_n(singles)
]

log_events contains e if {
	some [item, ts, _, m, true] in log_parsed
	setting := m.SETTING_NAME.value
	setting in log_settings
	e := {
		"ts": ts,
		"time": item.id.time,
		"new_value": m.NEW_VALUE.value,
		"setting": setting,
		"ou": object.get(object.get(m, "ORG_UNIT_NAME", {}), "value", "None"),
		"group": object.get(object.get(m, "GROUP_EMAIL", {}), "value", ""),
	}
}

log_events contains e if {
	some [item, ts, event, m, true] in log_parsed
	event.name == "DELETE_APPLICATION_SETTING"
	setting := m.SETTING_NAME.value
	setting in log_settings
	e := {
		"ts": ts,
		"time": item.id.time,
		"new_value": "DELETE_APPLICATION_SETTING",
		"setting": setting,
		"ou": object.get(object.get(m, "ORG_UNIT_NAME", {}), "value", "None"),
		"group": object.get(object.get(m, "GROUP_EMAIL", {}), "value", ""),
	}
}

log_events contains e if {
	some [item, _, event, _, false] in log_parsed
	setting := param(event, "SETTING_NAME")
	setting in log_settings
	value := param(event, "NEW_VALUE")
	e := event_record(item, event, setting, value)
}

log_events contains e if {
	some [item, _, event, _, false] in log_parsed
	event.name == "DELETE_APPLICATION_SETTING"
	setting := param(event, "SETTING_NAME")
	setting in log_settings
	e := event_record(item, event, setting, "DELETE_APPLICATION_SETTING")
}

event_record(item, event, setting, value) := {
	"ts": time.parse_rfc3339_ns(item.id.time),
	"time": item.id.time,
	"new_value": value,
	"setting": setting,
	"ou": event_ou(event),
	"group": event_group(event),
}

# When the export lists at least two OU names, events of OUs that no longer exist are ignored.
ou_names_filter if {
	is_array(input.organizational_unit_names)
	count(input.organizational_unit_names) >= 2
}

ou_event_allowed(ou) if not ou_names_filter

ou_event_allowed(ou) if {
	ou_names_filter
	ou in input.organizational_unit_names
}

# The OUs that have events of one setting (group-level events are ignored) and are named by an
# admin-log event of any product (ous_with_events). Every OU named in gmail_logs is, so the scan
# of all logs behind ous_with_events is only needed for "None", which also stands for events
# without an OU name.
setting_ous(setting) := {e.ou |
	some e in log_events
	e.group == ""
	e.setting == setting
	ou_with_events(e.ou)
}

ou_with_events(ou) if ou != "None"

ou_with_events("None") if "None" in ous_with_events

# Events of one setting for one OU (group-level events are ignored).
ou_events(setting, ou) := {e |
	some e in log_events
	e.group == ""
	e.ou == ou
	e.setting == setting
	ou_event_allowed(ou)
}

# The most recent events of a set (several when they share the latest time).
last_events(events) := {e | latest := max({x.ts | some x in events}); some e in events; e.ts == latest}

# ---------------------------------------------------------------------------
# DNS records: {domain, rdata[]} entries of spf_records, dkim_records, dmarc_records.

dns_records(key) := [r | some r in input[key]; is_object(r); is_string(r.domain)] if {
	is_array(input[key])
} else := []

rdata_of(r) := [x | some x in r.rdata; is_string(x)] if {
	is_array(r.rdata)
} else := []

base_domains := {d | some d in input.domains; is_string(d)} if {
	is_array(input.domains)
} else := set()

alias_domains := {d | some d in input.alias_domains; is_string(d)} if {
	is_array(input.alias_domains)
} else := set()

all_domains := base_domains | alias_domains

# DMARC: a domain's record, when exactly one TXT answer starts with v=DMARC1;
dmarc_answers(r) := [x | some x in rdata_of(r); startswith(x, "v=DMARC1;")]

dmarc_record := {r.domain: answers[0] |
	some r in dns_records("dmarc_records")
	answers := dmarc_answers(r)
	count(answers) == 1
}

dmarc_multiple := {r.domain |
	some r in dns_records("dmarc_records")
	count(dmarc_answers(r)) > 1
}

# The values of every tag `name` of a DMARC record (tag names compared in lower case).
dmarc_tag_values(record, name) := [trim_space(substring(part, i + 1, count(part) - i - 1)) |
	some part in split(record, ";")
	i := indexof(part, "=")
	i > 0
	lower(trim_space(substring(part, 0, i))) == name
]

# URIs of a rua/ruf tag value, trimmed.
uris(value) := [trim_space(u) | some u in split(value, ","); trim_space(u) != ""]

# ---------------------------------------------------------------------------
# Text helpers.

onoff(v, "en") := "on" if v == true

onoff(v, "en") := "off" if v == false

onoff(v, "ja") := "オン" if v == true

onoff(v, "ja") := "オフ" if v == false

onoff(v, _) := sprintf("%v", [v]) if not is_boolean(v)

names(xs, "en") := "none" if count(xs) == 0

names(xs, "ja") := "なし" if count(xs) == 0

names(xs, "en") := concat(", ", sort([sprintf("%v", [x]) | some x in xs])) if count(xs) > 0

names(xs, "ja") := concat("、", sort([sprintf("%v", [x]) | some x in xs])) if count(xs) > 0
