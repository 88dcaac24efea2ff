# Microsoft Entra ID: highly privileged users and roles (MS.AAD.7.x), read from privileged_users
# (Get-PrivilegedUser) and privileged_roles (Get-PrivilegedRole, PIM assignments and settings).
package mamori.m365.aad

import data.mamori.m365.lib
import rego.v1

# ---------------------------------------------------------------------------
# Privileged users (MS.AAD.7.1-7.3).
# ---------------------------------------------------------------------------

privileged_users := {id: u | some id, u in input.privileged_users; is_object(u)} if is_object(input.privileged_users)

privileged_users := {} if not is_object(input.privileged_users)

user_label(id) := name if {
	name := privileged_users[id].DisplayName
	is_string(name)
} else := id

global_admin_ids := {id | some id, u in privileged_users; "Global Administrator" in arr(object.get(u, "roles", []))}

other_admin_ids := {id | some id, _ in privileged_users; not id in global_admin_ids}

global_admin_names := {user_label(id) | some id in global_admin_ids}

default global_admin_count_ok := false

global_admin_count_ok if {
	count(global_admin_ids) >= 2
	count(global_admin_ids) <= 8
}

results contains lib.verdict_with(
	"MS.AAD.7.1v1", global_admin_count_ok,
	sprintf("%v users hold the Global Administrator role (required: 2 to 8): %v.", [count(global_admin_ids), list_en(global_admin_names)]),
	sprintf("グローバル管理者ロールを持つユーザーは %v 人です（必要: 2～8 人）: %v。", [count(global_admin_ids), list_ja(global_admin_names)]),
	ga_resources(global_admin_count_ok),
)

results contains lib.verdict_with(
	"MS.AAD.7.2v1", least_privilege_ok,
	sprintf("%v privileged users are Global Administrators and %v hold only other highly privileged roles (Global Administrators must be 2 to 8 and no more than the others). Global Administrators: %v.", [count(global_admin_ids), count(other_admin_ids), list_en(global_admin_names)]),
	sprintf("特権ユーザーのうちグローバル管理者は %v 人、その他の高特権ロールのみのユーザーは %v 人です（グローバル管理者は 2～8 人で、かつその他の人数以下である必要があります）。グローバル管理者: %v。", [count(global_admin_ids), count(other_admin_ids), list_ja(global_admin_names)]),
	ga_resources(least_privilege_ok),
)

ga_resources(ok) := [] if ok == true

ga_resources(ok) := sort(global_admin_names) if ok != true

default least_privilege_ok := false

least_privilege_ok if {
	global_admin_count_ok
	count(global_admin_ids) <= count(other_admin_ids)
}

# A privileged user synchronized from on-premises has an OnPremisesImmutableId.
synced_admins := {user_label(id) | some id, u in privileged_users; object.get(u, "OnPremisesImmutableId", "not reported") != null}

results contains lib.verdict_with(
	"MS.AAD.7.3v1", count(synced_admins) == 0,
	sprintf("Privileged users that are not cloud-only (OnPremisesImmutableId set or not reported): %v.", [list_en(synced_admins)]),
	sprintf("クラウド専用ではない特権ユーザー（OnPremisesImmutableId が設定済みまたは取得できず）: %v。", [list_ja(synced_admins)]),
	sort(synced_admins),
)

# ---------------------------------------------------------------------------
# Privileged roles: assignments and PIM settings (MS.AAD.7.4-7.9). All need Entra ID P2 (PIM).
# ---------------------------------------------------------------------------

privileged_roles := [r | some r in arr(input.privileged_roles); is_object(r)]

role_name(r) := r.DisplayName if is_string(r.DisplayName)

role_name(r) := sprintf("%v", [object.get(r, "RoleTemplateId", "?")]) if not is_string(r.DisplayName)

assignments(r) := [a | some a in arr(object.get(r, "Assignments", [])); is_object(a)]

rules(r) := [x | some x in arr(object.get(r, "Rules", [])); is_object(x)]

# A principal by display name when the export knows it (user or service principal), else by id.
# The service principal is looked up in the export directly: tenants list tens of thousands.
principal_label(id) := l if {
	privileged_users[id]
	l := user_label(id)
} else := l if {
	n := service_principal_name(id)
	l := sprintf("%v (service principal)", [n])
} else := id

service_principal_name(id) := n if {
	sps := input.privileged_service_principals
	is_object(sps)
	sp := sps[id]
	is_object(sp)
	n := sp.DisplayName
	is_string(n)
}

# MS.AAD.7.4v1: permanent active assignments, except the principals exempted in the configuration.
allowed_permanent := role_exempt("MS.AAD.7.4v1", "Users") | role_exempt("MS.AAD.7.4v1", "Groups")

permanent_principals(r) := {a.PrincipalId |
	some a in assignments(r)
	object.get(a, "EndDateTime", "missing") == null
	not a.PrincipalId in allowed_permanent
}

permanent_offenders := {sprintf("%v (%v)", [role_name(r), lib_names({principal_label(id) | some id in ids}, ", ")]) |
	some r in privileged_roles
	ids := permanent_principals(r)
	count(ids) > 0
}

# MS.AAD.7.5v1: assignments made outside PIM have no start date.
outside_pim_principals(r) := {a.PrincipalId |
	some a in assignments(r)
	object.get(a, "StartDateTime", "missing") == null
}

outside_pim_offenders := {sprintf("%v (%v)", [role_name(r), lib_names({principal_label(id) | some id in ids}, ", ")]) |
	some r in privileged_roles
	ids := outside_pim_principals(r)
	count(ids) > 0
}

rule_source(x) := sprintf("%v (%v)", [object.get(x, "RuleSource", "?"), object.get(x, "RuleSourceType", "?")])

no_recipients(x) := count(arr(object.get(x, "NotificationRecipients", []))) == 0

# MS.AAD.7.6v1: activating Global Administrator (the role or a PIM group assigned to it) needs approval.
approval_offenders := {rule_source(x) |
	some r in privileged_roles
	r.DisplayName == "Global Administrator"
	some x in rules(r)
	x.Id == "Approval_EndUser_Assignment"
	get(x, ["Setting", "IsApprovalRequired"]) == false
}

# MS.AAD.7.7v1: eligible and active assignments alert someone.
alert_kinds := {
	"Notification_Admin_Admin_Assignment": {"en": "active assignment", "ja": "アクティブな割り当て"},
	"Notification_Admin_Admin_Eligibility": {"en": "eligible assignment", "ja": "資格のある割り当て"},
}

# [rule source, alert kind] of the assignment notification rules without a recipient, found once
# for both languages.
assignment_alerts_rows := [[rule_source(x), kind] |
	some r in privileged_roles
	some x in rules(r)
	kind := alert_kinds[x.Id]
	no_recipients(x)
]

assignment_alerts_missing(lang) := {sprintf("%v: %v", [row[0], label]) |
	some row in assignment_alerts_rows
	kind := row[1]
	label := kind[lang]
}

assignment_alert_offenders := assignment_alerts_missing("en")

# MS.AAD.7.8v1 / 7.9v1: activations alert someone by e-mail.
activation_alert_missing(r) := {rule_source(x) |
	some x in rules(r)
	x.Id == "Notification_Admin_EndUser_Assignment"
	x.NotificationType == "Email"
	no_recipients(x)
}

ga_activation_offenders := {s | some r in privileged_roles; r.DisplayName == "Global Administrator"; some s in activation_alert_missing(r)}

other_activation_offenders := {s | some r in privileged_roles; r.DisplayName != "Global Administrator"; some s in activation_alert_missing(r)}

# Split in two so that the role settings checks (7.6-7.9) read only privileged_roles and
# service_plans: only the assignment checks (7.4, 7.5) name principals from privileged_users and
# privileged_service_principals, and only they declare those sections.
assignment_checks := {
	"MS.AAD.7.4v1": {
		"offenders": permanent_offenders,
		"en": "Highly privileged roles with permanent active assignments not exempted in the configuration",
		"ja": "構成で除外が承認されていない永続的なアクティブ割り当てがある高特権ロール",
	},
	"MS.AAD.7.5v1": {
		"offenders": outside_pim_offenders,
		"en": "Highly privileged roles with assignments made outside PIM (no start date)",
		"ja": "PIM の外で割り当てられた（開始日時のない）割り当てがある高特権ロール",
	},
}

setting_checks := {
	"MS.AAD.7.6v1": {
		"offenders": approval_offenders,
		"en": "Global Administrator activation settings that do not require approval",
		"ja": "承認を必要としないグローバル管理者のアクティブ化設定",
	},
	"MS.AAD.7.7v1": {
		"offenders": assignment_alert_offenders,
		"offenders_ja": assignment_alerts_missing("ja"),
		"en": "Role or PIM group settings without a notification recipient for assignments",
		"ja": "割り当て時の通知の受信者が設定されていないロールまたは PIM グループの設定",
	},
	"MS.AAD.7.8v1": {
		"offenders": ga_activation_offenders,
		"en": "Global Administrator settings without an e-mail recipient for activation alerts",
		"ja": "アクティブ化の通知メールの受信者が設定されていないグローバル管理者の設定",
	},
	"MS.AAD.7.9v1": {
		"offenders": other_activation_offenders,
		"en": "Other highly privileged role settings without an e-mail recipient for activation alerts",
		"ja": "アクティブ化の通知メールの受信者が設定されていないその他の高特権ロールの設定",
	},
}

role_licence_en := "" if has_p2

role_licence_en := no_p2_en if not has_p2

role_licence_ja := "" if has_p2

role_licence_ja := no_p2_ja if not has_p2

role_met(c) := count(c.offenders) == 0 if has_p2

role_met(_) := false if not has_p2

role_verdict(id, c) := lib.verdict_with(
	id, role_met(c),
	sprintf("%v%v (%v roles reported): %v.", [role_licence_en, c.en, count(privileged_roles), list_en(c.offenders)]),
	sprintf("%v%v（報告されたロール %v 件）: %v。", [role_licence_ja, c.ja, count(privileged_roles), list_ja(object.get(c, "offenders_ja", c.offenders))]),
	sort(c.offenders),
)

results contains role_verdict(id, c) if some id, c in assignment_checks

results contains role_verdict(id, c) if some id, c in setting_checks
