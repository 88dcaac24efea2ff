# Drive and Docs: external sharing, default access, shared drives, file security update, Drive SDK
# and Drive for desktop, read from the Cloud Identity policies of each OU (`policies`). An OU is
# checked only where Drive is on; a setting an OU does not set is inherited from the top-level OU.
package mamori.gws.drive

import data.mamori.gws.lib.ousettings
import rego.v1

es := "drive_and_docs_external_sharing"

sdc := "drive_and_docs_shared_drive_creation"

drive_on(ou) if ousettings.app_enabled(ou, "drive_and_docs")

drive_units := ousettings.enabled_units("drive_and_docs")

# A note when Drive is not on in the top-level OU: only OUs that turn it on were checked.
scope_en := "" if {
	drive_on(ousettings.top_ou)
} else := " Drive and Docs is not reported as on in any OU, so nothing was checked and the control does not apply." if {
	count(drive_units) == 0
} else := sprintf(" Drive and Docs is not reported as on in the top-level OU %s, so only the OUs that turn it on were checked (%d).", [ousettings.top_label, count(drive_units)])

scope_ja := "" if {
	drive_on(ousettings.top_ou)
} else := "ドライブとドキュメントが有効と報告されている組織部門がないため、確認対象はなく、このコントロールは適用されません。" if {
	count(drive_units) == 0
} else := sprintf("最上位の組織部門 %s ではドライブとドキュメントが有効と報告されていないため、有効にしている組織部門（%d 件）のみを確認しました。", [ousettings.top_label, count(drive_units)])

# The settings are read for every OU at once (ousettings.explicit_values / resolved_values):
# a function call per OU and setting made this product cost ~0.8 s on 2,000 OUs.
own(section, setting) := ousettings.explicit_values(section, setting)

# The external sharing mode each OU sets itself, and its effective mode wrapped in an array.
mode_own := own(es, "externalSharingMode")

mode_of := ousettings.resolved_values(mode_own)

sets_mode := {ou | some ou, _ in mode_own}

sharing_allowed_units := {ou | some ou, m in mode_of; m[0] != "DISALLOWED"}

allowlisted_units := {ou | some ou, m in mode_of; m[0] == "ALLOWLISTED_DOMAINS"}

any_domain_units := {ou | some ou, m in mode_of; m[0] == "ALLOWED"}

# Where Drive is on, by effective sharing mode: the settings that depend on the mode are
# resolved for these OUs only.
allowlisted_drive_units := allowlisted_units & drive_units

any_domain_drive_units := any_domain_units & drive_units

sharing_drive_units := sharing_allowed_units & drive_units

mode_en(m) := "off" if m == "DISALLOWED"

mode_en(m) := "allowlisted domains only" if m == "ALLOWLISTED_DOMAINS"

mode_en(m) := "on for any domain" if m == "ALLOWED"

mode_en(m) := sprintf("%v", [m]) if not m in {"DISALLOWED", "ALLOWLISTED_DOMAINS", "ALLOWED"}

mode_ja(m) := "オフ" if m == "DISALLOWED"

mode_ja(m) := "許可リストのドメインのみ" if m == "ALLOWLISTED_DOMAINS"

mode_ja(m) := "オン（すべてのドメイン）" if m == "ALLOWED"

mode_ja(m) := sprintf("%v", [m]) if not m in {"DISALLOWED", "ALLOWLISTED_DOMAINS", "ALLOWED"}

# True when the OU itself sets at least one of the two settings (else it only inherits them,
# and the top-level OU's own entry reports the problem), given the OUs that set the first and
# the map of those that set the second.
sets_either(ou, a_units, _) if ou in a_units

sets_either(ou, _, b_own) if _ := b_own[ou]

entry(ou, en, ja) := {"ou": ou, "en": en, "ja": ja}

# GWS.DRIVEDOCS.1.1: sharing outside the organization is off.
bad_1_1 contains entry(ou, sprintf("sharing outside the organization: %s", [mode_en(m)]), sprintf("組織外との共有: %s", [mode_ja(m)])) if {
	some ou, m in mode_own
	ou in drive_units
	m != "DISALLOWED"
}

checks contains ousettings.ou_verdict(
	"GWS.DRIVEDOCS.1.1v1", bad_1_1,
	"Files can be shared outside the organization in these OUs",
	"次の組織部門ではファイルを組織外と共有できます",
	sprintf("Sharing outside the organization is off in every OU where Drive is on (%s).%s", [ousettings.top_en(es, "externalSharingMode"), scope_en]),
	sprintf("ドライブが有効なすべての組織部門で組織外との共有はオフです（%s）。%s", [ousettings.top_ja(es, "externalSharingMode"), scope_ja]),
)

# GWS.DRIVEDOCS.1.2: users cannot receive files from outside the organization.
bad_1_2 contains entry(ou, sprintf("sharing outside is off but allowReceivingExternalFiles = %v", [v]), sprintf("組織外との共有はオフですが allowReceivingExternalFiles = %v", [v])) if {
	some ou, v in own(es, "allowReceivingExternalFiles")
	ou in drive_units
	not ou in sharing_allowed_units
	v != false
}

bad_1_2 contains entry(ou, sprintf("sharing limited to allowlisted domains, allowReceivingFilesOutsideAllowlistedDomains = %v", [v]), sprintf("許可リストのドメインのみと共有、allowReceivingFilesOutsideAllowlistedDomains = %v", [v])) if {
	b_own := own(es, "allowReceivingFilesOutsideAllowlistedDomains")
	vals := ousettings.resolved_values_in(b_own, allowlisted_drive_units)
	some ou, w in vals
	v := w[0]
	v != false
	sets_either(ou, sets_mode, b_own)
}

checks contains ousettings.ou_verdict(
	"GWS.DRIVEDOCS.1.2v1", bad_1_2,
	"Users can receive files from outside the organization in these OUs",
	"次の組織部門ではユーザーが組織外からファイルを受け取れます",
	sprintf("No OU where Drive is on lets users receive files from outside the organization or from non-allowlisted domains (%s).%s", [ousettings.top_en(es, "allowReceivingExternalFiles"), scope_en]),
	sprintf("ドライブが有効な組織部門で、組織外または許可リスト外のドメインからファイルを受け取れる設定はありません（%s）。%s", [ousettings.top_ja(es, "allowReceivingExternalFiles"), scope_ja]),
)

# GWS.DRIVEDOCS.1.3: users are warned when they share outside the organization.
bad_1_3 contains entry(ou, sprintf("sharing limited to allowlisted domains, warnForSharingOutsideAllowlistedDomains = %v", [v]), sprintf("許可リストのドメインのみと共有、warnForSharingOutsideAllowlistedDomains = %v", [v])) if {
	b_own := own(es, "warnForSharingOutsideAllowlistedDomains")
	vals := ousettings.resolved_values_in(b_own, allowlisted_drive_units)
	some ou, w in vals
	v := w[0]
	v != true
	sets_either(ou, sets_mode, b_own)
}

bad_1_3 contains entry(ou, sprintf("sharing on for any domain, warnForExternalSharing = %v", [v]), sprintf("すべてのドメインと共有可能、warnForExternalSharing = %v", [v])) if {
	b_own := own(es, "warnForExternalSharing")
	vals := ousettings.resolved_values_in(b_own, any_domain_drive_units)
	some ou, w in vals
	v := w[0]
	v != true
	sets_either(ou, sets_mode, b_own)
}

checks contains ousettings.ou_verdict(
	"GWS.DRIVEDOCS.1.3v1", bad_1_3,
	"Users are not warned when they share outside the organization in these OUs",
	"次の組織部門では組織外と共有するときに警告が表示されません",
	sprintf("Every OU that allows sharing outside the organization warns users first (%s).%s", [ousettings.top_en(es, "externalSharingMode"), scope_en]),
	sprintf("組織外との共有を許可しているすべての組織部門で、共有時に警告が表示されます（%s）。%s", [ousettings.top_ja(es, "externalSharingMode"), scope_ja]),
)

# GWS.DRIVEDOCS.1.4: no sharing with people who do not use a Google account.
bad_1_4 contains entry(ou, sprintf("sharing limited to allowlisted domains, allowNonGoogleInvitesInAllowlistedDomains = %v", [v]), sprintf("許可リストのドメインのみと共有、allowNonGoogleInvitesInAllowlistedDomains = %v", [v])) if {
	b_own := own(es, "allowNonGoogleInvitesInAllowlistedDomains")
	vals := ousettings.resolved_values_in(b_own, allowlisted_drive_units)
	some ou, w in vals
	v := w[0]
	v != false
	sets_either(ou, sets_mode, b_own)
}

bad_1_4 contains entry(ou, sprintf("sharing on for any domain, allowNonGoogleInvites = %v", [v]), sprintf("すべてのドメインと共有可能、allowNonGoogleInvites = %v", [v])) if {
	b_own := own(es, "allowNonGoogleInvites")
	vals := ousettings.resolved_values_in(b_own, any_domain_drive_units)
	some ou, w in vals
	v := w[0]
	v != false
	sets_either(ou, sets_mode, b_own)
}

checks contains ousettings.ou_verdict(
	"GWS.DRIVEDOCS.1.4v1", bad_1_4,
	"Items can be shared with people who do not use a Google account in these OUs",
	"次の組織部門では Google アカウントを使用していないユーザーとアイテムを共有できます",
	sprintf("No OU where Drive is on allows sharing with people who do not use a Google account (%s).%s", [ousettings.top_en(es, "externalSharingMode"), scope_en]),
	sprintf("ドライブが有効な組織部門で、Google アカウントを使用していないユーザーとの共有を許可している部門はありません（%s）。%s", [ousettings.top_ja(es, "externalSharingMode"), scope_ja]),
)

# GWS.DRIVEDOCS.1.5: files and published web content cannot be made visible to anyone with the link.
bad_1_5 contains entry(ou, sprintf("sharing outside: %s, allowPublishingFiles = %v", [mode_en(m), v]), sprintf("組織外との共有: %s、allowPublishingFiles = %v", [mode_ja(m), v])) if {
	b_own := own(es, "allowPublishingFiles")
	vals := ousettings.resolved_values_in(b_own, sharing_drive_units)
	some ou, w in vals
	m := mode_of[ou][0]
	v := w[0]
	v != false
	sets_either(ou, sets_mode, b_own)
}

checks contains ousettings.ou_verdict(
	"GWS.DRIVEDOCS.1.5v1", bad_1_5,
	"Files and published web content can be made visible to anyone with the link in these OUs",
	"次の組織部門ではファイルと公開されたウェブ コンテンツをリンクを知っている全員に公開できます",
	sprintf("No OU where Drive is on lets users make files or published web content visible to anyone with the link (%s).%s", [ousettings.top_en(es, "allowPublishingFiles"), scope_en]),
	sprintf("ドライブが有効な組織部門で、ファイルや公開されたウェブ コンテンツをリンクを知っている全員に公開できる部門はありません（%s）。%s", [ousettings.top_ja(es, "allowPublishingFiles"), scope_ja]),
)

# GWS.DRIVEDOCS.1.6: Access Checker suggests recipients only.
bad_1_6 contains entry(ou, sprintf("accessCheckerSuggestions = %v", [v]), sprintf("accessCheckerSuggestions = %v", [v])) if {
	some ou, v in own(es, "accessCheckerSuggestions")
	ou in drive_units
	v != "RECIPIENTS_ONLY"
}

checks contains ousettings.ou_verdict(
	"GWS.DRIVEDOCS.1.6v1", bad_1_6,
	"Access Checker does not limit suggestions to recipients only in these OUs",
	"次の組織部門ではアクセス チェッカーが「受信者のみ」になっていません",
	sprintf("Access Checker is set to recipients only in every OU where Drive is on (%s).%s", [ousettings.top_en(es, "accessCheckerSuggestions"), scope_en]),
	sprintf("ドライブが有効なすべての組織部門でアクセス チェッカーは「受信者のみ」です（%s）。%s", [ousettings.top_ja(es, "accessCheckerSuggestions"), scope_ja]),
)

# GWS.DRIVEDOCS.1.7: nobody can move content to shared drives owned by another organization.
bad_1_7 contains entry(ou, sprintf("sharing outside: %s, allowedPartiesForDistributingContent = %v", [mode_en(m), v]), sprintf("組織外との共有: %s、allowedPartiesForDistributingContent = %v", [mode_ja(m), v])) if {
	b_own := own(es, "allowedPartiesForDistributingContent")
	vals := ousettings.resolved_values_in(b_own, sharing_drive_units)
	some ou, w in vals
	m := mode_of[ou][0]
	v := w[0]
	v != "NONE"
	sets_either(ou, sets_mode, b_own)
}

checks contains ousettings.ou_verdict(
	"GWS.DRIVEDOCS.1.7v1", bad_1_7,
	"Users can distribute content to shared drives owned by other organizations in these OUs",
	"次の組織部門では他の組織が所有する共有ドライブにコンテンツを配布できます",
	sprintf("No OU where Drive is on lets users move content to shared drives owned by another organization (%s).%s", [ousettings.top_en(es, "allowedPartiesForDistributingContent"), scope_en]),
	sprintf("ドライブが有効な組織部門で、他の組織の共有ドライブにコンテンツを移動できる部門はありません（%s）。%s", [ousettings.top_ja(es, "allowedPartiesForDistributingContent"), scope_ja]),
)

# GWS.DRIVEDOCS.1.8: new items are private to the owner by default.
bad_1_8 contains entry(ou, sprintf("defaultFileAccess = %v", [v]), sprintf("defaultFileAccess = %v", [v])) if {
	some ou, v in own("drive_and_docs_general_access_default", "defaultFileAccess")
	ou in drive_units
	v != "PRIVATE_TO_OWNER"
}

checks contains ousettings.ou_verdict(
	"GWS.DRIVEDOCS.1.8v1", bad_1_8,
	"New items are not private to the owner by default in these OUs",
	"次の組織部門では新しいアイテムの既定のアクセス権が「オーナーのみ」ではありません",
	sprintf("New items are private to the owner by default in every OU where Drive is on (%s).%s", [ousettings.top_en("drive_and_docs_general_access_default", "defaultFileAccess"), scope_en]),
	sprintf("ドライブが有効なすべての組織部門で、新しいアイテムの既定のアクセス権は「オーナーのみ」です（%s）。%s", [ousettings.top_ja("drive_and_docs_general_access_default", "defaultFileAccess"), scope_ja]),
)

# GWS.DRIVEDOCS.1.9: files owned or shared outside the organization are highlighted.
bad_1_9 contains entry(ou, sprintf("highlightingEnabled = %v", [v]), sprintf("highlightingEnabled = %v", [v])) if {
	some ou, v in own("drive_and_docs_external_file_warning", "highlightingEnabled")
	ou in drive_units
	v != true
}

checks contains ousettings.ou_verdict(
	"GWS.DRIVEDOCS.1.9v1", bad_1_9,
	"External files are not highlighted in these OUs",
	"次の組織部門では外部ファイルが強調表示されません",
	sprintf("No OU where Drive is on turns off the highlighting of external files (%s).%s", [ousettings.top_en("drive_and_docs_external_file_warning", "highlightingEnabled"), scope_en]),
	sprintf("ドライブが有効な組織部門で、外部ファイルの強調表示をオフにしている部門はありません（%s）。%s", [ousettings.top_ja("drive_and_docs_external_file_warning", "highlightingEnabled"), scope_ja]),
)

# GWS.DRIVEDOCS.2.1: shared drive managers cannot override the shared drive settings.
bad_2_1 contains entry(ou, sprintf("allowManagersToOverrideSettings = %v", [v]), sprintf("allowManagersToOverrideSettings = %v", [v])) if {
	some ou, v in own(sdc, "allowManagersToOverrideSettings")
	ou in drive_units
	v != false
}

checks contains ousettings.ou_verdict(
	"GWS.DRIVEDOCS.2.1v1", bad_2_1,
	"Members with manager access can override the shared drive settings in these OUs",
	"次の組織部門では管理者権限を持つメンバーが共有ドライブの設定をオーバーライドできます",
	sprintf("No OU where Drive is on lets shared drive managers override the shared drive settings (%s).%s", [ousettings.top_en(sdc, "allowManagersToOverrideSettings"), scope_en]),
	sprintf("ドライブが有効な組織部門で、共有ドライブの管理者に設定のオーバーライドを許可している部門はありません（%s）。%s", [ousettings.top_ja(sdc, "allowManagersToOverrideSettings"), scope_ja]),
)

# GWS.DRIVEDOCS.2.2: people who are not shared drive members can be added to files.
bad_2_2 contains entry(ou, sprintf("allowNonMemberAccess = %v", [v]), sprintf("allowNonMemberAccess = %v", [v])) if {
	some ou, v in own(sdc, "allowNonMemberAccess")
	ou in drive_units
	v != true
}

checks contains ousettings.ou_verdict(
	"GWS.DRIVEDOCS.2.2v1", bad_2_2,
	"People who are not shared drive members cannot be added to files in these OUs",
	"次の組織部門では共有ドライブのメンバー以外のユーザーをファイルに追加できません",
	sprintf("Every OU where Drive is on allows people who are not shared drive members to be added to files (%s).%s", [ousettings.top_en(sdc, "allowNonMemberAccess"), scope_en]),
	sprintf("ドライブが有効なすべての組織部門で、共有ドライブのメンバー以外のユーザーをファイルに追加できます（%s）。%s", [ousettings.top_ja(sdc, "allowNonMemberAccess"), scope_ja]),
)

# GWS.DRIVEDOCS.3.1: the security update is applied to all impacted files and users cannot remove it.
su := "drive_and_docs_file_security_update"

bad_3_1 contains entry(ou, sprintf("securityUpdate = %v, allowUsersToManageUpdate = %v", [s, u]), sprintf("securityUpdate = %v、allowUsersToManageUpdate = %v", [s, u])) if {
	updates := own(su, "securityUpdate")
	some ou, u in own(su, "allowUsersToManageUpdate")
	ou in drive_units
	s := updates[ou]
	true in {u != false, s != "APPLY_TO_IMPACTED_FILES"}
}

checks contains ousettings.ou_verdict(
	"GWS.DRIVEDOCS.3.1v1", bad_3_1,
	"The link security update is not enforced on all impacted files in these OUs",
	"次の組織部門ではリンク共有のセキュリティ アップデートがすべての対象ファイルに強制されていません",
	sprintf("The security update is applied to all impacted files and users cannot remove it in every OU where Drive is on (%s).%s", [ousettings.top_en(su, "securityUpdate"), scope_en]),
	sprintf("ドライブが有効なすべての組織部門で、セキュリティ アップデートはすべての対象ファイルに適用され、ユーザーは解除できません（%s）。%s", [ousettings.top_ja(su, "securityUpdate"), scope_ja]),
)

# GWS.DRIVEDOCS.4.1: the Drive SDK API is off.
bad_4_1 contains entry(ou, sprintf("enableDriveSdkApiAccess = %v", [v]), sprintf("enableDriveSdkApiAccess = %v", [v])) if {
	some ou, v in own("drive_and_docs_drive_sdk", "enableDriveSdkApiAccess")
	ou in drive_units
	v != false
}

checks contains ousettings.ou_verdict(
	"GWS.DRIVEDOCS.4.1v1", bad_4_1,
	"Users can access Drive with the Drive SDK API in these OUs",
	"次の組織部門ではユーザーが Drive SDK API でドライブにアクセスできます",
	sprintf("No OU where Drive is on allows the Drive SDK API (%s).%s", [ousettings.top_en("drive_and_docs_drive_sdk", "enableDriveSdkApiAccess"), scope_en]),
	sprintf("ドライブが有効な組織部門で、Drive SDK API を許可している部門はありません（%s）。%s", [ousettings.top_ja("drive_and_docs_drive_sdk", "enableDriveSdkApiAccess"), scope_ja]),
)

# GWS.DRIVEDOCS.5.1: Drive for desktop, where allowed, runs on authorized devices only.
dfd := "drive_and_docs_drive_for_desktop"

bad_5_1 contains entry(ou, sprintf("allowDriveForDesktop = %v, restrictToAuthorizedDevices = %v", [d, r]), sprintf("allowDriveForDesktop = %v、restrictToAuthorizedDevices = %v", [d, r])) if {
	d_own := own(dfd, "allowDriveForDesktop")
	r_own := own(dfd, "restrictToAuthorizedDevices")
	d_of := ousettings.resolved_values(d_own)
	r_of := ousettings.resolved_values(r_own)
	d_units := {ou | some ou, _ in d_own}
	some ou in drive_units
	d := d_of[ou][0]
	not d == false
	r := r_of[ou][0]
	r == false
	sets_either(ou, d_units, r_own)
}

checks contains ousettings.ou_verdict(
	"GWS.DRIVEDOCS.5.1v1", bad_5_1,
	"Drive for desktop can be used on any device in these OUs",
	"次の組織部門ではパソコン版ドライブを任意のデバイスで使用できます",
	sprintf("Wherever Drive for desktop is allowed it is limited to authorized devices (%s).%s", [ousettings.top_en(dfd, "restrictToAuthorizedDevices"), scope_en]),
	sprintf("パソコン版ドライブを許可しているすべての組織部門で、承認済みデバイスのみに制限されています（%s）。%s", [ousettings.top_ja(dfd, "restrictToAuthorizedDevices"), scope_ja]),
)

# Where the service is on in no OU at all, nothing was judged: the verdicts are reported as not
# applicable (requirement_met stays true, as in the reference).
results contains mark(c) if some c in checks

mark(c) := object.union(c, {"not_applicable": true}) if {
	count(drive_units) == 0
} else := c
