//! The languages manifests embed: expr-lang conditions, PromQL queries and Go durations.

pub mod duration;
pub mod expr;
pub mod promql;
