//! The rule registry. A rule is one file: its metadata (`RULE`), its check and its tests; its
//! documentation is `rules/<id>.md` at the repository root.

use crate::config::Effective;
use crate::diagnostic::{Diagnostic, Severity};
use crate::index::{Index, Object};
use crate::schema::Registry;
use crate::source::Span;
use crate::yaml::NodeRef;

mod ambiguous_reference;
mod analysis_arg_unknown_service;
mod analysis_condition_ignored;
mod analysis_failure_limit_zero;
mod analysis_invalid_condition;
mod analysis_missing_arg;
mod analysis_never_fails;
mod analysis_no_condition;
mod analysis_single_measurement;
mod analysis_spec;
mod analysis_undeclared_placeholder;
mod analysis_unknown_arg;
mod analysis_unused_arg;
mod bluegreen_scale_down_delay;
mod bluegreen_unguarded_auto_promotion;
mod canary_large_weight_jump;
mod canary_no_analysis;
mod canary_step_invalid;
mod canary_weight_decreases;
mod canary_weight_unachievable;
mod destinationrule_subset_not_found;
mod duplicate_object;
mod experiment_spec;
mod helm_hook_rollout;
mod hpa_replicas_conflict;
mod hpa_target_mismatch;
mod invalid_duration;
mod invalid_object;
pub mod kustomize_rollout_config_missing;
mod missing_anti_affinity;
mod missing_readiness_probe;
mod pdb_blocks_eviction;
mod port_mismatch;
mod promql_nan_guard;
mod promql_rate_window;
mod promql_raw_counter;
mod promql_unaggregated;
mod removed_api_version;
mod render_failed;
mod render_tool_missing;
mod rollout_selector_mismatch;
mod rollout_spec;
mod rollout_strategy;
mod schema_unknown_field;
mod schema_violation;
mod service_role_conflict;
mod service_selects_no_pods;
mod stable_ingress_canary_annotation;
mod stable_ingress_no_stable_backend;
mod static_traffic_split;
mod traffic_routing_config;
mod traffic_routing_missing_services;
mod unrendered_template;
mod unresolved_reference;
mod unused_suppression;
mod virtualservice_route_mismatch;
mod workload_conflict;
mod workload_ref_not_scaled_down;
mod yaml_ambiguous_scalar;
mod yaml_duplicate_key;
mod yaml_syntax;

pub use unused_suppression::RULE as UNUSED_SUPPRESSION;

pub mod analysis;
pub mod apiserver;
pub mod duration;
pub mod expr;
pub mod promql;
pub mod routing;

pub struct Rule {
    /// Kebab-case id, a contract with users' configuration and suppressions.
    pub id: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    /// The object kinds the check runs on; `*` for every kind.
    pub kinds: &'static [&'static str],
    /// `None` for findings the loader or the indexer makes (syntax, duplicate keys...).
    pub check: Option<Check>,
    /// Integer settings users can change in the config file.
    pub options: &'static [RuleOption],
    /// The doc page, `rules/<id>.md`.
    pub doc: &'static str,
}

/// A check reads either its object alone, or its object and the index of every other one.
/// Object checks run as each document is parsed, while its whole tree exists; index checks run
/// once everything is loaded, on the parts of trees that [`crate::retain`] keeps.
#[derive(Clone, Copy)]
pub enum Check {
    Object(fn(&mut Cx<'_>)),
    Index(fn(&mut IndexCx<'_>)),
    /// A rule with checks of both kinds.
    Both(fn(&mut Cx<'_>), fn(&mut IndexCx<'_>)),
}

pub struct RuleOption {
    pub name: &'static str,
    pub default: i64,
    pub min: i64,
    pub summary: &'static str,
}

/// Every rule, sorted by id.
pub static ALL: &[&Rule] = &[
    &ambiguous_reference::RULE,
    &analysis_arg_unknown_service::RULE,
    &analysis_condition_ignored::RULE,
    &analysis_failure_limit_zero::RULE,
    &analysis_invalid_condition::RULE,
    &analysis_missing_arg::RULE,
    &analysis_never_fails::RULE,
    &analysis_no_condition::RULE,
    &analysis_single_measurement::RULE,
    &analysis_spec::RULE,
    &analysis_undeclared_placeholder::RULE,
    &analysis_unknown_arg::RULE,
    &analysis_unused_arg::RULE,
    &bluegreen_scale_down_delay::RULE,
    &bluegreen_unguarded_auto_promotion::RULE,
    &canary_large_weight_jump::RULE,
    &canary_no_analysis::RULE,
    &canary_step_invalid::RULE,
    &canary_weight_decreases::RULE,
    &canary_weight_unachievable::RULE,
    &destinationrule_subset_not_found::RULE,
    &duplicate_object::RULE,
    &experiment_spec::RULE,
    &helm_hook_rollout::RULE,
    &hpa_replicas_conflict::RULE,
    &hpa_target_mismatch::RULE,
    &invalid_duration::RULE,
    &invalid_object::RULE,
    &kustomize_rollout_config_missing::RULE,
    &missing_anti_affinity::RULE,
    &missing_readiness_probe::RULE,
    &pdb_blocks_eviction::RULE,
    &port_mismatch::RULE,
    &promql_nan_guard::RULE,
    &promql_rate_window::RULE,
    &promql_raw_counter::RULE,
    &promql_unaggregated::RULE,
    &removed_api_version::RULE,
    &render_failed::RULE,
    &render_tool_missing::RULE,
    &rollout_selector_mismatch::RULE,
    &rollout_spec::RULE,
    &rollout_strategy::RULE,
    &schema_unknown_field::RULE,
    &schema_violation::RULE,
    &service_role_conflict::RULE,
    &service_selects_no_pods::RULE,
    &stable_ingress_canary_annotation::RULE,
    &stable_ingress_no_stable_backend::RULE,
    &static_traffic_split::RULE,
    &traffic_routing_config::RULE,
    &traffic_routing_missing_services::RULE,
    &unrendered_template::RULE,
    &unresolved_reference::RULE,
    &unused_suppression::RULE,
    &virtualservice_route_mismatch::RULE,
    &workload_conflict::RULE,
    &workload_ref_not_scaled_down::RULE,
    &yaml_ambiguous_scalar::RULE,
    &yaml_duplicate_key::RULE,
    &yaml_syntax::RULE,
];

/// A rule's level in the registry: the one place defaults come from (the config overrides it).
pub fn default_severity(id: &str) -> Severity {
    find(id).map_or(Severity::Error, |r| r.severity)
}

pub fn find(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.id == id)
}

/// Where a rule's documentation is published.
pub fn doc_url(id: &str) -> String {
    format!("https://github.com/rollcheck/rollcheck/blob/main/rules/{id}.md")
}

/// What a check sees: the object under test and the settings that apply to its file.
pub struct Cx<'a> {
    pub obj: &'a Object,
    pub schemas: &'a Registry,
    rule: &'static Rule,
    severity: Severity,
    settings: &'a Effective,
    out: &'a mut Vec<Diagnostic>,
}

impl<'a> Cx<'a> {
    /// Reports a finding at a node of the object under test.
    pub fn report(&mut self, at: NodeRef<'_>, message: impl Into<String>) -> &mut Diagnostic {
        self.report_span(at.span(), message)
    }

    pub fn report_span(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        let mut d = Diagnostic::new(self.rule.id, self.severity, self.obj.file, span, message);
        d.object = Some(self.obj.display_name());
        d.helm_source = self.obj.helm_source.clone();
        self.out.push(d);
        self.out.last_mut().expect("just pushed")
    }

    /// The namespace references from the object under test resolve in.
    pub fn namespace(&self) -> Option<&'a str> {
        self.obj.namespace.as_deref()
    }

    /// The Kubernetes version the files are applied to.
    pub fn kube_version(&self) -> crate::config::KubeVersion {
        self.settings.kube_version
    }

    /// A rule option, as configured for this file, or its default.
    pub fn option(&self, name: &str) -> i64 {
        self.settings.option(self.rule, name)
    }
}

/// What an index check sees: [`Cx`], and the index of every object of the run.
pub struct IndexCx<'a> {
    cx: Cx<'a>,
    pub index: &'a Index,
}

impl<'a> std::ops::Deref for IndexCx<'a> {
    type Target = Cx<'a>;
    fn deref(&self) -> &Cx<'a> {
        &self.cx
    }
}

impl std::ops::DerefMut for IndexCx<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.cx
    }
}

fn applies(rule: &Rule, obj: &Object) -> bool {
    rule.kinds.contains(&obj.kind.as_str()) || rule.kinds == ["*"]
}

/// Runs every enabled object check on one object.
pub fn check_object(obj: &Object, schemas: &Registry, settings: &Effective, out: &mut Vec<Diagnostic>) {
    for (rule, severity) in ALL.iter().zip(&settings.severities) {
        if let (Some(Check::Object(check) | Check::Both(check, _)), Some(severity)) = (rule.check, *severity)
            && applies(rule, obj)
        {
            check(&mut Cx { obj, schemas, rule, severity, settings, out });
        }
    }
}

/// Runs every enabled index check on one object.
pub fn check_with_index(
    obj: &Object,
    index: &Index,
    schemas: &Registry,
    settings: &Effective,
    out: &mut Vec<Diagnostic>,
) {
    for (rule, severity) in ALL.iter().zip(&settings.severities) {
        if let (Some(Check::Index(check) | Check::Both(_, check)), Some(severity)) = (rule.check, *severity)
            && applies(rule, obj)
        {
            check(&mut IndexCx { cx: Cx { obj, schemas, rule, severity, settings, out }, index });
        }
    }
}
