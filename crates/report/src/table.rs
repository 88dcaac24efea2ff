//! Terminal table: grouped by product, coloured status, one summary line per input.

use crate::Words;
use mamori_core::{Evaluation, Lang, Status};
use std::fmt::Write;

const TITLE_WIDTH: usize = 72;

/// Columns a string takes in a terminal: East Asian wide characters take two.
pub fn display_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

fn char_width(c: char) -> usize {
    let c = c as u32;
    let wide = matches!(c,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD);
    if wide {
        2
    } else {
        1
    }
}

fn truncate_to_width(s: &str, width: usize) -> String {
    if display_width(s) <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = char_width(c);
        if used + w > width.saturating_sub(1) {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

fn pad(s: &str, width: usize) -> String {
    let w = display_width(s);
    let mut out = s.to_string();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(w)));
    out
}

fn colour(status: Status) -> &'static str {
    match status {
        Status::Pass => "\x1b[32m",
        Status::Fail => "\x1b[1;31m",
        Status::Warning => "\x1b[33m",
        Status::Error => "\x1b[35m",
        Status::Manual => "\x1b[36m",
        Status::Omitted | Status::NotApplicable => "\x1b[2m",
    }
}

/// Renders evaluations for a terminal; `colour` adds ANSI colours.
pub fn render_table(evaluations: &[Evaluation], lang: Lang, use_colour: bool) -> String {
    let c = Words::new(lang);
    let mut out = String::new();
    let status_width = Status::ALL
        .iter()
        .map(|s| display_width(s.label(lang)))
        .max()
        .unwrap_or(8);
    for e in evaluations {
        let _ = writeln!(out, "{}: {}", c.get("source"), e.source);
        let mut product: Option<&str> = None;
        for r in &e.results {
            if product != Some(r.product.as_str()) {
                product = Some(r.product.as_str());
                let name = r.product_name.get(lang);
                if use_colour {
                    let _ = writeln!(out, "\n\x1b[1m{name}\x1b[0m");
                } else {
                    let _ = writeln!(out, "\n{name}");
                }
            }
            let label = pad(r.status.label(lang), status_width);
            let label = if use_colour {
                format!("{}{label}\x1b[0m", colour(r.status))
            } else {
                label
            };
            let _ = writeln!(
                out,
                "  {label}  {}  {}",
                pad(&r.id, 24),
                truncate_to_width(r.title.get(lang), TITLE_WIDTH)
            );
        }
        let counts: Vec<String> = Status::ALL
            .iter()
            .filter(|s| e.count(**s) > 0)
            .map(|s| format!("{} {}", s.label(lang), e.count(*s)))
            .collect();
        let _ = writeln!(
            out,
            "\n{} {} {}: {}\n",
            e.results.len(),
            c.get("summary_line"),
            c.get("total"),
            counts.join(" / ")
        );
        for view in &e.frameworks {
            let _ = writeln!(out, "{}: {}", c.get("framework"), view.name.get(lang));
            for r in &view.requirements {
                let label = r
                    .status
                    .map(|s| s.label(lang))
                    .unwrap_or(c.get("not_covered"));
                let width = status_width.max(display_width(c.get("not_covered")));
                let label_padded = pad(label, width);
                let label_text = match (use_colour, r.status) {
                    (true, Some(s)) => format!("{}{label_padded}\x1b[0m", colour(s)),
                    (true, None) => format!("\x1b[2m{label_padded}\x1b[0m"),
                    _ => label_padded,
                };
                let controls: Vec<&str> = r.controls.iter().map(|(id, _)| id.as_str()).collect();
                let _ = writeln!(
                    out,
                    "  {label_text}  {}  {}{}",
                    pad(&r.id, 10),
                    truncate_to_width(r.title.get(lang), TITLE_WIDTH),
                    if controls.is_empty() {
                        String::new()
                    } else {
                        format!("  [{}]", controls.join(", "))
                    }
                );
            }
            let mut counts: Vec<String> = Status::ALL
                .iter()
                .filter(|s| view.count(Some(**s)) > 0)
                .map(|s| format!("{} {}", s.label(lang), view.count(Some(*s))))
                .collect();
            if view.count(None) > 0 {
                counts.push(format!("{} {}", c.get("not_covered"), view.count(None)));
            }
            let _ = writeln!(
                out,
                "\n{} {}: {}\n",
                view.requirements.len(),
                c.get("requirement"),
                counts.join(" / ")
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_japanese_as_double() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("合格"), 4);
        assert_eq!(display_width("ｱ"), 1);
        assert_eq!(truncate_to_width("多要素認証を必須にする", 9), "多要素認…");
        assert_eq!(pad("合格", 6), "合格  ");
    }
}
