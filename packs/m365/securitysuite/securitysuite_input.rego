# Input access and shared helpers of the security suite rules: type-guarded sections, rule
# scoping (who a threat-policy rule applies to), licences, configuration lists and text helpers.
package mamori.m365.securitysuite

import rego.v1

doc := input if is_object(input)

doc := {} if not is_object(input)

# The objects of an array section; [] when the section is absent or not an array.
items(name) := [x | some x in arr(object.get(doc, name, null)); is_object(x)]

arr(v) := v if is_array(v)

arr(v) := [] if not is_array(v)

get(o, k) := object.get(o, k, null)

has_key(o, k) if object.get(o, k, "\u0000absent") != "\u0000absent"

# A rule condition is unset when it is null or empty; a condition missing from the export is
# treated as set (the scope is unknown).
field_empty(o, k) if {
	has_key(o, k)
	o[k] == null
}

field_empty(o, k) if {
	v := object.get(o, k, null)
	v != null
	count(v) == 0
}

# Preset policies and rules are recognised by their name, case-insensitively.
strict_marker := "strict preset security policy"

standard_marker := "standard preset security policy"

is_preset(p, marker) if {
	is_string(p.Identity)
	contains(lower(p.Identity), marker)
}

policy_id(p) := object.get(p, "Identity", object.get(p, "Name", "(unnamed)"))

policy_ids_matching(section, marker) := sort([p.Identity | some p in items(section); is_preset(p, marker)])

rule_targets_everyone(r) if {
	field_empty(r, "SentTo")
	field_empty(r, "SentToMemberOf")
	field_empty(r, "RecipientDomainIs")
}

# An enabled preset rule (EOP: protection_policy_rules, Defender: atp_policy_rules) that applies
# to all recipients.
preset_on(section, marker) if {
	some r in items(section)
	is_preset(r, marker)
	r.State == "Enabled"
	rule_targets_everyone(r)
}

eop_preset_for_all if preset_on("protection_policy_rules", strict_marker)

eop_preset_for_all if preset_on("protection_policy_rules", standard_marker)

tenant_domains := {lower(trim_space(d.DomainName)) | some d in items("accepted_domains"); is_string(d.DomainName)}

recipient_domains_cover_tenant(r) if field_empty(r, "RecipientDomainIs")

recipient_domains_cover_tenant(r) if {
	has_key(r, "RecipientDomainIs")
	listed := {lower(trim_space(d)) | some d in arr(r.RecipientDomainIs); is_string(d)}
	count(tenant_domains - listed) == 0
}

# A custom rule applies to everyone when it has no user or group conditions, no exceptions, and
# either no domain condition or one listing every accepted domain.
custom_rule_covers_all(r) if {
	field_empty(r, "SentTo")
	field_empty(r, "SentToMemberOf")
	field_empty(r, "ExceptIfSentTo")
	field_empty(r, "ExceptIfSentToMemberOf")
	field_empty(r, "ExceptIfRecipientDomainIs")
	recipient_domains_cover_tenant(r)
}

enabled_rules(section) := [r | some r in items(section); r.State == "Enabled"]

# The policy of the highest-priority enabled custom rule, when that rule applies to everyone.
top_custom_policies(section, field) := [n |
	rules := enabled_rules(section)
	top := min({p | some r in rules; p := r.Priority; is_number(p)})
	some r in rules
	r.Priority == top
	custom_rule_covers_all(r)
	n := r[field]
	is_string(n)
]

# A display name for a policy: presets by tier, with their generated identity.
friendly(name, "en") := sprintf("the Strict preset (%v)", [name]) if contains(lower(name), strict_marker)

friendly(name, "en") := sprintf("the Standard preset (%v)", [name]) if {
	not contains(lower(name), strict_marker)
	contains(lower(name), standard_marker)
}

friendly(name, "ja") := sprintf("Strict プリセット（%v）", [name]) if contains(lower(name), strict_marker)

friendly(name, "ja") := sprintf("Standard プリセット（%v）", [name]) if {
	not contains(lower(name), strict_marker)
	contains(lower(name), standard_marker)
}

friendly(name, _) := sprintf("%v", [name]) if {
	not contains(lower(name), strict_marker)
	not contains(lower(name), standard_marker)
}

# Licences reported by the provider.
default defender_licensed := false

default dlp_licensed := false

defender_licensed if object.get(doc, "defender_license", null) == true

dlp_licensed if object.get(doc, "defender_dlp_license", null) == true

no_defender_en := sprintf("No Microsoft Defender for Office 365 Plan 1 or 2 licence was reported (defender_license: %v); impersonation protection and safety tips need it.", [object.get(doc, "defender_license", null)])

no_defender_ja := sprintf("Microsoft Defender for Office 365 プラン 1／2 のライセンスが確認できません（defender_license: %v）。偽装保護と安全のヒントにはこのライセンスが必要です。", [object.get(doc, "defender_license", null)])

license_note_en := "" if defender_licensed

license_note_en := " Note: no Defender for Office 365 licence was reported, which this feature requires." if not defender_licensed

license_note_ja := "" if defender_licensed

license_note_ja := "注: この機能に必要な Defender for Office 365 のライセンスが確認できません。" if not defender_licensed

dlp_license_note_en := "" if dlp_licensed

dlp_license_note_en := " Note: no Microsoft Purview DLP licence was reported (defender_dlp_license is not true)." if not dlp_licensed

dlp_license_note_ja := "" if dlp_licensed

dlp_license_note_ja := "注: Microsoft Purview DLP のライセンスが確認できません（defender_dlp_license が true ではありません）。" if not dlp_licensed

# Configuration lists (scuba_config.SecuritySuite[id][key], or the older Defender policy id).
scuba_cfg := object.get(doc, "scuba_config", {}) if is_object(object.get(doc, "scuba_config", {}))

scuba_cfg := {} if not is_object(object.get(doc, "scuba_config", {}))

obj(v) := v if is_object(v)

obj(v) := {} if not is_object(v)

suite_cfg := obj(object.get(scuba_cfg, "SecuritySuite", null))

defender_cfg := obj(object.get(scuba_cfg, "Defender", null))

policy_cfg(id, _) := suite_cfg[id] if has_key(suite_cfg, id)

policy_cfg(id, alias) := object.get(defender_cfg, alias, null) if not has_key(suite_cfg, id)

cfg_values(id, alias, key) := {v |
	some raw in arr(object.get(obj(policy_cfg(id, alias)), key, null))
	is_string(raw)
	v := lower(trim_space(raw))
	v != ""
}

# Text helpers.
names_or_none_en(xs) := "none" if count(xs) == 0

names_or_none_en(xs) := concat(", ", sort([sprintf("%v", [x]) | some x in xs])) if count(xs) > 0

names_or_none_ja(xs) := "なし" if count(xs) == 0

names_or_none_ja(xs) := concat("、", sort([sprintf("%v", [x]) | some x in xs])) if count(xs) > 0

values_or_none(xs) := "not reported" if count(xs) == 0

values_or_none(xs) := concat(", ", [sprintf("%v", [x]) | some x in xs]) if count(xs) > 0

partial_en(xs) := "" if count(xs) == 0

partial_en(xs) := sprintf(" Policies that qualify but do not apply to all recipients: %s.", [concat(", ", sort(xs))]) if count(xs) > 0

partial_ja(xs) := "" if count(xs) == 0

partial_ja(xs) := sprintf("条件は満たすが全受信者に適用されていないポリシー: %s。", [concat("、", sort(xs))]) if count(xs) > 0

yes_no_en(true) := "yes"

yes_no_en(false) := "no"

yes_no_ja(true) := "あり"

yes_no_ja(false) := "なし"
