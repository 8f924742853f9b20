//! The rule registry. A rule is one file: its metadata (`RULE`), its check and its tests; its
//! documentation is `rules/<id>.md` at the repository root.

use crate::diagnostic::{Diagnostic, Severity};
use crate::index::{Index, Object};
use crate::schema::Registry;
use crate::settings::{Effective, KubeVersion};
use crate::source::Span;
use crate::yaml::NodeRef;

pub mod analysis;
pub mod reference;
pub mod render;
pub mod rollout;
pub mod schema;
pub mod traffic;
pub mod workload;
pub mod yaml;

pub use yaml::unused_suppression::RULE as UNUSED_SUPPRESSION;

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
    &reference::ambiguous_reference::RULE,
    &analysis::analysis_arg_unknown_service::RULE,
    &analysis::analysis_condition_ignored::RULE,
    &analysis::analysis_failure_limit_zero::RULE,
    &analysis::analysis_invalid_condition::RULE,
    &analysis::analysis_missing_arg::RULE,
    &analysis::analysis_never_fails::RULE,
    &analysis::analysis_no_condition::RULE,
    &analysis::analysis_single_measurement::RULE,
    &analysis::analysis_spec::RULE,
    &analysis::analysis_undeclared_placeholder::RULE,
    &analysis::analysis_unknown_arg::RULE,
    &analysis::analysis_unused_arg::RULE,
    &rollout::bluegreen_scale_down_delay::RULE,
    &rollout::bluegreen_unguarded_auto_promotion::RULE,
    &rollout::canary_large_weight_jump::RULE,
    &rollout::canary_no_analysis::RULE,
    &rollout::canary_step_invalid::RULE,
    &rollout::canary_weight_decreases::RULE,
    &rollout::canary_weight_unachievable::RULE,
    &traffic::destinationrule_subset_not_found::RULE,
    &reference::duplicate_object::RULE,
    &rollout::experiment_spec::RULE,
    &render::helm_hook_rollout::RULE,
    &workload::hpa_replicas_conflict::RULE,
    &workload::hpa_target_mismatch::RULE,
    &schema::invalid_duration::RULE,
    &schema::invalid_object::RULE,
    &render::kustomize_rollout_config_missing::RULE,
    &workload::missing_anti_affinity::RULE,
    &workload::missing_readiness_probe::RULE,
    &workload::pdb_blocks_eviction::RULE,
    &traffic::port_mismatch::RULE,
    &analysis::promql_nan_guard::RULE,
    &analysis::promql_rate_window::RULE,
    &analysis::promql_raw_counter::RULE,
    &analysis::promql_unaggregated::RULE,
    &schema::removed_api_version::RULE,
    &render::render_failed::RULE,
    &render::render_tool_missing::RULE,
    &rollout::rollout_selector_mismatch::RULE,
    &rollout::rollout_spec::RULE,
    &rollout::rollout_strategy::RULE,
    &schema::schema_unknown_field::RULE,
    &schema::schema_violation::RULE,
    &traffic::service_role_conflict::RULE,
    &traffic::service_selects_no_pods::RULE,
    &traffic::stable_ingress_canary_annotation::RULE,
    &traffic::stable_ingress_no_stable_backend::RULE,
    &traffic::static_traffic_split::RULE,
    &traffic::traffic_routing_config::RULE,
    &traffic::traffic_routing_missing_services::RULE,
    &render::unrendered_template::RULE,
    &reference::unresolved_reference::RULE,
    &yaml::unused_suppression::RULE,
    &traffic::virtualservice_route_mismatch::RULE,
    &workload::workload_conflict::RULE,
    &workload::workload_ref_not_scaled_down::RULE,
    &yaml::yaml_ambiguous_scalar::RULE,
    &yaml::yaml_duplicate_key::RULE,
    &yaml::yaml_syntax::RULE,
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
    /// Work on the object that several rules read, done once by the first that asks.
    pub shared: &'a SharedWork,
    rule: &'static Rule,
    severity: Severity,
    settings: &'a Effective,
    out: &'a mut Vec<Diagnostic>,
}

/// Work on one object that more than one rule reads.
#[derive(Default)]
pub struct SharedWork {
    /// The object's schema findings (`schema-unknown-field`, `schema-violation`).
    pub schema: std::cell::OnceCell<Vec<crate::schema::Finding>>,
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
    pub fn kube_version(&self) -> KubeVersion {
        self.settings.kube_version
    }

    /// Whether a rule is on for this file.
    pub fn enabled(&self, rule: &str) -> bool {
        self.settings.severity(rule).is_some()
    }

    /// A rule option, as configured for this file, or its default.
    pub fn option(&self, name: &str) -> i64 {
        self.settings
            .option(self.rule.id, name)
            .unwrap_or_else(|| self.rule.options.iter().find(|o| o.name == name).map_or(0, |o| o.default))
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

/// The rules whose checks run on an object of `kind`, as indices into [`ALL`] in its order.
fn rules_for(kind: &str) -> &'static [u16] {
    type ByKind = (rustc_hash::FxHashMap<&'static str, Vec<u16>>, Vec<u16>);
    static BY_KIND: std::sync::LazyLock<ByKind> = std::sync::LazyLock::new(|| {
        let every: Vec<u16> = (0..ALL.len() as u16).filter(|&i| ALL[i as usize].kinds == ["*"]).collect();
        let mut by_kind: rustc_hash::FxHashMap<&'static str, Vec<u16>> = Default::default();
        for (i, rule) in ALL.iter().enumerate() {
            for &kind in rule.kinds.iter().filter(|&&k| k != "*") {
                by_kind.entry(kind).or_insert_with(|| every.clone()).push(i as u16);
            }
        }
        for list in by_kind.values_mut() {
            list.sort_unstable();
            list.dedup();
        }
        (by_kind, every)
    });
    let (by_kind, every) = &*BY_KIND;
    by_kind.get(kind).unwrap_or(every)
}

/// Runs every enabled object check on one object.
pub fn check_object(obj: &Object, schemas: &Registry, settings: &Effective, out: &mut Vec<Diagnostic>) {
    let shared = &SharedWork::default();
    for &i in rules_for(&obj.kind) {
        let (rule, severity) = (ALL[i as usize], settings.levels[i as usize].1);
        if let (Some(Check::Object(check) | Check::Both(check, _)), Some(severity)) = (rule.check, severity) {
            check(&mut Cx { obj, schemas, shared, rule, severity, settings, out });
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
    let shared = &SharedWork::default();
    for &i in rules_for(&obj.kind) {
        let (rule, severity) = (ALL[i as usize], settings.levels[i as usize].1);
        if let (Some(Check::Index(check) | Check::Both(_, check)), Some(severity)) = (rule.check, severity) {
            check(&mut IndexCx { cx: Cx { obj, schemas, shared, rule, severity, settings, out }, index });
        }
    }
}
