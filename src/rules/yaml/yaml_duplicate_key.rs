//! Reported by the loader (`load.rs`) from the duplicate keys the tree builder keeps.

use crate::diagnostic::Severity;
use crate::rules::Rule;

pub const RULE: Rule = Rule {
    id: "yaml-duplicate-key",
    severity: Severity::Error,
    summary: "a mapping repeats a key; Kubernetes silently keeps only the last value",
    kinds: &[],
    check: None,
    options: &[],
    doc: include_str!("../../../rules/yaml-duplicate-key.md"),
};
