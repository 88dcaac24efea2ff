# Microsoft Defender for Office 365: preset security policies, impersonation protection,
# Safe Attachments for SharePoint/OneDrive/Teams, Purview DLP, alert policies and the unified
# audit log. Read from the Exchange Online and Security & Compliance PowerShell exports.
package mamori.m365.defender

import data.mamori.m365.lib
import rego.v1

# ---------------------------------------------------------------------------------------------
# Input helpers
# ---------------------------------------------------------------------------------------------

# Objects of a section that should be an array; anything else reads as no objects.
objects(x) := [o | some o in x; is_object(o)] if is_array(x)

objects(x) := [] if not is_array(x)

# Values of a list-like field (null, absent or scalar read as empty).
list(x) := x if is_array(x)

list(x) := [] if not is_array(x)

str(x) := x if is_string(x)

str(x) := sprintf("%v", [x]) if not is_string(x)

eop_rules := objects(input.protection_policy_rules)

atp_rules := objects(input.atp_policy_rules)

phish_policies := objects(input.anti_phish_policies)

no_defender_license if input.defender_license == false

no_dlp_license if input.defender_dlp_license == false

license_note := {"en": "", "ja": ""} if not no_defender_license

license_note := {
	"en": " The export reports no Microsoft Defender for Office 365 (Plan 1 or 2) license, or too few permissions to read it.",
	"ja": "エクスポートには Microsoft Defender for Office 365（プラン 1 または 2）のライセンスがない、または読み取り権限が不足していると記録されています。",
} if no_defender_license

dlp_license_note := {"en": "", "ja": ""} if not no_dlp_license

dlp_license_note := {
	"en": " The export reports no Microsoft Purview Data Loss Prevention license, or too few permissions to read it.",
	"ja": "エクスポートには Microsoft Purview データ損失防止のライセンスがない、または読み取り権限が不足していると記録されています。",
} if no_dlp_license

none_text := {"en": "none", "ja": "なし"}

names(xs, lang) := none_text[lang] if count(xs) == 0

names(xs, "en") := lib.names_en(xs) if count(xs) > 0

names(xs, "ja") := lib.names_ja(xs) if count(xs) > 0

# ---------------------------------------------------------------------------------------------
# Preset security policies (MS.DEFENDER.1.x)
# ---------------------------------------------------------------------------------------------

standard := "Standard Preset Security Policy"

strict := "Strict Preset Security Policy"

presets := [standard, strict]

preset_label := {
	standard: {"en": "Standard", "ja": "標準"},
	strict: {"en": "Strict", "ja": "厳重"},
}

rules_named(rules, identity) := [r | some r in rules; r.Identity == identity]

enabled_in(rules, identity) if {
	some r in rules_named(rules, identity)
	r.State == "Enabled"
}

preset_on(identity) if enabled_in(eop_rules, identity)

preset_on(identity) if enabled_in(atp_rules, identity)

presets_off := [p | some p in presets; not preset_on(p)]

state_text(rules, identity) := concat(", ", [str(object.get(r, "State", null)) | some r in rules_named(rules, identity)]) if {
	count(rules_named(rules, identity)) > 0
}

state_text(rules, identity) := "-" if count(rules_named(rules, identity)) == 0

is_on(p) := true if preset_on(p)

else := false

preset_state_en(p) := sprintf("%s %s (EOP rule state: %s; Defender for Office 365 rule state: %s)", [
	preset_label[p].en, {true: "on", false: "off"}[is_on(p)],
	state_text(eop_rules, p), state_text(atp_rules, p),
])

preset_state_ja(p) := sprintf("%s: %s（EOP ルールの状態: %s、Defender for Office 365 ルールの状態: %s）", [
	preset_label[p].ja, {true: "オン", false: "オフ"}[is_on(p)],
	state_text(eop_rules, p), state_text(atp_rules, p),
])

results contains lib.verdict_with(
	"MS.DEFENDER.1.1v1", count(presets_off) == 0,
	sprintf("Preset security policies: %s. Not enabled: %s.", [
		concat("; ", [preset_state_en(p) | some p in presets]), names(presets_off, "en"),
	]),
	sprintf("事前設定済みのセキュリティ ポリシー: %s。有効でないもの: %s。", [
		concat("、", [preset_state_ja(p) | some p in presets]), names(presets_off, "ja"),
	]),
	presets_off,
)

# A rule with no SentTo / SentToMemberOf / RecipientDomainIs applies to all recipients.
unscoped(r) if {
	count(list(object.get(r, "SentTo", null))) == 0
	count(list(object.get(r, "SentToMemberOf", null))) == 0
	count(list(object.get(r, "RecipientDomainIs", null))) == 0
}

applies_to_all(rules, identity) if {
	some r in rules_named(rules, identity)
	unscoped(r)
}

some_preset_for_all(rules) if {
	some p in presets
	applies_to_all(rules, p)
}

targets(r, lang) := concat({"en": "; ", "ja": "、"}[lang], [sprintf("%s: %s", [k, names(list(object.get(r, k, null)), lang)]) |
	some k in ["SentTo", "SentToMemberOf", "RecipientDomainIs"]
	count(list(object.get(r, k, null))) > 0
])

scope_text(rules, p, lang) := {
	"en": sprintf("%s: not applied to anyone", [preset_label[p].en]),
	"ja": sprintf("%s: 誰にも適用されていません", [preset_label[p].ja]),
}[lang] if count(rules_named(rules, p)) == 0

scope_text(rules, p, lang) := {
	"en": sprintf("%s: all recipients", [preset_label[p].en]),
	"ja": sprintf("%s: すべての受信者", [preset_label[p].ja]),
}[lang] if applies_to_all(rules, p)

scope_text(rules, p, lang) := {
	"en": sprintf("%s: specific recipients only (%s)", [preset_label[p].en, targets(rules_named(rules, p)[0], "en")]),
	"ja": sprintf("%s: 特定の受信者のみ（%s）", [preset_label[p].ja, targets(rules_named(rules, p)[0], "ja")]),
}[lang] if {
	count(rules_named(rules, p)) > 0
	not applies_to_all(rules, p)
}

default eop_all := false

eop_all if some_preset_for_all(eop_rules)

default atp_all := false

atp_all if some_preset_for_all(atp_rules)

results contains lib.verdict_with(
	"MS.DEFENDER.1.2v1", eop_all,
	sprintf("Exchange Online Protection assignment in the preset security policies — %s. At least one preset must apply to all recipients.", [concat("; ", [scope_text(eop_rules, p, "en") | some p in presets])]),
	sprintf("事前設定済みのセキュリティ ポリシーの Exchange Online Protection の適用先 — %s。少なくとも一方のプリセットをすべての受信者に適用する必要があります。", [concat("、", [scope_text(eop_rules, p, "ja") | some p in presets])]),
	[p | not eop_all; some p in presets],
)

results contains lib.verdict_with(
	"MS.DEFENDER.1.3v1", atp_all,
	sprintf("Defender for Office 365 protection assignment in the preset security policies — %s. At least one preset must apply to all recipients.%s", [concat("; ", [scope_text(atp_rules, p, "en") | some p in presets]), license_note.en]),
	sprintf("事前設定済みのセキュリティ ポリシーの Defender for Office 365 の保護の適用先 — %s。少なくとも一方のプリセットをすべての受信者に適用する必要があります。%s", [concat("、", [scope_text(atp_rules, p, "ja") | some p in presets]), license_note.ja]),
	[p | not atp_all; some p in presets],
)

# Sensitive accounts in the Strict preset (MS.DEFENDER.1.4v1 / 1.5v1). The rule's recipient
# conditions must equal the sensitive accounts listed in the configuration, unless the Strict
# preset applies to everyone.
filter_fields := {
	"IncludedUsers": "SentTo",
	"ExcludedUsers": "ExceptIfSentTo",
	"IncludedGroups": "SentToMemberOf",
	"ExcludedGroups": "ExceptIfSentToMemberOf",
	"IncludedDomains": "RecipientDomainIs",
	"ExcludedDomains": "ExceptIfRecipientDomainIs",
}

sensitive_config(id) := {k: {trim_space(x) | some x in list(object.get(accounts, k, null)); is_string(x)} |
	some k, _ in filter_fields
} if {
	accounts := input.scuba_config.Defender[id].SensitiveAccounts
	is_object(accounts)
}

sensitive_config(id) := {k: set() | some k, _ in filter_fields} if {
	not is_object(input.scuba_config.Defender[id].SensitiveAccounts)
}

config_count(cfg) := count({x | some k, _ in filter_fields; some x in cfg[k]})

strict_rules(rules) := [r | some r in rules_named(rules, strict); r.State == "Enabled"]

rule_filter(r) := {k: {x | some x in list(object.get(r, f, null))} | some k, f in filter_fields}

unconditioned(r) if {
	object.get(r, "Conditions", null) == null
	object.get(r, "Exceptions", null) == null
}

# Mismatches between the Strict preset's recipient filter and the configured accounts.
filter_gaps(r, cfg) := [sprintf("%s (%s): %s", [k, filter_fields[k], concat(", ", sort({str(x) | some x in ((cfg[k] - rule_filter(r)[k]) | (rule_filter(r)[k] - cfg[k]))}))]) |
	some k, _ in filter_fields
	cfg[k] != rule_filter(r)[k]
]

gap_accounts(r, cfg) := {str(x) | some k, _ in filter_fields; some x in ((cfg[k] - rule_filter(r)[k]) | (rule_filter(r)[k] - cfg[k]))}

# {met, en, ja, resources} for one rule set and one config.
sensitive_eval(rules, _, _) := {
	"met": false,
	"en": "The Strict preset security policy is not enabled, so sensitive accounts are not in it.",
	"ja": "厳重な事前設定済みセキュリティ ポリシーが有効になっていないため、機密性の高いアカウントは含まれていません。",
	"res": [strict],
} if {
	count(strict_rules(rules)) == 0
}

sensitive_eval(rules, _, _) := {
	"met": true,
	"en": "The Strict preset security policy is enabled and applies to all recipients, so every sensitive account is in it.",
	"ja": "厳重な事前設定済みセキュリティ ポリシーは有効で、すべての受信者に適用されているため、機密性の高いアカウントはすべて含まれています。",
	"res": [],
} if {
	count(strict_rules(rules)) > 0
	unconditioned(strict_rules(rules)[0])
}

sensitive_eval(rules, cfg, id) := {
	"met": false,
	"en": sprintf("The Strict preset security policy has recipient conditions (%s), but no sensitive accounts are listed under SensitiveAccounts for %s in the ScubaGear configuration, so they cannot be confirmed.", [describe_filter(strict_rules(rules)[0], "en"), id]),
	"ja": sprintf("厳重な事前設定済みセキュリティ ポリシーには受信者の条件（%s）がありますが、ScubaGear 構成の %s の SensitiveAccounts に機密性の高いアカウントが記載されていないため確認できません。", [describe_filter(strict_rules(rules)[0], "ja"), id]),
	"res": [strict],
} if {
	count(strict_rules(rules)) > 0
	not unconditioned(strict_rules(rules)[0])
	config_count(cfg) == 0
}

sensitive_eval(rules, cfg, id) := {
	"met": count(gaps) == 0,
	"en": sprintf("The Strict preset security policy applies to specific recipients (%s). Differences from the sensitive accounts configured for %s: %s.", [describe_filter(r, "en"), id, none_or(gaps, "en")]),
	"ja": sprintf("厳重な事前設定済みセキュリティ ポリシーは特定の受信者（%s）に適用されています。%s に構成された機密性の高いアカウントとの差異: %s。", [describe_filter(r, "ja"), id, none_or(gaps, "ja")]),
	"res": sort(gap_accounts(r, cfg)),
} if {
	count(strict_rules(rules)) > 0
	r := strict_rules(rules)[0]
	not unconditioned(r)
	config_count(cfg) > 0
	gaps := filter_gaps(r, cfg)
}

none_or(xs, lang) := none_text[lang] if count(xs) == 0

none_or(xs, _) := concat("; ", xs) if count(xs) > 0

describe_filter(r, lang) := {
	"en": "Conditions/Exceptions set without a recipient list",
	"ja": "受信者の一覧なしで Conditions/Exceptions が設定されています",
}[lang] if count(filter_parts(r)) == 0

describe_filter(r, _) := concat("; ", filter_parts(r)) if count(filter_parts(r)) > 0

filter_parts(r) := [sprintf("%s: %s", [f, concat(", ", sort({str(x) | some x in list(object.get(r, f, null))}))]) |
	some f in ["SentTo", "SentToMemberOf", "RecipientDomainIs", "ExceptIfSentTo", "ExceptIfSentToMemberOf", "ExceptIfRecipientDomainIs"]
	count(list(object.get(r, f, null))) > 0
]

eop_sensitive := sensitive_eval(eop_rules, sensitive_config("MS.DEFENDER.1.4v1"), "MS.DEFENDER.1.4v1")

atp_sensitive := sensitive_eval(atp_rules, sensitive_config("MS.DEFENDER.1.5v1"), "MS.DEFENDER.1.5v1")

results contains lib.verdict_with(
	"MS.DEFENDER.1.4v1", eop_sensitive.met,
	sprintf("Exchange Online Protection: %s", [eop_sensitive.en]),
	sprintf("Exchange Online Protection: %s", [eop_sensitive.ja]),
	eop_sensitive.res,
)

results contains lib.verdict_with(
	"MS.DEFENDER.1.5v1", atp_sensitive.met,
	sprintf("Defender for Office 365 protection: %s%s", [atp_sensitive.en, license_note.en]),
	sprintf("Defender for Office 365 の保護: %s%s", [atp_sensitive.ja, license_note.ja]),
	atp_sensitive.res,
)

# ---------------------------------------------------------------------------------------------
# Impersonation protection (MS.DEFENDER.2.x), in anti-phishing policies of both presets
# ---------------------------------------------------------------------------------------------

impersonation_config(id, key) := {lower(trim_space(x)) | some x in list(input.scuba_config.Defender[id][key]); is_string(x)}

# The first enabled anti-phishing policy of a preset with the given protection switched on.
phish_policy(preset, switch) := [p |
	some p in phish_policies
	is_string(p.Identity)
	contains(p.Identity, preset)
	p.Enabled == true
	p[switch] == true
]

protected(p, key) := {lower(x) | some x in list(object.get(p, key, null)); is_string(x)}

# {ok, en, ja, missing} for one preset.
impersonation(preset, switch, key, cfg) := {
	"ok": false,
	"en": sprintf("%s: no enabled anti-phishing policy with %s turned on", [preset_label[preset].en, switch]),
	"ja": sprintf("%s: %s がオンの有効なフィッシング対策ポリシーがありません", [preset_label[preset].ja, switch]),
	"missing": cfg,
} if count(phish_policy(preset, switch)) == 0

impersonation(preset, switch, key, cfg) := {
	"ok": all_true([count(missing) == 0, (count(cfg) > 0) == (count(have) > 0)]),
	"en": sprintf("%s: policy %s, protected entries: %d, not protected: %s", [preset_label[preset].en, p.Identity, count(have), names(missing, "en")]),
	"ja": sprintf("%s: ポリシー %s は %d 件を保護、保護されていないもの: %s", [preset_label[preset].ja, p.Identity, count(have), names(missing, "ja")]),
	"missing": missing,
} if {
	count(phish_policy(preset, switch)) > 0
	p := phish_policy(preset, switch)[0]
	have := protected(p, key)
	missing := cfg - have
}

impersonation_verdict(id, switch, key, cfg_key, need_config, what_en, what_ja) := lib.verdict_with(
	id, met,
	sprintf("%s (%s in the ScubaGear configuration: %s) — %s.%s%s", [what_en, cfg_key, names(cfg, "en"), concat("; ", [s.en | some s in checks]), cfg_note.en, license_note.en]),
	sprintf("%s（ScubaGear 構成の %s: %s）— %s。%s%s", [what_ja, cfg_key, names(cfg, "ja"), concat("、", [s.ja | some s in checks]), cfg_note.ja, license_note.ja]),
	sort({x | some s in checks; some x in s.missing} | {presets[i] | some i, s in checks; not s.ok}),
) if {
	cfg := impersonation_config(id, cfg_key)
	checks := [impersonation(p, switch, key, cfg) | some p in presets]
	met := all_true(array.concat([s.ok | some s in checks], [config_ok(need_config, cfg)]))
	cfg_note := config_note(need_config, cfg, cfg_key)
}

all_true(xs) := count([x | some x in xs; x != true]) == 0

config_ok(false, _) := true

config_ok(true, cfg) := count(cfg) > 0

config_note(_, cfg, _) := {"en": "", "ja": ""} if count(cfg) > 0

config_note(false, cfg, _) := {
	"en": " With nothing listed in the configuration, the policies must not protect any entries either.",
	"ja": "構成に何も記載されていない場合、ポリシー側にも保護対象があってはなりません。",
} if count(cfg) == 0

config_note(true, cfg, key) := {
	"en": sprintf(" List the organization's domains under %s in the ScubaGear configuration; the check cannot pass while that list is empty.", [key]),
	"ja": sprintf("ScubaGear 構成の %s に自組織のドメインを記載してください。一覧が空の間は合格になりません。", [key]),
} if count(cfg) == 0

results contains impersonation_verdict(
	"MS.DEFENDER.2.1v1", "EnableTargetedUserProtection", "TargetedUsersToProtect", "SensitiveUsers", false,
	"User impersonation protection for sensitive users in the Standard and Strict presets",
	"標準および厳重プリセットにおける機密性の高いユーザーのユーザー偽装保護",
)

results contains impersonation_verdict(
	"MS.DEFENDER.2.2v1", "EnableTargetedDomainsProtection", "TargetedDomainsToProtect", "AgencyDomains", true,
	"Domain impersonation protection for the organization's own domains in the Standard and Strict presets",
	"標準および厳重プリセットにおける自組織ドメインのドメイン偽装保護",
)

results contains impersonation_verdict(
	"MS.DEFENDER.2.3v1", "EnableTargetedDomainsProtection", "TargetedDomainsToProtect", "PartnerDomains", false,
	"Domain impersonation protection for important partner domains in the Standard and Strict presets",
	"標準および厳重プリセットにおける重要なパートナー ドメインのドメイン偽装保護",
)

# ---------------------------------------------------------------------------------------------
# Safe Attachments for SharePoint, OneDrive and Teams (MS.DEFENDER.3.1v1)
# ---------------------------------------------------------------------------------------------

atp_o365 := objects(input.atp_policy_for_o365)

atp_on := [str(object.get(p, "Identity", "?")) | some p in atp_o365; p.EnableATPForSPOTeamsODB == true]

atp_off := [str(object.get(p, "Identity", "?")) | some p in atp_o365; not p.EnableATPForSPOTeamsODB == true]

results contains lib.verdict_with(
	"MS.DEFENDER.3.1v1", count(atp_on) > 0,
	sprintf("Safe Attachments for SharePoint, OneDrive and Microsoft Teams (EnableATPForSPOTeamsODB) is on in: %s; off in: %s.%s", [names(atp_on, "en"), names(atp_off, "en"), license_note.en]),
	sprintf("SharePoint、OneDrive、Microsoft Teams の安全な添付ファイル（EnableATPForSPOTeamsODB）がオンのポリシー: %s、オフのポリシー: %s。%s", [names(atp_on, "ja"), names(atp_off, "ja"), license_note.ja]),
	[x | count(atp_on) == 0; some x in atp_off],
)

# ---------------------------------------------------------------------------------------------
# Data loss prevention (MS.DEFENDER.4.x)
# ---------------------------------------------------------------------------------------------

ssn := "U.S. Social Security Number (SSN)"

itin := "U.S. Individual Taxpayer Identification Number (ITIN)"

card := "Credit Card Number"

sensitive_types := {ssn, itin, card}

dlp_rules := objects(input.dlp_compliance_rules)

dlp_policies := objects(input.dlp_compliance_policies)

enforced_policy_names := {p.Name | some p in dlp_policies; p.Enabled == true; p.Mode == "Enable"}

# Sensitive information types a rule looks for (simple or advanced rule).
info_types(r) := {c.name | some c in list(r.ContentContainsSensitiveInformation); is_object(c)} if r.IsAdvancedRule == false

info_types(r) := {t | some t in sensitive_types; contains(replace(r.AdvancedRule, "rn", ""), t)} if {
	r.IsAdvancedRule == true
	is_string(r.AdvancedRule)
}

# Enabled rules of enforced policies that detect at least one of the three types.
sensitive_rules := [{"rule": r, "types": t} |
	some r in dlp_rules
	r.Disabled == false
	t := info_types(r)
	count(t & sensitive_types) > 0
	r.ParentPolicyName in enforced_policy_names
]

covered_types := {t | some s in sensitive_rules; some t in s.types} & sensitive_types

uncovered_types := sensitive_types - covered_types

rule_label(r) := sprintf("%s (policy %s)", [str(object.get(r, "Name", "?")), str(object.get(r, "ParentPolicyName", "?"))])

rule_label_ja(r) := sprintf("%s（ポリシー %s）", [str(object.get(r, "Name", "?")), str(object.get(r, "ParentPolicyName", "?"))])

results contains lib.verdict_with(
	"MS.DEFENDER.4.1v2", count(uncovered_types) == 0,
	sprintf("Enabled DLP rules in enforced policies detecting SSN, ITIN or credit card numbers: %s. Types not covered: %s.%s", [names({rule_label(s.rule) | some s in sensitive_rules}, "en"), names(uncovered_types, "en"), dlp_license_note.en]),
	sprintf("SSN、ITIN、クレジット カード番号を検出する、適用中のポリシーの有効な DLP ルール: %s。対象外の種類: %s。%s", [names({rule_label_ja(s.rule) | some s in sensitive_rules}, "ja"), names(uncovered_types, "ja"), dlp_license_note.ja]),
	sort(uncovered_types),
)

# Rules that detect all three types.
full_rules := [s.rule | some s in sensitive_rules; count(sensitive_types - s.types) == 0]

full_policy_names := {r.ParentPolicyName | some r in full_rules}

locations := [
	{"name": "Exchange", "field": "ExchangeLocation", "workload": "Exchange"},
	{"name": "SharePoint", "field": "SharePointLocation", "workload": "SharePoint"},
	{"name": "OneDrive", "field": "OneDriveLocation", "workload": "OneDriveForBusiness"},
	{"name": "Teams", "field": "TeamsLocation", "workload": "Teams"},
	{"name": "Devices", "field": "EndpointDlpLocation", "workload": "EndpointDevices"},
]

location_policies(loc) := {p.Name |
	some p in dlp_policies
	p.Name in full_policy_names
	"All" in list(object.get(p, loc.field, null))
	is_string(p.Workload)
	contains(p.Workload, loc.workload)
}

missing_locations := [loc.name | some loc in locations; count(location_policies(loc)) == 0]

covered_locations := [sprintf("%s (%s)", [loc.name, concat(", ", sort(location_policies(loc)))]) | some loc in locations; count(location_policies(loc)) > 0]

results contains lib.verdict_with(
	"MS.DEFENDER.4.2v1", count(missing_locations) == 0,
	sprintf("DLP policies with a rule covering SSN, ITIN and credit card numbers, by location: %s. Locations not covered for all users: %s.%s", [names(covered_locations, "en"), names(missing_locations, "en"), dlp_license_note.en]),
	sprintf("SSN、ITIN、クレジット カード番号をすべて対象とするルールを含む DLP ポリシーの場所別の適用状況: %s。すべてのユーザーに適用されていない場所: %s。%s", [names(covered_locations, "ja"), names(missing_locations, "ja"), dlp_license_note.ja]),
	missing_locations,
)

weak_block(r) if r.BlockAccess == false

weak_block(r) if {
	r.BlockAccess == true
	r.BlockAccessScope != "All"
}

not_blocking := [r | some r in full_rules; weak_block(r)]

full_rules_text(lang) := {
	"en": "No enabled rule of an enforced DLP policy covers all of SSN, ITIN and credit card numbers.",
	"ja": "適用中の DLP ポリシーに、SSN、ITIN、クレジット カード番号のすべてを対象とする有効なルールがありません。",
}[lang] if count(full_rules) == 0

full_rules_text(lang) := {
	"en": sprintf("DLP rules covering SSN, ITIN and credit card numbers: %s.", [names({rule_label(r) | some r in full_rules}, "en")]),
	"ja": sprintf("SSN、ITIN、クレジット カード番号を対象とする DLP ルール: %s。", [names({rule_label_ja(r) | some r in full_rules}, "ja")]),
}[lang] if count(full_rules) > 0

# Second sentence of 4.3 / 4.4: the offending rules, only when some full rule exists.
offenders_text(_, _, _) := {"en": "", "ja": ""} if count(full_rules) == 0

offenders_text(what_en, what_ja, rules) := {
	"en": sprintf(" %s: %s.", [what_en, names({rule_label(r) | some r in rules}, "en")]),
	"ja": sprintf("%s: %s。", [what_ja, names({rule_label_ja(r) | some r in rules}, "ja")]),
} if count(full_rules) > 0

block_text := offenders_text(
	"Rules that do not block access for everyone (BlockAccess must be true with BlockAccessScope All)",
	"すべてのユーザーのアクセスをブロックしていないルール（BlockAccess が true で BlockAccessScope が All である必要があります）",
	not_blocking,
)

results contains lib.verdict_with(
	"MS.DEFENDER.4.3v1", all_true([count(full_rules) > 0, count(not_blocking) == 0]),
	concat("", [full_rules_text("en"), block_text.en, dlp_license_note.en]),
	concat("", [full_rules_text("ja"), block_text.ja, dlp_license_note.ja]),
	sort({str(object.get(r, "Name", "?")) | some r in not_blocking}),
)

not_notifying := [r | some r in full_rules; count(r.NotifyUser) == 0]

notify_text := offenders_text(
	"Rules that notify no one (NotifyUser is empty)",
	"誰にも通知しないルール（NotifyUser が空）",
	not_notifying,
)

results contains lib.verdict_with(
	"MS.DEFENDER.4.4v1", all_true([count(full_rules) > 0, count(not_notifying) == 0]),
	concat("", [full_rules_text("en"), notify_text.en, dlp_license_note.en]),
	concat("", [full_rules_text("ja"), notify_text.ja, dlp_license_note.ja]),
	sort({str(object.get(r, "Name", "?")) | some r in not_notifying}),
)

# ---------------------------------------------------------------------------------------------
# Alerts (MS.DEFENDER.5.1v1) and audit logging (MS.DEFENDER.6.1v1)
# ---------------------------------------------------------------------------------------------

required_alerts := {
	"Suspicious email sending patterns detected",
	"Suspicious Email Forwarding Activity",
	"Messages have been delayed",
	"Tenant restricted from sending unprovisioned email",
	"User restricted from sending email",
	"A potentially malicious URL click was detected",
	"Suspicious connector activity",
}

enabled_alerts := {a.Name | some a in objects(input.protection_alerts); a.Disabled == false}

missing_alerts := required_alerts - enabled_alerts

results contains lib.verdict_with(
	"MS.DEFENDER.5.1v1", count(missing_alerts) == 0,
	sprintf("%d of %d required alert policies are enabled. Disabled or missing: %s.", [count(required_alerts & enabled_alerts), count(required_alerts), names(missing_alerts, "en")]),
	sprintf("必須のアラート ポリシー %d 件中 %d 件が有効です。無効または存在しないもの: %s。", [count(required_alerts), count(required_alerts & enabled_alerts), names(missing_alerts, "ja")]),
	sort(missing_alerts),
)

audit_configs := objects(input.admin_audit_log_config)

audit_on := [str(object.get(c, "Identity", "?")) | some c in audit_configs; c.UnifiedAuditLogIngestionEnabled == true]

audit_off := [sprintf("%s (UnifiedAuditLogIngestionEnabled: %v)", [str(object.get(c, "Identity", "?")), object.get(c, "UnifiedAuditLogIngestionEnabled", null)]) |
	some c in audit_configs
	not c.UnifiedAuditLogIngestionEnabled == true
]

results contains lib.verdict_with(
	"MS.DEFENDER.6.1v1", count(audit_on) > 0,
	sprintf("Unified audit log ingestion is on in: %s; off in: %s.", [names(audit_on, "en"), names(audit_off, "en")]),
	sprintf("統合監査ログの取り込みがオンの構成: %s、オフの構成: %s。", [names(audit_on, "ja"), names(audit_off, "ja")]),
	[str(object.get(c, "Identity", "?")) | count(audit_on) == 0; some c in audit_configs; not c.UnifiedAuditLogIngestionEnabled == true],
)
