# Classroom: class membership, the Classroom API, roster import, student unenrollment and class
# creation, read from the Cloud Identity policies of each OU (`policies`). An OU or group override is
# checked only where Classroom is on.
package mamori.gws.classroom

import data.mamori.gws.lib.ousettings
import rego.v1

classroom_on(ou) if ousettings.app_enabled(ou, "classroom")

classroom_units := ousettings.enabled_units("classroom")

scope_en := "" if {
	classroom_on(ousettings.top_ou)
} else := " Classroom is not reported as on in any OU, so nothing was checked and the control does not apply." if {
	count(classroom_units) == 0
} else := sprintf(" Classroom is not reported as on in the top-level OU %s, so only the OUs that turn it on were checked (%d).", [ousettings.top_label, count(classroom_units)])

scope_ja := "" if {
	classroom_on(ousettings.top_ou)
} else := "Classroomが有効と報告されている組織部門がないため、確認対象はなく、このコントロールは適用されません。" if {
	count(classroom_units) == 0
} else := sprintf("最上位の組織部門 %s ではClassroomが有効と報告されていないため、有効にしている組織部門（%d 件）のみを確認しました。", [ousettings.top_label, count(classroom_units)])

# Entries for the OUs that set section.setting to a value outside `allowed`.
bad_value(section, setting, allowed) := {e |
	units := classroom_units
	some ou, v in ousettings.explicit_values(section, setting)
	ou in units
	not v in allowed
	e := {"ou": ou, "en": sprintf("%s = %v", [setting, v]), "ja": sprintf("%s = %v", [setting, v])}
}

verdict(id, section, setting, allowed, what_en, what_ja, ok_en, ok_ja) := ousettings.ou_verdict(
	id, bad_value(section, setting, allowed), what_en, what_ja,
	sprintf("%s (%s).%s", [ok_en, ousettings.top_en(section, setting), scope_en]),
	sprintf("%s（%s）。%s", [ok_ja, ousettings.top_ja(section, setting), scope_ja]),
)

checks contains verdict(
	"GWS.CLASSROOM.1.1v1", "classroom_class_membership", "whoCanJoinClasses", {"ANYONE_IN_DOMAIN"},
	"Users from outside the domain can join classes in these OUs",
	"次の組織部門ではドメイン外のユーザーがクラスに参加できます",
	"Only users in the domain can join classes in every OU where Classroom is on",
	"Classroom が有効なすべての組織部門で、クラスに参加できるのはドメイン内のユーザーのみです",
)

# The reference accepts classes in allowlisted domains as well as classes in the domain.
checks contains verdict(
	"GWS.CLASSROOM.1.2v1", "classroom_class_membership", "whichClassesCanUsersJoin", {"CLASSES_IN_DOMAIN", "CLASSES_IN_ALLOWLISTED_DOMAINS"},
	"Users can join classes of any Google Workspace organization in these OUs",
	"次の組織部門ではユーザーが任意の Google Workspace 組織のクラスに参加できます",
	"Users can join only classes in the domain (or in allowlisted domains) in every OU where Classroom is on",
	"Classroom が有効なすべての組織部門で、ユーザーが参加できるのはドメイン内（または許可リストのドメイン）のクラスのみです",
)

checks contains verdict(
	"GWS.CLASSROOM.2.1v1", "classroom_api_data_access", "enableApiAccess", {false},
	"Users can authorize apps to access their Classroom data in these OUs",
	"次の組織部門ではユーザーが Classroom データへのアクセスをアプリに許可できます",
	"Users cannot authorize apps to access their Classroom data in any OU where Classroom is on",
	"Classroom が有効な組織部門で、ユーザーが Classroom データへのアクセスをアプリに許可できる部門はありません",
)

checks contains verdict(
	"GWS.CLASSROOM.3.1v1", "classroom_roster_import", "rosterImportOption", {"OFF"},
	"Roster import (Clever) is on in these OUs",
	"次の組織部門では名簿のインポート（Clever）がオンです",
	"Roster import is off in every OU where Classroom is on",
	"Classroom が有効なすべての組織部門で名簿のインポートはオフです",
)

checks contains verdict(
	"GWS.CLASSROOM.4.1v1", "classroom_student_unenrollment", "whoCanUnenrollStudents", {"TEACHERS_ONLY"},
	"Students can unenroll themselves from classes in these OUs",
	"次の組織部門では生徒が自分でクラスから退出できます",
	"Only teachers can unenroll students in every OU where Classroom is on",
	"Classroom が有効なすべての組織部門で、生徒をクラスから退出させられるのは教師のみです",
)

checks contains verdict(
	"GWS.CLASSROOM.5.1v1", "classroom_teacher_permissions", "whoCanCreateClasses", {"VERIFIED_TEACHERS_ONLY"},
	"Users other than verified teachers can create classes in these OUs",
	"次の組織部門では確認済みの教師以外もクラスを作成できます",
	"Only verified teachers can create classes in every OU where Classroom is on",
	"Classroom が有効なすべての組織部門で、クラスを作成できるのは確認済みの教師のみです",
)

# Where the service is on in no OU at all, nothing was judged: the verdicts are reported as not
# applicable (requirement_met stays true, as in the reference).
results contains mark(c) if some c in checks

mark(c) := object.union(c, {"not_applicable": true}) if {
	count(classroom_units) == 0
} else := c
