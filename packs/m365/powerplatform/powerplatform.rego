# Power Platform: environment and Power Pages creation, DLP policies for the default and other
# environments, tenant isolation and sharing with Everyone, read from environment_creation
# (tenant settings), dlp_policies, environment_list and tenant_isolation.
package mamori.m365.powerplatform

import data.mamori.m365.lib
import rego.v1

# ---------------------------------------------------------------------------------------------
# Input helpers: never iterate anything that is not an array or object.
# ---------------------------------------------------------------------------------------------

section(name) := object.get(input, name, null) if is_object(input)

section(_) := null if not is_object(input)

arr(x) := x if is_array(x)

arr(x) := [] if not is_array(x)

items(name) := [x | some x in arr(section(name)); is_object(x)]

list_en(xs) := lib.names_en(xs) if count(xs) > 0

list_en(xs) := "none" if count(xs) == 0

list_ja(xs) := lib.names_ja(xs) if count(xs) > 0

list_ja(xs) := "なし" if count(xs) == 0

# ---------------------------------------------------------------------------------------------
# Tenant settings (Get-TenantSettings): MS.POWERPLATFORM.1.1, 1.2, 5.1 and 6.1.
# ---------------------------------------------------------------------------------------------

settings := items("environment_creation")

# Value of a (nested) setting in each settings object, as text.
setting_values(path) := [sprintf("%v", [object.get(s, path, null)]) | some s in settings]

# The setting is true in every settings object, and there is at least one.
default setting_true(_) := false

setting_true(path) if {
	count(settings) > 0
	every s in settings {
		object.get(s, path, null) == true
	}
}

setting_verdict(id, path, label) := lib.verdict(
	id, setting_true(path),
	sprintf("The tenant setting %s is %s (true = only admins).", [label, list_en(setting_values(path))]),
	sprintf("テナント設定 %s の値は %s です（true = 管理者のみ）。", [label, list_ja(setting_values(path))]),
) if count(settings) > 0

setting_verdict(id, _, _) := lib.verdict(
	id, false,
	"The Power Platform tenant settings were not collected (environment_creation is empty or missing).",
	"Power Platform のテナント設定が収集されていません（environment_creation が空か、存在しません）。",
) if count(settings) == 0

results contains setting_verdict("MS.POWERPLATFORM.1.1v1", ["disableEnvironmentCreationByNonAdminUsers"], "disableEnvironmentCreationByNonAdminUsers")

results contains setting_verdict("MS.POWERPLATFORM.1.2v1", ["disableTrialEnvironmentCreationByNonAdminUsers"], "disableTrialEnvironmentCreationByNonAdminUsers")

results contains setting_verdict("MS.POWERPLATFORM.5.1v1", ["disablePortalsCreationByNonAdminUsers"], "disablePortalsCreationByNonAdminUsers")

share_path := ["powerPlatform", "powerApps", "disableShareWithEveryone"]

results contains lib.verdict(
	"MS.POWERPLATFORM.6.1v1", setting_true(share_path),
	sprintf("The tenant setting powerPlatform.powerApps.disableShareWithEveryone is %s (true = sharing with Everyone is disabled).", [list_en(setting_values(share_path))]),
	sprintf("テナント設定 powerPlatform.powerApps.disableShareWithEveryone の値は %s です（true =「Everyone」との共有が無効）。", [list_ja(setting_values(share_path))]),
) if count(settings) > 0

results contains setting_verdict("MS.POWERPLATFORM.6.1v1", share_path, "") if count(settings) == 0

# ---------------------------------------------------------------------------------------------
# DLP policies: which environments each one applies to.
# ---------------------------------------------------------------------------------------------

policies := [p |
	some entry in arr(section("dlp_policies"))
	is_object(entry)
	some p in arr(entry.value)
	is_object(p)
]

policy_name(p) := p.displayName if is_string(p.displayName)

policy_name(p) := sprintf("%v", [object.get(p, "name", "(unnamed)")]) if not is_string(p.displayName)

scope_names(p) := {e.name | some e in arr(p.environments); is_object(e); is_string(e.name)}

# The environment `env` is in the policy's scope.
covers(p, _) if p.environmentType == "AllEnvironments"

covers(p, env) if {
	p.environmentType == "OnlyEnvironments"
	env in scope_names(p)
}

covers(p, env) if {
	p.environmentType == "ExceptEnvironments"
	not env in scope_names(p)
}

tenant_id := section("tenant_id")

default_env := concat("-", ["Default", tenant_id]) if is_string(tenant_id)

default_listed(p) if default_env in scope_names(p)

# The policy applies to the default environment. When the tenant id is unknown, a policy that
# lists only exceptions is taken to apply to it, as the reference does.
covers_default(p) if p.environmentType == "AllEnvironments"

covers_default(p) if {
	p.environmentType == "OnlyEnvironments"
	default_listed(p)
}

covers_default(p) if {
	p.environmentType == "ExceptEnvironments"
	not default_listed(p)
}

policy_scope(p) := sprintf("%s (%v: %s)", [policy_name(p), object.get(p, "environmentType", null), list_en(scope_names(p))])

policy_scopes := {policy_scope(p) | some p in policies}

default_policies := {policy_name(p) | some p in policies; covers_default(p)}

default_env_label := env_display(default_env) if is_string(tenant_id)

default_env_label := "Default-<tenant id unknown>" if not is_string(tenant_id)

# MS.POWERPLATFORM.2.1v1: a DLP policy applies to the default environment.
results contains lib.verdict(
	"MS.POWERPLATFORM.2.1v1", true,
	sprintf("The default environment %s is covered by DLP policy(ies): %s.", [default_env_label, lib.names_en(default_policies)]),
	sprintf("既定の環境 %s には DLP ポリシーが適用されています: %s。", [default_env_label, lib.names_ja(default_policies)]),
) if count(default_policies) > 0

results contains lib.verdict_with(
	"MS.POWERPLATFORM.2.1v1", false,
	sprintf("No DLP policy applies to the default environment %s. DLP policies found: %s.", [default_env_label, list_en(policy_scopes)]),
	sprintf("既定の環境 %s に適用される DLP ポリシーがありません。検出した DLP ポリシー: %s。", [default_env_label, list_ja(policy_scopes)]),
	[default_env_label],
) if count(default_policies) == 0

# MS.POWERPLATFORM.2.2v1: every non-default environment is in the scope of a DLP policy.
all_env_policies := {policy_name(p) | some p in policies; p.environmentType == "AllEnvironments"}

non_default_envs := {e.EnvironmentName |
	some e in arr(section("environment_list"))
	is_object(e)
	e.IsDefault == false
	is_string(e.EnvironmentName)
}

env_labels(name) := [sprintf("%s (%s)", [e.DisplayName, name]) |
	some e in arr(section("environment_list"))
	is_object(e)
	e.EnvironmentName == name
	is_string(e.DisplayName)
]

env_display(name) := env_labels(name)[0] if count(env_labels(name)) > 0

env_display(name) := name if count(env_labels(name)) == 0

uncovered_envs := {n |
	some n in non_default_envs
	not covered_env(n)
}

covered_env(n) if {
	some p in policies
	covers(p, n)
}

uncovered_labels := {env_display(n) | some n in uncovered_envs}

non_default_labels := {env_display(n) | some n in non_default_envs}

# The DLP policy list was answered (an entry with a `value` list), as opposed to the provider
# command having produced nothing at all.
dlp_answered if {
	some entry in arr(section("dlp_policies"))
	is_object(entry)
	is_array(entry.value)
}

# No DLP policy and no non-default environment: nothing needs a policy, so the requirement is met
# (the reference's explicit edge case), provided the DLP policy list was answered; a missing
# environment_list is an error through the control's declared sections.
results contains lib.verdict(
	"MS.POWERPLATFORM.2.2v1", true,
	"No DLP policy was found, and the tenant has no non-default environment, so no environment needs one.",
	"DLP ポリシーは見つかりませんでしたが、既定以外の環境がないため、DLP ポリシーを必要とする環境はありません。",
) if {
	count(policies) == 0
	dlp_answered
	count(non_default_envs) == 0
}

results contains lib.verdict_with(
	"MS.POWERPLATFORM.2.2v1", false,
	sprintf("No DLP policy was found, so no environment is covered; non-default environments: %s.", [list_en(non_default_labels)]),
	sprintf("DLP ポリシーが見つからないため、どの環境にも適用されていません。既定以外の環境: %s。", [list_ja(non_default_labels)]),
	sort(non_default_labels),
) if {
	count(policies) == 0
	count(non_default_envs) > 0
}

results contains lib.verdict(
	"MS.POWERPLATFORM.2.2v1", false,
	"The DLP policy list was not answered (dlp_policies has no entry with a value list), so whether any environment is covered cannot be told.",
	"DLP ポリシーの一覧が取得できていない（dlp_policies に value の一覧を持つ項目がない）ため、環境が DLP ポリシーの対象かどうかを判断できません。",
) if {
	count(policies) == 0
	count(non_default_envs) == 0
	not dlp_answered
}

results contains lib.verdict(
	"MS.POWERPLATFORM.2.2v1", true,
	sprintf("DLP policy(ies) apply to all environments: %s.", [lib.names_en(all_env_policies)]),
	sprintf("すべての環境に適用される DLP ポリシーがあります: %s。", [lib.names_ja(all_env_policies)]),
) if count(all_env_policies) > 0

results contains lib.verdict(
	"MS.POWERPLATFORM.2.2v1", true,
	sprintf("Every non-default environment is in the scope of a DLP policy (%d environment(s): %s).", [count(non_default_envs), list_en(non_default_labels)]),
	sprintf("既定以外のすべての環境が DLP ポリシーの対象です（%d 件: %s）。", [count(non_default_envs), list_ja(non_default_labels)]),
) if {
	count(policies) > 0
	count(all_env_policies) == 0
	count(uncovered_envs) == 0
}

results contains lib.verdict_with(
	"MS.POWERPLATFORM.2.2v1", false,
	sprintf("%d non-default environment(s) are not in the scope of any DLP policy: %s. DLP policies found: %s.", [count(uncovered_envs), lib.names_en(uncovered_labels), lib.names_en(policy_scopes)]),
	sprintf("既定以外の %d 件の環境がどの DLP ポリシーの対象にもなっていません: %s。検出した DLP ポリシー: %s。", [count(uncovered_envs), lib.names_ja(uncovered_labels), lib.names_ja(policy_scopes)]),
	sort(uncovered_labels),
) if {
	count(policies) > 0
	count(all_env_policies) == 0
	count(uncovered_envs) > 0
}

# MS.POWERPLATFORM.2.3v1: in the default environment, only the connectors that cannot be
# blocked stay in the Business (Confidential) or Non-business (General) groups.
unblockable := {concat("", ["/providers/Microsoft.PowerApps/apis/shared_", n]) | some n in [
	"powervirtualagents", "sharepointonline", "onedriveforbusiness", "approvals", "cloudappsecurity",
	"commondataservice", "commondataserviceforapps", "excelonlinebusiness", "flowpush", "kaizala",
	"microsoftformspro", "office365", "office365groups", "office365groupsmail", "office365users",
	"onenote", "planner", "powerappsnotification", "powerappsnotificationv2", "powerbi", "shifts",
	"skypeforbiz", "teams", "todo", "yammer",
]}

group_label := {"General": "Non-business", "Confidential": "Business"}

group_label_ja := {"General": "非ビジネス", "Confidential": "ビジネス"}

allowed_connectors := {[policy_name(p), g.classification, c.id] |
	some p in policies
	covers_default(p)
	some g in arr(p.connectorGroups)
	is_object(g)
	g.classification in {"General", "Confidential"}
	some c in arr(g.connectors)
	is_object(c)
	is_string(c.id)
	not c.id in unblockable
}

rogue_ids := {x[2] | some x in allowed_connectors}

rogue_en := {sprintf("%s (%s, policy %s)", [x[2], group_label[x[1]], x[0]]) | some x in allowed_connectors}

rogue_ja := {sprintf("%s（%s、ポリシー %s）", [x[2], group_label_ja[x[1]], x[0]]) | some x in allowed_connectors}

results contains lib.verdict(
	"MS.POWERPLATFORM.2.3v1", false,
	"No DLP policy was found, so no connector is blocked.",
	"DLP ポリシーが見つからないため、ブロックされているコネクタはありません。",
) if count(policies) == 0

results contains lib.verdict(
	"MS.POWERPLATFORM.2.3v1", true,
	sprintf("The DLP policies for the default environment (%s) leave only non-blockable connectors outside the Blocked group.", [lib.names_en(default_policies)]),
	sprintf("既定の環境の DLP ポリシー（%s）で、ブロックできないコネクタ以外はすべてブロック済みグループにあります。", [lib.names_ja(default_policies)]),
) if {
	count(default_policies) > 0
	count(rogue_ids) == 0
}

results contains lib.verdict(
	"MS.POWERPLATFORM.2.3v1", true,
	"No DLP policy applies to the default environment, so none allows a blockable connector there; the missing policy itself is reported by MS.POWERPLATFORM.2.1v1.",
	"既定の環境に適用される DLP ポリシーがないため、ブロック可能なコネクタを許可しているポリシーもありません。ポリシーがないこと自体は MS.POWERPLATFORM.2.1v1 で報告されます。",
) if {
	count(policies) > 0
	count(default_policies) == 0
}

results contains lib.verdict_with(
	"MS.POWERPLATFORM.2.3v1", false,
	sprintf("%d connector(s) that could be blocked are allowed in the default environment: %s.", [count(rogue_ids), lib.names_en(rogue_en)]),
	sprintf("既定の環境で、ブロック可能な %d 件のコネクタが許可されています: %s。", [count(rogue_ids), lib.names_ja(rogue_ja)]),
	sort(rogue_ids),
) if {
	count(policies) > 0
	count(rogue_ids) > 0
}

# ---------------------------------------------------------------------------------------------
# MS.POWERPLATFORM.3.1v1: tenant isolation is on (isDisabled false).
# ---------------------------------------------------------------------------------------------

isolation := arr(section("tenant_isolation"))

isolation_value(t) := sprintf("%v", [t.properties.isDisabled]) if {
	is_object(t)
	is_object(t.properties)
	"isDisabled" in object.keys(t.properties)
}

isolation_value(t) := "not reported" if not has_isolation_flag(t)

has_isolation_flag(t) if {
	is_object(t)
	is_object(t.properties)
	"isDisabled" in object.keys(t.properties)
}

isolation_on(t) if {
	is_object(t)
	t.properties.isDisabled == false
}

default isolation_ok := false

isolation_ok if {
	count(isolation) > 0
	every t in isolation {
		isolation_on(t)
	}
}

isolation_values := [isolation_value(t) | some t in isolation]

results contains lib.verdict(
	"MS.POWERPLATFORM.3.1v1", isolation_ok,
	sprintf("Tenant isolation policy isDisabled: %s (false = cross-tenant connections are restricted).", [list_en(isolation_values)]),
	sprintf("テナント分離ポリシーの isDisabled: %s（false = テナント間接続が制限されている）。", [list_ja(isolation_values)]),
)
