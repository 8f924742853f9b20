//! Rollout and Experiment specs and canary and blue-green strategies.

pub(super) mod bluegreen_scale_down_delay;
pub(super) mod bluegreen_unguarded_auto_promotion;
pub(super) mod canary_large_weight_jump;
pub(super) mod canary_no_analysis;
pub(super) mod canary_step_invalid;
pub(super) mod canary_weight_decreases;
pub(super) mod canary_weight_unachievable;
pub(super) mod experiment_spec;
pub(super) mod rollout_selector_mismatch;
pub(super) mod rollout_spec;
pub(super) mod rollout_strategy;
