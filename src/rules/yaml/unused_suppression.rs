//! Reported by the lint's suppression pass (`lint/suppress.rs`), after every other rule has run.

use crate::diagnostic::Severity;
use crate::rules::Rule;

pub const RULE: Rule = Rule {
    id: "unused-suppression",
    severity: Severity::Warning,
    summary: "a `rollcheck-ignore` comment or `rollcheck.io/ignore` annotation that hides no finding",
    kinds: &[],
    check: None,
    options: &[],
    doc: include_str!("../../../rules/unused-suppression.md"),
};
