# Microsoft 365 security suite (Defender for Office 365, EOP, Purview): malware filtering and
# Safe Attachments, impersonation protection, DLP, alert policies, audit logging, inbound
# anti-spam, Safe Links and connection filtering.
#
# Which policy "applies to everyone" follows Microsoft's order of precedence: the Strict preset,
# then the Standard preset, then the custom policy with the highest priority (lowest number),
# then the default or built-in policy. Input helpers live in securitysuite_input.rego.
package mamori.m365.securitysuite

import data.mamori.m365.lib
import rego.v1

# ---------------------------------------------------------------------------------------------
# MS.SECURITYSUITE.1.1v1 / 1.2v1: anti-malware policy that applies to all recipients
# ---------------------------------------------------------------------------------------------

malware_tiers := [
	[n | preset_on("protection_policy_rules", strict_marker); some n in policy_ids_matching("anti_malware_policies", strict_marker)],
	[n | preset_on("protection_policy_rules", standard_marker); some n in policy_ids_matching("anti_malware_policies", standard_marker)],
	sort(top_custom_policies("anti_malware_rules", "MalwareFilterPolicy")),
	["Default"],
]

malware_policy_name := [t | some t in malware_tiers; count(t) > 0][0][0]

malware_policies := [p | some p in items("anti_malware_policies"); p.Identity == malware_policy_name]

required_file_types := {"exe", "cmd", "vbe"}

missing_file_types(p) := required_file_types - {lower(t) | some t in arr(get(p, "FileTypes")); is_string(t)}

default file_filter_ok := false

file_filter_ok if {
	p := malware_policies[0]
	p.EnableFileFilter == true
	count(missing_file_types(p)) == 0
}

file_filter_problems contains "the common attachments filter is turned off" if {
	p := malware_policies[0]
	not p.EnableFileFilter == true
}

file_filter_problems contains sprintf("the blocked file types lack %s", [lib.names_en(missing_file_types(p))]) if {
	p := malware_policies[0]
	count(missing_file_types(p)) > 0
}

file_filter_problems_ja contains "共通の添付ファイル フィルターがオフ" if {
	p := malware_policies[0]
	not p.EnableFileFilter == true
}

file_filter_problems_ja contains sprintf("ブロック対象のファイルの種類に %s が含まれていない", [lib.names_ja(missing_file_types(p))]) if {
	p := malware_policies[0]
	count(missing_file_types(p)) > 0
}

results contains lib.verdict_with(
	"MS.SECURITYSUITE.1.1v1", false,
	sprintf("The anti-malware policy that applies to all recipients should be %s, but no such policy is in the export.", [friendly(malware_policy_name, "en")]),
	sprintf("全受信者に適用されるマルウェア対策ポリシーは %s のはずですが、エクスポートに見つかりません。", [friendly(malware_policy_name, "ja")]),
	[malware_policy_name],
) if count(malware_policies) == 0

results contains lib.verdict_with(
	"MS.SECURITYSUITE.1.1v1", file_filter_ok,
	sprintf("The anti-malware policy that applies to all recipients is %s; its common attachments filter is on and blocks .exe, .cmd and .vbe files.", [friendly(malware_policy_name, "en")]),
	sprintf("全受信者に適用されるマルウェア対策ポリシーは %s で、共通の添付ファイル フィルターが有効になり .exe、.cmd、.vbe をブロックしています。", [friendly(malware_policy_name, "ja")]),
	[],
) if {
	count(malware_policies) > 0
	file_filter_ok
}

results contains lib.verdict_with(
	"MS.SECURITYSUITE.1.1v1", file_filter_ok,
	sprintf("The anti-malware policy that applies to all recipients is %s: %s.", [friendly(malware_policy_name, "en"), concat("; ", file_filter_problems)]),
	sprintf("全受信者に適用されるマルウェア対策ポリシーは %s です。問題点: %s。", [friendly(malware_policy_name, "ja"), concat("、", file_filter_problems_ja)]),
	[malware_policy_name],
) if {
	count(malware_policies) > 0
	not file_filter_ok
}

default zap_ok := false

zap_ok if malware_policies[0].ZapEnabled == true

results contains lib.verdict_with(
	"MS.SECURITYSUITE.1.2v1", false,
	sprintf("The anti-malware policy that applies to all recipients should be %s, but no such policy is in the export.", [friendly(malware_policy_name, "en")]),
	sprintf("全受信者に適用されるマルウェア対策ポリシーは %s のはずですが、エクスポートに見つかりません。", [friendly(malware_policy_name, "ja")]),
	[malware_policy_name],
) if count(malware_policies) == 0

results contains lib.verdict_with(
	"MS.SECURITYSUITE.1.2v1", zap_ok,
	sprintf("The anti-malware policy that applies to all recipients is %s; zero-hour auto purge (ZapEnabled) is %v.", [friendly(malware_policy_name, "en"), get(malware_policies[0], "ZapEnabled")]),
	sprintf("全受信者に適用されるマルウェア対策ポリシーは %s で、ゼロ時間自動消去 (ZapEnabled) は %v です。", [friendly(malware_policy_name, "ja"), get(malware_policies[0], "ZapEnabled")]),
	[malware_policy_name | not zap_ok],
) if count(malware_policies) > 0

# ---------------------------------------------------------------------------------------------
# MS.SECURITYSUITE.1.3v1: Safe Attachments policy that applies to all recipients
# ---------------------------------------------------------------------------------------------

builtin_attachments_for_all if {
	some r in items("built_in_protection_rules")
	field_empty(r, "ExceptIfSentTo")
	field_empty(r, "ExceptIfSentToMemberOf")
	field_empty(r, "ExceptIfRecipientDomainIs")
}

attachment_tiers := [
	[n | preset_on("atp_policy_rules", strict_marker); some n in policy_ids_matching("safe_attachment_policies", strict_marker)],
	[n | preset_on("atp_policy_rules", standard_marker); some n in policy_ids_matching("safe_attachment_policies", standard_marker)],
	sort(top_custom_policies("safe_attachment_rules", "SafeAttachmentPolicy")),
	["Built-In Protection Policy" | builtin_attachments_for_all],
]

attachment_names := [t[0] | some t in attachment_tiers; count(t) > 0]

attachment_policies := [p | some p in items("safe_attachment_policies"); p.Identity == attachment_names[0]]

default attachments_ok := false

attachments_ok if attachment_policies[0].Action in {"Block", "DynamicDelivery"}

results contains lib.verdict_with(
	"MS.SECURITYSUITE.1.3v1", false,
	"No Safe Attachments policy applies to all recipients: no Strict or Standard preset covers everyone, the highest-priority custom rule is scoped or absent, and the built-in protection rule is missing or has exceptions.",
	"全受信者に適用される安全な添付ファイル ポリシーがありません。Strict／Standard のプリセットは全員を対象にしておらず、最優先のカスタム ルールは範囲限定か存在せず、組み込みの保護ルールは存在しないか除外があります。",
	[],
) if count(attachment_names) == 0

results contains lib.verdict_with(
	"MS.SECURITYSUITE.1.3v1", false,
	sprintf("The Safe Attachments policy that applies to all recipients should be %s, but no such policy is in the export.", [friendly(attachment_names[0], "en")]),
	sprintf("全受信者に適用される安全な添付ファイル ポリシーは %s のはずですが、エクスポートに見つかりません。", [friendly(attachment_names[0], "ja")]),
	[attachment_names[0]],
) if {
	count(attachment_names) > 0
	count(attachment_policies) == 0
}

results contains lib.verdict_with(
	"MS.SECURITYSUITE.1.3v1", attachments_ok,
	sprintf("The Safe Attachments policy that applies to all recipients is %s; its unknown-malware response is %v (Block or DynamicDelivery required).%s", [friendly(attachment_names[0], "en"), get(attachment_policies[0], "Action"), license_note_en]),
	sprintf("全受信者に適用される安全な添付ファイル ポリシーは %s で、不明なマルウェアへの応答は %v です（Block または DynamicDelivery が必要）。%s", [friendly(attachment_names[0], "ja"), get(attachment_policies[0], "Action"), license_note_ja]),
	[attachment_names[0] | not attachments_ok],
) if count(attachment_policies) > 0

# ---------------------------------------------------------------------------------------------
# MS.SECURITYSUITE.1.4v1: Defender for Office 365 for SharePoint, OneDrive and Teams
# ---------------------------------------------------------------------------------------------

atp_spo_on := [object.get(p, "Identity", "(unnamed)") | some p in items("atp_policy_for_o365"); p.EnableATPForSPOTeamsODB == true]

atp_spo_off := [object.get(p, "Identity", "(unnamed)") | some p in items("atp_policy_for_o365"); not p.EnableATPForSPOTeamsODB == true]

results contains lib.verdict_with(
	"MS.SECURITYSUITE.1.4v1", true,
	sprintf("Safe Attachments for SharePoint, OneDrive and Microsoft Teams is on (policy %s).", [lib.names_en(atp_spo_on)]),
	sprintf("SharePoint、OneDrive、Microsoft Teams 向けの安全な添付ファイルが有効です（ポリシー %s）。", [lib.names_ja(atp_spo_on)]),
	[],
) if count(atp_spo_on) > 0

results contains lib.verdict_with(
	"MS.SECURITYSUITE.1.4v1", false,
	sprintf("Safe Attachments for SharePoint, OneDrive and Microsoft Teams is off (EnableATPForSPOTeamsODB is not true in: %s).%s", [names_or_none_en(atp_spo_off), license_note_en]),
	sprintf("SharePoint、OneDrive、Microsoft Teams 向けの安全な添付ファイルが無効です（EnableATPForSPOTeamsODB が true でないポリシー: %s）。%s", [names_or_none_ja(atp_spo_off), license_note_ja]),
	atp_spo_off,
) if count(atp_spo_on) == 0

# ---------------------------------------------------------------------------------------------
# MS.SECURITYSUITE.2.x: impersonation protection and safety tips (anti-phishing policies)
# ---------------------------------------------------------------------------------------------

enabled_phish := [p | some p in items("anti_phish_policies"); p.Enabled == true]

phish_rule_for(r, p) if r.AntiPhishPolicy == p.Name

phish_rule_for(r, p) if r.AntiPhishPolicy == p.Identity

phish_covers_all(p) if p.IsDefault == true

phish_covers_all(p) if {
	is_preset(p, strict_marker)
	preset_on("protection_policy_rules", strict_marker)
}

phish_covers_all(p) if {
	is_preset(p, standard_marker)
	preset_on("protection_policy_rules", standard_marker)
}

phish_covers_all(p) if {
	not p.IsDefault == true
	not is_preset(p, strict_marker)
	not is_preset(p, standard_marker)
	count(tenant_domains) > 0
	some r in items("anti_phish_rules")
	r.State == "Enabled"
	phish_rule_for(r, p)
	custom_rule_covers_all(r)
}

rejected_actions := {"noaction", "bccmessage"}

# Per-policy summary of the settings a 2.x control looks at, for the details of a failure.
phish_settings := {
	"user": ["EnableTargetedUserProtection", "TargetedUserProtectionAction"],
	"org": ["EnableOrganizationDomainsProtection", "TargetedDomainProtectionAction"],
	"partner": ["EnableTargetedDomainsProtection", "TargetedDomainProtectionAction"],
}

covers_text(p, "en") := "yes" if phish_covers_all(p)

covers_text(p, "en") := "no" if not phish_covers_all(p)

covers_text(p, "ja") := "はい" if phish_covers_all(p)

covers_text(p, "ja") := "いいえ" if not phish_covers_all(p)

summary_format := {
	"en": "%v (%s %v, %s %v, applies to all recipients: %s)",
	"ja": "%v（%s %v、%s %v、全受信者に適用: %s）",
}

phish_summary(kind, lang) := [sprintf(summary_format[lang], [policy_id(p), f[0], get(p, f[0]), f[1], get(p, f[1]), covers_text(p, lang)]) |
	f := phish_settings[kind]
	some p in enabled_phish
]

acceptable_action(p, field) if {
	a := get(p, field)
	is_string(a)
	not lower(a) in rejected_actions
}

# Sensitive users: "Display Name;address" or the address alone.
user_address(entry) := a if {
	parts := split(entry, ";")
	count(parts) > 1
	a := lower(trim_space(parts[1]))
	a != ""
}

user_address(entry) := entry if count(split(entry, ";")) == 1

sensitive_users := cfg_values("MS.SECURITYSUITE.2.1v1", "MS.DEFENDER.2.1v1", "SensitiveUsers")

sensitive_addresses := {a | some e in sensitive_users; a := user_address(e)}

protected_addresses(p) := {a | some raw in arr(get(p, "TargetedUsersToProtect")); is_string(raw); a := user_address(lower(trim_space(raw)))}

unprotected_users(p) := sensitive_addresses - protected_addresses(p)

user_protection_candidates := [p |
	some p in enabled_phish
	p.EnableTargetedUserProtection == true
	count(protected_addresses(p)) > 0
	count(unprotected_users(p)) == 0
	acceptable_action(p, "TargetedUserProtectionAction")
]

user_protection_policies := [policy_id(p) | some p in user_protection_candidates; phish_covers_all(p)]


results contains lib.verdict_with(
	"MS.SECURITYSUITE.2.1v1", false,
	"No sensitive accounts are listed in the configuration file (--config: SecuritySuite > MS.SECURITYSUITE.2.1v1 > SensitiveUsers), so user impersonation protection cannot be verified.",
	"構成ファイル（--config の SecuritySuite > MS.SECURITYSUITE.2.1v1 > SensitiveUsers）に機密アカウントが登録されていないため、ユーザー偽装保護を確認できません。",
	[],
) if count(sensitive_users) == 0

results contains lib.verdict_with("MS.SECURITYSUITE.2.1v1", false, no_defender_en, no_defender_ja, []) if {
	count(sensitive_users) > 0
	not defender_licensed
}

results contains lib.verdict_with(
	"MS.SECURITYSUITE.2.1v1", true,
	sprintf("User impersonation protection covers every sensitive account in the configuration (%d) for all recipients (anti-phishing policy %s).", [count(sensitive_addresses), lib.names_en(user_protection_policies)]),
	sprintf("フィッシング対策ポリシー %s により、%d 件の機密アカウントすべてのユーザー偽装保護が全受信者に適用されています。", [lib.names_ja(user_protection_policies), count(sensitive_addresses)]),
	[],
) if {
	count(sensitive_users) > 0
	defender_licensed
	count(user_protection_policies) > 0
}

results contains lib.verdict_with(
	"MS.SECURITYSUITE.2.1v1", false,
	sprintf("No enabled anti-phishing policy protects every sensitive account with a quarantine, junk, redirect or delete action and applies to all recipients. Sensitive accounts missing from every enabled policy: %s. Enabled anti-phishing policies: %s.", [names_or_none_en(users_unprotected_everywhere), names_or_none_en(phish_summary("user", "en"))]),
	sprintf("すべての機密アカウントを保護し、偽装時の処理が検疫・迷惑メール・リダイレクト・削除のいずれかで、全受信者に適用される有効なフィッシング対策ポリシーがありません。どの有効なポリシーにも含まれていない機密アカウント: %s。有効なフィッシング対策ポリシー: %s。", [names_or_none_ja(users_unprotected_everywhere), names_or_none_ja(phish_summary("user", "ja"))]),
	users_unprotected_everywhere | {policy_id(p) | some p in enabled_phish},
) if {
	count(sensitive_users) > 0
	defender_licensed
	count(user_protection_policies) == 0
}

users_unprotected_everywhere := sensitive_addresses - {a |
	some p in enabled_phish
	p.EnableTargetedUserProtection == true
	some a in protected_addresses(p)
}

# 2.2: "Include domains I own".
org_domain_candidates := [p |
	some p in enabled_phish
	p.EnableOrganizationDomainsProtection == true
	acceptable_action(p, "TargetedDomainProtectionAction")
]

org_domain_policies := [policy_id(p) | some p in org_domain_candidates; phish_covers_all(p)]


results contains lib.verdict_with("MS.SECURITYSUITE.2.2v1", false, no_defender_en, no_defender_ja, []) if not defender_licensed

results contains lib.verdict_with(
	"MS.SECURITYSUITE.2.2v1", true,
	sprintf("Domain impersonation protection for the organization's own domains applies to all recipients (anti-phishing policy %s).", [lib.names_en(org_domain_policies)]),
	sprintf("組織が所有するドメインの偽装保護が全受信者に適用されています（フィッシング対策ポリシー %s）。", [lib.names_ja(org_domain_policies)]),
	[],
) if {
	defender_licensed
	count(org_domain_policies) > 0
}

results contains lib.verdict_with(
	"MS.SECURITYSUITE.2.2v1", false,
	sprintf("No enabled anti-phishing policy has \"Include domains I own\" on with a quarantine, junk, redirect or delete action for domain impersonation and applies to all recipients. Enabled anti-phishing policies: %s.", [names_or_none_en(phish_summary("org", "en"))]),
	sprintf("「自分が所有するドメインを含める」が有効で、ドメイン偽装時の処理が検疫・迷惑メール・リダイレクト・削除のいずれかで、全受信者に適用される有効なフィッシング対策ポリシーがありません。有効なフィッシング対策ポリシー: %s。", [names_or_none_ja(phish_summary("org", "ja"))]),
	{policy_id(p) | some p in enabled_phish},
) if {
	defender_licensed
	count(org_domain_policies) == 0
}

# 2.3: partner domains listed in the configuration.
partner_domains := cfg_values("MS.SECURITYSUITE.2.3v1", "MS.DEFENDER.2.3v1", "PartnerDomains")

protected_domains(p) := {lower(trim_space(d)) | some d in arr(get(p, "TargetedDomainsToProtect")); is_string(d)}

partner_candidates := [p |
	some p in enabled_phish
	p.EnableTargetedDomainsProtection == true
	count(protected_domains(p)) > 0
	count(partner_domains - protected_domains(p)) == 0
	acceptable_action(p, "TargetedDomainProtectionAction")
]

partner_policies := [policy_id(p) | some p in partner_candidates; phish_covers_all(p)]


partners_unprotected_everywhere := partner_domains - {d |
	some p in enabled_phish
	p.EnableTargetedDomainsProtection == true
	some d in protected_domains(p)
}

results contains lib.verdict_with(
	"MS.SECURITYSUITE.2.3v1", false,
	"No partner domains are listed in the configuration file (--config: SecuritySuite > MS.SECURITYSUITE.2.3v1 > PartnerDomains), so partner domain impersonation protection cannot be verified.",
	"構成ファイル（--config の SecuritySuite > MS.SECURITYSUITE.2.3v1 > PartnerDomains）にパートナー ドメインが登録されていないため、パートナー ドメインの偽装保護を確認できません。",
	[],
) if count(partner_domains) == 0

results contains lib.verdict_with("MS.SECURITYSUITE.2.3v1", false, no_defender_en, no_defender_ja, []) if {
	count(partner_domains) > 0
	not defender_licensed
}

results contains lib.verdict_with(
	"MS.SECURITYSUITE.2.3v1", true,
	sprintf("Domain impersonation protection covers all partner domains (%s) for all recipients (anti-phishing policy %s).", [lib.names_en(partner_domains), lib.names_en(partner_policies)]),
	sprintf("すべてのパートナー ドメイン（%s）のドメイン偽装保護が全受信者に適用されています（フィッシング対策ポリシー %s）。", [lib.names_ja(partner_domains), lib.names_ja(partner_policies)]),
	[],
) if {
	count(partner_domains) > 0
	defender_licensed
	count(partner_policies) > 0
}

results contains lib.verdict_with(
	"MS.SECURITYSUITE.2.3v1", false,
	sprintf("No enabled anti-phishing policy protects every partner domain with a quarantine, junk, redirect or delete action and applies to all recipients. Partner domains missing from every enabled policy: %s. Enabled anti-phishing policies: %s.", [names_or_none_en(partners_unprotected_everywhere), names_or_none_en(phish_summary("partner", "en"))]),
	sprintf("すべてのパートナー ドメインを保護し、偽装時の処理が検疫・迷惑メール・リダイレクト・削除のいずれかで、全受信者に適用される有効なフィッシング対策ポリシーがありません。どの有効なポリシーにも含まれていないパートナー ドメイン: %s。有効なフィッシング対策ポリシー: %s。", [names_or_none_ja(partners_unprotected_everywhere), names_or_none_ja(phish_summary("partner", "ja"))]),
	partners_unprotected_everywhere | {policy_id(p) | some p in enabled_phish},
) if {
	count(partner_domains) > 0
	defender_licensed
	count(partner_policies) == 0
}

# 2.4: safety tips.
safety_tip_flags := [
	"EnableFirstContactSafetyTips", "EnableSimilarUsersSafetyTips", "EnableSimilarDomainsSafetyTips",
	"EnableUnusualCharactersSafetyTips", "EnableViaTag", "EnableUnauthenticatedSender",
]

tips_off(p) := [f | some f in safety_tip_flags; not p[f] == true]

tips_candidates := [p |
	some p in enabled_phish
	not is_preset(p, strict_marker)
	not is_preset(p, standard_marker)
	count(tips_off(p)) == 0
]

tips_policies := [policy_id(p) | some p in tips_candidates; phish_covers_all(p)]

tips_partial := [policy_id(p) | some p in tips_candidates; not phish_covers_all(p)]

default tips_ok := false

tips_ok if count(tips_policies) > 0

tips_ok if eop_preset_for_all

tips_gaps_en := [sprintf("%s (off: %s)", [policy_id(p), concat(", ", tips_off(p))]) |
	some p in enabled_phish
	not is_preset(p, strict_marker)
	not is_preset(p, standard_marker)
	count(tips_off(p)) > 0
]

tips_gaps_ja := [sprintf("%s（無効: %s）", [policy_id(p), concat("、", tips_off(p))]) |
	some p in enabled_phish
	not is_preset(p, strict_marker)
	not is_preset(p, standard_marker)
	count(tips_off(p)) > 0
]

results contains lib.verdict_with("MS.SECURITYSUITE.2.4v1", false, no_defender_en, no_defender_ja, []) if not defender_licensed

results contains lib.verdict_with(
	"MS.SECURITYSUITE.2.4v1", true,
	"Safety tips and sender indicators are shown to all recipients through the Standard or Strict preset security policy.",
	"Standard または Strict のプリセット セキュリティ ポリシーにより、安全のヒントと送信者インジケーターが全受信者に表示されます。",
	[],
) if {
	defender_licensed
	count(tips_policies) == 0
	eop_preset_for_all
}

results contains lib.verdict_with(
	"MS.SECURITYSUITE.2.4v1", true,
	sprintf("All safety tips and sender indicators are on for all recipients (anti-phishing policy %s).", [lib.names_en(tips_policies)]),
	sprintf("すべての安全のヒントと送信者インジケーターが全受信者に対して有効です（フィッシング対策ポリシー %s）。", [lib.names_ja(tips_policies)]),
	[],
) if {
	defender_licensed
	count(tips_policies) > 0
}

results contains lib.verdict_with(
	"MS.SECURITYSUITE.2.4v1", false,
	sprintf("No Standard or Strict preset covers all recipients, and no enabled anti-phishing policy with every safety tip and indicator on applies to all recipients.%s Policies with tips off: %s.", [partial_en(tips_partial), names_or_none_en(tips_gaps_en)]),
	sprintf("全受信者を対象とする Standard／Strict プリセットがなく、すべての安全のヒントとインジケーターが有効で全受信者に適用される有効なフィッシング対策ポリシーもありません。%sヒントが無効なポリシー: %s。", [partial_ja(tips_partial), names_or_none_ja(tips_gaps_ja)]),
	{policy_id(p) | some p in enabled_phish; not is_preset(p, strict_marker); not is_preset(p, standard_marker); count(tips_off(p)) > 0} | {x | some x in tips_partial},
) if {
	defender_licensed
	not tips_ok
}

# ---------------------------------------------------------------------------------------------
# MS.SECURITYSUITE.3.x: data loss prevention for SSN, ITIN and credit card numbers
# ---------------------------------------------------------------------------------------------

sensitive_types := [
	"U.S. Social Security Number (SSN)",
	"U.S. Individual Taxpayer Identification Number (ITIN)",
	"Credit Card Number",
]

rule_types(r) := {c.name | some c in arr(get(r, "ContentContainsSensitiveInformation")); is_object(c); is_string(c.name)} if {
	r.IsAdvancedRule == false
}

# Advanced rules carry their conditions as JSON text; the export flattens line breaks to "rn".
rule_types(r) := {t | some t in sensitive_types; contains(text, t)} if {
	r.IsAdvancedRule == true
	is_string(r.AdvancedRule)
	text := replace(replace(r.AdvancedRule, "rn", ""), "'", "\"")
}

dlp_policy_enforced(name) if name in enforced_dlp_policy_names

# Names of the enabled policies in enforcement mode, read once (not once per rule).
enforced_dlp_policy_names := {p.Name |
	some p in items("dlp_compliance_policies")
	p.Enabled == true
	p.Mode == "Enable"
}

dlp_rule_fields := ["Name", "ParentPolicyName", "BlockAccess", "BlockAccessScope", "NotifyUser", "NotifyUserType"]

# Enabled rules of enforced policies that detect at least one sensitive information type.
sensitive_rules := [{
	"name": r.Name, "policy": r.ParentPolicyName, "block": r.BlockAccess,
	"scope": r.BlockAccessScope, "notify": r.NotifyUser, "types": ts,
} |
	enforced := enforced_dlp_policy_names
	some r in items("dlp_compliance_rules")
	r.Disabled == false

	# has_key(r, f) for every field, without a call per field.
	every f in dlp_rule_fields {
		v := r[f]
		v != "\u0000absent"
	}
	r.ParentPolicyName in enforced
	ts := rule_types(r)
	count(ts) > 0
]

# Rules that detect all three types.
full_rules := [s | some s in sensitive_rules; count({t | some t in sensitive_types} - s.types) == 0]

type_covered(t) if {
	some s in sensitive_rules
	t in s.types
}

uncovered_types := {t | some t in sensitive_types; not type_covered(t)}

covering_rules := {sprintf("%v (%v)", [s.name, s.policy]) | some s in sensitive_rules; count({t | some t in sensitive_types} & s.types) > 0}

results contains lib.verdict_with(
	"MS.SECURITYSUITE.3.1v1", true,
	sprintf("Enforced DLP rules detect U.S. SSNs, U.S. ITINs and credit card numbers (rules: %s).%s", [lib.names_en(covering_rules), dlp_license_note_en]),
	sprintf("適用中の DLP ルールが米国 SSN、米国 ITIN、クレジット カード番号を検出します（ルール: %s）。%s", [lib.names_ja(covering_rules), dlp_license_note_ja]),
	[],
) if count(uncovered_types) == 0

results contains lib.verdict_with(
	"MS.SECURITYSUITE.3.1v1", false,
	sprintf("No enabled rule of an enforced DLP policy detects: %s.%s", [lib.names_en(uncovered_types), dlp_license_note_en]),
	sprintf("適用中の DLP ポリシーの有効なルールで検出されていない情報の種類: %s。%s", [lib.names_ja(uncovered_types), dlp_license_note_ja]),
	uncovered_types,
) if count(uncovered_types) > 0

dlp_locations := [
	{"label": "Exchange", "workload": "Exchange", "field": "ExchangeLocation"},
	{"label": "SharePoint", "workload": "SharePoint", "field": "SharePointLocation"},
	{"label": "OneDrive", "workload": "OneDriveForBusiness", "field": "OneDriveLocation"},
	{"label": "Teams", "workload": "Teams", "field": "TeamsLocation"},
	{"label": "Devices", "workload": "EndpointDevices", "field": "EndpointDlpLocation"},
]

location_policies(loc) := {p.Name |
	some p in items("dlp_compliance_policies")
	some s in full_rules
	p.Name == s.policy
	"All" in arr(get(p, loc.field))
	is_string(p.Workload)
	contains(p.Workload, loc.workload)
}

# The number of policies covering each location (by label), counted once.
location_policy_counts := {loc.label: count(location_policies(loc)) | some loc in dlp_locations}

missing_locations := [loc.label | some loc in dlp_locations; location_policy_counts[loc.label] == 0]

covered_locations := [loc.label | some loc in dlp_locations; location_policy_counts[loc.label] > 0]

results contains lib.verdict_with(
	"MS.SECURITYSUITE.3.2v1", dlp_licensed,
	sprintf("A DLP policy protecting SSNs, ITINs and credit card numbers applies to all of Exchange, SharePoint, OneDrive, Teams and Devices.%s", [dlp_license_note_en]),
	sprintf("SSN、ITIN、クレジット カード番号を保護する DLP ポリシーが Exchange、SharePoint、OneDrive、Teams、デバイスのすべてに適用されています。%s", [dlp_license_note_ja]),
	[],
) if count(missing_locations) == 0

results contains lib.verdict_with(
	"MS.SECURITYSUITE.3.2v1", false,
	sprintf("No enforced DLP policy that detects SSNs, ITINs and credit card numbers applies to all of these locations: %s (locations covered: %s).%s", [concat(", ", missing_locations), names_or_none_en(covered_locations), dlp_license_note_en]),
	sprintf("SSN、ITIN、クレジット カード番号を検出する適用中の DLP ポリシーが、次の場所の全体に適用されていません: %s（適用済みの場所: %s）。%s", [concat("、", missing_locations), names_or_none_ja(covered_locations), dlp_license_note_ja]),
	missing_locations,
) if count(missing_locations) > 0

blocks_everyone(s) if {
	s.block == true
	s.scope == "All"
}

rules_not_blocking := {s.name | some s in full_rules; not blocks_everyone(s)}

results contains lib.verdict_with(
	"MS.SECURITYSUITE.3.3v1", false,
	sprintf("No enabled rule of an enforced DLP policy detects all of SSNs, ITINs and credit card numbers, so no blocking action could be checked.%s", [dlp_license_note_en]),
	sprintf("適用中の DLP ポリシーに SSN、ITIN、クレジット カード番号のすべてを検出する有効なルールがないため、ブロック処理を確認できません。%s", [dlp_license_note_ja]),
	[],
) if count(full_rules) == 0

results contains lib.verdict_with(
	"MS.SECURITYSUITE.3.3v1", count(rules_not_blocking) == 0,
	sprintf("DLP rules detecting all three types: %s. Rules that do not block everyone (BlockAccess true with BlockAccessScope All): %s.%s", [lib.names_en({s.name | some s in full_rules}), names_or_none_en(rules_not_blocking), dlp_license_note_en]),
	sprintf("3 種類すべてを検出する DLP ルール: %s。全員をブロックする設定（BlockAccess が true かつ BlockAccessScope が All）になっていないルール: %s。%s", [lib.names_ja({s.name | some s in full_rules}), names_or_none_ja(rules_not_blocking), dlp_license_note_ja]),
	rules_not_blocking,
) if count(full_rules) > 0

notifies_someone(s) if count(s.notify) > 0

rules_not_notifying := {s.name | some s in full_rules; not notifies_someone(s)}

results contains lib.verdict_with(
	"MS.SECURITYSUITE.3.4v1", false,
	sprintf("No enabled rule of an enforced DLP policy detects all of SSNs, ITINs and credit card numbers, so user notifications could not be checked.%s", [dlp_license_note_en]),
	sprintf("適用中の DLP ポリシーに SSN、ITIN、クレジット カード番号のすべてを検出する有効なルールがないため、ユーザー通知を確認できません。%s", [dlp_license_note_ja]),
	[],
) if count(full_rules) == 0

results contains lib.verdict_with(
	"MS.SECURITYSUITE.3.4v1", count(rules_not_notifying) == 0,
	sprintf("DLP rules detecting all three types: %s. Rules that notify nobody: %s.%s", [lib.names_en({s.name | some s in full_rules}), names_or_none_en(rules_not_notifying), dlp_license_note_en]),
	sprintf("3 種類すべてを検出する DLP ルール: %s。誰にも通知しないルール: %s。%s", [lib.names_ja({s.name | some s in full_rules}), names_or_none_ja(rules_not_notifying), dlp_license_note_ja]),
	rules_not_notifying,
) if count(full_rules) > 0

# ---------------------------------------------------------------------------------------------
# MS.SECURITYSUITE.4.1v1: required alert policies
# ---------------------------------------------------------------------------------------------

base_alerts := {
	"Suspicious email sending patterns detected",
	"Suspicious connector activity",
	"Suspicious Email Forwarding Activity",
	"Messages have been delayed",
	"Tenant restricted from sending unprovisioned email",
	"Tenant restricted from sending email",
}

url_click_alert := "A potentially malicious URL click was detected"

# The URL-click alert exists only with Defender for Office 365 Plan 2; require it when present.
required_alerts := base_alerts | {url_click_alert | some a in items("protection_alerts"); a.Name == url_click_alert}

enabled_alerts := {a.Name | some a in items("protection_alerts"); a.Name in required_alerts; a.Disabled == false}

present_alerts := {a.Name | some a in items("protection_alerts"); a.Name in required_alerts}

disabled_alerts := present_alerts - enabled_alerts

absent_alerts := required_alerts - present_alerts

results contains lib.verdict_with(
	"MS.SECURITYSUITE.4.1v1", true,
	sprintf("All %d required alert policies are enabled.", [count(required_alerts)]),
	sprintf("必要な %d 件のアラート ポリシーがすべて有効です。", [count(required_alerts)]),
	[],
) if count(required_alerts - enabled_alerts) == 0

results contains lib.verdict_with(
	"MS.SECURITYSUITE.4.1v1", false,
	sprintf("Required alert policies disabled: %s. Required alert policies not found: %s.", [names_or_none_en(disabled_alerts), names_or_none_en(absent_alerts)]),
	sprintf("無効になっている必須アラート ポリシー: %s。見つからない必須アラート ポリシー: %s。", [names_or_none_ja(disabled_alerts), names_or_none_ja(absent_alerts)]),
	required_alerts - enabled_alerts,
) if count(required_alerts - enabled_alerts) > 0

# ---------------------------------------------------------------------------------------------
# MS.SECURITYSUITE.5.x: unified audit log and its retention
# ---------------------------------------------------------------------------------------------

audit_on := [object.get(c, "Identity", "(unnamed)") | some c in items("admin_audit_log_config"); c.UnifiedAuditLogIngestionEnabled == true]

audit_values := [get(c, "UnifiedAuditLogIngestionEnabled") | some c in items("admin_audit_log_config")]

results contains lib.verdict_with(
	"MS.SECURITYSUITE.5.1v1", count(audit_on) > 0,
	sprintf("Unified audit log ingestion (UnifiedAuditLogIngestionEnabled): %v.", [values_or_none(audit_values)]),
	sprintf("統合監査ログの取り込み (UnifiedAuditLogIngestionEnabled): %v。", [values_or_none(audit_values)]),
	[x | count(audit_on) == 0; x := "UnifiedAuditLogIngestionEnabled"],
)

long_retention := {"TwelveMonths", "ThreeYears", "FiveYears", "SevenYears", "TenYears"}

default advanced_audit_licensed := false

advanced_audit_licensed if {
	some sp in items("service_plans")
	sp.ServicePlanName == "M365_ADVANCED_AUDITING"
	has_key(sp, "ServicePlanId")
}

long_retention_policies := {object.get(p, "Name", "(unnamed)") |
	some p in items("unified_audit_log_retention_policies")
	p.RetentionDuration in long_retention
	not p.Enabled == false
}

retention_seen := {sprintf("%v (%v%v)", [object.get(p, "Name", "(unnamed)"), get(p, "RetentionDuration"), disabled_suffix(p)]) | some p in items("unified_audit_log_retention_policies")}

disabled_suffix(p) := ", disabled" if p.Enabled == false

disabled_suffix(p) := "" if not p.Enabled == false

default retention_ok := false

retention_ok if {
	advanced_audit_licensed
	count(long_retention_policies) > 0
}

results contains lib.verdict_with(
	"MS.SECURITYSUITE.5.2v1", retention_ok,
	sprintf("Audit (Premium) licence (M365_ADVANCED_AUDITING service plan): %v. Audit log retention policies: %s; 12 months or more and enabled: %s. Retention beyond 180 days applies only to users with an E5-level or Audit (Premium) licence.", [audit_licence_text.en, names_or_none_en(retention_seen), names_or_none_en(long_retention_policies)]),
	sprintf("Audit (Premium) ライセンス（M365_ADVANCED_AUDITING サービス プラン）: %v。監査ログ保持ポリシー: %s。12 か月以上で有効なもの: %s。180 日を超える保持は E5 相当または Audit (Premium) ライセンスを持つユーザーにのみ適用されます。", [audit_licence_text.ja, names_or_none_ja(retention_seen), names_or_none_ja(long_retention_policies)]),
	[x | not retention_ok; some x in retention_gaps],
)

# Licence data comes from the Entra ID export; without it the control fails rather than errs.
audit_licence_text := {"en": "not reported (no service_plans section)", "ja": "不明（service_plans セクションなし）"} if not is_array(object.get(doc, "service_plans", null))

audit_licence_text := {"en": yes_no_en(advanced_audit_licensed), "ja": yes_no_ja(advanced_audit_licensed)} if is_array(object.get(doc, "service_plans", null))

retention_gaps contains "M365_ADVANCED_AUDITING" if not advanced_audit_licensed

retention_gaps contains x if {
	count(long_retention_policies) == 0
	some x in retention_seen
}

# ---------------------------------------------------------------------------------------------
# MS.SECURITYSUITE.6.x: inbound anti-spam policies
# ---------------------------------------------------------------------------------------------

content_filter_policies := items("hosted_content_filter_policies")

preset_spam_rule_active(r) if {
	is_string(r.Identity)
	some r2 in items("protection_policy_rules")
	is_string(r2.Identity)
	contains(r2.Identity, r.Identity)
	r2.State == "Enabled"
	rule_targets_everyone(r2)
}

active_preset_spam := {r.HostedContentFilterPolicy |
	some r in items("protection_policy_rules")
	r.State == "Enabled"
	preset_spam_rule_active(r)
}

active_custom_spam := {r.HostedContentFilterPolicy |
	some r in items("hosted_content_filter_rules")
	r.State == "Enabled"
	custom_rule_covers_all(r)
}

spam_tiers := ["strict", "standard", "custom", "default"]

in_spam_tier(p, "strict") if {
	p.RecommendedPolicyType == "Strict"
	p.Identity in active_preset_spam
}

in_spam_tier(p, "standard") if {
	p.RecommendedPolicyType == "Standard"
	p.Identity in active_preset_spam
}

in_spam_tier(p, "custom") if {
	p.RecommendedPolicyType == "Custom"
	p.IsDefault == false
	p.Identity in active_custom_spam
}

in_spam_tier(p, "default") if p.IsDefault == true

allowed_spam_actions := {"MoveToJmf", "Quarantine", "Redirect", "Delete"}

spam_actions(p) := {p.SpamAction, p.HighConfidenceSpamAction, p.PhishSpamAction, p.HighConfidencePhishAction}

spam_ok(p, "actions") if count(spam_actions(p) - allowed_spam_actions) == 0

spam_bad(p, "actions") if count(spam_actions(p) - allowed_spam_actions) > 0

allowed_domain_count(p) := 0 if {
	has_key(p, "AllowedSenderDomains")
	p.AllowedSenderDomains == null
}

allowed_domain_count(p) := count(p.AllowedSenderDomains) if p.AllowedSenderDomains != null

spam_ok(p, "domains") if allowed_domain_count(p) == 0

spam_bad(p, "domains") if allowed_domain_count(p) > 0

tier_compliant(tier, aspect) if {
	some p in content_filter_policies
	in_spam_tier(p, tier)
	spam_ok(p, aspect)
}

# A lower tier is only judged when no higher tier holds a compliant, active policy.
tier_judged("strict", _) := true

tier_judged("standard", aspect) if not tier_compliant("strict", aspect)

tier_judged("custom", aspect) if {
	not tier_compliant("strict", aspect)
	not tier_compliant("standard", aspect)
}

tier_judged("default", aspect) if {
	not tier_compliant("strict", aspect)
	not tier_compliant("standard", aspect)
	not tier_compliant("custom", aspect)
}

spam_offenders(aspect) := {p.Identity |
	some p in content_filter_policies
	some tier in spam_tiers
	in_spam_tier(p, tier)
	tier_judged(tier, aspect)
	spam_bad(p, aspect)
}

deciding_tier(aspect) := [t | some t in spam_tiers; tier_compliant(t, aspect)]

tier_label_en := {"strict": "the Strict preset", "standard": "the Standard preset", "custom": "a custom policy", "default": "the default policy"}

tier_label_ja := {"strict": "Strict プリセット", "standard": "Standard プリセット", "custom": "カスタム ポリシー", "default": "既定のポリシー"}

deciding_en(aspect) := sprintf("Compliant anti-spam protection comes from %s.", [tier_label_en[deciding_tier(aspect)[0]]]) if count(deciding_tier(aspect)) > 0

deciding_en(aspect) := "No anti-spam policy in force was found non-compliant." if count(deciding_tier(aspect)) == 0

deciding_ja(aspect) := sprintf("準拠した迷惑メール対策は%sによるものです。", [tier_label_ja[deciding_tier(aspect)[0]]]) if count(deciding_tier(aspect)) > 0

deciding_ja(aspect) := "適用中の迷惑メール対策ポリシーに不適合なものはありません。" if count(deciding_tier(aspect)) == 0

spam_action_text := {sprintf("%v (spam %v, high-confidence spam %v, phishing %v, high-confidence phishing %v)", [p.Identity, get(p, "SpamAction"), get(p, "HighConfidenceSpamAction"), get(p, "PhishSpamAction"), get(p, "HighConfidencePhishAction")]) |
	some p in content_filter_policies
	p.Identity in spam_offenders("actions")
}

spam_action_text_ja := {sprintf("%v（スパム %v、高確度スパム %v、フィッシング %v、高確度フィッシング %v）", [p.Identity, get(p, "SpamAction"), get(p, "HighConfidenceSpamAction"), get(p, "PhishSpamAction"), get(p, "HighConfidencePhishAction")]) |
	some p in content_filter_policies
	p.Identity in spam_offenders("actions")
}

results contains lib.verdict_with(
	"MS.SECURITYSUITE.6.1v1", true,
	deciding_en("actions"), deciding_ja("actions"), [],
) if count(spam_offenders("actions")) == 0

results contains lib.verdict_with(
	"MS.SECURITYSUITE.6.1v1", false,
	sprintf("Anti-spam policies in force that may deliver spam or phishing to the inbox (allowed actions: MoveToJmf, Quarantine, Redirect, Delete): %s.", [lib.names_en(spam_action_text)]),
	sprintf("迷惑メールやフィッシングを受信トレイに配信するおそれのある適用中の迷惑メール対策ポリシー（許可される処理: MoveToJmf、Quarantine、Redirect、Delete）: %s。", [lib.names_ja(spam_action_text_ja)]),
	spam_offenders("actions"),
) if count(spam_offenders("actions")) > 0

allowed_domain_text := {sprintf("%v (%v)", [p.Identity, concat(", ", [sprintf("%v", [d]) | some d in arr(p.AllowedSenderDomains)])]) |
	some p in content_filter_policies
	p.Identity in spam_offenders("domains")
}

results contains lib.verdict_with(
	"MS.SECURITYSUITE.6.2v1", true,
	deciding_en("domains"), deciding_ja("domains"), [],
) if count(spam_offenders("domains")) == 0

results contains lib.verdict_with(
	"MS.SECURITYSUITE.6.2v1", false,
	sprintf("Anti-spam policies in force that allow whole sender domains: %s.", [lib.names_en(allowed_domain_text)]),
	sprintf("送信者ドメイン全体を許可している適用中の迷惑メール対策ポリシー: %s。", [lib.names_ja(allowed_domain_text)]),
	spam_offenders("domains"),
) if count(spam_offenders("domains")) > 0

# ---------------------------------------------------------------------------------------------
# MS.SECURITYSUITE.7.x: Safe Links
# ---------------------------------------------------------------------------------------------

links_rules_for_all := [r | some r in items("safe_links_rules"); r.State == "Enabled"; rule_targets_everyone(r)]

links_top_priority := min({r.Priority | some r in links_rules_for_all; is_number(r.Priority)})

links_top_names := sort([r.SafeLinksPolicy | some r in links_rules_for_all; r.Priority == links_top_priority; is_string(r.SafeLinksPolicy)])

links_policy_name := links_top_names[0] if count(links_top_names) > 0

links_policy_name := "Built-In Protection Policy" if count(links_top_names) == 0

links_policy := [p | some p in items("safe_links_policies"); p.Identity == links_policy_name]

links_flags_off(flags) := [f | some f in flags; not links_policy[0][f] == true]

links_check := {
	"MS.SECURITYSUITE.7.1v1": ["EnableSafeLinksForEmail", "EnableSafeLinksForTeams", "EnableSafeLinksForOffice", "EnableForInternalSenders"],
	"MS.SECURITYSUITE.7.2v1": ["ScanUrls", "DeliverMessageAfterScan"],
	"MS.SECURITYSUITE.7.3v1": ["TrackClicks"],
}

results contains lib.verdict_with(
	id, true,
	"Safe Links protection applies to all recipients through the Standard or Strict preset security policy.",
	"Standard または Strict のプリセット セキュリティ ポリシーにより、安全なリンクの保護が全受信者に適用されています。",
	[],
) if {
	some id, _ in links_check
	eop_preset_for_all
}

results contains lib.verdict_with(
	id, false,
	sprintf("No Standard or Strict preset covers all recipients, and the Safe Links policy that applies to all recipients (%s) is not in the export.", [links_policy_name]),
	sprintf("全受信者を対象とする Standard／Strict プリセットがなく、全受信者に適用される安全なリンク ポリシー（%s）がエクスポートに見つかりません。", [links_policy_name]),
	[links_policy_name],
) if {
	some id, _ in links_check
	not eop_preset_for_all
	count(links_policy) == 0
}

results contains lib.verdict_with(
	id, count(links_flags_off(flags)) == 0,
	sprintf("No Standard or Strict preset covers all recipients; the Safe Links policy that applies to all recipients is %s. Settings required but not on: %s.", [links_policy_name, names_or_none_en(links_flags_off(flags))]),
	sprintf("全受信者を対象とする Standard／Strict プリセットはなく、全受信者に適用される安全なリンク ポリシーは %s です。必要なのに有効でない設定: %s。", [links_policy_name, names_or_none_ja(links_flags_off(flags))]),
	[links_policy_name | count(links_flags_off(flags)) > 0],
) if {
	some id, flags in links_check
	not eop_preset_for_all
	count(links_policy) > 0
}

# ---------------------------------------------------------------------------------------------
# MS.SECURITYSUITE.8.x: connection filter
# ---------------------------------------------------------------------------------------------

filters_with_ip_allow := {object.get(f, "Name", "(unnamed)") | some f in items("conn_filter"); v := get(f, "IPAllowList"); v != null; count(v) > 0}

results contains lib.verdict_with(
	"MS.SECURITYSUITE.8.1v1", count(filters_with_ip_allow) == 0,
	sprintf("Connection filter policies with an IP allow list: %s.", [names_or_none_en(filters_with_ip_allow)]),
	sprintf("IP 許可一覧が設定された接続フィルター ポリシー: %s。", [names_or_none_ja(filters_with_ip_allow)]),
	filters_with_ip_allow,
)

filters_with_safe_list := {object.get(f, "Name", "(unnamed)") | some f in items("conn_filter"); f.EnableSafeList == true}

results contains lib.verdict_with(
	"MS.SECURITYSUITE.8.2v1", count(filters_with_safe_list) == 0,
	sprintf("Connection filter policies with the safe list turned on: %s.", [names_or_none_en(filters_with_safe_list)]),
	sprintf("セーフ リストが有効な接続フィルター ポリシー: %s。", [names_or_none_ja(filters_with_safe_list)]),
	filters_with_safe_list,
)
