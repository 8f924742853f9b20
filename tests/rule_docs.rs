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

mod common;

/// (rule, severity, message) of each finding on an example: one manifest, or a repository written
/// as `# file: PATH` sections, linted by the binary with real helm and kustomize on PATH (none
/// when the example says `# rollcheck-doc: no helm or kustomize on PATH`).
fn lint(text: &str) -> Vec<(String, String, String)> {
    if !text.lines().any(|l| l.starts_with("# file: ")) {
        let outcome: Outcome = lint_files(
            vec![load_bytes(FileId(0), "example.yaml".into(), text.as_bytes().to_vec())],
            &Options::default(),
        );
        return outcome
            .diagnostics
            .iter()
            .map(|d| (d.rule.to_string(), d.severity.as_str().to_string(), d.message.clone()))
            .collect();
    }
    let dir = tempfile::tempdir().unwrap();
    common::write_files(dir.path(), text);
    let path = if text.contains("# rollcheck-doc: no helm or kustomize on PATH") {
        dir.path().join("no-tools").into_os_string()
    } else {
        common::path_with_tools()
    };
    let (_, json) = common::rollcheck_json(dir.path(), &["."], &path);
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let field = |k: &str| d[k].as_str().unwrap_or_default().to_string();
            (field("rule"), field("severity"), field("message"))
        })
        .collect()
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
            failing.iter().any(|(r, _, _)| r == rule.id),
            "{}: the failing example does not trigger the rule; got {failing:?}",
            rule.id,
        );
        let passing = lint(&example(rule.doc, "## Passing example", rule.id));
        let problems: Vec<_> =
            passing.iter().filter(|(r, severity, _)| r == rule.id || severity == Severity::Error.as_str()).collect();
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
