//! Services, Ingresses and service meshes that split a Rollout's traffic.

pub mod routers;

pub(super) mod destinationrule_subset_not_found;
pub(super) mod port_mismatch;
pub(super) mod service_role_conflict;
pub(super) mod service_selects_no_pods;
pub(super) mod stable_ingress_canary_annotation;
pub(super) mod stable_ingress_no_stable_backend;
pub(super) mod static_traffic_split;
pub(super) mod traffic_routing_config;
pub(super) mod traffic_routing_missing_services;
pub(super) mod virtualservice_route_mismatch;
