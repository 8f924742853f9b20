//! Reported by the lint of units (`lint.rs`) when helm or kustomize is not installed.

use crate::diagnostic::Severity;
use crate::rules::Rule;

pub const RULE: Rule = Rule {
    id: "render-tool-missing",
    severity: Severity::Warning,
    summary: "a Helm chart or kustomization left unlinted because helm or kustomize is not installed",
    kinds: &[],
    check: None,
    options: &[],
    doc: include_str!("../../../rules/render-tool-missing.md"),
};
