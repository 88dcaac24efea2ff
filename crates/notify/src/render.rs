//! Human text (Japanese / English) and the Slack, Teams and e-mail payloads.

use mamori_core::i18n::Catalog;
use mamori_core::{App, Lang, Severity};
use serde_json::{json, Value};

use crate::{EventKind, Notification, NotifiedFinding};

/// At most this many findings are listed; the rest are summarised as
/// "…and N more" / "ほか N 件".
pub(crate) const MAX_LISTED: usize = 20;

/// Per-field cap for user-provided text (titles, resources, names).
const MAX_FIELD_CHARS: usize = 300;
/// Cap for a scan error message.
const MAX_ERROR_CHARS: usize = 1500;
/// Slack limit for a section's text.
const SLACK_SECTION_CHARS: usize = 3000;

/// The language of a notification's text: Japanese when its `lang` starts with `ja`, English
/// otherwise.
pub(crate) fn lang_of(n: &Notification) -> Lang {
    if n.lang.trim().to_ascii_lowercase().starts_with("ja") {
        Lang::Ja
    } else {
        Lang::En
    }
}

/// Notifications' own words, in the one translation scheme (`mamori_core::i18n`).
pub const NOTIFY: Catalog = Catalog(&[
    ("customer", "Customer", "顧客"),
    ("tenant", "Tenant", "テナント"),
    ("service", "Service", "サービス"),
    ("scan", "Scan", "スキャン"),
    ("time", "Time", "日時"),
    ("error", "Error", "エラー"),
    ("findings", "Findings", "検出事項"),
    ("open", "Open in Mamori", "Mamori で開く"),
    (
        "footer",
        "This message was sent automatically by Mamori.",
        "このメールは Mamori から自動送信されています。",
    ),
    ("change_new", "new", "新規"),
    (
        "change_regression",
        "regression: pass → fail",
        "悪化: 合格→不合格",
    ),
    ("scan_failed", "Scan failed", "スキャン失敗"),
    (
        "new_findings_one",
        "{count} new high/critical finding",
        "新しい重大な検出事項 {count} 件",
    ),
    (
        "new_findings_many",
        "{count} new high/critical findings",
        "新しい重大な検出事項 {count} 件",
    ),
    (
        "regressions_one",
        "{count} regression",
        "悪化した項目 {count} 件",
    ),
    (
        "regressions_many",
        "{count} regressions",
        "悪化した項目 {count} 件",
    ),
    (
        "no_new_findings",
        "No new high/critical findings",
        "新しい重大な検出事項はありません",
    ),
    ("list_separator", ", ", "、"),
    (
        "threat_alerts_one",
        "{count} new threat alert",
        "新しい脅威アラート {count} 件",
    ),
    (
        "threat_alerts_many",
        "{count} new threat alerts",
        "新しい脅威アラート {count} 件",
    ),
    (
        "logs_suspended",
        "Log processing suspended (log flood)",
        "ログ処理を停止しました（ログの大量流入）",
    ),
    ("change_alert", "threat alert", "脅威アラート"),
    ("more", "…and {count} more", "ほか {count} 件"),
]);

fn word(lang: Lang, key: &'static str) -> &'static str {
    NOTIFY.get(lang, key)
}

/// The severity a notification's text names (any case; "informational" is info), if any.
fn severity(sev: &str) -> Option<Severity> {
    match sev.trim().to_ascii_lowercase().as_str() {
        "informational" => Some(Severity::Info),
        other => other.parse().ok(),
    }
}

/// [`Severity::rank`], with 5 for text that names no severity (listed last).
fn severity_rank(sev: &str) -> i64 {
    severity(sev).map_or(5, Severity::rank)
}

pub(crate) fn severity_label(sev: &str, lang: Lang) -> String {
    let Some(severity) = severity(sev) else {
        return clip(sev, 20);
    };
    match (severity, lang) {
        // Notifications' word for critical; the reports and pages say 緊急.
        (Severity::Critical, Lang::Ja) => "重大".to_owned(),
        _ => severity.label(lang).to_owned(),
    }
}

fn is_regression(f: &NotifiedFinding) -> bool {
    f.change.trim().eq_ignore_ascii_case("regression")
}

fn change_label(change: &str, lang: Lang) -> String {
    match change.trim().to_ascii_lowercase().as_str() {
        "new" => word(lang, "change_new").to_owned(),
        "regression" => word(lang, "change_regression").to_owned(),
        "alert" => word(lang, "change_alert").to_owned(),
        _ => clip(change, 30),
    }
}

fn app_label(app: &str) -> String {
    match app.trim().to_ascii_lowercase().parse::<App>() {
        Ok(app) => app.label().to_owned(),
        Err(_) => clip(app, 40),
    }
}

/// The one-line summary: "3 new high/critical findings, 1 regression" /
/// "新しい重大な検出事項 3 件、悪化した項目 1 件", or "Scan failed" / "スキャン失敗".
pub(crate) fn headline(n: &Notification) -> String {
    let lang = lang_of(n);
    match n.event {
        EventKind::ScanFailed => word(lang, "scan_failed").to_owned(),
        EventKind::LogsSuspended => word(lang, "logs_suspended").to_owned(),
        EventKind::ThreatAlerts => {
            let count = n.findings.len();
            let key = if count == 1 {
                "threat_alerts_one"
            } else {
                "threat_alerts_many"
            };
            NOTIFY.format(lang, key, &[("count", &count)])
        }
        EventKind::ScanFindings => {
            let regressions = n.findings.iter().filter(|f| is_regression(f)).count();
            let new = n.findings.len() - regressions;
            let count = |key_one, key_many, count: usize| {
                let key = if count == 1 { key_one } else { key_many };
                NOTIFY.format(lang, key, &[("count", &count)])
            };
            let mut parts = Vec::new();
            if new > 0 {
                parts.push(count("new_findings_one", "new_findings_many", new));
            }
            if regressions > 0 {
                parts.push(count("regressions_one", "regressions_many", regressions));
            }
            if parts.is_empty() {
                return word(lang, "no_new_findings").to_owned();
            }
            parts.join(word(lang, "list_separator"))
        }
    }
}

/// "…and N more" / "ほか N 件".
pub(crate) fn more_line(rest: usize, lang: Lang) -> String {
    NOTIFY.format(lang, "more", &[("count", &rest)])
}

/// The listed findings (most severe first, at most [`MAX_LISTED`]) and how
/// many were left out.
fn listed(n: &Notification) -> (Vec<&NotifiedFinding>, usize) {
    let mut all: Vec<&NotifiedFinding> = n.findings.iter().collect();
    all.sort_by_key(|f| severity_rank(&f.severity)); // stable: keeps server order within a severity
    let rest = all.len().saturating_sub(MAX_LISTED);
    all.truncate(MAX_LISTED);
    (all, rest)
}

/// Removes control characters (newlines become spaces) and caps the length.
pub(crate) fn clip(s: &str, max_chars: usize) -> String {
    let cleaned: String = s
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if cleaned.chars().count() <= max_chars {
        cleaned
    } else {
        let mut out: String = cleaned.chars().take(max_chars.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Like [`clip`] but keeps line breaks (for error messages).
fn clip_multiline(s: &str, max_chars: usize) -> String {
    s.lines()
        .map(|l| clip(l, max_chars))
        .collect::<Vec<_>>()
        .join("\n")
        .chars()
        .take(max_chars)
        .collect()
}

/// An http(s) link, or nothing.
fn safe_link(n: &Notification) -> Option<String> {
    let link = n.link.as_deref()?.trim();
    let u = url::Url::parse(link).ok()?;
    matches!(u.scheme(), "https" | "http").then(|| u.to_string())
}

fn finding_line_plain(f: &NotifiedFinding, lang: Lang) -> String {
    let mut line = format!(
        "[{}] {} {}",
        severity_label(&f.severity, lang),
        clip(&f.control_id, 80),
        clip(&f.title, MAX_FIELD_CHARS)
    );
    if !f.resource.trim().is_empty() {
        line.push_str(" — ");
        line.push_str(&clip(&f.resource, MAX_FIELD_CHARS));
    }
    line.push_str(&format!(" ({})", change_label(&f.change, lang)));
    line
}

/// Context facts shared by all formats: (label, value).
fn facts(n: &Notification, lang: Lang) -> Vec<(&'static str, String)> {
    let mut facts = vec![
        (word(lang, "customer"), clip(&n.customer, MAX_FIELD_CHARS)),
        (word(lang, "tenant"), clip(&n.tenant, MAX_FIELD_CHARS)),
        (word(lang, "service"), app_label(&n.app)),
        (word(lang, "scan"), format!("#{}", n.scan_id)),
        (word(lang, "time"), clip(&n.at, 60)),
    ];
    // Threat alerts and the flood guard concern no scan.
    if n.scan_id == 0 {
        facts.remove(3);
    }
    facts
}

// ---------------------------------------------------------------------------
// Slack

/// Escapes the characters Slack's mrkdwn treats as control sequences.
pub(crate) fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Slack incoming-webhook payload: `text` (notification fallback) + `blocks`.
pub(crate) fn slack_payload(n: &Notification) -> Value {
    let lang = lang_of(n);
    let head = headline(n);
    let fallback = format!(
        "[Mamori] {} / {}: {}",
        slack_escape(&clip(&n.customer, MAX_FIELD_CHARS)),
        slack_escape(&clip(&n.tenant, MAX_FIELD_CHARS)),
        head
    );

    let mut blocks = vec![
        json!({
            "type": "header",
            "text": {"type": "plain_text", "text": clip(&format!("Mamori: {head}"), 150), "emoji": true}
        }),
        json!({
            "type": "section",
            "fields": facts(n, lang)
                .into_iter()
                .map(|(k, v)| json!({"type": "mrkdwn", "text": format!("*{}*\n{}", k, slack_escape(&v))}))
                .collect::<Vec<_>>()
        }),
    ];

    if matches!(n.event, EventKind::ScanFindings | EventKind::ThreatAlerts)
        && !n.findings.is_empty()
    {
        let (shown, rest) = listed(n);
        // Split the list into sections under Slack's per-section limit.
        let mut chunk = format!("*{}*", word(lang, "findings"));
        for f in shown {
            let mut line = format!(
                "• *[{}]* `{}` {}",
                slack_escape(&severity_label(&f.severity, lang)),
                slack_escape(&clip(&f.control_id, 80).replace('`', "'")),
                slack_escape(&clip(&f.title, MAX_FIELD_CHARS))
            );
            if !f.resource.trim().is_empty() {
                line.push_str(" — ");
                line.push_str(&slack_escape(&clip(&f.resource, MAX_FIELD_CHARS)));
            }
            line.push_str(&format!(
                " _({})_",
                slack_escape(&change_label(&f.change, lang))
            ));
            if chunk.chars().count() + 1 + line.chars().count() > SLACK_SECTION_CHARS {
                blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": chunk}}));
                chunk = String::new();
            }
            if !chunk.is_empty() {
                chunk.push('\n');
            }
            chunk.push_str(&line);
        }
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": chunk}}));
        if rest > 0 {
            blocks.push(json!({
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": more_line(rest, lang)}]
            }));
        }
    }

    if let Some(err) = n.error.as_deref().filter(|e| !e.trim().is_empty()) {
        let err = clip_multiline(err, MAX_ERROR_CHARS).replace("```", "'''");
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": format!("*{}*\n```{}```", word(lang, "error"), slack_escape(&err))}
        }));
    }

    if let Some(link) = safe_link(n) {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": format!("<{}|{}>", slack_escape(&link).replace('|', "%7C"), word(lang, "open"))}
        }));
    }

    json!({ "text": fallback, "blocks": blocks })
}

// ---------------------------------------------------------------------------
// Microsoft Teams

/// Teams incoming-webhook (Workflows) payload: a message with one Adaptive
/// Card attachment.
pub(crate) fn teams_payload(n: &Notification) -> Value {
    let lang = lang_of(n);
    let attention = matches!(n.event, EventKind::ScanFailed | EventKind::LogsSuspended)
        || n.findings.iter().any(|f| severity_rank(&f.severity) == 0);

    let mut body = vec![
        json!({"type": "TextBlock", "text": "Mamori", "size": "Small", "isSubtle": true, "spacing": "None"}),
        json!({
            "type": "TextBlock",
            "text": headline(n),
            "size": "Large",
            "weight": "Bolder",
            "wrap": true,
            "color": if attention { "Attention" } else { "Warning" }
        }),
        json!({
            "type": "FactSet",
            "facts": facts(n, lang)
                .into_iter()
                .map(|(k, v)| json!({"title": k, "value": v}))
                .collect::<Vec<_>>()
        }),
    ];

    if matches!(n.event, EventKind::ScanFindings | EventKind::ThreatAlerts)
        && !n.findings.is_empty()
    {
        let (shown, rest) = listed(n);
        body.push(json!({
            "type": "TextBlock", "text": word(lang, "findings"), "weight": "Bolder", "spacing": "Medium", "wrap": true
        }));
        for f in shown {
            body.push(json!({
                "type": "TextBlock",
                "text": finding_line_plain(f, lang),
                "wrap": true,
                "spacing": "Small",
                "color": if severity_rank(&f.severity) == 0 { "Attention" } else { "Default" }
            }));
        }
        if rest > 0 {
            body.push(json!({
                "type": "TextBlock", "text": more_line(rest, lang), "isSubtle": true, "wrap": true, "spacing": "Small"
            }));
        }
    }

    if let Some(err) = n.error.as_deref().filter(|e| !e.trim().is_empty()) {
        body.push(json!({
            "type": "TextBlock", "text": word(lang, "error"), "weight": "Bolder", "spacing": "Medium"
        }));
        body.push(json!({
            "type": "TextBlock",
            "text": clip_multiline(err, MAX_ERROR_CHARS),
            "wrap": true,
            "fontType": "Monospace",
            "color": "Attention"
        }));
    }

    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": {"width": "Full"},
        "body": body,
    });
    if let Some(link) = safe_link(n) {
        card["actions"] =
            json!([{"type": "Action.OpenUrl", "title": word(lang, "open"), "url": link}]);
    }

    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card
        }]
    })
}

// ---------------------------------------------------------------------------
// E-mail

/// `[Mamori] 株式会社さくら商事 / sakura.onmicrosoft.com: 新しい重大な検出事項 3 件`
pub(crate) fn email_subject(n: &Notification) -> String {
    clip(
        &format!(
            "[Mamori] {} / {}: {}",
            clip(&n.customer, 100),
            clip(&n.tenant, 100),
            headline(n)
        ),
        250,
    )
}

/// Plain-text e-mail body.
pub(crate) fn email_body(n: &Notification) -> String {
    let lang = lang_of(n);
    let mut out = String::new();
    out.push_str(&headline(n));
    out.push_str("\n\n");
    for (k, v) in facts(n, lang) {
        out.push_str(&format!("{k}: {v}\n"));
    }
    if matches!(n.event, EventKind::ScanFindings | EventKind::ThreatAlerts)
        && !n.findings.is_empty()
    {
        let (shown, rest) = listed(n);
        out.push_str(&format!("\n{}:\n", word(lang, "findings")));
        for f in shown {
            out.push_str("- ");
            out.push_str(&finding_line_plain(f, lang));
            out.push('\n');
        }
        if rest > 0 {
            out.push_str(&more_line(rest, lang));
            out.push('\n');
        }
    }
    if let Some(err) = n.error.as_deref().filter(|e| !e.trim().is_empty()) {
        out.push_str(&format!(
            "\n{}:\n{}\n",
            word(lang, "error"),
            clip_multiline(err, MAX_ERROR_CHARS)
        ));
    }
    if let Some(link) = safe_link(n) {
        out.push_str(&format!("\n{}: {}\n", word(lang, "open"), link));
    }
    out.push_str("\n-- \n");
    out.push_str(word(lang, "footer"));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_word_in_both_languages() {
        assert_eq!(super::NOTIFY.check(), Vec::<String>::new());
    }

    use super::*;

    fn finding(i: usize, sev: &str, change: &str) -> NotifiedFinding {
        NotifiedFinding {
            control_id: format!("M365-{i}"),
            title: format!("Title <{i}> & co"),
            severity: sev.into(),
            change: change.into(),
            resource: "tenant".into(),
        }
    }

    fn notif(lang: &str, findings: Vec<NotifiedFinding>) -> Notification {
        Notification {
            event: EventKind::ScanFindings,
            customer: "株式会社さくら商事".into(),
            tenant: "sakura.onmicrosoft.com".into(),
            app: "m365".into(),
            scan_id: 42,
            at: "2025-04-01T09:00:00+09:00".into(),
            lang: lang.into(),
            findings,
            error: None,
            link: Some("https://mamori.example.jp/scans/42".into()),
        }
    }

    #[test]
    fn headlines() {
        let three = (0..3)
            .map(|i| finding(i, "high", "new"))
            .collect::<Vec<_>>();
        assert_eq!(
            headline(&notif("ja", three.clone())),
            "新しい重大な検出事項 3 件"
        );
        assert_eq!(
            headline(&notif("en", three)),
            "3 new high/critical findings"
        );
        let mixed = vec![
            finding(1, "critical", "new"),
            finding(2, "high", "regression"),
        ];
        assert_eq!(
            headline(&notif("en", mixed.clone())),
            "1 new high/critical finding, 1 regression"
        );
        assert_eq!(
            headline(&notif("ja-JP", mixed)),
            "新しい重大な検出事項 1 件、悪化した項目 1 件"
        );
        let mut failed = notif("ja", vec![]);
        failed.event = EventKind::ScanFailed;
        assert_eq!(headline(&failed), "スキャン失敗");
        assert_eq!(
            email_subject(&failed),
            "[Mamori] 株式会社さくら商事 / sakura.onmicrosoft.com: スキャン失敗"
        );
    }

    #[test]
    fn slack_escapes_and_caps() {
        let many = (0..25)
            .map(|i| finding(i, if i == 24 { "critical" } else { "high" }, "new"))
            .collect();
        let p = slack_payload(&notif("en", many));
        let s = p.to_string();
        assert!(s.contains("Title &lt;1&gt; &amp; co"));
        assert!(!s.contains("Title <1>"));
        assert!(s.contains("…and 5 more"));
        // The critical finding is listed first although it came last.
        let first_list = p["blocks"][2]["text"]["text"].as_str().unwrap();
        assert!(
            first_list.lines().nth(1).unwrap().contains("M365-24"),
            "{first_list}"
        );
        assert_eq!(first_list.lines().count(), 1 + MAX_LISTED);
        let ja = slack_payload(&notif(
            "ja",
            (0..21).map(|i| finding(i, "low", "regression")).collect(),
        ));
        assert!(ja.to_string().contains("ほか 1 件"));
        assert!(ja.to_string().contains("[低]"));
    }

    #[test]
    fn email_body_lists() {
        let b = email_body(&notif("ja", vec![finding(1, "critical", "regression")]));
        assert!(
            b.contains("[重大] M365-1 Title <1> & co — tenant (悪化: 合格→不合格)"),
            "{b}"
        );
        assert!(b.contains("Mamori で開く: https://mamori.example.jp/scans/42"));
    }

    #[test]
    fn clip_strips_control_chars() {
        assert_eq!(clip("a\r\nb", 10), "a  b");
        assert_eq!(clip("abcdef", 4), "abc…");
    }
}
