//! Reported by the lint of units (`lint.rs`) when `helm template` or `kustomize build` refuses one.

use crate::diagnostic::Severity;
use crate::rules::Rule;

pub const RULE: Rule = Rule {
    id: "render-failed",
    severity: Severity::Error,
    summary: "a Helm chart or kustomization that does not render: nothing of it can be applied",
    kinds: &[],
    check: None,
    options: &[],
    doc: include_str!("../../../rules/render-failed.md"),
};
