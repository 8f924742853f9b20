//! What charts and kustomizations render, and how they treat Rollouts.

pub(super) mod helm_hook_rollout;
pub mod kustomize_rollout_config_missing;
pub(super) mod render_failed;
pub(super) mod render_tool_missing;
pub(super) mod unrendered_template;
