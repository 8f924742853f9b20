//! rollcheck: a linter for Argo Rollouts manifests.
//!
//! Every import points down one line (see README's Design section and `tests/architecture.rs`):
//! vocabulary (source, intern, diagnostic, settings, paths, lang) → yaml → unit → load →
//! index → rules → config → lint → report / lsp → cli.

pub mod baseline;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod index;
pub mod intern;
pub mod lang;
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
pub mod settings;
pub mod source;
pub mod unit;
pub mod yaml;
