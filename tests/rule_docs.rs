//! Every rule's doc page is complete, and its examples behave as the page says.

use rollcheck::diagnostic::Severity;
use rollcheck::lint::{Options, Outcome, lint_files};
use rollcheck::load::load_bytes;
use rollcheck::rules::ALL;
use rollcheck::source::FileId;

fn example(doc: &str, heading: &str, id: &str) -> String {
    let start = doc.find(heading).unwrap_or_else(|| panic!("rules/{id}.md has no `{heading}` section"));
    let rest = &doc[start..];
    let open = rest.find("```yaml\n").unwrap_or_else(|| panic!("rules/{id}.md: `{heading}` has no yaml block")) + 8;
    let close = rest[open..].find("\n```").expect("closed code block") + open + 1;
    rest[open..close].to_string()
}

fn lint(text: &str) -> Outcome {
    lint_files(vec![load_bytes(FileId(0), "example.yaml".into(), text.as_bytes().to_vec())], &Options::default())
}

#[test]
fn every_rule_has_a_complete_doc_page() {
    for rule in ALL {
        let on_disk = std::fs::read_to_string(format!("rules/{}.md", rule.id)).expect("doc page exists");
        assert_eq!(on_disk, rule.doc, "{} embeds its page", rule.id);
        assert!(rule.doc.starts_with(&format!("# {}\n", rule.id)), "{}: title is the id", rule.id);
        assert!(
            rule.doc.contains(&format!("**Severity:** {}", rule.severity.as_str())),
            "{}: severity stated",
            rule.id
        );
        for section in ["## What it checks", "## Why it matters", "## Failing example", "## Passing example"] {
            assert!(rule.doc.contains(section), "{}: missing {section}", rule.id);
        }
    }
}

#[test]
fn failing_examples_fail_and_passing_examples_pass() {
    for rule in ALL {
        let failing = lint(&example(rule.doc, "## Failing example", rule.id));
        assert!(
            failing.diagnostics.iter().any(|d| d.rule == rule.id),
            "{}: the failing example does not trigger the rule; got {:?}",
            rule.id,
            failing.diagnostics.iter().map(|d| (d.rule, &d.message)).collect::<Vec<_>>()
        );
        let passing = lint(&example(rule.doc, "## Passing example", rule.id));
        let problems: Vec<_> = passing
            .diagnostics
            .iter()
            .filter(|d| d.rule == rule.id || d.severity == Severity::Error)
            .map(|d| (d.rule, &d.message))
            .collect();
        assert!(problems.is_empty(), "{}: the passing example has findings: {problems:?}", rule.id);
    }
}

#[test]
fn rule_ids_are_sorted_unique_kebab_case() {
    let ids: Vec<_> = ALL.iter().map(|r| r.id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted);
    assert!(ids.iter().all(|id| id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')));
}

fn rules_index() -> String {
    let mut text = String::from(
        "# Rules\n\nGenerated from the rule registry by `tests/rule_docs.rs`; regenerate with\n`UPDATE_RULES_INDEX=1 cargo test --test rule_docs`.\n\n| Rule | Severity | What it catches |\n|---|---|---|\n",
    );
    for rule in ALL {
        text.push_str(&format!(
            "| [`{id}`]({id}.md) | {} | {} |\n",
            rule.severity.as_str(),
            rule.summary.replace('|', "\\|"),
            id = rule.id
        ));
    }
    text
}

#[test]
fn rules_index_is_current() {
    let expected = rules_index();
    if std::env::var_os("UPDATE_RULES_INDEX").is_some() {
        std::fs::write("rules/README.md", &expected).unwrap();
    }
    let on_disk = std::fs::read_to_string("rules/README.md").unwrap_or_default();
    assert_eq!(on_disk, expected, "rules/README.md is stale: run UPDATE_RULES_INDEX=1 cargo test --test rule_docs");
}
