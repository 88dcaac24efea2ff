# SharePoint Online and OneDrive: external sharing, default links, Anyone links and
# verification-code reauthentication, read from SPO_tenant (Get-SPOTenant).
package mamori.m365.sharepoint

import data.mamori.m365.lib
import rego.v1

default tenant := {}

tenant := t if {
	is_array(input.SPO_tenant)
	t := input.SPO_tenant[0]
	is_object(t)
}

# SharingCapability / ODBSharingCapability values.
sharing_label := {
	0: {"en": "only people in the organization", "ja": "組織内のユーザーのみ"},
	1: {"en": "new and existing guests", "ja": "新規および既存のゲスト"},
	2: {"en": "anyone (anonymous links)", "ja": "すべてのユーザー（匿名リンク）"},
	3: {"en": "existing guests only", "ja": "既存のゲストのみ"},
}

label(v, lang) := sharing_label[v][lang]

label(v, lang) := {"en": "not reported", "ja": "取得できず"}[lang] if v == null

label(v, _) := sprintf("%v", [v]) if {
	v != null
	not sharing_label[v]
}

value(field) := object.get(tenant, field, null)

# A verdict on one setting that must take one of the allowed values.
setting_verdict(id, field, allowed, what_en, what_ja) := lib.verdict(
	id, value(field) in allowed,
	sprintf("%s is set to %v.", [what_en, label(value(field), "en")]),
	sprintf("%sの設定値は「%v」です。", [what_ja, label(value(field), "ja")]),
)

cap := value("SharingCapability")

results contains lib.verdict(
	"MS.SHAREPOINT.1.1v1", cap in {0, 3},
	sprintf("External sharing for SharePoint is set to %v.", [label(cap, "en")]),
	sprintf("SharePoint の外部共有は「%v」に設定されています。", [label(cap, "ja")]),
)

results contains lib.verdict(
	"MS.SHAREPOINT.1.2v1", value("ODBSharingCapability") in {0, 3},
	sprintf("External sharing for OneDrive is set to %v.", [label(value("ODBSharingCapability"), "en")]),
	sprintf("OneDrive の外部共有は「%v」に設定されています。", [label(value("ODBSharingCapability"), "ja")]),
)

# Sharing limited to allowed domains; not required when sharing is internal only.
default domain_restricted := false

domain_restricted if value("SharingDomainRestrictionMode") == 1

domain_restricted if {
	cap == 0
	value("SharingDomainRestrictionMode") != null
}

results contains lib.verdict(
	"MS.SHAREPOINT.1.3v1", domain_restricted,
	sprintf("External sharing is %v and SharingDomainRestrictionMode is %v (1 = allow list of domains).", [label(cap, "en"), value("SharingDomainRestrictionMode")]),
	sprintf("外部共有は「%v」、SharingDomainRestrictionMode は %v です（1 = 許可ドメインの一覧で制限）。", [label(cap, "ja"), value("SharingDomainRestrictionMode")]),
)

results contains lib.verdict(
	"MS.SHAREPOINT.2.1v1", value("DefaultSharingLinkType") == 1,
	sprintf("The default sharing link type is %v (1 = specific people).", [value("DefaultSharingLinkType")]),
	sprintf("既定の共有リンクの種類は %v です（1 = 特定のユーザー）。", [value("DefaultSharingLinkType")]),
)

results contains lib.verdict(
	"MS.SHAREPOINT.2.2v1", value("DefaultLinkPermission") == 1,
	sprintf("The default link permission is %v (1 = view).", [value("DefaultLinkPermission")]),
	sprintf("既定のリンクのアクセス許可は %v です（1 = 表示のみ）。", [value("DefaultLinkPermission")]),
)

# Anyone links: only relevant when they are allowed (SharingCapability 2), but the
# setting must still have been reported.
default anyone_expiry_ok := false

anyone_expiry_ok if {
	value("RequireAnonymousLinksExpireInDays") != null
	cap != null
	cap != 2
}

anyone_expiry_ok if {
	cap == 2
	days := value("RequireAnonymousLinksExpireInDays")
	days >= 1
	days <= 30
}

results contains lib.verdict(
	"MS.SHAREPOINT.3.1v1", anyone_expiry_ok,
	sprintf("Anyone links expire after %v days (-1 or 0 = never); external sharing is %v.", [value("RequireAnonymousLinksExpireInDays"), label(cap, "en")]),
	sprintf("匿名リンクの有効期限は %v 日です（-1 または 0 = 無期限）。外部共有は「%v」です。", [value("RequireAnonymousLinksExpireInDays"), label(cap, "ja")]),
)

default anyone_view_only := false

anyone_view_only if {
	value("FileAnonymousLinkType") != null
	value("FolderAnonymousLinkType") != null
	cap != null
	cap != 2
}

anyone_view_only if {
	cap == 2
	value("FileAnonymousLinkType") == 1
	value("FolderAnonymousLinkType") == 1
}

results contains lib.verdict(
	"MS.SHAREPOINT.3.2v1", anyone_view_only,
	sprintf("Anyone link permissions: files %v, folders %v (1 = view only).", [value("FileAnonymousLinkType"), value("FolderAnonymousLinkType")]),
	sprintf("匿名リンクのアクセス許可: ファイル %v、フォルダー %v（1 = 表示のみ）。", [value("FileAnonymousLinkType"), value("FolderAnonymousLinkType")]),
)

default reauth_ok := false

reauth_ok if {
	cap == 0
	value("EmailAttestationRequired") != null
	value("EmailAttestationReAuthDays") != null
}

reauth_ok if {
	cap in {1, 2, 3}
	value("EmailAttestationRequired") == true
	value("EmailAttestationReAuthDays") <= 30
}

results contains lib.verdict(
	"MS.SHAREPOINT.3.3v2", reauth_ok,
	sprintf("Verification-code reauthentication required: %v, every %v days.", [value("EmailAttestationRequired"), value("EmailAttestationReAuthDays")]),
	sprintf("確認コードによる再認証の要求: %v、間隔 %v 日。", [value("EmailAttestationRequired"), value("EmailAttestationReAuthDays")]),
)
