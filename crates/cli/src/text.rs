//! The CLI's own diagnostics in Japanese and English (`--lang`, `MAMORI_LANG`, the locale),
//! in the one translation scheme of `mamori_core::i18n`.

use mamori_core::i18n::Catalog;
use mamori_core::Lang;

pub const CLI: Catalog = Catalog(&[
    ("wrote", "wrote", "書き込み完了:"),
    ("error", "error", "エラー"),
    ("warning", "warning", "警告"),
    ("no_product",
     "{file}: no section of any product the {kind} packs check was found; is this a {kind} export?",
     "{file}: {kind} のパックが検査する製品のセクションが見つかりません。{kind} のエクスポートですか？"),
    ("no_marker",
     "{file}: {products} not evaluated: the file has their sections but not the list of provider commands that ran ({markers}), which an export that lists commands needs for each product; add it, or name the products with --product {first}",
     "{file}: {products} は評価していません。セクションはありますが、実行されたプロバイダー コマンドの一覧（{markers}）がありません。コマンド一覧を含むエクスポートでは製品ごとに必要です。追加するか、--product {first} のように製品を指定してください"),
    ("section_not_collected",
     "section {section} not collected: {reason}",
     "セクション {section} を収集できませんでした: {reason}"),
    ("judged_nothing",
     "{tenant}: no control could be judged ({failed} sections not collected); check the app's permissions",
     "{tenant}: 判定できたコントロールがありません（未収集のセクション {failed} 件）。アプリの権限を確認してください"),
    ("unknown_reason", "unknown reason", "理由不明"),
    ("collect_summary",
     "{tenant}: {sections} sections ({failed} failed), {requests} requests ({throttled} throttled) in {seconds} s",
     "{tenant}: {sections} セクション（失敗 {failed}）、{requests} リクエスト（スロットリング {throttled}）、{seconds} 秒"),
    ("interrupted", "interrupted; no snapshot was written", "中断しました。スナップショットは書き込まれていません"),
    ("demo_title",
     "Mamori demo — 株式会社さくら商事 (imitation APIs on loopback, real connectors)",
     "Mamori デモ — 株式会社さくら商事（ループバック上の模擬 API、本物のコネクタ）"),
    ("demo_collected",
     "  {suite}: collected {sections} sections with {requests} requests in {seconds} s",
     "  {suite}: {sections} セクションを {requests} リクエストで収集（{seconds} 秒）"),
    ("demo_controls", "  {suite} ({count} controls): {summary}", "  {suite}（コントロール {count} 件）: {summary}"),
    ("demo_wrote", "Wrote:", "書き込んだファイル:"),
    ("demo_open",
     "Open {path} in a browser (English: report-en.html). Done in {seconds} s.",
     "{path} をブラウザで開いてください（英語版: report-en.html）。所要 {seconds} 秒。"),
    ("demo_scan", "  {tenant}: scan {id} {status} ({requests} requests)", "  {tenant}: スキャン {id} {status}（{requests} リクエスト）"),
    ("demo_dashboard", "Dashboard: {url}/", "ダッシュボード: {url}/"),
    ("demo_logins",
     "Logins (password {password}): operator (operator admin), analyst, sakura-admin (customer admin), sakura-viewer",
     "ログイン（パスワード {password}）: operator（運用管理者）、analyst、sakura-admin（顧客管理者）、sakura-viewer"),
    ("press_ctrl_c", "Press Ctrl-C to stop.", "Ctrl-C で停止します。"),
    ("imitation_m365", "Microsoft 365 imitation: {url} (DNS {dns})", "Microsoft 365 の模擬 API: {url}（DNS {dns}）"),
    ("imitation_gws", "Google Workspace imitation: {url} (DNS {dns})", "Google Workspace の模擬 API: {url}（DNS {dns}）"),
    ("imitation_credentials", "Credentials: {m365} and {gws}", "認証情報: {m365} と {gws}"),
    ("imitation_try", "Try: mamori scan m365 --credentials {path}", "試す: mamori scan m365 --credentials {path}"),
    ("keys_rotated_env",
     "Re-encrypted {count} secrets. New master key (set MAMORI_MASTER_KEY to it before the next start):",
     "{count} 件の秘密情報を再暗号化しました。新しいマスターキー（次回起動前に MAMORI_MASTER_KEY に設定してください）:"),
    ("keys_rotated_file",
     "Re-encrypted {count} secrets; {path} now holds key {key}.",
     "{count} 件の秘密情報を再暗号化しました。{path} のキーは {key} になりました。"),
    ("user_created", "Created user {name} ({role}) with id {id}.", "ユーザー {name}（{role}）を作成しました（ID {id}）。"),
    ("no_pack_reads", "no loaded pack reads --from {kind} input", "--from {kind} の入力を読むパックが読み込まれていません"),
    ("rules_not_applicable",
     "{count} rules read logs Mamori does not collect and were skipped",
     "Mamori が収集しないログを対象とするルール {count} 件をスキップしました"),
    ("no_rules", "no rule to run (--no-builtin-rules without any --rules folder holding rules for these logs)",
     "実行するルールがありません（--no-builtin-rules が指定され、このログ向けのルールを含む --rules フォルダーがありません）"),
    ("quarantined",
     "{count} records could not be used and were quarantined (first: {file} {position}: {reason}); --quarantine PATH keeps them",
     "{count} 件のレコードを利用できず隔離しました（最初: {file} {position}: {reason}）。--quarantine PATH で保存できます"),
    ("no_events",
     "no {source} event in the {files} files given: nothing was examined, so no alert means nothing",
     "指定した {files} 個のファイルに {source} のイベントがありません。何も検査していないため、アラートなしは安全を意味しません"),
    ("seen", "seen", "検知期間"),
    ("demo_alerts",
     "Threat detection: {alerts} alerts from {events} audit events of the last 7 days ({path})",
     "脅威検知: 過去 7 日間の監査イベント {events} 件からアラート {alerts} 件（{path}）"),
    ("demo_log_failed", "audit log {source} not read: {why}", "監査ログ {source} を読み取れませんでした: {why}"),
    ("events", "events", "件のイベント"),
    ("sev_critical", "CRITICAL", "緊急"),
    ("sev_high", "HIGH", "高"),
    ("sev_medium", "MEDIUM", "中"),
    ("sev_low", "LOW", "低"),
    ("sev_info", "INFO", "情報"),
    ("detect_summary",
     "{alerts} alerts from {events} events ({duplicates} duplicates skipped, {quarantined} quarantined)",
     "アラート {alerts} 件（イベント {events} 件、重複スキップ {duplicates} 件、隔離 {quarantined} 件）"),
]);

pub fn get(lang: Lang, key: &'static str) -> &'static str {
    CLI.get(lang, key)
}

pub fn format(lang: Lang, key: &'static str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    CLI.format(lang, key, args)
}

/// The language of diagnostics when no command-level `--lang` applies.
pub fn lang() -> Lang {
    crate::output::resolve_lang(None)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_key_in_both_languages() {
        assert_eq!(super::CLI.check(), Vec::<String>::new());
    }
}
