//! Snapshot tests of every renderer on a fixed evaluation (no clock, no randomness).

use mamori_core::{ControlResult, Criticality, Evaluation, Lang, Localized, Severity, Status};

fn result(
    id: &str,
    product: (&str, &str, &str),
    status: Status,
    met: bool,
    crit: Criticality,
    sev: Severity,
    details: (&str, &str),
) -> ControlResult {
    ControlResult {
        id: id.into(),
        pack: "m365".into(),
        product: product.0.into(),
        product_name: Localized::new(product.1, product.2),
        title: Localized::new(format!("Title of {id}"), format!("{id} のタイトル")),
        status,
        requirement_met: met,
        criticality: crit,
        severity: sev,
        details: Localized::new(details.0, details.1),
        resources: if status == Status::Fail {
            vec!["Policy <A> & \"B\"".into()]
        } else {
            vec![]
        },
        remediation: Localized::new(
            format!("Fix {id} in the admin center."),
            format!("管理センターで {id} を修正します。"),
        ),
        references: vec![format!("https://example.org/baselines#{id}")],
    }
}

fn evaluation() -> Evaluation {
    let aad = ("aad", "Microsoft Entra ID", "Microsoft Entra ID");
    let spo = (
        "sharepoint",
        "SharePoint Online and OneDrive",
        "SharePoint Online と OneDrive",
    );
    Evaluation {
        source: "tenant-export.json.gz".into(),
        frameworks: Vec::new(),
        results: vec![
            result(
                "MS.AAD.1.1v1",
                aad,
                Status::Pass,
                true,
                Criticality::Shall,
                Severity::High,
                (
                    "Legacy authentication is blocked.",
                    "レガシー認証はブロックされています。",
                ),
            ),
            result(
                "MS.AAD.3.1v1",
                aad,
                Status::Fail,
                false,
                Criticality::Shall,
                Severity::Critical,
                (
                    "No policy requires phishing-resistant MFA: <script>alert(1)</script>",
                    "フィッシング耐性のある MFA を要求するポリシーがありません。",
                ),
            ),
            result(
                "MS.AAD.2.2v1",
                aad,
                Status::Manual,
                false,
                Criticality::Should,
                Severity::Medium,
                ("Check by hand.", "手動で確認してください。"),
            ),
            result(
                "MS.SHAREPOINT.1.1v1",
                spo,
                Status::Warning,
                false,
                Criticality::Should,
                Severity::Low,
                (
                    "Sharing is open, with a comma, and \"quotes\".",
                    "共有が開いています。",
                ),
            ),
            result(
                "MS.SHAREPOINT.1.2v1",
                spo,
                Status::Error,
                false,
                Criticality::Shall,
                Severity::High,
                (
                    "Section `SPO_tenant` was not collected.",
                    "セクション `SPO_tenant` が収集されていません。",
                ),
            ),
            result(
                "MS.SHAREPOINT.1.3v1",
                spo,
                Status::Omitted,
                false,
                Criticality::Shall,
                Severity::Medium,
                (
                    "Omitted by the operator: accepted risk",
                    "運用者により除外: リスク受容",
                ),
            ),
        ],
    }
}

#[test]
fn json_lines() {
    for lang in [Lang::En, Lang::Ja] {
        let line = mamori_report::render_json_line(&evaluation(), lang).unwrap();
        assert!(!line.contains('\n'));
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        for c in value["controls"].as_array().unwrap() {
            for field in [
                "id",
                "status",
                "requirement_met",
                "criticality",
                "severity",
                "details",
            ] {
                assert!(c.get(field).is_some(), "missing {field}");
            }
        }
        insta::assert_json_snapshot!(format!("json_{}", lang.code()), value);
    }
}

#[test]
fn csv_action_plan_lists_failures_only() {
    for lang in [Lang::En, Lang::Ja] {
        let csv = mamori_report::render_csv(&[evaluation()], lang).unwrap();
        assert!(csv.starts_with('\u{feff}'));
        assert_eq!(
            csv.lines().count(),
            2,
            "header plus the one failing control"
        );
        insta::assert_snapshot!(format!("csv_{}", lang.code()), csv);
    }
}

#[test]
fn table() {
    for lang in [Lang::En, Lang::Ja] {
        let plain = mamori_report::render_table(&[evaluation()], lang, false);
        assert!(!plain.contains('\x1b'));
        insta::assert_snapshot!(format!("table_{}", lang.code()), plain);
        let coloured = mamori_report::render_table(&[evaluation()], lang, true);
        assert!(coloured.contains("\x1b[1;31m"), "fail is bold red");
    }
}

#[test]
fn html_is_self_contained_escaped_and_localized() {
    for lang in [Lang::En, Lang::Ja] {
        let html =
            mamori_report::render_html(&[evaluation()], lang, "2026-11-26 09:00:00 JST").unwrap();
        assert!(
            !html.contains("<script>alert(1)</script>"),
            "details are escaped"
        );
        assert!(
            !html.contains("src=\"http"),
            "no external scripts or images"
        );
        assert!(!html.contains("<link"), "no external stylesheets");
        assert!(html.contains("<html lang=\"") && html.contains(lang.code()));
        insta::assert_snapshot!(format!("html_{}", lang.code()), html);
    }
    let ja = mamori_report::render_html(&[evaluation()], Lang::Ja, "x").unwrap();
    assert!(ja.contains("推奨される対策") && ja.contains("不合格"));
}

#[test]
fn framework_view_in_every_format() {
    use mamori_core::framework::{FrameworkView, RequirementResult};
    let mut e = evaluation();
    e.frameworks.push(FrameworkView {
        framework: "nist-800-53".into(),
        name: Localized::new("NIST SP 800-53 Rev. 5", "NIST SP 800-53 Rev. 5"),
        requirements: vec![
            RequirementResult {
                id: "IA-2(1)".into(),
                title: Localized::new("MFA for privileged accounts", "特権アカウントの多要素認証"),
                status: Some(Status::Fail),
                controls: vec![("MS.AAD.3.1v1".into(), Status::Fail)],
            },
            RequirementResult {
                id: "IR-4".into(),
                title: Localized::new("Incident handling", "インシデント対応"),
                status: None,
                controls: vec![],
            },
        ],
    });
    let html = mamori_report::render_html(&[e.clone()], Lang::Ja, "x").unwrap();
    assert!(
        html.contains("role=\"tablist\"") && html.contains("フレームワーク: NIST SP 800-53 Rev. 5")
    );
    assert!(
        html.contains("自動評価の対象外"),
        "uncovered requirements are named"
    );
    let table = mamori_report::render_table(&[e.clone()], Lang::En, false);
    assert!(table.contains("Not covered by automation") && table.contains("IA-2(1)"));
    let json: serde_json::Value =
        serde_json::from_str(&mamori_report::render_json_line(&e, Lang::En).unwrap()).unwrap();
    assert_eq!(
        json["frameworks"][0]["requirements"][1]["status"],
        serde_json::Value::Null
    );
    assert_eq!(json["frameworks"][0]["requirements"][0]["status"], "fail");
    // Without a framework the JSON contract is unchanged.
    let plain: serde_json::Value =
        serde_json::from_str(&mamori_report::render_json_line(&evaluation(), Lang::En).unwrap())
            .unwrap();
    assert!(plain.get("frameworks").is_none());
}
