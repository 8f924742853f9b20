//! rollcheck: a linter for Argo Rollouts manifests.
//!
//! load (bytes → span-preserving documents) → index (objects, selectors, references) →
//! rules (pure checks that emit diagnostics) → settings, suppressions, baseline → report (human,
//! JSON, compact, SARIF, GitHub, JUnit).

pub mod baseline;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod index;
pub mod lint;
pub mod load;
pub mod lsp;
pub mod paths;
pub mod refs;
pub mod report;
pub mod retain;
pub mod rules;
pub mod schema;
pub mod selector;
pub mod source;
pub mod suppress;
pub mod unit;
pub mod yaml;
