# Microsoft Entra ID: shared helpers for the conditional access, licence and exclusion checks.
package mamori.m365.aad

import rego.v1

# ---------------------------------------------------------------------------
# Generic accessors that never fail on missing or malformed data.
# ---------------------------------------------------------------------------

arr(x) := x if is_array(x)

arr(x) := [] if not is_array(x)

strset(x) := {v | some v in arr(x); is_string(v)}

get(obj, path) := object.get(obj, path, null) if is_object(obj)

get(obj, _) := null if not is_object(obj)

# Text of a name list, or a dash when it is empty.
list_en(xs) := lib_names(xs, ", ") if count(xs) > 0

list_en(xs) := "none" if count(xs) == 0

list_ja(xs) := lib_names(xs, "、") if count(xs) > 0

list_ja(xs) := "なし" if count(xs) == 0

lib_names(xs, sep) := concat(sep, sort([sprintf("%v", [x]) | some x in xs]))

issue(en, ja) := {"en": en, "ja": ja}

# A one-issue set when cond is true, else the empty set.
issue_if(cond, en, ja) := {issue(en, ja)} if cond == true

issue_if(cond, _, _) := set() if cond != true

# ---------------------------------------------------------------------------
# Tenant facts: conditional access policies, licence, environment.
# ---------------------------------------------------------------------------

# Each policy's condition and control sets, computed once per evaluation and carried with the
# policy: functions are not memoised, and every baseline policy consults them for every policy.
# So are the baseline policies each policy is a candidate for (see `candidate` in caps.rego), is
# reviewed for in full (`review`), or is only named as scoped too narrowly for (`narrow`).
caps := [object.union(p, {"_mamori": object.union(m, {
	"candidates": candidates,
	"review": review,
	"narrow": candidates - plausible,
	"excl": exclusion_sets(p, count(review) > 0),
})}) |
	some p in arr(input.conditional_access_policies)
	is_object(p)
	m := policy_sets(p)
	pr := strength_is_phishing_resistant(m.strengths)
	candidates := candidate_pids(m, pr)
	plausible := plausible_pids(m.all_users)
	review := (candidates | {"MS.AAD.3.6v1" | pr}) & plausible
]

# strset(get(p, path)) in one call.
path_strset(p, path) := {v | x := object.get(p, path, null); is_array(x); some v in x; is_string(v)}

# The exclusions of a policy reviewed in full (and of no other: they are read only in reviews).
exclusion_sets(_, false) := {}

exclusion_sets(p, true) := {
	"users": users,
	"groups": groups,
	"apps": path_strset(p, ["Conditions", "Applications", "ExcludeApplications"]),
	"guests": guests,
	"roles": path_strset(p, ["Conditions", "Users", "ExcludeRoles"]),
	"identities": (count(users) + count(groups)) + count(guests),
} if {
	users := path_strset(p, ["Conditions", "Users", "ExcludeUsers"])
	groups := path_strset(p, ["Conditions", "Users", "ExcludeGroups"])
	guests := guest_types(p)
}

# The sets every policy is tested on, read once (the comprehensions are written out: a function
# call per set costs as much again). The exclusions and the all-resources flag are read only for
# the few policies reviewed in full (see the accessors below).
policy_sets(p) := {
	"clients": {v | x := p.Conditions.ClientAppTypes; is_array(x); some v in x; is_string(v)},
	"user_risk": {v | x := p.Conditions.UserRiskLevels; is_array(x); some v in x; is_string(v)},
	"signin_risk": {v | x := p.Conditions.SignInRiskLevels; is_array(x); some v in x; is_string(v)},
	"user_actions": {v | x := p.Conditions.Applications.IncludeUserActions; is_array(x); some v in x; is_string(v)},
	"included_roles": {v | x := p.Conditions.Users.IncludeRoles; is_array(x); some v in x; is_string(v)},
	"all_users": "All" in arr(get(p, ["Conditions", "Users", "IncludeUsers"])),
	"grant": {v | x := p.GrantControls.BuiltInControls; is_array(x); some v in x; is_string(v)},
	"strengths": {v | x := p.GrantControls.AuthenticationStrength.AllowedCombinations; is_array(x); some v in x; is_string(v)},
	"transfer_methods": csv_set(get(p, ["Conditions", "AuthenticationFlows", "TransferMethods"])),
	"agent_risk": csv_set(get(p, ["Conditions", "AgentIdRiskLevels"])),
	"agent_principals": {v | x := p.Conditions.ClientApplications.IncludeAgentIdServicePrincipals; is_array(x); some v in x; is_string(v)},
}

cap_name(p) := p.DisplayName if is_string(p.DisplayName)

cap_name(p) := sprintf("(unnamed policy %v)", [object.get(p, "Id", "?")]) if not is_string(p.DisplayName)

default has_p2 := false

has_p2 if {
	some plan in arr(input.service_plans)
	is_object(plan)
	plan.ServicePlanName == "AAD_PREMIUM_P2"
}

no_p2_en := "The tenant has no Microsoft Entra ID P2 service plan (AAD_PREMIUM_P2), which this feature requires. "

no_p2_ja := "テナントにこの機能に必要な Microsoft Entra ID P2 のサービス プラン（AAD_PREMIUM_P2）がありません。"

environment := e if {
	e := input.scuba_config.M365Environment
	is_string(e)
} else := ""

# ---------------------------------------------------------------------------
# Exclusions the organization declared in the ScubaGear configuration
# (scuba_config.Aad[<policy id>].CapExclusions / RoleExclusions).
# ---------------------------------------------------------------------------

# Read once per baseline policy (a rule is cached, a function is not): the conditional access
# checks consult these for every policy in the tenant.
cap_exemptions[pid] := {kind: strset(get(input, ["scuba_config", "Aad", pid, "CapExclusions", kind])) |
	some kind in {"Users", "Groups", "Applications", "GuestUserTypes"}
} if some pid in cap_pids

# (Two lookups: regorus evaluates a reference with two variable keys much more slowly.)
cap_exempt(pid, kind) := v if {
	e := cap_exemptions[pid]
	v := e[kind]
}

role_exempt(pid, kind) := strset(get(input, ["scuba_config", "Aad", pid, "RoleExclusions", kind]))

guest_types(p) := {t |
	some raw in split(g, ",")
	t := trim_space(raw)
	t != ""
} if {
	g := get(p, ["Conditions", "Users", "ExcludeGuestsOrExternalUsers", "GuestOrExternalUserTypes"])
	is_string(g)
} else := set()

unexempt_users(pid, p) := p._mamori.excl.users - cap_exempt(pid, "Users")

unexempt_groups(pid, p) := p._mamori.excl.groups - cap_exempt(pid, "Groups")

unexempt_apps(pid, p) := p._mamori.excl.apps - cap_exempt(pid, "Applications")

unexempt_guests(pid, p) := p._mamori.excl.guests - cap_exempt(pid, "GuestUserTypes")

# ---------------------------------------------------------------------------
# Reasons a conditional access policy does not satisfy a baseline policy.
# ---------------------------------------------------------------------------

includes_all_users(p) := p._mamori.all_users

includes_all_apps(p) := "All" in arr(get(p, ["Conditions", "Applications", "IncludeApplications"]))

excluded_roles(p) := p._mamori.excl.roles

grant(p) := p._mamori.grant

# (Issue texts are built only when the issue exists: the arguments of issue_if are evaluated
# for every policy reviewed.)
state_issue(p) := set() if object.get(p, "State", null) == "enabled"

state_issue(p) := {issue(
	sprintf("its state is %v, not enabled (On)", [object.get(p, "State", "missing")]),
	sprintf("状態が %v で、有効（オン）ではない", [object.get(p, "State", "未設定")]),
)} if object.get(p, "State", null) != "enabled"

users_all_issue(p) := issue_if(
	includes_all_users(p) == false,
	"it does not include All users",
	"対象ユーザーに「すべてのユーザー」が含まれていない",
)

apps_all_issue(p) := issue_if(
	includes_all_apps(p) == false,
	"it does not target All resources (all cloud apps)",
	"対象リソースが「すべてのリソース（すべてのクラウド アプリ）」ではない",
)

# The issue texts below are built only when the issue exists: most policies exclude nothing, and
# building two sentences for every policy and baseline policy dominated large tenants.
roles_excluded_issue(p) := set() if count(excluded_roles(p)) == 0

roles_excluded_issue(p) := {issue(
	sprintf("it excludes directory roles (%v)", [list_en(xs)]),
	sprintf("ディレクトリ ロールを除外している（%v）", [list_ja(xs)]),
)} if {
	xs := excluded_roles(p)
	count(xs) > 0
}

apps_excluded_issue(_, p) := set() if count(p._mamori.excl.apps) == 0

apps_excluded_issue(pid, p) := set() if {
	count(p._mamori.excl.apps) > 0
	count(unexempt_apps(pid, p)) == 0
}

apps_excluded_issue(pid, p) := {issue(
	sprintf("it excludes applications not exempted in the configuration (%v)", [list_en(xs)]),
	sprintf("構成で除外が承認されていないアプリを除外している（%v）", [list_ja(xs)]),
)} if {
	xs := unexempt_apps(pid, p)
	count(xs) > 0
}

# Users, groups and guest types excluded from the policy must all be exempted in the configuration.
identity_exclusion_issues(pid, p) := set() if p._mamori.excl.identities == 0

identity_exclusion_issues(pid, p) := (users_excluded_issue(pid, p) | groups_excluded_issue(pid, p)) | guests_excluded_issue(pid, p) if p._mamori.excl.identities > 0

users_excluded_issue(pid, p) := set() if count(unexempt_users(pid, p)) == 0

users_excluded_issue(pid, p) := {issue(
	sprintf("it excludes users not exempted in the configuration (%v)", [list_en(xs)]),
	sprintf("構成で除外が承認されていないユーザーを除外している（%v）", [list_ja(xs)]),
)} if {
	xs := unexempt_users(pid, p)
	count(xs) > 0
}

groups_excluded_issue(pid, p) := set() if count(unexempt_groups(pid, p)) == 0

groups_excluded_issue(pid, p) := {issue(
	sprintf("it excludes groups not exempted in the configuration (%v)", [list_en(xs)]),
	sprintf("構成で除外が承認されていないグループを除外している（%v）", [list_ja(xs)]),
)} if {
	xs := unexempt_groups(pid, p)
	count(xs) > 0
}

guests_excluded_issue(pid, p) := set() if count(unexempt_guests(pid, p)) == 0

guests_excluded_issue(pid, p) := {issue(
	sprintf("it excludes guest or external user types not exempted in the configuration (%v)", [list_en(xs)]),
	sprintf("構成で除外が承認されていないゲストまたは外部ユーザーの種類を除外している（%v）", [list_ja(xs)]),
)} if {
	xs := unexempt_guests(pid, p)
	count(xs) > 0
}

# The usual scope: all users, all resources, no excluded roles, only exempted exclusions, enabled.
standard_scope_issues(pid, p) := (((users_all_issue(p) | apps_all_issue(p)) | roles_excluded_issue(p)) | (apps_excluded_issue(pid, p) | state_issue(p))) | identity_exclusion_issues(pid, p)

# ---------------------------------------------------------------------------
# Authentication strengths.
# ---------------------------------------------------------------------------

phishing_resistant := {"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"}

# The combinations of Microsoft's built-in "Multifactor authentication" strength.
mfa_combinations := {
	"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush",
	"temporaryAccessPassOneTime", "temporaryAccessPassMultiUse",
	"password,microsoftAuthenticatorPush", "password,softwareOath", "password,hardwareOath",
	"password,sms", "password,voice", "federatedMultiFactor",
	"microsoftAuthenticatorPush,federatedSingleFactor", "softwareOath,federatedSingleFactor",
	"hardwareOath,federatedSingleFactor", "sms,federatedSingleFactor", "voice,federatedSingleFactor",
}

strengths(p) := p._mamori.strengths

is_phishing_resistant(p) if strength_is_phishing_resistant(strengths(p))

strength_is_phishing_resistant(s) := true if {
	count(s) > 0
	count(s - phishing_resistant) == 0
} else := false

# MFA of any kind other than phishing-resistant only: the "Require MFA" grant control, or an
# authentication strength whose combinations are all multifactor and not all phishing-resistant.
is_general_mfa(p) if general_mfa(grant(p), strengths(p))

general_mfa(g, _) if "mfa" in g

general_mfa(g, s) if {
	not "mfa" in g
	count(s) > 0
	count(s - mfa_combinations) == 0
	count(s - phishing_resistant) > 0
}

strength_text(p) := list_en(strengths(p))

# Boolean negations usable as values (a `not` cannot be passed as an argument).
lacks(x, s) := true if {
	not x in s
} else := false

fails_pr(p) := true if {
	not is_phishing_resistant(p)
} else := false

fails_mfa(p) := true if {
	not is_general_mfa(p)
} else := false

not_array(x) := false if is_array(x)

not_array(x) := true if not is_array(x)
