//! Reported by the indexer (`index.rs`), which is where objects get their names.

use crate::diagnostic::Severity;
use crate::rules::Rule;

pub const RULE: Rule = Rule {
    id: "invalid-object",
    severity: Severity::Error,
    summary: "an object of a known kind without a usable `metadata.name`, or with a malformed `metadata` or `spec`",
    kinds: &[],
    check: None,
    options: &[],
    doc: include_str!("../../../rules/invalid-object.md"),
};
