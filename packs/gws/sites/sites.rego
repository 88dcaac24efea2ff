# Sites: the service is off. An OU or group override that explicitly turns Sites on fails, unless
# the ScubaGoggles configuration lists it in `sites_exclusions` (with a justification).
package mamori.gws.sites

import data.mamori.gws.lib.ousettings
import rego.v1

sites_on_explicit := {ou | some ou, st in ousettings.service_states("sites"); st == "ENABLED"}

exclusions := [e | some e in input.sites_exclusions; is_object(e)] if {
	is_array(input.sites_exclusions)
} else := []

str(e, k) := v if {
	v := e[k]
	is_string(v)
} else := ""

# Group overrides are keyed "<OU> (group <GROUP>)", the group sometimes in double quotes.
group_key(ou, group) := {sprintf("%s (group %s)", [ou, group]), sprintf("%s (group \"%s\")", [ou, group])}

key_group(key) := g if {
	m := regex.find_all_string_submatch_n(`^.* \(group "?([^"]*)"?\)$`, key, 1)
	count(m) == 1
	g := m[0][1]
}

# An exclusion entry naming an OU (no group) covers that OU's own setting.
covers(e, key) if {
	str(e, "group") == ""
	str(e, "ou") != ""
	str(e, "ou") == key
}

# An entry naming a group covers that group's override, in the named OU or in any OU.
covers(e, key) if {
	g := str(e, "group")
	g != ""
	str(e, "ou") != ""
	key in group_key(str(e, "ou"), g)
}

covers(e, key) if {
	g := str(e, "group")
	g != ""
	str(e, "ou") == ""
	key_group(key) == g
}

excepted := {key: j |
	some key in sites_on_explicit
	es := [e | some e in exclusions; covers(e, key)]
	count(es) > 0
	j := str(es[0], "justification")
}

bad := {{"ou": key, "en": "serviceState = ENABLED", "ja": "serviceState = ENABLED"} |
	some key in sites_on_explicit
	not excepted[key]
}

justification_en(j) := sprintf("justification: %s", [j]) if j != ""

justification_en(j) := "no justification given" if j == ""

justification_ja(j) := sprintf("理由: %s", [j]) if j != ""

justification_ja(j) := "理由の記載なし" if j == ""

exception_en := "" if {
	count(excepted) == 0
} else := sprintf(" Sites is on but excepted by the configuration (sites_exclusions) in: %s.", [concat("; ", [sprintf("%s (%s)", [k, justification_en(excepted[k])]) | some k in sort(object.keys(excepted))])])

exception_ja := "" if {
	count(excepted) == 0
} else := sprintf("構成（sites_exclusions）により例外とされた、Google サイトが有効な組織部門: %s。", [concat("、", [sprintf("%s（%s）", [k, justification_ja(excepted[k])]) | some k in sort(object.keys(excepted))])])

top_state := s if {
	s := ousettings.service_state(ousettings.top_ou, "sites")
} else := "not reported"

v := ousettings.ou_verdict(
	"GWS.SITES.1.1v1", bad,
	"Sites is turned on in these OUs or groups",
	"次の組織部門またはグループでは Google サイトがオンになっています",
	sprintf("No OU or group turns Sites on (top-level OU %s: sites_service_status.serviceState = %s).", [ousettings.top_label, top_state]),
	sprintf("Google サイトをオンにしている組織部門やグループはありません（最上位の組織部門 %s: sites_service_status.serviceState = %s）。", [ousettings.top_label, top_state]),
)

results contains object.union(v, {"details": {
	"en": concat("", [v.details.en, exception_en]),
	"ja": concat("", [v.details.ja, exception_ja]),
}})
