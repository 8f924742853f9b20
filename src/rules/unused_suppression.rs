//! Reported by the suppression pass (`crate::suppress`), after every other rule has run.

use super::Rule;
use crate::diagnostic::Severity;

pub const RULE: Rule = Rule {
    id: "unused-suppression",
    severity: Severity::Warning,
    summary: "a `rollcheck-ignore` comment or `rollcheck.io/ignore` annotation that hides no finding",
    kinds: &[],
    check: None,
    options: &[],
    doc: include_str!("../../rules/unused-suppression.md"),
};
