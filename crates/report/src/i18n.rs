//! The report's own words in Japanese and English. Control text comes from pack metadata.

use mamori_core::{Criticality, Lang};

/// Every fixed string a report shows, in one language.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Catalog {
    pub lang: &'static str,
    pub report_title: &'static str,
    pub generated: &'static str,
    pub source: &'static str,
    pub control_id: &'static str,
    pub product: &'static str,
    pub title: &'static str,
    pub criticality: &'static str,
    pub severity: &'static str,
    pub status: &'static str,
    pub details: &'static str,
    pub remediation: &'static str,
    pub resources: &'static str,
    pub references: &'static str,
    pub owner: &'static str,
    pub due_date: &'static str,
    pub justification: &'static str,
    pub summary: &'static str,
    pub failing_controls: &'static str,
    pub all_controls: &'static str,
    pub no_failures: &'static str,
    pub filter_placeholder: &'static str,
    pub all_products: &'static str,
    pub shown: &'static str,
    pub total: &'static str,
    pub controls_word: &'static str,
    pub shall: &'static str,
    pub should: &'static str,
    pub countermeasure: &'static str,
    pub offline_note: &'static str,
    pub summary_line: &'static str,
}

const EN: Catalog = Catalog {
    lang: "en",
    report_title: "Mamori security posture report",
    generated: "Generated",
    source: "Source",
    control_id: "Control ID",
    product: "Product",
    title: "Title",
    criticality: "Criticality",
    severity: "Severity",
    status: "Status",
    details: "Details",
    remediation: "Remediation",
    resources: "Affected resources",
    references: "References",
    owner: "Owner",
    due_date: "Due date",
    justification: "Justification",
    summary: "Summary by product",
    failing_controls: "Failing controls and countermeasures",
    all_controls: "All controls",
    no_failures: "No control fails.",
    filter_placeholder: "Filter by ID, title or details…",
    all_products: "All products",
    shown: "shown",
    total: "Total",
    controls_word: "controls",
    shall: "Shall",
    should: "Should",
    countermeasure: "Recommended countermeasure",
    offline_note: "This report is a single file and works offline.",
    summary_line: "controls",
};

const JA: Catalog = Catalog {
    lang: "ja",
    report_title: "Mamori セキュリティ態勢レポート",
    generated: "作成日時",
    source: "入力",
    control_id: "コントロール ID",
    product: "製品",
    title: "タイトル",
    criticality: "重要度区分",
    severity: "深刻度",
    status: "結果",
    details: "詳細",
    remediation: "対策",
    resources: "該当リソース",
    references: "参考資料",
    owner: "担当者",
    due_date: "期限",
    justification: "理由・備考",
    summary: "製品別サマリー",
    failing_controls: "不合格のコントロールと推奨対策",
    all_controls: "全コントロール",
    no_failures: "不合格のコントロールはありません。",
    filter_placeholder: "ID・タイトル・詳細で絞り込み…",
    all_products: "すべての製品",
    shown: "件表示",
    total: "合計",
    controls_word: "件",
    shall: "必須 (Shall)",
    should: "推奨 (Should)",
    countermeasure: "推奨される対策",
    offline_note: "このレポートは単一ファイルで、オフラインで閲覧できます。",
    summary_line: "コントロール",
};

impl Catalog {
    pub fn new(lang: Lang) -> Catalog {
        match lang {
            Lang::En => EN,
            Lang::Ja => JA,
        }
    }

    pub fn criticality_label(&self, c: Criticality) -> &'static str {
        match c {
            Criticality::Shall => self.shall,
            Criticality::Should => self.should,
        }
    }
}
