//! Analysis templates, their args, metrics and Prometheus queries.

pub mod read;

pub(super) mod analysis_arg_unknown_service;
pub(super) mod analysis_condition_ignored;
pub(super) mod analysis_failure_limit_zero;
pub(super) mod analysis_invalid_condition;
pub(super) mod analysis_missing_arg;
pub(super) mod analysis_never_fails;
pub(super) mod analysis_no_condition;
pub(super) mod analysis_single_measurement;
pub(super) mod analysis_spec;
pub(super) mod analysis_undeclared_placeholder;
pub(super) mod analysis_unknown_arg;
pub(super) mod analysis_unused_arg;
pub(super) mod promql_nan_guard;
pub(super) mod promql_rate_window;
pub(super) mod promql_raw_counter;
pub(super) mod promql_unaggregated;
