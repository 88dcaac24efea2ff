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
    ("no_pack_reads", "no loaded pack reads --from {kind} input", "--from {kind} の入力を読むパックが読み込まれていません"),
]);

pub fn get(lang: Lang, key: &'static str) -> &'static str {
    CLI.get(lang, key)
}

pub fn format(lang: Lang, key: &'static str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    CLI.format(lang, key, args)
}

pub fn wrote(lang: Lang) -> &'static str {
    get(lang, "wrote")
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
