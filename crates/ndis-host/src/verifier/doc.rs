//! The rule catalogue as text: `ndis-host rules` prints [`text`], and the table in
//! `docs/VERIFIER.md` (between `<!-- rules:begin -->` and `<!-- rules:end -->`) is exactly
//! [`markdown`] (`ndis-host rules --markdown`), which `tests/verifier_docs.rs` checks.

use super::Rule;
use std::fmt::Write as _;

/// The marker line before the generated table in docs/VERIFIER.md.
pub const TABLE_BEGIN: &str = "<!-- rules:begin -->";
/// The marker line after it.
pub const TABLE_END: &str = "<!-- rules:end -->";

/// One table cell: `|` and `*` escaped, so statements render as written.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('*', "\\*")
}

/// The Markdown table of every rule, in [`Rule::ALL`] order: name, what it requires, its
/// source, and the test that makes it fire. Ends with a newline.
#[must_use]
pub fn markdown() -> String {
    let mut out = String::from("| Rule | Requires | Source | Fired by |\n| --- | --- | --- | --- |\n");
    for rule in Rule::ALL {
        // Writing into a String cannot fail.
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | `{}` |",
            rule.name(),
            cell(rule.statement()),
            cell(rule.source()),
            rule.test()
        );
    }
    out
}

/// The catalogue as plain text: per rule its name, then the statement, source and test
/// indented. Ends with a newline.
#[must_use]
pub fn text() -> String {
    let mut out = String::new();
    for (i, rule) in Rule::ALL.iter().enumerate() {
        if i != 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "{}", rule.name());
        let _ = writeln!(out, "  requires: {}", rule.statement());
        let _ = writeln!(out, "  source:   {}", rule.source());
        let _ = writeln!(out, "  fired by: crates/ndis-host/tests/{}", rule.test());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_has_a_row_per_rule_with_escaped_cells() {
        let md = markdown();
        assert_eq!(md.lines().count(), Rule::ALL.len() + 2);
        for (line, rule) in md.lines().skip(2).zip(Rule::ALL) {
            assert!(line.starts_with(&format!("| `{}` |", rule.name())), "{line}");
            assert!(line.ends_with(&format!("| `{}` |", rule.test())), "{line}");
            // Exactly the four cells' separators: no unescaped '|' inside a cell.
            let bars = line.match_indices('|').filter(|(i, _)| *i == 0 || &line[i - 1..*i] != "\\").count();
            assert_eq!(bars, 5, "{line}");
        }
        assert_eq!(cell("a|b*c"), "a\\|b\\*c");
    }

    #[test]
    fn text_names_every_rule_once() {
        let t = text();
        for rule in Rule::ALL {
            assert_eq!(t.lines().filter(|l| *l == rule.name()).count(), 1, "{}", rule.name());
        }
    }
}
