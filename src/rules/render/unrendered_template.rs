//! Reported by the loader (`load.rs`) when a file holds Helm `{{ }}` actions.

use crate::diagnostic::Severity;
use crate::rules::Rule;

pub const RULE: Rule = Rule {
    id: "unrendered-template",
    severity: Severity::Warning,
    summary: "a Helm template that was not rendered; lint `helm template` output instead",
    kinds: &[],
    check: None,
    options: &[],
    doc: include_str!("../../../rules/unrendered-template.md"),
};
