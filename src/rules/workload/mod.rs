//! What else scales, selects or evicts a Rollout's pods.

pub(super) mod hpa_replicas_conflict;
pub(super) mod hpa_target_mismatch;
pub(super) mod missing_anti_affinity;
pub(super) mod missing_readiness_probe;
pub(super) mod pdb_blocks_eviction;
pub(super) mod workload_conflict;
pub(super) mod workload_ref_not_scaled_down;
