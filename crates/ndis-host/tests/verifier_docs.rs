//! The rule catalogue, its documentation and its tests stay in step:
//!
//! * the table in `docs/VERIFIER.md` is exactly [`verifier::markdown`] (regenerate it with
//!   `cargo run -p ndis-host -- rules --markdown`);
//! * every rule is asserted to fire somewhere in `crates/ndis-host/tests/*.rs`, and the test
//!   each rule names ([`Rule::test`]) exists and asserts that this rule fired;
//! * names are unique and every statement, source and test is filled in.
//!
//! "Asserted to fire" means a positive use of the helpers the tests use to ask for findings,
//! `fired(&sim, Rule::X)` (tests/synth) or `fired(&host, Rule::X)` (tests/kernel_support):
//! not negated (`!fired(..)`), not followed by `.is_empty()` or `.len(), 0`, not in a comment.

use ndis_host::verifier::{self, Rule};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The rule a `Rule::Name` variant spelling stands for.
fn rule_named(variant: &str) -> Option<Rule> {
    Rule::ALL.iter().copied().find(|r| format!("{r:?}") == variant)
}

/// The rules `source` asserts to have fired (see the module documentation).
fn asserted_rules(source: &str) -> BTreeSet<Rule> {
    let mut found = BTreeSet::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or("");
        for form in ["fired(&sim, Rule::", "fired(&host, Rule::"] {
            let mut from = 0;
            while let Some(at) = code[from..].find(form) {
                let start = from + at;
                let name_at = start + form.len();
                let name: String =
                    code[name_at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                let after = &code[name_at + name.len()..];
                from = name_at + name.len();
                if !after.starts_with(')') {
                    continue;
                }
                let before = code[..start].trim_end_matches("synth::");
                let negated = before.ends_with('!')
                    || after[1..].starts_with(".is_empty()")
                    || after[1..].starts_with(".len(), 0)");
                if negated {
                    continue;
                }
                if let Some(rule) = rule_named(&name) {
                    found.insert(rule);
                }
            }
        }
    }
    found
}

/// The test sources: file name -> text (this file excluded: it names no rule it asserts).
fn test_sources() -> BTreeMap<String, String> {
    let dir = crate_dir().join("tests");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        if path.extension().is_some_and(|e| e == "rs") && name != "verifier_docs.rs" {
            out.insert(name, read(&path));
        }
    }
    out
}

/// The body of the `#[test] fn name(` in `source` (up to the first line that is just `}`).
fn test_body<'a>(source: &'a str, name: &str) -> Option<&'a str> {
    let head = format!("\nfn {name}(");
    let at = source.find(&head)?;
    // The attribute and comment lines right above the function must include #[test].
    let mut is_test = false;
    for line in source[..at].lines().rev() {
        let line = line.trim();
        if !(line.starts_with("#[") || line.starts_with("//")) {
            break;
        }
        is_test |= line == "#[test]";
    }
    if !is_test {
        return None;
    }
    let body = &source[at + head.len()..];
    Some(body.find("\n}\n").map_or(body, |end| &body[..end]))
}

#[test]
fn the_docs_table_is_the_catalogue() {
    let path = crate_dir().join("../../docs/VERIFIER.md");
    let doc = read(&path);
    let begin = doc.find(verifier::TABLE_BEGIN).map(|i| i + verifier::TABLE_BEGIN.len());
    let end = doc.find(verifier::TABLE_END);
    let (Some(begin), Some(end)) = (begin, end) else {
        panic!("docs/VERIFIER.md must contain the markers {} and {}", verifier::TABLE_BEGIN, verifier::TABLE_END);
    };
    assert!(begin <= end, "docs/VERIFIER.md: {} comes after {}", verifier::TABLE_BEGIN, verifier::TABLE_END);
    let table = doc[begin..end].trim_matches('\n');
    let expected = verifier::markdown();
    let expected = expected.trim_matches('\n');
    if table != expected {
        let first = table.lines().zip(expected.lines()).position(|(a, b)| a != b);
        let detail = match first {
            Some(i) => format!(
                "first difference at table line {}:\n  docs: {}\n  code: {}",
                i + 1,
                table.lines().nth(i).unwrap_or(""),
                expected.lines().nth(i).unwrap_or("")
            ),
            None => format!("docs have {} lines, the catalogue {}", table.lines().count(), expected.lines().count()),
        };
        panic!(
            "the rule table in docs/VERIFIER.md is out of date: run `cargo run -p ndis-host -- rules --markdown` and \
             paste its output between {} and {}\n{detail}",
            verifier::TABLE_BEGIN,
            verifier::TABLE_END
        );
    }
}

#[test]
fn every_rule_is_asserted_to_fire_somewhere() {
    let sources = test_sources();
    let asserted: BTreeSet<Rule> = sources.values().flat_map(|s| asserted_rules(s)).collect();
    let missing: Vec<&str> = Rule::ALL.iter().filter(|r| !asserted.contains(r)).map(|r| r.name()).collect();
    assert!(
        missing.is_empty(),
        "no test in crates/ndis-host/tests asserts that these rules fire (fired(&sim, Rule::X) or \
         fired(&host, Rule::X)): {missing:?}"
    );
}

#[test]
fn each_rule_names_a_test_that_makes_it_fire() {
    let sources = test_sources();
    let mut problems = Vec::new();
    for rule in Rule::ALL {
        let Some((file, name)) = rule.test().split_once("::") else {
            problems.push(format!("{}: test {:?} is not file.rs::function", rule.name(), rule.test()));
            continue;
        };
        let Some(source) = sources.get(file) else {
            problems.push(format!("{}: no tests/{file}", rule.name()));
            continue;
        };
        match test_body(source, name) {
            None => problems.push(format!("{}: no #[test] fn {name} in tests/{file}", rule.name())),
            Some(body) if !asserted_rules(body).contains(rule) => {
                problems.push(format!("{}: tests/{file}::{name} does not assert that it fired", rule.name()));
            }
            Some(_) => {}
        }
    }
    assert!(problems.is_empty(), "rules without their firing test:\n  {}", problems.join("\n  "));
}

#[test]
fn names_are_unique_and_every_field_is_filled() {
    let mut seen = BTreeSet::new();
    for rule in Rule::ALL {
        assert!(seen.insert(rule.name()), "rule name {} is used twice", rule.name());
        for (what, text) in [("name", rule.name()), ("statement", rule.statement()), ("source", rule.source())] {
            assert!(!text.trim().is_empty(), "{rule:?}: empty {what}");
            assert!(!text.contains('\n'), "{rule:?}: the {what} is one line");
        }
        assert!(rule.test().ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_'), "{rule:?}");
        assert_eq!(rule.to_string(), rule.name());
    }
    assert_eq!(seen.len(), Rule::ALL.len());
}

#[test]
fn the_scanner_tells_positive_assertions_from_negative_ones() {
    let src = "
        assert!(synth::fired(&sim, Rule::PauseReturn));
        assert!(!synth::fired(&sim, Rule::PauseDrain));
        assert!(fired(&host, Rule::PoolMisuse).is_empty());
        assert_eq!(fired(&host, Rule::NblMisuse).len(), 0);
        // assert!(fired(&host, Rule::TimerMisuse));
        let f = fired(&host, Rule::ConfigMisuse);
        assert!(fired(&host, Rule::NoSuchRule));
    ";
    let got = asserted_rules(src);
    assert_eq!(got, BTreeSet::from([Rule::PauseReturn, Rule::ConfigMisuse]));
    let body = test_body("#[test]\nfn a() {\n    x;\n}\n\nfn b() {\n}\n", "a");
    assert_eq!(body, Some(") {\n    x;"));
    assert_eq!(test_body("#[test]\nfn a() {\n}\n\nfn b() {\n}\n", "b"), None, "b is no #[test]");
}
