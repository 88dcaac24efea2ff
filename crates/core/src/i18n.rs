//! The one translation scheme for Mamori's own words (reports, pages, notifications, CLI
//! diagnostics). Control titles and remediation are pack metadata, not here.
//!
//! Each area keeps one table of `(key, English, Japanese)` rows — a [`Catalog`] — next to the
//! code that shows them. Text may carry `{name}` placeholders, filled by [`Catalog::format`].
//! [`Catalog::check`] (run by every area's tests) proves each key appears once, exists in both
//! languages and uses the same placeholders in both.

use crate::Lang;
use std::collections::{BTreeMap, BTreeSet};

/// One area's strings: `(key, English, Japanese)`.
#[derive(Debug, Clone, Copy)]
pub struct Catalog(pub &'static [(&'static str, &'static str, &'static str)]);

impl Catalog {
    /// The text of `key` in `lang`; the key itself when missing, so a gap shows rather than
    /// hides (and [`Catalog::check`] fails in tests).
    pub fn get(&self, lang: Lang, key: &'static str) -> &'static str {
        self.0
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, en, ja)| if lang == Lang::Ja { *ja } else { *en })
            .unwrap_or(key)
    }

    /// [`Catalog::get`] with `{name}` placeholders replaced by `args`.
    pub fn format(
        &self,
        lang: Lang,
        key: &'static str,
        args: &[(&str, &dyn std::fmt::Display)],
    ) -> String {
        let mut text = self.get(lang, key).to_string();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), &value.to_string());
        }
        text
    }

    /// Every string of one language, by key (for templates: `t.key`).
    pub fn all(&self, lang: Lang) -> BTreeMap<&'static str, &'static str> {
        self.0
            .iter()
            .map(|(k, en, ja)| (*k, if lang == Lang::Ja { *ja } else { *en }))
            .collect()
    }

    /// Problems with the table: duplicate keys, empty text, placeholders that differ between
    /// the languages. Empty when the table is sound.
    pub fn check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        for (key, en, ja) in self.0 {
            if !seen.insert(*key) {
                problems.push(format!("{key}: duplicate key"));
            }
            if en.trim().is_empty() || ja.trim().is_empty() {
                problems.push(format!("{key}: empty in a language"));
            }
            if placeholders(en) != placeholders(ja) {
                problems.push(format!(
                    "{key}: placeholders differ: en {:?}, ja {:?}",
                    placeholders(en),
                    placeholders(ja)
                ));
            }
        }
        problems
    }
}

fn placeholders(text: &str) -> BTreeSet<&str> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end)
                if after[..end]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && end > 0 =>
            {
                out.insert(&after[..end]);
                rest = &after[end + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: Catalog = Catalog(&[
        ("wrote", "wrote {path}", "{path} に書き込みました"),
        ("bad", "{a} and {b}", "{a} のみ"),
        ("bad", "x", ""),
    ]);

    #[test]
    fn formats_and_checks() {
        assert_eq!(
            SAMPLE.format(Lang::Ja, "wrote", &[("path", &"r.html")]),
            "r.html に書き込みました"
        );
        assert_eq!(SAMPLE.get(Lang::En, "missing"), "missing");
        let problems = SAMPLE.check();
        assert_eq!(problems.len(), 3, "{problems:?}");
    }
}
