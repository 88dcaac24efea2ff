//! The dashboard's own words, in Japanese and English, in the one translation scheme
//! (`mamori_core::i18n`). Control titles and remediation come from pack metadata.

use std::collections::BTreeMap;

use mamori_core::i18n::Catalog;
use mamori_core::Lang;

/// (key, English, Japanese)
pub const PAGES: Catalog = Catalog(&[
    ("app_name", "Mamori", "Mamori（守り）"),
    ("tagline", "SaaS security posture", "SaaS セキュリティ態勢管理"),
    ("sign_in", "Sign in", "ログイン"),
    ("sign_out", "Sign out", "ログアウト"),
    ("username", "User name", "ユーザー名"),
    ("password", "Password", "パスワード"),
    ("login_failed", "The user name or password is wrong.", "ユーザー名またはパスワードが正しくありません。"),
    ("login_limited", "Too many failed attempts. Try again later.", "失敗が多すぎます。しばらくしてから再試行してください。"),
    ("overview", "Overview", "概要"),
    ("customers", "Customers", "顧客"),
    ("customer", "Customer", "顧客"),
    ("tenants", "Tenants", "テナント"),
    ("tenant", "Tenant", "テナント"),
    ("app", "App", "アプリ"),
    ("score", "Score", "スコア"),
    ("trend", "Trend", "推移"),
    ("findings", "Findings", "検出事項"),
    ("finding", "Finding", "検出事項"),
    ("worst_findings", "Most severe open findings", "重大度の高い未対応の検出事項"),
    ("active_findings", "Open findings", "未対応の検出事項"),
    ("critical", "Critical", "緊急"),
    ("high", "High", "高"),
    ("medium", "Medium", "中"),
    ("low", "Low", "低"),
    ("info", "Info", "情報"),
    ("severity", "Severity", "重大度"),
    ("status", "Status", "状態"),
    ("control", "Control", "コントロール"),
    ("resource", "Resource", "対象リソース"),
    ("first_seen", "First seen", "初回検出"),
    ("last_seen", "Last seen", "最終検出"),
    ("filter", "Filter", "絞り込み"),
    ("all", "All", "すべて"),
    ("status_active", "Open (incl. reopened)", "未対応（再発を含む）"),
    ("status_open", "Open", "未対応"),
    ("status_reopened", "Reopened", "再発"),
    ("status_resolved", "Resolved", "解決済み"),
    ("accepted", "Risk accepted", "リスク受容済み"),
    ("not_accepted", "Not accepted", "未受容"),
    ("remediation", "Recommended countermeasure", "推奨対策"),
    ("history", "History", "履歴"),
    ("no_findings", "No findings match.", "該当する検出事項はありません。"),
    ("no_data", "No data yet.", "まだデータがありません。"),
    ("previous", "Previous", "前へ"),
    ("next", "Next", "次へ"),
    ("shown_of", "shown of", "件表示 / 全"),
    ("exceptions", "Risk acceptances", "リスク受容"),
    ("exception", "Risk acceptance", "リスク受容"),
    ("request_exception", "Request risk acceptance", "リスク受容を申請"),
    ("reason", "Reason", "理由"),
    ("valid_days", "Valid for (days)", "有効期間（日）"),
    ("expires", "Expires", "有効期限"),
    ("requested_by", "Requested by", "申請者"),
    ("decided_by", "Decided by", "決裁者"),
    ("approve", "Approve", "承認"),
    ("reject", "Reject", "却下"),
    ("revoke", "Revoke", "取り消し"),
    ("needs_review", "Expired — review again", "期限切れ — 再審査が必要"),
    ("exc_requested", "Requested", "申請中"),
    ("exc_approved", "Approved", "承認済み"),
    ("exc_rejected", "Rejected", "却下"),
    ("exc_expired", "Expired", "期限切れ"),
    ("exc_revoked", "Revoked", "取り消し済み"),
    ("four_eyes", "Someone other than the requester must decide.", "申請者以外が決裁してください。"),
    ("scans", "Scans", "スキャン"),
    ("scan", "Scan", "スキャン"),
    ("scan_now", "Scan now", "今すぐスキャン"),
    ("scan_queued", "Scan queued.", "スキャンを登録しました。"),
    ("started", "Started", "開始"),
    ("finished", "Finished", "終了"),
    ("requests", "API requests", "API リクエスト数"),
    ("error", "Error", "エラー"),
    ("scan_queued_state", "Queued", "待機中"),
    ("scan_running", "Running", "実行中"),
    ("scan_succeeded", "Succeeded", "成功"),
    ("scan_failed", "Failed", "失敗"),
    ("drift", "Changes since the previous scan", "前回スキャンからの変化"),
    ("new_failures", "New failures", "新たな不適合"),
    ("regressions", "Regressions (pass → fail)", "後退（適合 → 不適合）"),
    ("resolved", "Resolved", "解決"),
    ("changed_settings", "Changed settings", "変更された設定"),
    ("no_changes", "No changes.", "変化はありません。"),
    ("schedule", "Schedule", "スケジュール"),
    ("no_schedule", "Not scheduled", "スケジュールなし"),
    ("next_runs", "Next runs", "次回実行"),
    ("settings", "Settings", "設定"),
    ("language", "Language", "言語"),
    ("save", "Save", "保存"),
    ("api_tokens", "API tokens", "API トークン"),
    ("token_name", "Token name", "トークン名"),
    ("create_token", "Create token", "トークンを作成"),
    ("token_once", "Copy this token now; it is not shown again:", "このトークンは再表示されません。今すぐコピーしてください："),
    ("created", "Created", "作成日時"),
    ("last_used", "Last used", "最終使用"),
    ("role", "Role", "ロール"),
    ("signed_in_as", "Signed in as", "ログイン中："),
    ("forbidden", "Your role may not do this.", "この操作の権限がありません。"),
    ("not_found", "Not found.", "見つかりません。"),
    ("csrf_failed", "The form expired. Reload the page and try again.", "フォームの有効期限が切れました。再読み込みしてやり直してください。"),
    ("bad_request", "The request could not be processed", "リクエストを処理できませんでした"),
    ("back", "Back", "戻る"),
    ("details", "Details", "詳細"),
    ("never", "Never", "なし"),
    ("jobs", "Job queue", "ジョブキュー"),
    ("score_formula", "Weighted share of passing controls (critical 10, high 5, medium 3, low 1; “should” controls count half).",
        "合格したコントロールの重み付き割合（緊急10・高5・中3・低1、推奨事項は半分）。"),
]);

/// The strings of one language, for templates (`t.key`).
pub fn catalog(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    PAGES.all(lang)
}

/// Shared with the notifications, which name the customer the same way.
pub use mamori_work::customer_name;

#[cfg(test)]
mod tests {
    #[test]
    fn every_key_in_both_languages_once() {
        assert_eq!(super::PAGES.check(), Vec::<String>::new());
    }
}
