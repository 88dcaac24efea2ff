# Gmail DNS policies: DKIM (GWS.GMAIL.2.1) and SPF (3.1) for the tenant's domains, and
# DMARC (4.1-4.4) for its domains and alias domains.
package mamori.gws.gmail

import data.mamori.gws.lib
import rego.v1

domain_verdict(id, bad, checked, what_en, what_ja, extra_en, extra_ja) := lib.verdict_with(
	id, count(bad) == 0,
	domain_text_en(bad, checked, what_en, extra_en),
	domain_text_ja(bad, checked, what_ja, extra_ja),
	sort([d | some d in bad]),
)

domain_text_en(bad, checked, what, extra) := sprintf("%d of %d domain(s) lack %s: %s.%s", [count(bad), count(checked), what, names(bad, "en"), extra]) if count(bad) > 0

domain_text_en(bad, checked, what, extra) := sprintf("All %d domain(s) have %s: %s.%s", [count(checked), what, names(checked, "en"), extra]) if {
	count(bad) == 0
	count(checked) > 0
}

domain_text_en(bad, checked, what, extra) := sprintf("No domain was reported, so no domain lacking %s was found.%s", [what, extra]) if {
	count(bad) == 0
	count(checked) == 0
}

domain_text_ja(bad, checked, what, extra) := sprintf("%d 個中 %d 個のドメインに「%s」がありません: %s。%s", [count(checked), count(bad), what, names(bad, "ja"), extra]) if count(bad) > 0

domain_text_ja(bad, checked, what, extra) := sprintf("%d 個のドメインすべてに「%s」があります: %s。%s", [count(checked), what, names(checked, "ja"), extra]) if {
	count(bad) == 0
	count(checked) > 0
}

domain_text_ja(bad, checked, what, extra) := sprintf("ドメインが報告されていないため、「%s」のないドメインは見つかりませんでした。%s", [what, extra]) if {
	count(bad) == 0
	count(checked) == 0
}

# ---------------------------------------------------------------------------
# GWS.GMAIL.2.1: a DKIM key (v=DKIM1;) is published for every domain.

dkim_domains := {r.domain |
	some r in dns_records("dkim_records")
	some x in rdata_of(r)
	startswith(x, "v=DKIM1;")
}

results contains domain_verdict("GWS.GMAIL.2.1v1", base_domains - dkim_domains, base_domains, "a published DKIM key", "公開された DKIM キー", "", "")

# ---------------------------------------------------------------------------
# GWS.GMAIL.3.1: exactly one SPF record per domain, failing unlisted senders (-all) or
# redirecting to another policy.

spf_answers(r) := [x | some x in rdata_of(r); startswith(x, "v=spf1")]

spf_domains := {r.domain |
	some r in dns_records("spf_records")
	answers := spf_answers(r)
	count(answers) == 1
	startswith(answers[0], "v=spf1 ")
	spf_fails_others(answers[0])
}

spf_fails_others(x) if endswith(x, "-all")

spf_fails_others(x) if contains(x, "redirect")

spf_multiple := {r.domain | some r in dns_records("spf_records"); count(spf_answers(r)) > 1}

spf_note("en") := sprintf(" Domains with more than one SPF record: %s.", [names(spf_multiple, "en")]) if count(spf_multiple) > 0

spf_note("ja") := sprintf("複数の SPF レコードがあるドメイン: %s。", [names(spf_multiple, "ja")]) if count(spf_multiple) > 0

spf_note(_) := "" if count(spf_multiple) == 0

results contains domain_verdict("GWS.GMAIL.3.1v1", base_domains - spf_domains, base_domains, "a single SPF record ending in -all (or a redirect)", "末尾が -all の（またはリダイレクトする）単一の SPF レコード", spf_note("en"), spf_note("ja")) if is_array(input.spf_records)

# Without any SPF lookup result the reference finds no failing domain; the missing
# spf_records section makes the control an error, so this is never shown as a pass.
results contains lib.verdict(
	"GWS.GMAIL.3.1v1", true,
	sprintf("The SPF records of the domains (%s) were not collected, so none could be checked.", [names(base_domains, "en")]),
	sprintf("ドメイン（%s）の SPF レコードが収集されていないため、確認できませんでした。", [names(base_domains, "ja")]),
) if not is_array(input.spf_records)

# ---------------------------------------------------------------------------
# GWS.GMAIL.4.1-4.4: DMARC for every domain and alias domain.

dmarc_note("en") := sprintf(" Domains with more than one DMARC record (invalid): %s.", [names(dmarc_multiple, "en")]) if count(dmarc_multiple) > 0

dmarc_note("ja") := sprintf("複数の DMARC レコードがあるドメイン（無効）: %s。", [names(dmarc_multiple, "ja")]) if count(dmarc_multiple) > 0

dmarc_note(_) := "" if count(dmarc_multiple) == 0

dmarc_domains := {d | some d, _ in dmarc_record}

results contains domain_verdict("GWS.GMAIL.4.1v1", all_domains - dmarc_domains, all_domains, "a valid DMARC record", "有効な DMARC レコード", dmarc_note("en"), dmarc_note("ja"))

dmarc_reject := {d |
	some d, rec in dmarc_record
	[lower(v) | some v in dmarc_tag_values(rec, "p")] == ["reject"]
}

results contains domain_verdict("GWS.GMAIL.4.2v1", all_domains - dmarc_reject, all_domains, "a DMARC record with p=reject", "p=reject の DMARC レコード", dmarc_note("en"), dmarc_note("ja"))

cisa_rua := "mailto:reports@dmarc.cyber.dhs.gov"

dmarc_cisa := {d |
	some d, rec in dmarc_record
	contains(lower(rec), cisa_rua)
}

results contains domain_verdict("GWS.GMAIL.4.3v1", all_domains - dmarc_cisa, all_domains, "reports@dmarc.cyber.dhs.gov as a DMARC aggregate report recipient", "DMARC 集約レポートの送信先 reports@dmarc.cyber.dhs.gov", dmarc_note("en"), dmarc_note("ja"))

# An agency contact: a single rua tag with at least two mailto addresses (the agency's besides
# CISA's) and a single ruf tag with mailto addresses only.
all_mailto(us) if {
	count(us) > 0
	every u in us {
		startswith(lower(u), "mailto:")
	}
}

dmarc_agency := {d |
	some d, rec in dmarc_record
	rua := dmarc_tag_values(rec, "rua")
	ruf := dmarc_tag_values(rec, "ruf")
	count(rua) == 1
	count(ruf) == 1
	all_mailto(uris(rua[0]))
	all_mailto(uris(ruf[0]))
	count({lower(u) | some u in uris(rua[0])}) >= 2
}

results contains domain_verdict("GWS.GMAIL.4.4v1", all_domains - dmarc_agency, all_domains, "an agency contact for DMARC aggregate (rua) and failure (ruf) reports", "DMARC の集約レポート（rua）と失敗レポート（ruf）の組織の連絡先", dmarc_note("en"), dmarc_note("ja"))
