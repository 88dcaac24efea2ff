# Exchange Online: automatic forwarding, SPF, DKIM, DMARC, SMTP AUTH, calendar and contact
# sharing, external sender warnings and mailbox auditing, read from the EXO sections of the
# ScubaGear export (Get-RemoteDomain, Get-Scuba*Record, Get-TransportConfig, ...).
package mamori.m365.exo

import data.mamori.m365.lib
import rego.v1

# ---------------------------------------------------------------------------------------------
# Input helpers: never iterate anything that is not an array or object.
# ---------------------------------------------------------------------------------------------

section(name) := object.get(input, name, null) if is_object(input)

section(_) := null if not is_object(input)

arr(x) := x if is_array(x)

arr(x) := [] if not is_array(x)

obj(x) := x if is_object(x)

# DNS answer sections: a tenant with one domain is exported as a single object (PowerShell
# unwraps one-item lists); it is read as a list of one. ScubaGear 1.8 reads no domain from that
# shape and so passes the DMARC checks unjudged; see docs/CONFORMANCE.md.
dns_list(x) := [x] if is_object(x)

dns_list(x) := x if is_array(x)

dns_list(x) := [] if {
	not is_object(x)
	not is_array(x)
}

obj(x) := {} if not is_object(x)

# Objects of an array section, in order.
items(name) := [x | some x in arr(section(name)); is_object(x)]

str(x) := x if is_string(x)

str(x) := sprintf("%v", [x]) if {
	not is_string(x)
	x != null
}

str(null) := "(unnamed)"

# Display name of a policy-like object: Name, then Identity.
display_name(o) := str(o.Name) if is_string(o.Name)

display_name(o) := str(o.Identity) if {
	not is_string(o.Name)
	is_string(o.Identity)
}

display_name(o) := "(unnamed)" if {
	not is_string(o.Name)
	not is_string(o.Identity)
}

# A list in both languages, or a placeholder when it is empty.
list_en(xs) := lib.names_en(xs) if count(xs) > 0

list_en(xs) := "none" if count(xs) == 0

list_ja(xs) := lib.names_ja(xs) if count(xs) > 0

list_ja(xs) := "なし" if count(xs) == 0

# ---------------------------------------------------------------------------------------------
# MS.EXO.1.1v2: automatic forwarding only to approved remote domains (never the "*" default).
# ---------------------------------------------------------------------------------------------

exo_config := obj(object.get(obj(section("scuba_config")), "Exo", {}))

allowed_forwarding := {lower(d) |
	some d in arr(object.get(obj(object.get(exo_config, "MS.EXO.1.1v2", {})), "AllowedForwardingDomains", []))
	is_string(d)
	d != "*"
}

forwarding_domains := {str(object.get(d, "DomainName", null)) |
	some d in items("remote_domains")
	d.AutoForwardEnabled == true
}

unapproved_forwarding := {n | some n in forwarding_domains; not lower(n) in allowed_forwarding}

approved_forwarding := forwarding_domains - unapproved_forwarding

default star_note_en := ""

default star_note_ja := ""

star_note_en := " \"*\" is the Default remote domain, i.e. every external domain, and cannot be approved." if "*" in unapproved_forwarding

star_note_ja := "「*」は既定のリモート ドメイン（すべての外部ドメイン）であり、承認済みドメインにはできません。" if "*" in unapproved_forwarding

remote_domain_names := {str(object.get(d, "DomainName", null)) | some d in items("remote_domains")}

results contains lib.verdict_with(
	"MS.EXO.1.1v2", true,
	sprintf("No remote domain allows automatic forwarding (remote domains checked: %s).", [list_en(remote_domain_names)]),
	sprintf("自動転送を許可しているリモート ドメインはありません（確認したリモート ドメイン: %s）。", [list_ja(remote_domain_names)]),
	[],
) if count(forwarding_domains) == 0

results contains lib.verdict_with(
	"MS.EXO.1.1v2", true,
	sprintf("Automatic forwarding is enabled only for approved remote domains: %s.", [lib.names_en(approved_forwarding)]),
	sprintf("自動転送は承認済みのリモート ドメインに対してのみ有効です: %s。", [lib.names_ja(approved_forwarding)]),
	[],
) if {
	count(forwarding_domains) > 0
	count(unapproved_forwarding) == 0
}

results contains lib.verdict_with(
	"MS.EXO.1.1v2", false,
	sprintf("Automatic forwarding is enabled for %d remote domain(s) that are not approved: %s.%s", [count(unapproved_forwarding), lib.names_en(unapproved_forwarding), star_note_en]),
	sprintf("承認されていない %d 件のリモート ドメインで自動転送が有効です: %s。%s", [count(unapproved_forwarding), lib.names_ja(unapproved_forwarding), star_note_ja]),
	sort(unapproved_forwarding),
) if count(unapproved_forwarding) > 0

# ---------------------------------------------------------------------------------------------
# MS.EXO.2.2v3: an SPF policy that fails unapproved senders for every domain.
# ---------------------------------------------------------------------------------------------

spf_entries := items("spf_records")

# A policy that ends in -all / ~all, or redirects to one (used when the export has no verdict).
spf_text_ok(rdata) if {
	some r in arr(rdata)
	is_string(r)
	startswith(lower(r), "v=spf1 ")
	regex.match(`(^|[[:space:]])[-~]all([[:space:]]|$)|(^|[[:space:]])redirect=`, lower(r))
}

spf_ok(e) if e.compliant == true

spf_ok(e) if {
	not is_boolean(e.compliant)
	spf_text_ok(e.rdata)
}

spf_message(e) := sprintf(" (%s)", [e.message]) if is_string(e.message)

spf_message(e) := "" if not is_string(e.message)

spf_name(e) := str(object.get(e, "domain", null))

spf_bad := {spf_name(e) | some e in spf_entries; not spf_ok(e)}

spf_bad_text := {sprintf("%s%s", [spf_name(e), spf_message(e)]) | some e in spf_entries; not spf_ok(e)}

spf_domains := {spf_name(e) | some e in spf_entries}

results contains lib.verdict_with(
	"MS.EXO.2.2v3", true,
	sprintf("Every domain checked publishes an SPF policy that fails unapproved senders (%d domain(s): %s).", [count(spf_domains), list_en(spf_domains)]),
	sprintf("確認したすべてのドメインで、未承認の送信者を失敗させる SPF ポリシーが公開されています（%d 件: %s）。", [count(spf_domains), list_ja(spf_domains)]),
	[],
) if count(spf_bad) == 0

results contains lib.verdict_with(
	"MS.EXO.2.2v3", false,
	sprintf("%d of %d domain(s) have no SPF policy that fails unapproved senders: %s.", [count(spf_bad), count(spf_domains), concat("; ", sort(spf_bad_text))]),
	sprintf("%d 件（全 %d 件中）のドメインに、未承認の送信者を失敗させる SPF ポリシーがありません: %s。", [count(spf_bad), count(spf_domains), concat("、", sort(spf_bad_text))]),
	sort(spf_bad),
) if count(spf_bad) > 0

# ---------------------------------------------------------------------------------------------
# MS.EXO.3.1v1: DKIM signing enabled, with a published key, for every domain.
# The DNS answers are a per-domain list (or one object for one domain); *.mail.onmicrosoft.com
# routing domains have no published selector and need only signing enabled.
# ---------------------------------------------------------------------------------------------

dkim_records := [r | some r in dns_list(section("dkim_records")); is_object(r)]

# Lower-cased domains with signing enabled, and with a valid published key, computed once
# (a per-domain scan of dkim_config and dkim_records was quadratic in the number of domains).
dkim_enabled_domains := {lower(str(c.Domain)) |
	some c in items("dkim_config")
	c.Enabled == true
}

dkim_enabled(d) if lower(d) in dkim_enabled_domains

# [[:space:]] of the regex syntax; the DKIM and DMARC prefixes are matched with string
# functions, not regex.match (which compiles its pattern on every call, ~50 µs).
ascii_space := " \t\n\u000b\f\r"

dkim_published(d) if endswith(lower(d), ".mail.onmicrosoft.com")

dkim_key_domains := {lower(str(r.domain)) |
	some r in dkim_records
	some a in arr(r.rdata)
	is_string(a)

	# `^[[:space:]]*v=DKIM1[[:space:]]*;`
	t := trim_left(a, ascii_space)
	startswith(t, "v=DKIM1")
	startswith(trim_left(trim_prefix(t, "v=DKIM1"), ascii_space), ";")
}

dkim_published(d) if lower(d) in dkim_key_domains

dkim_problem_en(d) := "signing not enabled" if not dkim_enabled(d)

dkim_problem_en(d) := "no DKIM key found in DNS" if {
	dkim_enabled(d)
	not dkim_published(d)
}

dkim_problem_ja(d) := "署名が無効" if not dkim_enabled(d)

dkim_problem_ja(d) := "DNS に DKIM キーがない" if {
	dkim_enabled(d)
	not dkim_published(d)
}

dkim_missing := {d |
	some d in spf_domains
	not dkim_ok(d)
}

dkim_ok(d) if {
	dkim_enabled(d)
	dkim_published(d)
}


# The domains judged are those of spf_records (one answer per accepted domain), as in the
# reference. A missing spf_records leaves no domain to judge: the verdict is then the reference's
# (met), and the control is an error through its declared sections, never a pass; likewise a
# missing dkim_config or dkim_records fails every domain but is reported as an error.
results contains lib.verdict_with(
	"MS.EXO.3.1v1", true,
	sprintf("DKIM signing is enabled with a published key for every domain (%s).", [list_en(spf_domains)]),
	sprintf("すべてのドメインで DKIM 署名が有効で、キーが公開されています（%s）。", [list_ja(spf_domains)]),
	[],
) if count(dkim_missing) == 0

results contains lib.verdict_with(
	"MS.EXO.3.1v1", false,
	sprintf("%d domain(s) lack DKIM: %s.", [count(dkim_missing), concat("; ", sort([sprintf("%s (%s)", [d, dkim_problem_en(d)]) | some d in dkim_missing]))]),
	sprintf("DKIM が構成されていないドメインが %d 件あります: %s。", [count(dkim_missing), concat("、", sort([sprintf("%s（%s）", [d, dkim_problem_ja(d)]) | some d in dkim_missing]))]),
	sort(dkim_missing),
) if count(dkim_missing) > 0

# ---------------------------------------------------------------------------------------------
# MS.EXO.4.x: DMARC, judged per domain from the DNS answers (a list, or one object for one
# domain).
# ---------------------------------------------------------------------------------------------

dmarc_raw := section("dmarc_records")

dmarc_entries := [r | some r in dns_list(dmarc_raw); is_object(r)]

dmarc_name(r) := str(object.get(r, "domain", null))

dmarc_txt(r) := [s | some s in arr(r.rdata); is_string(s)]

# [tag, value] pairs of one record, tag names in lower case.
dmarc_tags(s) := [[k, v] |
	some part in split(s, ";")
	i := indexof(part, "=")
	i > 0
	k := lower(trim_space(substring(part, 0, i)))
	v := trim_space(substring(part, i + 1, count(part) - i - 1))
]

# The checks one TXT answer passes, with its tags parsed once (they were parsed again for
# every check of every domain).
dmarc_checks(s) := {c |
	tags := dmarc_tags(s)
	some c in ["published", "reject", "cisa", "agency"]
	dmarc_check(c, s, tags)
}

# `^v=DMARC1[[:space:]]*;`
dmarc_check("published", s, _) if {
	startswith(s, "v=DMARC1")
	startswith(trim_left(trim_prefix(s, "v=DMARC1"), ascii_space), ";")
}

dmarc_check("reject", _, tags) if {
	some pair in tags
	pair[0] == "p"
	lower(pair[1]) == "reject"
}

dmarc_check("cisa", _, tags) if {
	some pair in tags
	pair[0] == "rua"
	contains(lower(pair[1]), "mailto:reports@dmarc.cyber.dhs.gov")
}

# An agency contact in rua (besides the CISA address) and one in ruf.
dmarc_check("agency", _, tags) if {
	some pair in tags
	pair[0] == "rua"
	some a in split(pair[1], ",")
	contains(a, "@")
	not contains(lower(a), "reports@dmarc.cyber.dhs.gov")
	some other in tags
	other[0] == "ruf"
	contains(other[1], "@")
}

# Per DNS answer: its domain, the checks any of its TXT strings passes, and those every one
# passes (none when it has no TXT string).
dmarc_rows := [row |
	some r in dmarc_entries
	per_txt := {dmarc_checks(s) | some s in dmarc_txt(r)}
	row := {"name": dmarc_name(r), "any": union(per_txt), "all": every_txt(per_txt)}
]

every_txt(per_txt) := intersection(per_txt) if count(per_txt) > 0

every_txt(per_txt) := set() if count(per_txt) == 0

no_dmarc := {row.name | some row in dmarc_rows; not "published" in row.any}

no_reject := {row.name | some row in dmarc_rows; not "reject" in row.any}

no_cisa := {row.name | some row in dmarc_rows; not "cisa" in row.all}

no_agency := {row.name | some row in dmarc_rows; not "agency" in row.all}

dmarc_domains := {dmarc_name(r) | some r in dmarc_entries}

dmarc_listish if is_array(dmarc_raw)

dmarc_listish if is_object(dmarc_raw)

dmarc_observed := concat(" | ", [sprintf("%v", [t]) | some t in arr(obj(dmarc_raw).rdata)])

dmarc_verdict(id, bad, _, _, _, _) := lib.verdict_with(
	id, false,
	"DMARC records were not collected (dmarc_records is missing).",
	"DMARC レコードが収集されていません（dmarc_records がありません）。",
	[],
) if dmarc_raw == null

dmarc_verdict(id, bad, ok_en, ok_ja, _, _) := lib.verdict_with(
	id, true,
	sprintf("%s (%d domain(s): %s).", [ok_en, count(dmarc_domains), list_en(dmarc_domains)]),
	sprintf("%s（%d 件: %s）。", [ok_ja, count(dmarc_domains), list_ja(dmarc_domains)]),
	[],
) if {
	dmarc_listish
	count(bad) == 0
}

dmarc_verdict(id, bad, _, _, bad_en, bad_ja) := lib.verdict_with(
	id, false,
	sprintf("%d of %d domain(s) %s: %s.", [count(bad), count(dmarc_domains), bad_en, lib.names_en(bad)]),
	sprintf("%d 件（全 %d 件中）のドメインで、%s: %s。", [count(bad), count(dmarc_domains), bad_ja, lib.names_ja(bad)]),
	sort(bad),
) if {
	dmarc_listish
	count(bad) > 0
}

dmarc_verdict(id, _, _, _, _, _) := lib.verdict_with(
	id, false,
	sprintf("dmarc_records has an unexpected shape (%v).", [type_name(dmarc_raw)]),
	sprintf("dmarc_records の形式が想定外です（%v）。", [type_name(dmarc_raw)]),
	[],
) if {
	dmarc_raw != null
	not is_object(dmarc_raw)
	not is_array(dmarc_raw)
}

results contains dmarc_verdict(
	"MS.EXO.4.1v1", no_dmarc,
	"Every domain publishes a DMARC record",
	"すべてのドメインで DMARC レコードが公開されています",
	"publish no valid DMARC record (v=DMARC1;)",
	"有効な DMARC レコード（v=DMARC1;）が公開されていません",
)

results contains dmarc_verdict(
	"MS.EXO.4.2v1", no_reject,
	"Every domain's DMARC policy is p=reject",
	"すべてのドメインの DMARC ポリシーが p=reject です",
	"have no DMARC policy p=reject",
	"DMARC ポリシーが p=reject ではありません",
)

results contains dmarc_verdict(
	"MS.EXO.4.3v1", no_cisa,
	"Every DMARC record sends aggregate reports to reports@dmarc.cyber.dhs.gov",
	"すべての DMARC レコードで集計レポートの送信先に reports@dmarc.cyber.dhs.gov が含まれています",
	"do not list mailto:reports@dmarc.cyber.dhs.gov in the DMARC rua tag",
	"DMARC の rua タグに mailto:reports@dmarc.cyber.dhs.gov が含まれていません",
)

results contains dmarc_verdict(
	"MS.EXO.4.4v1", no_agency,
	"Every DMARC record names an agency contact for aggregate (rua) and failure (ruf) reports",
	"すべての DMARC レコードで集計レポート（rua）と失敗レポート（ruf）に組織の連絡先が指定されています",
	"lack an agency contact in rua (besides reports@dmarc.cyber.dhs.gov) or in ruf",
	"rua（reports@dmarc.cyber.dhs.gov 以外）または ruf に組織の連絡先がありません",
)

# ---------------------------------------------------------------------------------------------
# MS.EXO.5.1v1: SMTP AUTH disabled for the organization.
# ---------------------------------------------------------------------------------------------

smtp_auth_on := {display_name(c) | some c in items("transport_config"); object.get(c, "SmtpClientAuthenticationDisabled", null) != true}

smtp_auth_values := [sprintf("%s: %v", [display_name(c), object.get(c, "SmtpClientAuthenticationDisabled", null)]) | some c in items("transport_config")]

default smtp_auth_off := false

smtp_auth_off if {
	is_array(section("transport_config"))
	count(smtp_auth_on) == 0
}

results contains lib.verdict_with(
	"MS.EXO.5.1v1", smtp_auth_off,
	sprintf("SmtpClientAuthenticationDisabled per transport configuration: %s (true = SMTP AUTH off).", [list_en(smtp_auth_values)]),
	sprintf("トランスポート構成ごとの SmtpClientAuthenticationDisabled: %s（true = SMTP AUTH 無効）。", [list_ja(smtp_auth_values)]),
	sort(smtp_auth_on),
)

# ---------------------------------------------------------------------------------------------
# MS.EXO.6.1v1 / 6.2v1: no sharing policy shares contacts / calendars with all domains ("*").
# ---------------------------------------------------------------------------------------------

all_domain_shares(kind) := {sprintf("%s (%s)", [display_name(p), d]) |
	some p in items("sharing_policy")
	some d in arr(p.Domains)
	is_string(d)
	contains(d, "*")
	contains(d, kind)
}

all_domain_policies(kind) := {display_name(p) |
	some p in items("sharing_policy")
	some d in arr(p.Domains)
	is_string(d)
	contains(d, "*")
	contains(d, kind)
}

sharing_policy_names := {display_name(p) | some p in items("sharing_policy")}

sharing_verdict(id, kind, what_en, what_ja) := lib.verdict_with(
	id, true,
	sprintf("No sharing policy shares %s with all domains (policies checked: %s).", [what_en, list_en(sharing_policy_names)]),
	sprintf("%sをすべてのドメインと共有する共有ポリシーはありません（確認したポリシー: %s）。", [what_ja, list_ja(sharing_policy_names)]),
	[],
) if {
	is_array(section("sharing_policy"))
	count(all_domain_policies(kind)) == 0
}

sharing_verdict(id, _, _, _) := lib.verdict_with(
	id, false,
	"Sharing policies were not collected (sharing_policy is missing or not a list).",
	"共有ポリシーが収集されていません（sharing_policy がないか、一覧形式ではありません）。",
	[],
) if not is_array(section("sharing_policy"))

sharing_verdict(id, kind, what_en, what_ja) := lib.verdict_with(
	id, false,
	sprintf("%d sharing policy(ies) share %s with all domains: %s.", [count(all_domain_policies(kind)), what_en, lib.names_en(all_domain_shares(kind))]),
	sprintf("%d 件の共有ポリシーが%sをすべてのドメインと共有しています: %s。", [count(all_domain_policies(kind)), what_ja, lib.names_ja(all_domain_shares(kind))]),
	sort(all_domain_policies(kind)),
) if {
	is_array(section("sharing_policy"))
	count(all_domain_policies(kind)) > 0
}

results contains sharing_verdict("MS.EXO.6.1v1", "Contacts", "contact folders", "連絡先フォルダー")

results contains sharing_verdict("MS.EXO.6.2v1", "Calendar", "calendar details", "予定表の詳細")

# ---------------------------------------------------------------------------------------------
# MS.EXO.7.1v1: an enabled, enforced transport rule tags the subject of mail from outside.
# ---------------------------------------------------------------------------------------------

rule_name(r, i) := display_name(r) if display_name(r) != "(unnamed)"

rule_name(r, i) := sprintf("(rule #%d)", [i + 1]) if display_name(r) == "(unnamed)"

rules := arr(section("transport_rule"))

tags_subject(r) if {
	is_string(r.PrependSubject)
	count(r.PrependSubject) >= 1
}

warning_rules := {rule_name(r, i) |
	some i, r in rules
	is_object(r)
	r.State == "Enabled"
	r.Mode == "Enforce"
	tags_subject(r)
	r.FromScope == "NotInOrganization"
}

# Rules scoped to external senders that fall short, with the reason.
near_misses := {sprintf("%s (state %v, mode %v, prepend %v)", [rule_name(r, i), object.get(r, "State", null), object.get(r, "Mode", null), object.get(r, "PrependSubject", null)]) |
	some i, r in rules
	is_object(r)
	r.FromScope == "NotInOrganization"
	not rule_name(r, i) in warning_rules
}

results contains lib.verdict_with(
	"MS.EXO.7.1v1", true,
	sprintf("External sender warnings are applied by transport rule(s): %s.", [lib.names_en(warning_rules)]),
	sprintf("外部送信者の警告はトランスポート ルールで適用されています: %s。", [lib.names_ja(warning_rules)]),
	[],
) if count(warning_rules) > 0

results contains lib.verdict_with(
	"MS.EXO.7.1v1", false,
	sprintf("None of the %d transport rule(s) is enabled, enforced and prepends a subject tag to mail from outside the organization. Rules for external senders that fall short: %s.", [count(rules), list_en(near_misses)]),
	sprintf("%d 件のトランスポート ルールのうち、有効かつ強制モードで、組織外からのメールの件名にタグを付けるものはありません。外部送信者向けで条件を満たさないルール: %s。", [count(rules), list_ja(near_misses)]),
	sort(near_misses),
) if count(warning_rules) == 0

# ---------------------------------------------------------------------------------------------
# MS.EXO.13.1v1: mailbox auditing enabled for the organization.
# ---------------------------------------------------------------------------------------------

org_configs := items("org_config")

audit_off := {display_name(o) | some o in org_configs; object.get(o, "AuditDisabled", null) != false}

default audit_on := false

audit_on if {
	count(org_configs) > 0
	count(audit_off) == 0
}

audit_values := [sprintf("%s: %v", [display_name(o), object.get(o, "AuditDisabled", null)]) | some o in org_configs]

results contains lib.verdict_with(
	"MS.EXO.13.1v1", audit_on,
	sprintf("AuditDisabled per organization: %s (false = mailbox auditing on).", [list_en(audit_values)]),
	sprintf("組織ごとの AuditDisabled: %s（false = メールボックス監査が有効）。", [list_ja(audit_values)]),
	sort(audit_off),
)
