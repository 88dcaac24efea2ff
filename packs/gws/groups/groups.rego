# Groups for Business: who can access groups, external members, mail from the public, group
# creation, who can view conversations and hidden groups, read from the Cloud Identity policies of
# each OU (`policies`). An OU or group override is checked only where Groups for Business is on.
package mamori.gws.groups

import data.mamori.gws.lib.ousettings
import rego.v1

gs := "groups_for_business_groups_sharing"

groups_on(ou) if ousettings.app_enabled(ou, "groups_for_business")

groups_units := ousettings.enabled_units("groups_for_business")

scope_en := "" if {
	groups_on(ousettings.top_ou)
} else := " Groups for Business is not reported as on in any OU, so nothing was checked and the control does not apply." if {
	count(groups_units) == 0
} else := sprintf(" Groups for Business is not reported as on in the top-level OU %s, so only the OUs that turn it on were checked (%d).", [ousettings.top_label, count(groups_units)])

scope_ja := "" if {
	groups_on(ousettings.top_ou)
} else := "ビジネス向け Google グループが有効と報告されている組織部門がないため、確認対象はなく、このコントロールは適用されません。" if {
	count(groups_units) == 0
} else := sprintf("最上位の組織部門 %s ではビジネス向け Google グループが有効と報告されていないため、有効にしている組織部門（%d 件）のみを確認しました。", [ousettings.top_label, count(groups_units)])

entry(ou, setting, v) := {"ou": ou, "en": sprintf("%s = %v", [setting, v]), "ja": sprintf("%s = %v", [setting, v])}

# Entries for the OUs that set `setting` to a value other than `want`.
# (The OUs' values are read in one pass, not with a call of ousettings.explicit per OU.)
bad_value(setting, want) := {entry(ou, setting, v) |
	units := groups_units
	some ou, v in ousettings.explicit_values(gs, setting)
	ou in units
	v != want
}

verdict(id, setting, want, what_en, what_ja, ok_en, ok_ja) := ousettings.ou_verdict(
	id, bad_value(setting, want), what_en, what_ja,
	sprintf("%s (%s).%s", [ok_en, ousettings.top_en(gs, setting), scope_en]),
	sprintf("%s（%s）。%s", [ok_ja, ousettings.top_ja(gs, setting), scope_ja]),
)

checks contains verdict(
	"GWS.GROUPS.1.1v1", "collaborationCapability", "DOMAIN_USERS_ONLY",
	"Groups can be accessed from outside the organization in these OUs",
	"次の組織部門では組織外からグループにアクセスできます",
	"Group access is limited to users in the organization's domain in every OU where Groups for Business is on",
	"ビジネス向け Google グループが有効なすべての組織部門で、グループへのアクセスは組織のドメインのユーザーに限定されています",
)

checks contains verdict(
	"GWS.GROUPS.1.2v1", "ownersCanAllowExternalMembers", false,
	"Group owners can add members from outside the organization in these OUs",
	"次の組織部門ではグループのオーナーが組織外のメンバーを追加できます",
	"No OU where Groups for Business is on lets group owners allow external members",
	"ビジネス向け Google グループが有効な組織部門で、オーナーに外部メンバーの許可を認めている部門はありません",
)

checks contains verdict(
	"GWS.GROUPS.1.3v1", "ownersCanAllowIncomingMailFromPublic", false,
	"Group owners can allow incoming email from outside the organization in these OUs",
	"次の組織部門ではグループのオーナーが組織外からのメール受信を許可できます",
	"No OU where Groups for Business is on lets group owners accept email from outside the organization",
	"ビジネス向け Google グループが有効な組織部門で、オーナーに組織外からのメール受信の許可を認めている部門はありません",
)

checks contains verdict(
	"GWS.GROUPS.2.1v1", "createGroupsAccessLevel", "ADMIN_ONLY",
	"Users other than administrators can create groups in these OUs",
	"次の組織部門では管理者以外のユーザーがグループを作成できます",
	"Only administrators can create groups in every OU where Groups for Business is on",
	"ビジネス向け Google グループが有効なすべての組織部門で、グループを作成できるのは管理者のみです",
)

checks contains verdict(
	"GWS.GROUPS.3.1v1", "viewTopicsDefaultAccessLevel", "GROUP_MEMBERS",
	"Group conversations are visible by default to more than the group's members in these OUs",
	"次の組織部門ではグループの会話の既定の閲覧者がグループのメンバーに限定されていません",
	"Group conversations are visible only to group members by default in every OU where Groups for Business is on",
	"ビジネス向け Google グループが有効なすべての組織部門で、グループの会話の既定の閲覧者はグループのメンバーのみです",
)

# GWS.GROUPS.4.1: groups are not hidden from the directory, neither by their owners nor by default.
bad_4_1 := bad_value("ownersCanHideGroups", false) | bad_value("newGroupsAreHidden", false)

checks contains ousettings.ou_verdict(
	"GWS.GROUPS.4.1v1", bad_4_1,
	"Groups can be hidden from the directory in these OUs",
	"次の組織部門ではグループをディレクトリで非表示にできます",
	sprintf("No OU where Groups for Business is on lets owners hide groups or hides new groups from the directory (%s; %s).%s", [ousettings.top_en(gs, "ownersCanHideGroups"), ousettings.top_en(gs, "newGroupsAreHidden"), scope_en]),
	sprintf("ビジネス向け Google グループが有効な組織部門で、オーナーによるグループの非表示や新しいグループの既定の非表示を許可している部門はありません（%s、%s）。%s", [ousettings.top_ja(gs, "ownersCanHideGroups"), ousettings.top_ja(gs, "newGroupsAreHidden"), scope_ja]),
)

# Where the service is on in no OU at all, nothing was judged: the verdicts are reported as not
# applicable (requirement_met stays true, as in the reference).
results contains mark(c) if some c in checks

mark(c) := object.union(c, {"not_applicable": true}) if {
	count(groups_units) == 0
} else := c
