//! Reported by the loader (`load.rs`): unparsable YAML, non-UTF-8 or binary content, limits.

use crate::diagnostic::Severity;
use crate::rules::Rule;

pub const RULE: Rule = Rule {
    id: "yaml-syntax",
    severity: Severity::Error,
    summary: "YAML that cannot be parsed, text that is not UTF-8, or a size or nesting limit exceeded",
    kinds: &[],
    check: None,
    options: &[],
    doc: include_str!("../../../rules/yaml-syntax.md"),
};
