# Gmail (CISA SCuBA GWS.GMAIL): per-OU and per-group settings of the Policy API (`policies`,
# with inheritance of the Gmail service state from the top-level OU), admin-log events
# (gmail_logs) for the external reply warning and the security sandbox, and DNS records
# (SPF, DKIM, DMARC) of the tenant's domains.
package mamori.gws.gmail

import data.mamori.gws.lib
import rego.v1

# ---------------------------------------------------------------------------
# Settings that must be on (want true) or off (want false) in every OU and group with Gmail on.

setting_ok(v, want) if v == want

pairs(vals, ous, lang) := concat(sep(lang), sort([sprintf(fmt(lang), [ou, onoff(vals[ou], lang)]) | some ou in ous]))

sep("en") := ", "

sep("ja") := "、"

fmt("en") := "%s (%s)"

fmt("ja") := "%s（%s）"

setting_verdict(id, section, field, want, label_en, label_ja) := v if {
	vals := set_values(section, field)
	bad := {ou | some ou, x in vals; not setting_ok(x, want)}
	v := lib.verdict_with(
		id, count(bad) == 0,
		setting_text_en(vals, bad, want, label_en),
		setting_text_ja(vals, bad, want, label_ja),
		sort([ou | some ou in bad]),
	)
}

setting_text_en(vals, bad, want, label) := sprintf("%s is not %s in %d OU(s)/group(s) with Gmail on: %s.", [label, onoff(want, "en"), count(bad), pairs(vals, bad, "en")]) if count(bad) > 0

setting_text_en(vals, bad, want, label) := sprintf("%s is %s in every OU or group with Gmail on that sets it: %s.", [label, onoff(want, "en"), pairs(vals, object.keys(vals), "en")]) if {
	count(bad) == 0
	count(vals) > 0
}

setting_text_en(vals, bad, _, label) := sprintf("None of the %d OU(s)/group(s) with Gmail on reports the setting \"%s\", so no non-compliant value was found; confirm it in the Admin console.", [count(gmail_ous), label]) if {
	count(vals) == 0
}

setting_text_ja(vals, bad, want, label) := sprintf("Gmail が有効な %d 個の組織部門／グループで「%s」が%sになっていません: %s。", [count(bad), label, onoff(want, "ja"), pairs(vals, bad, "ja")]) if count(bad) > 0

setting_text_ja(vals, bad, want, label) := sprintf("「%s」は、設定のある Gmail 有効な組織部門／グループのすべてで%sです: %s。", [label, onoff(want, "ja"), pairs(vals, object.keys(vals), "ja")]) if {
	count(bad) == 0
	count(vals) > 0
}

setting_text_ja(vals, bad, _, label) := sprintf("Gmail が有効な %d 個の組織部門／グループのいずれにも「%s」の設定値がないため、非準拠の値は見つかりませんでした。管理コンソールで確認してください。", [count(gmail_ous), label]) if {
	count(vals) == 0
}

# GWS.GMAIL.1.1: mail delegation off.
results contains setting_verdict("GWS.GMAIL.1.1v1", "gmail_mail_delegation", "enableMailDelegation", false, "Mail delegation", "メールの委任")

# GWS.GMAIL.5.1-5.4: attachment safety.
results contains setting_verdict("GWS.GMAIL.5.1v1", "gmail_email_attachment_safety", "enableEncryptedAttachmentProtection", true, "Protection against encrypted attachments from untrusted senders", "信頼できない送信者からの暗号化された添付ファイルに対する保護")

results contains setting_verdict("GWS.GMAIL.5.2v1", "gmail_email_attachment_safety", "enableAttachmentWithScriptsProtection", true, "Protection against attachments with scripts from untrusted senders", "信頼できない送信者からのスクリプト付き添付ファイルに対する保護")

results contains setting_verdict("GWS.GMAIL.5.3v1", "gmail_email_attachment_safety", "enableAnomalousAttachmentProtection", true, "Protection against anomalous attachment types", "異常な種類の添付ファイルに対する保護")

results contains setting_verdict("GWS.GMAIL.5.4v1", "gmail_email_attachment_safety", "applyFutureRecommendedSettingsAutomatically", true, "Apply future recommended attachment settings automatically", "添付ファイルの今後の推奨設定を自動的に適用")

# GWS.GMAIL.6.1-6.4: links and external images.
results contains setting_verdict("GWS.GMAIL.6.1v1", "gmail_links_and_external_images", "enableShortenerScanning", true, "Identify links behind shortened URLs", "短縮 URL の背後にあるリンクを識別")

results contains setting_verdict("GWS.GMAIL.6.2v1", "gmail_links_and_external_images", "enableExternalImageScanning", true, "Scan linked images", "リンク先の画像をスキャン")

results contains setting_verdict("GWS.GMAIL.6.3v1", "gmail_links_and_external_images", "enableAggressiveWarningsOnUntrustedLinks", true, "Warning prompt for clicks on links to untrusted domains", "信頼できないドメインへのリンクのクリック時に警告を表示")

results contains setting_verdict("GWS.GMAIL.6.4v1", "gmail_links_and_external_images", "applyFutureSettingsAutomatically", true, "Apply future recommended link and image settings automatically", "リンクと外部画像の今後の推奨設定を自動的に適用")

# GWS.GMAIL.7.1-7.5, 7.7: spoofing and authentication.
results contains setting_verdict("GWS.GMAIL.7.1v1", "gmail_spoofing_and_authentication", "detectDomainNameSpoofing", true, "Protection against domain spoofing based on similar domain names", "類似ドメイン名によるドメインのなりすましに対する保護")

results contains setting_verdict("GWS.GMAIL.7.2v1", "gmail_spoofing_and_authentication", "detectEmployeeNameSpoofing", true, "Protection against spoofing of employee names", "従業員名のなりすましに対する保護")

results contains setting_verdict("GWS.GMAIL.7.3v1", "gmail_spoofing_and_authentication", "detectDomainSpoofingFromUnauthenticatedSenders", true, "Protection against inbound emails spoofing your domain", "自社ドメインを装った受信メールに対する保護")

results contains setting_verdict("GWS.GMAIL.7.4v1", "gmail_spoofing_and_authentication", "detectUnauthenticatedEmails", true, "Protection against any unauthenticated emails", "すべての未認証メールに対する保護")

results contains setting_verdict("GWS.GMAIL.7.5v1", "gmail_spoofing_and_authentication", "detectGroupsSpoofing", true, "Protection of groups from inbound emails spoofing your domain", "自社ドメインを装った受信メールからのグループの保護")

results contains setting_verdict("GWS.GMAIL.7.7v1", "gmail_spoofing_and_authentication", "applyFutureSettingsAutomatically", true, "Apply future recommended spoofing and authentication settings automatically", "なりすましと認証の今後の推奨設定を自動的に適用")

# GWS.GMAIL.8.1, 10.1, 11.1, 12.1, 15.1, 17.1.
results contains setting_verdict("GWS.GMAIL.8.1v1", "gmail_user_email_uploads", "enableMailAndContactsImport", false, "User email uploads (import of mail and contacts)", "ユーザーのメールのアップロード（メールと連絡先のインポート）")

results contains setting_verdict("GWS.GMAIL.10.1v1", "gmail_workspace_sync_for_outlook", "enableGoogleWorkspaceSyncForMicrosoftOutlook", false, "Google Workspace Sync for Microsoft Outlook", "Google Workspace Sync for Microsoft Outlook")

results contains setting_verdict("GWS.GMAIL.11.1v1", "gmail_auto_forwarding", "enableAutoForwarding", false, "Automatic forwarding", "自動転送")

results contains setting_verdict("GWS.GMAIL.12.1v1", "gmail_per_user_outbound_gateway", "allowUsersToUseExternalSmtpServers", false, "Per-user outbound gateways (external SMTP servers)", "ユーザーごとの送信ゲートウェイ（外部 SMTP サーバー）")

results contains setting_verdict("GWS.GMAIL.15.1v1", "gmail_enhanced_pre_delivery_message_scanning", "enableImprovedSuspiciousContentDetection", true, "Enhanced pre-delivery message scanning", "配信前のメールスキャンの強化")

results contains setting_verdict("GWS.GMAIL.17.1v1", "gmail_comprehensive_mail_storage", "enabled", true, "Comprehensive mail storage", "包括的なメールの保存")

# ---------------------------------------------------------------------------
# GWS.GMAIL.5.5 and 7.6: messages flagged by the protections leave the inbox (spam or quarantine).

removed_from_inbox := {"SPAM_FOLDER", "QUARANTINE"}

consequence_findings(section, kinds) := {ou: sort(bad) |
	some ou, s in gmail_pols
	sec := s[section]
	is_object(sec)
	bad := [sprintf("%s=%v", [kind, action]) |
		some kind, field in kinds
		action := sec[field]
		not action in removed_from_inbox
	]
	count(bad) > 0
}

consequence_checked(section, kinds) := {ou |
	some ou, s in gmail_pols
	sec := s[section]
	is_object(sec)
	some _, field in kinds
	sec[field]
}

consequence_verdict(id, section, kinds, what_en, what_ja) := lib.verdict_with(
	id, count(found) == 0,
	consequence_en(found, checked, what_en),
	consequence_ja(found, checked, what_ja),
	sort(object.keys(found)),
) if {
	found := consequence_findings(section, kinds)
	checked := consequence_checked(section, kinds)
}

finding_list(found, "en") := concat("; ", sort([sprintf("%s: %s", [ou, concat(", ", xs)]) | some ou, xs in found]))

finding_list(found, "ja") := concat("。", sort([sprintf("%s: %s", [ou, concat("、", xs)]) | some ou, xs in found]))

consequence_en(found, _, what) := sprintf("%s are kept in the inbox (action other than spam or quarantine) in: %s.", [what, finding_list(found, "en")]) if count(found) > 0

consequence_en(found, checked, what) := sprintf("%s go to spam or quarantine in every OU or group with Gmail on that sets the action: %s.", [what, names(checked, "en")]) if {
	count(found) == 0
	count(checked) > 0
}

consequence_en(found, checked, what) := sprintf("None of the %d OU(s)/group(s) with Gmail on reports the action for %s, so no non-compliant value was found; confirm it in the Admin console.", [count(gmail_ous), lower(what)]) if {
	count(found) == 0
	count(checked) == 0
}

consequence_ja(found, _, what) := sprintf("%sが受信トレイに残る設定（迷惑メールまたは検疫以外の処理）になっています: %s。", [what, finding_list(found, "ja")]) if count(found) > 0

consequence_ja(found, checked, what) := sprintf("処理を設定している Gmail 有効な組織部門／グループのすべてで、%sは迷惑メールまたは検疫に移動されます: %s。", [what, names(checked, "ja")]) if {
	count(found) == 0
	count(checked) > 0
}

consequence_ja(found, checked, what) := sprintf("Gmail が有効な %d 個の組織部門／グループのいずれにも%sの処理の設定値がないため、非準拠の値は見つかりませんでした。管理コンソールで確認してください。", [count(gmail_ous), what]) if {
	count(found) == 0
	count(checked) == 0
}

attachment_kinds := {
	"anomalous type": "anomalousAttachmentProtectionConsequence",
	"encrypted": "encryptedAttachmentProtectionConsequence",
	"scripts": "attachmentWithScriptsProtectionConsequence",
}

spoofing_kinds := {
	"domain": "domainSpoofingConsequence",
	"domain name": "domainNameSpoofingConsequence",
	"employee name": "employeeNameSpoofingConsequence",
	"groups": "groupsSpoofingConsequence",
	"unauthenticated": "unauthenticatedEmailConsequence",
}

results contains consequence_verdict("GWS.GMAIL.5.5v1", "gmail_email_attachment_safety", attachment_kinds, "Messages flagged by the attachment protections", "添付ファイルの保護で検出されたメール")

results contains consequence_verdict("GWS.GMAIL.7.6v1", "gmail_spoofing_and_authentication", spoofing_kinds, "Messages flagged by the spoofing and authentication protections", "なりすましと認証の保護で検出されたメール")

# ---------------------------------------------------------------------------
# GWS.GMAIL.9.1: POP and IMAP off. IMAP may stay on where an exclusion is configured
# (imap_exclusions, or scuba_config.imapexclusions: entries {ou, group, justification}).

imap_on := {ou | some ou, s in gmail_pols; s.gmail_imap_access.enableImapAccess == true}

pop_on := {ou | some ou, s in gmail_pols; s.gmail_pop_access.enablePopAccess == true}

imap_exclusion_entries contains e if {
	is_array(input.imap_exclusions)
	some e in input.imap_exclusions
	is_object(e)
}

imap_exclusion_entries contains e if {
	is_object(input.scuba_config)
	is_array(input.scuba_config.imapexclusions)
	some e in input.scuba_config.imapexclusions
	is_object(e)
}

text_field(e, k) := e[k] if {
	is_string(e[k])
} else := ""

# An exclusion names an OU, a group (any OU), or a group within an OU.
exclusion_matches(e, key) if {
	text_field(e, "ou") != ""
	text_field(e, "group") == ""
	key == text_field(e, "ou")
}

exclusion_matches(e, key) if {
	text_field(e, "ou") == ""
	text_field(e, "group") != ""
	endswith(key, sprintf(" (group %s)", [text_field(e, "group")]))
}

exclusion_matches(e, key) if {
	text_field(e, "ou") != ""
	text_field(e, "group") != ""
	key == sprintf("%s (group %s)", [text_field(e, "ou"), text_field(e, "group")])
}

imap_excluded := {ou | some ou in imap_on; some e in imap_exclusion_entries; exclusion_matches(e, ou)}

imap_bad := imap_on - imap_excluded

pop_imap_bad := imap_bad | pop_on

protocols(ou, "en") := concat(" and ", [p | some p, on in {"IMAP": ou in imap_bad, "POP": ou in pop_on}; on])

protocols(ou, "ja") := concat(" と ", [p | some p, on in {"IMAP": ou in imap_bad, "POP": ou in pop_on}; on])

justification(ou) := concat(" / ", [text_field(e, "justification") | some e in imap_exclusion_entries; exclusion_matches(e, ou)])

pop_imap_list(lang) := concat(sep(lang), sort([sprintf(fmt(lang), [ou, protocols(ou, lang)]) | some ou in pop_imap_bad]))

excluded_note("en") := "" if count(imap_excluded) == 0

excluded_note("ja") := "" if count(imap_excluded) == 0

excluded_note("en") := sprintf(" IMAP is on but excluded by configuration in: %s.", [concat(", ", sort([sprintf("%s (%s)", [ou, justification(ou)]) | some ou in imap_excluded]))]) if count(imap_excluded) > 0

excluded_note("ja") := sprintf(" 設定の除外により IMAP の有効化を許容: %s。", [concat("、", sort([sprintf("%s（%s）", [ou, justification(ou)]) | some ou in imap_excluded]))]) if count(imap_excluded) > 0

pop_imap_en := sprintf("POP or IMAP access is on in: %s.%s", [pop_imap_list("en"), excluded_note("en")]) if {
	count(pop_imap_bad) > 0
} else := sprintf("None of the %d OU(s)/group(s) with Gmail on turns on POP, or IMAP without an exclusion.%s", [count(gmail_ous), excluded_note("en")])

pop_imap_ja := sprintf("POP または IMAP アクセスが有効です: %s。%s", [pop_imap_list("ja"), excluded_note("ja")]) if {
	count(pop_imap_bad) > 0
} else := sprintf("Gmail が有効な %d 個の組織部門／グループで、POP と除外対象外の IMAP は有効になっていません。%s", [count(gmail_ous), excluded_note("ja")])

results contains lib.verdict_with("GWS.GMAIL.9.1v1", count(pop_imap_bad) == 0, pop_imap_en, pop_imap_ja, sort([ou | some ou in pop_imap_bad]))

# ---------------------------------------------------------------------------
# GWS.GMAIL.13.1 and 16.1: log-based settings. Without an event for the top-level OU the
# Google default applies: the external reply warning is on, the security sandbox is off.

warning_setting := "OutOfDomainWarningProto disable_untrusted_recipient_warning"

sandbox_setting := "AttachmentDeepScanningSettingsProto deep_scanning_enabled"

# Every setting read from the admin log (see log_events in common.rego).
log_settings := {warning_setting, sandbox_setting}

top_events(setting) := ou_events(setting, top_ou) if {
	top_ou
} else := set()

# OUs whose latest event turns the external reply warning off (disable_... is not "false").
warning_off_ous := {ou |
	some ou in setting_ous(warning_setting)
	some e in last_events(ou_events(warning_setting, ou))
	not e.new_value in {"false", "DELETE_APPLICATION_SETTING"}
}

sandbox_off_ous := {ou |
	some ou in setting_ous(sandbox_setting)
	some e in last_events(ou_events(sandbox_setting, ou))
	e.new_value == "false"
}

top_label(lang) := sprintf("%v", [top_ou]) if {
	top_ou
} else := {"en": "(not reported)", "ja": "（不明）"}[lang]

results contains lib.verdict(
	"GWS.GMAIL.13.1v1", true,
	sprintf("No admin-log event sets the external recipient warning for the top-level OU %s; Google's default (warning on) applies. Confirm it in the Admin console.", [top_label("en")]),
	sprintf("最上位の組織部門 %s で外部の受信者に関する警告を設定した管理ログのイベントがないため、Google の既定値（警告オン）が適用されます。管理コンソールで確認してください。", [top_label("ja")]),
) if count(top_events(warning_setting)) == 0

results contains lib.verdict_with(
	"GWS.GMAIL.13.1v1", count(warning_off_ous) == 0,
	warning_en, warning_ja, sort([ou | some ou in warning_off_ous]),
) if count(top_events(warning_setting)) > 0

# "OU (time of the latest event)" for the OUs of a set.
with_time(ous, setting) := {sprintf("%s (%s)", [ou, max({e.time | some e in last_events(ou_events(setting, ou))})]) | some ou in ous}

warning_en := sprintf("The latest admin-log event turns the external recipient warning off in: %s.", [names(with_time(warning_off_ous, warning_setting), "en")]) if {
	count(warning_off_ous) > 0
} else := sprintf("The latest admin-log events keep the external recipient warning on for the top-level OU %s and every OU that changed it.", [top_label("en")])

warning_ja := sprintf("最新の管理ログのイベントで外部の受信者に関する警告がオフになっている組織部門: %s。", [names(with_time(warning_off_ous, warning_setting), "ja")]) if {
	count(warning_off_ous) > 0
} else := sprintf("最新の管理ログのイベントでは、最上位の組織部門 %s と設定を変更したすべての組織部門で外部の受信者に関する警告がオンです。", [top_label("ja")])

results contains lib.verdict(
	"GWS.GMAIL.16.1v1", false,
	sprintf("No admin-log event turns on the security sandbox for the top-level OU %s; Google's default (off) applies. Turn it on, or confirm it in the Admin console if it was set before the logs' retention period.", [top_label("en")]),
	sprintf("最上位の組織部門 %s でセキュリティ サンドボックスを有効にした管理ログのイベントがないため、Google の既定値（オフ）が適用されます。有効にするか、ログの保存期間より前に設定した場合は管理コンソールで確認してください。", [top_label("ja")]),
) if count(top_events(sandbox_setting)) == 0

results contains lib.verdict_with(
	"GWS.GMAIL.16.1v1", count(sandbox_off_ous) == 0,
	sandbox_en, sandbox_ja, sort([ou | some ou in sandbox_off_ous]),
) if count(top_events(sandbox_setting)) > 0

sandbox_en := sprintf("The latest admin-log event turns the security sandbox off in: %s.", [names(with_time(sandbox_off_ous, sandbox_setting), "en")]) if {
	count(sandbox_off_ous) > 0
} else := sprintf("The latest admin-log events keep the security sandbox on for the top-level OU %s and every OU that changed it.", [top_label("en")])

sandbox_ja := sprintf("最新の管理ログのイベントでセキュリティ サンドボックスがオフになっている組織部門: %s。", [names(with_time(sandbox_off_ous, sandbox_setting), "ja")]) if {
	count(sandbox_off_ous) > 0
} else := sprintf("最新の管理ログのイベントでは、最上位の組織部門 %s と設定を変更したすべての組織部門でセキュリティ サンドボックスがオンです。", [top_label("ja")])

# ---------------------------------------------------------------------------
# GWS.GMAIL.14.1: no email (IP) allowlist for the top-level OU.

top_allowlist := policies[top_ou].gmail_email_spam_filter_ip_allowlist.allowedIpAddresses

allowlist_entries := [sprintf("%v", [x]) | some x in top_allowlist] if {
	is_array(top_allowlist)
} else := [sprintf("%v", [single])] if {
	single := top_allowlist
	not is_array(single)
}

allowlist_met if not gmail_on(top_ou)

allowlist_met if {
	gmail_on(top_ou)
	count(allowlist_entries) == 0
}

results contains lib.verdict_with(
	"GWS.GMAIL.14.1v1", allowlist_met,
	sprintf("The email allowlist of the top-level OU %s lists %d IP address range(s): %s (Gmail is %s in that OU).", [top_label("en"), count(allowlist_entries), names(allowlist_entries, "en"), gmail_on_text("en")]),
	sprintf("最上位の組織部門 %s のメールの許可リストに登録された IP アドレス範囲は %d 件です: %s（この組織部門の Gmail: %s）。", [top_label("ja"), count(allowlist_entries), names(allowlist_entries, "ja"), gmail_on_text("ja")]),
	[x | allowlist_met == false; some x in allowlist_entries],
) if allowlist_entries

results contains lib.verdict(
	"GWS.GMAIL.14.1v1", false,
	sprintf("The email allowlist setting of the top-level OU %s was not reported, so it could not be checked.", [top_label("en")]),
	sprintf("最上位の組織部門 %s のメールの許可リストの設定値が取得できなかったため、確認できませんでした。", [top_label("ja")]),
) if not allowlist_entries

default allowlist_met := false

gmail_on_text("en") := "on" if gmail_on(top_ou)

gmail_on_text("ja") := "有効" if gmail_on(top_ou)

gmail_on_text("en") := "off" if not gmail_on(top_ou)

gmail_on_text("ja") := "無効" if not gmail_on(top_ou)

# ---------------------------------------------------------------------------
# GWS.GMAIL.18.1-18.3: spam filter bypass lists. The provider adds senderDomainsFound /
# warningDomainsFound when a bypass list contains whole domains.

spam_lists := {ou: sec |
	some ou, s in gmail_pols
	sec := s.gmail_spam_override_lists
	is_object(sec)
}

domains_found(field) := {ou: sprintf("%v", [x]) | some ou, sec in spam_lists; x := sec[field]}

found_list(found, "en") := concat("; ", sort([sprintf("%s: %s", [ou, x]) | some ou, x in found]))

found_list(found, "ja") := concat("。", sort([sprintf("%s: %s", [ou, x]) | some ou, x in found]))

bypass_verdict(id, field, what_en, what_ja) := lib.verdict_with(
	id, count(found) == 0,
	bypass_en(found, what_en), bypass_ja(found, what_ja),
	sort(object.keys(found)),
) if {
	found := domains_found(field)
}

bypass_en(found, what) := sprintf("Whole domains are on lists that %s (rule: list: domains) in: %s.", [what, found_list(found, "en")]) if {
	count(found) > 0
} else := sprintf("No spam rule in the %d OU(s)/group(s) with Gmail on puts a whole domain on a list that %s.", [count(gmail_ous), what])

bypass_ja(found, what) := sprintf("ドメイン全体が%sリストに登録されています（ルール: リスト: ドメイン）: %s。", [what, found_list(found, "ja")]) if {
	count(found) > 0
} else := sprintf("Gmail が有効な %d 個の組織部門／グループの迷惑メールのルールで、ドメイン全体を%sリストに登録しているものはありません。", [count(gmail_ous), what])

results contains bypass_verdict("GWS.GMAIL.18.1v1", "senderDomainsFound", "bypasses spam filters", "迷惑メールフィルタをバイパスする")

results contains bypass_verdict("GWS.GMAIL.18.2v1", "warningDomainsFound", "bypasses spam filters and hides warnings", "迷惑メールフィルタをバイパスして警告を非表示にする")

override_rules(sec) := [r | some r in sec.spamOverride; is_object(r)] if {
	is_array(sec.spamOverride)
} else := [r | some r in sec.spamOverride; is_object(r)] if {
	is_object(sec.spamOverride)
} else := []

bypass_all := {ou: sort(ds) |
	some ou, sec in spam_lists
	ds := [sprintf("'%v'", [object.get(r, "description", "")]) |
		some r in override_rules(sec)
		object.get(r, "hideWarningBannerForAll", false) != false
	]
	count(ds) > 0
}

bypass_all_en := sprintf("Spam rules bypass spam filters and hide warnings for all messages from all senders in: %s.", [concat("; ", sort([sprintf("%s: %s", [ou, concat(", ", ds)]) | some ou, ds in bypass_all]))]) if {
	count(bypass_all) > 0
} else := sprintf("No spam rule in the %d OU(s)/group(s) with Gmail on bypasses filters and hides warnings for all senders.", [count(gmail_ous)])

bypass_all_ja := sprintf("すべての送信者からのメールで迷惑メールフィルタをバイパスし警告を非表示にするルールがあります: %s。", [concat("。", sort([sprintf("%s: %s", [ou, concat("、", ds)]) | some ou, ds in bypass_all]))]) if {
	count(bypass_all) > 0
} else := sprintf("Gmail が有効な %d 個の組織部門／グループに、すべての送信者について迷惑メールフィルタをバイパスし警告を非表示にするルールはありません。", [count(gmail_ous)])

results contains lib.verdict_with("GWS.GMAIL.18.3v1", count(bypass_all) == 0, bypass_all_en, bypass_all_ja, sort(object.keys(bypass_all)))
