# Microsoft Entra ID: the baseline policies met by conditional access policies
# (MS.AAD.1.1, 2.1, 2.3, 3.1, 3.2, 3.6, 3.7, 3.8, 3.9 and 9.1).
#
# A baseline policy is met when at least one enabled conditional access policy has the required
# scope and controls and excludes only the users, groups, guest types and applications the
# organization exempted in its ScubaGear configuration (scuba_config.Aad[<id>].CapExclusions).
package mamori.m365.aad

import data.mamori.m365.lib
import rego.v1

# ---------------------------------------------------------------------------
# Condition accessors.
# ---------------------------------------------------------------------------

client_app_types(p) := p._mamori.clients

user_risk(p) := p._mamori.user_risk

signin_risk(p) := p._mamori.signin_risk

user_actions(p) := p._mamori.user_actions

included_roles(p) := p._mamori.included_roles

# Comma-separated string values (TransferMethods, AgentIdRiskLevels) as a set.
csv_set(v) := {t | some raw in split(v, ","); t := trim_space(raw); t != ""} if is_string(v)

csv_set(v) := strset(v) if not is_string(v)

transfer_methods(p) := p._mamori.transfer_methods

agent_risk(p) := p._mamori.agent_risk

agent_principals(p) := p._mamori.agent_principals

blocks(p) := "block" in grant(p)

device_controls := {"compliantDevice", "domainJoinedDevice"}

# Highly privileged roles reported by the provider, by template id.
privileged_role_ids := {id | some r in arr(input.privileged_roles); id := r.RoleTemplateId; is_string(id)}

# Role names by template id, built once.
role_names := {id: name |
	some r in arr(input.privileged_roles)
	id := r.RoleTemplateId
	is_string(id)
	name := r.DisplayName
	is_string(name)
}

role_label(id) := object.get(role_names, id, id)

missing_roles(p) := {role_label(id) | some id in privileged_role_ids - included_roles(p)}

# Without the privileged role list the roles a policy must cover are unknown.
roles_unknown_issue := issue_if(
	not_array(input.privileged_roles),
	"the list of highly privileged roles was not collected, so role coverage cannot be confirmed",
	"高特権ロールの一覧が収集されていないため、ロールの対象範囲を確認できない",
)

# ---------------------------------------------------------------------------
# Per baseline policy: whether a CA policy is aimed at it (a candidate), and why it falls short.
# ---------------------------------------------------------------------------

# The baseline policies a CA policy is aimed at (is a candidate for), from its sets (computed
# once per policy, in `caps`); pr tells whether its authentication strength is phishing-resistant.
candidate_pids(m, pr) := (((({"MS.AAD.1.1v1" |
	"block" in m.grant
	count(m.clients & {"exchangeActiveSync", "other"}) > 0
} | {"MS.AAD.2.1v1" | "high" in m.user_risk}) | ({"MS.AAD.2.3v1" | "high" in m.signin_risk} | {"MS.AAD.3.1v1" | pr})) | (({"MS.AAD.3.2v2" | general_mfa(m.grant, m.strengths)} | {"MS.AAD.3.6v1" |
	pr
	count(m.included_roles) > 0
}) | ({"MS.AAD.3.7v1" | count(m.grant & device_controls) > 0} | {"MS.AAD.3.8v1" | "urn:user:registersecurityinfo" in m.user_actions}))) | {"MS.AAD.3.9v1" | "deviceCodeFlow" in m.transfer_methods}) | {"MS.AAD.9.1v1" | count(m.agent_risk | m.agent_principals) > 0}

candidate(pid, p) if pid in p._mamori.candidates

block_issue(p) := issue_if(blocks(p) == false, "its grant control is not Block access", "許可コントロールが「アクセスのブロック」ではない")

specific_issues(pid, p) := issue_if(
	count({"exchangeActiveSync", "other"} - client_app_types(p)) > 0,
	"it does not target both Exchange ActiveSync clients and other (legacy) clients",
	"クライアント アプリの条件で Exchange ActiveSync クライアントとその他のクライアントの両方を対象にしていない",
) | block_issue(p) if pid == "MS.AAD.1.1v1"

specific_issues(pid, p) := issue_if(
	lacks("high", user_risk(p)),
	"its user risk condition does not include High",
	"ユーザーのリスクの条件に「高」が含まれていない",
) | block_issue(p) if pid == "MS.AAD.2.1v1"

specific_issues(pid, p) := issue_if(
	lacks("high", signin_risk(p)),
	"its sign-in risk condition does not include High",
	"サインインのリスクの条件に「高」が含まれていない",
) | block_issue(p) if pid == "MS.AAD.2.3v1"

specific_issues(pid, p) := pr_issue(p) if pid in {"MS.AAD.3.1v1", "MS.AAD.3.6v1"}

pr_issue(p) := set() if is_phishing_resistant(p)

pr_issue(p) := {issue(
	sprintf("it does not require a phishing-resistant authentication strength (allowed combinations: %v)", [list_en(strengths(p))]),
	sprintf("フィッシング耐性のある認証強度を要求していない（許可された組み合わせ: %v）", [list_ja(strengths(p))]),
)} if not is_phishing_resistant(p)

specific_issues(pid, p) := issue_if(
	fails_mfa(p),
	"it requires neither the Require multifactor authentication grant control nor a multifactor (non phishing-resistant only) authentication strength",
	"「多要素認証を要求する」の許可コントロールも、多要素の認証強度（フィッシング耐性のある方法のみのものを除く）も要求していない",
) if pid == "MS.AAD.3.2v2"

specific_issues(pid, p) := device_grant_issue(p) if pid == "MS.AAD.3.7v1"

device_grant_issue(p) := set() if device_grant_ok(p)

device_grant_issue(p) := {issue(
	sprintf("its grant controls are not exactly Require compliant device OR Require Microsoft Entra hybrid joined device (controls: %v, operator: %v)", [list_en(grant(p)), object.get(object.get(p, "GrantControls", {}), "Operator", "none")]),
	sprintf("許可コントロールが「準拠デバイスを要求」または「Microsoft Entra ハイブリッド参加済みデバイスを要求」のいずれか（OR）になっていない（コントロール: %v、演算子: %v）", [list_ja(grant(p)), object.get(object.get(p, "GrantControls", {}), "Operator", "なし")]),
)} if not device_grant_ok(p)

specific_issues(pid, p) := issue_if(
	count(grant(p) & device_controls) == 0,
	"it requires neither a compliant device nor a Microsoft Entra hybrid joined device",
	"準拠デバイスも Microsoft Entra ハイブリッド参加済みデバイスも要求していない",
) if pid == "MS.AAD.3.8v1"

specific_issues(pid, p) := issue_if(
	lacks("deviceCodeFlow", transfer_methods(p)),
	"its authentication flows condition does not include Device code flow",
	"認証フローの条件に「デバイス コード フロー」が含まれていない",
) | block_issue(p) if pid == "MS.AAD.3.9v1"

specific_issues(pid, p) := ((issue_if(
	lacks("high", agent_risk(p)),
	"its agent risk condition does not include High",
	"エージェントのリスクの条件に「高」が含まれていない",
) | issue_if(
	lacks("All", agent_principals(p)),
	"it does not include all agent identities",
	"すべてのエージェント ID を対象にしていない",
)) | issue_if(
	lacks("all", client_app_types(p)),
	"its client app types condition is not All",
	"クライアント アプリの条件が「すべて」ではない",
)) | block_issue(p) if pid == "MS.AAD.9.1v1"

device_grant_ok(p) if {
	count(grant(p) & device_controls) == 2
	count(grant(p)) == 2
	get(p, ["GrantControls", "Operator"]) == "OR"
}

# Scope requirements: the standard ones, except for privileged roles (3.6) and the security
# information registration user action (3.8).
scope_issues(pid, p) := standard_scope_issues(pid, p) if not pid in {"MS.AAD.3.6v1", "MS.AAD.3.8v1"}

scope_issues(pid, p) := ((((roles_unknown_issue | missing_roles_issue(missing_roles(p))) | apps_all_issue(p)) | roles_excluded_issue(p)) | (apps_excluded_issue(pid, p) | state_issue(p))) | identity_exclusion_issues(pid, p) if pid == "MS.AAD.3.6v1"

scope_issues(pid, p) := (((users_all_issue(p) | issue_if(
	lacks("urn:user:registersecurityinfo", user_actions(p)),
	"it does not target the Register security information user action",
	"ユーザー操作「セキュリティ情報の登録」を対象にしていない",
)) | roles_excluded_issue(p)) | state_issue(p)) | identity_exclusion_issues(pid, p) if pid == "MS.AAD.3.8v1"

missing_roles_issue(xs) := set() if count(xs) == 0

missing_roles_issue(xs) := {issue(
	sprintf("it does not include the highly privileged roles %v", [list_en(xs)]),
	sprintf("高特権ロール %v が対象に含まれていない", [list_ja(xs)]),
)} if count(xs) > 0

cap_issues(pid, p) := scope_issues(pid, p) | specific_issues(pid, p)

cap_pids := {"MS.AAD.1.1v1", "MS.AAD.2.1v1", "MS.AAD.2.3v1", "MS.AAD.3.1v1", "MS.AAD.3.2v2", "MS.AAD.3.6v1", "MS.AAD.3.7v1", "MS.AAD.3.8v1", "MS.AAD.3.9v1", "MS.AAD.9.1v1"}

# Only a policy aimed at a baseline policy can meet it: every requirement a candidate test checks
# is also one of its issues. 3.6 also admits phishing-resistant policies that name no role, which
# meet it when the tenant reports no privileged role at all.
#
# A policy that does not apply to all users cannot meet a baseline policy other than 3.6 (whose
# scope is the privileged roles), so only the plausible candidates get the full review.
plausible_pids(true) := cap_pids

plausible_pids(false) := {"MS.AAD.3.6v1"}

# The policies worth explaining are judged once per baseline policy. Rules are computed once per
# evaluation while functions are not memoised, so the per-policy work lives here and the text
# and verdict functions below only read it; the policies to review for each baseline policy were
# chosen once per policy (`review` and `narrow` in `caps`).
cap_review[pid] := [{"name": cap_name(p), "issues": cap_issues(pid, p), "candidate": pid in p._mamori.candidates} |
	some p in caps
	pid in p._mamori.review
] if some pid in cap_pids

# Candidates scoped to some users only: named with that one reason, not reviewed in full.
narrow_reviews[pid] := [{"name": cap_name(p), "issues": users_all_issue(p), "candidate": true} |
	some p in caps
	pid in p._mamori.narrow
] if some pid in cap_pids

matching_names[pid] := {r.name | some r in cap_review[pid]; count(r.issues) == 0} if some pid in cap_pids

near_miss_reviews[pid] := array.concat(
	[r | some r in cap_review[pid]; r.candidate; count(r.issues) > 0],
	narrow_reviews[pid],
) if some pid in cap_pids

matching(pid) := matching_names[pid]

near_misses(pid) := near_miss_reviews[pid]

# At most this many near misses are explained in the details; all are listed as resources.
near_miss_limit := 10

near_miss_more(pid, "en") := "" if count(near_misses(pid)) <= near_miss_limit

near_miss_more(pid, "en") := sprintf("; and %d more", [count(near_misses(pid)) - near_miss_limit]) if count(near_misses(pid)) > near_miss_limit

near_miss_more(pid, "ja") := "" if count(near_misses(pid)) <= near_miss_limit

near_miss_more(pid, "ja") := sprintf("。ほか %d 件", [count(near_misses(pid)) - near_miss_limit]) if count(near_misses(pid)) > near_miss_limit

near_miss_text(pid, "en") := concat("", [concat("; ", array.slice(sort([sprintf("%v (%v)", [r.name, concat(", ", sort([i.en | some i in r.issues]))]) |
	some r in near_misses(pid)
]), 0, near_miss_limit)), near_miss_more(pid, "en")])

near_miss_text(pid, "ja") := concat("", [concat("。", array.slice(sort([sprintf("%v（%v）", [r.name, concat("、", sort([i.ja | some i in r.issues]))]) |
	some r in near_misses(pid)
]), 0, near_miss_limit)), near_miss_more(pid, "ja")])

# What each baseline policy asks a conditional access policy to do.
purpose := {
	"MS.AAD.1.1v1": {"en": "blocks legacy authentication (Exchange ActiveSync and other clients)", "ja": "レガシ認証（Exchange ActiveSync クライアントとその他のクライアント）をブロックする"},
	"MS.AAD.2.1v1": {"en": "blocks users detected as high risk", "ja": "高リスクと検出されたユーザーをブロックする"},
	"MS.AAD.2.3v1": {"en": "blocks sign-ins detected as high risk", "ja": "高リスクと検出されたサインインをブロックする"},
	"MS.AAD.3.1v1": {"en": "requires phishing-resistant MFA for all users", "ja": "すべてのユーザーにフィッシング耐性のある MFA を要求する"},
	"MS.AAD.3.2v2": {"en": "requires MFA for all users", "ja": "すべてのユーザーに MFA を要求する"},
	"MS.AAD.3.6v1": {"en": "requires phishing-resistant MFA for the highly privileged roles", "ja": "高特権ロールにフィッシング耐性のある MFA を要求する"},
	"MS.AAD.3.7v1": {"en": "requires a managed (compliant or hybrid joined) device for authentication", "ja": "認証に管理対象（準拠またはハイブリッド参加済み）デバイスを要求する"},
	"MS.AAD.3.8v1": {"en": "requires a managed device to register security information (MFA)", "ja": "セキュリティ情報（MFA）の登録に管理対象デバイスを要求する"},
	"MS.AAD.3.9v1": {"en": "blocks the device code authentication flow", "ja": "デバイス コード認証フローをブロックする"},
	"MS.AAD.9.1v1": {"en": "blocks AI agents detected as high risk", "ja": "高リスクと検出された AI エージェントをブロックする"},
}

licensed(pid) := has_p2 if pid in {"MS.AAD.2.1v1", "MS.AAD.2.3v1", "MS.AAD.9.1v1"}

licensed(pid) := true if not pid in {"MS.AAD.2.1v1", "MS.AAD.2.3v1", "MS.AAD.9.1v1"}

licence_en(pid) := "" if licensed(pid)

licence_en(pid) := no_p2_en if not licensed(pid)

licence_ja(pid) := "" if licensed(pid)

licence_ja(pid) := no_p2_ja if not licensed(pid)

cap_text(pid, lang) := t if {
	count(matching(pid)) > 0
	t := {
		"en": sprintf("Conditional access policies that meet the requirement: %v.", [list_en(matching(pid))]),
		"ja": sprintf("要件を満たす条件付きアクセス ポリシー: %v。", [list_ja(matching(pid))]),
	}[lang]
}

cap_text(pid, lang) := t if {
	count(matching(pid)) == 0
	count(near_misses(pid)) > 0
	t := {
		"en": sprintf("No enabled conditional access policy %v with an acceptable scope. Policies that come close, and why they fall short: %v.", [purpose[pid].en, near_miss_text(pid, "en")]),
		"ja": sprintf("%v条件付きアクセス ポリシーで、適用範囲が要件を満たし有効なものがありません。要件に近いポリシーと不足点: %v。", [purpose[pid].ja, near_miss_text(pid, "ja")]),
	}[lang]
}

cap_text(pid, lang) := t if {
	count(matching(pid)) == 0
	count(near_misses(pid)) == 0
	t := {
		"en": sprintf("None of the %v conditional access policies %v.", [count(caps), purpose[pid].en]),
		"ja": sprintf("%v 件の条件付きアクセス ポリシーのうち、%vものはありません。", [count(caps), purpose[pid].ja]),
	}[lang]
}

cap_resources(pid) := [] if count(matching(pid)) > 0

cap_resources(pid) := sort([r.name | some r in near_misses(pid)]) if count(matching(pid)) == 0

cap_met(pid) := count(matching(pid)) > 0 if licensed(pid)

cap_met(pid) := false if not licensed(pid)

cap_verdict(pid) := lib.verdict_with(
	pid, cap_met(pid),
	concat("", [licence_en(pid), cap_text(pid, "en")]),
	concat("", [licence_ja(pid), cap_text(pid, "ja")]),
	cap_resources(pid),
)

results contains cap_verdict(pid) if {
	some pid in {"MS.AAD.1.1v1", "MS.AAD.2.1v1", "MS.AAD.2.3v1", "MS.AAD.3.1v1", "MS.AAD.3.2v2", "MS.AAD.3.6v1", "MS.AAD.3.7v1", "MS.AAD.3.8v1", "MS.AAD.3.9v1"}
}

# MS.AAD.9.1v1: risky AI agents. The feature is not offered in GCC High and DoD; there, a tenant
# with the licence but without a matching policy is reported as not applicable.
agent_policy_unavailable if {
	environment in {"gcchigh", "dod"}
	has_p2
	count(matching("MS.AAD.9.1v1")) == 0
}

results contains cap_verdict("MS.AAD.9.1v1") if not agent_policy_unavailable

results contains object.union(lib.verdict(
	"MS.AAD.9.1v1", false,
	sprintf("Conditional access for AI agents is not available in the %v environment, and no policy blocking risky agents was found.", [environment]),
	sprintf("%v 環境では AI エージェント向けの条件付きアクセスが提供されておらず、リスクの高いエージェントをブロックするポリシーも見つかりませんでした。", [environment]),
), {"not_applicable": true}) if agent_policy_unavailable

fails_device_grant(p) := true if {
	not device_grant_ok(p)
} else := false
