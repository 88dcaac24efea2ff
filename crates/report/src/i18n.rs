//! The report's own words in Japanese and English, in the one translation scheme
//! (`mamori_core::i18n`). Control text comes from pack metadata.

use mamori_core::i18n::Catalog;
use mamori_core::{Criticality, Lang};
use std::collections::BTreeMap;

/// (key, English, Japanese)
pub const REPORT: Catalog = Catalog(&[
    ("lang", "en", "ja"),
    (
        "report_title",
        "Mamori security posture report",
        "Mamori セキュリティ態勢レポート",
    ),
    ("generated", "Generated", "作成日時"),
    ("source", "Source", "入力"),
    ("control_id", "Control ID", "コントロール ID"),
    ("product", "Product", "製品"),
    ("title", "Title", "タイトル"),
    ("criticality", "Criticality", "重要度区分"),
    ("severity", "Severity", "深刻度"),
    ("status", "Status", "結果"),
    ("details", "Details", "詳細"),
    ("remediation", "Remediation", "対策"),
    ("resources", "Affected resources", "該当リソース"),
    ("references", "References", "参考資料"),
    ("owner", "Owner", "担当者"),
    ("due_date", "Due date", "期限"),
    ("justification", "Justification", "理由・備考"),
    ("summary", "Summary by product", "製品別サマリー"),
    (
        "failing_controls",
        "Failing controls and countermeasures",
        "不合格のコントロールと推奨対策",
    ),
    ("all_controls", "All controls", "全コントロール"),
    (
        "no_failures",
        "No control fails.",
        "不合格のコントロールはありません。",
    ),
    (
        "filter_placeholder",
        "Filter by ID, title or details…",
        "ID・タイトル・詳細で絞り込み…",
    ),
    ("all_products", "All products", "すべての製品"),
    ("shown", "shown", "件表示"),
    ("total", "Total", "合計"),
    ("controls_word", "controls", "件"),
    ("shall", "Shall", "必須 (Shall)"),
    ("should", "Should", "推奨 (Should)"),
    (
        "countermeasure",
        "Recommended countermeasure",
        "推奨される対策",
    ),
    (
        "offline_note",
        "This report is a single file and works offline.",
        "このレポートは単一ファイルで、オフラインで閲覧できます。",
    ),
    ("summary_line", "controls", "コントロール"),
    ("framework", "Framework", "フレームワーク"),
    ("requirement", "Requirement", "要件"),
    (
        "not_covered",
        "Not covered by automation",
        "自動評価の対象外",
    ),
    ("mapped_controls", "Mapped controls", "対応するコントロール"),
    ("controls_tab", "Controls", "コントロール"),
    (
        "threats_title",
        "Threat alerts from audit logs",
        "監査ログから検知した脅威アラート",
    ),
    (
        "threats_summary",
        "{alerts} alerts from {events} events read",
        "読み込んだ {events} 件のイベントから {alerts} 件のアラート",
    ),
    (
        "threats_none",
        "No rule matched the events read.",
        "読み込んだイベントに該当するルールはありませんでした。",
    ),
    (
        "threats_missing",
        "Not collected (no detection on these logs)",
        "未収集（これらのログは検知の対象外）",
    ),
    ("rule", "Rule", "ルール"),
    ("tenant", "Tenant", "テナント"),
    ("first_seen", "First seen", "初回検知"),
    ("last_seen", "Last seen", "最終検知"),
    ("count", "Events", "イベント数"),
    ("entities", "Entities", "対象"),
    ("response", "Response", "推奨対応"),
]);

/// The report's words in one language.
#[derive(Debug, Clone, Copy)]
pub struct Words {
    lang: Lang,
}

impl Words {
    pub fn new(lang: Lang) -> Words {
        Words { lang }
    }

    pub fn get(&self, key: &'static str) -> &'static str {
        REPORT.get(self.lang, key)
    }

    /// Every word, by key, for the template (`c.key`).
    pub fn all(&self) -> BTreeMap<&'static str, &'static str> {
        REPORT.all(self.lang)
    }

    pub fn criticality_label(&self, c: Criticality) -> &'static str {
        match c {
            Criticality::Shall => self.get("shall"),
            Criticality::Should => self.get("should"),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_key_in_both_languages() {
        assert_eq!(super::REPORT.check(), Vec::<String>::new());
    }
}
