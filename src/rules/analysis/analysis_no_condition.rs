use crate::diagnostic::Severity;
use crate::rules::analysis::read::{metrics, provider_kind};
use crate::rules::{Check, Cx, Rule};

pub const RULE: Rule = Rule {
    id: "analysis-no-condition",
    severity: Severity::Warning,
    summary: "a metric with neither `successCondition` nor `failureCondition` always succeeds",
    kinds: &["AnalysisTemplate", "ClusterAnalysisTemplate"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/analysis-no-condition.md"),
};

/// Providers whose measurement carries its own verdict.
const SELF_JUDGING: &[&str] = &["job", "kayenta", "plugin"];

fn check(cx: &mut Cx<'_>) {
    for metric in metrics(cx.obj.spec()) {
        if metric.get_set("successCondition").is_some() || metric.get_set("failureCondition").is_some() {
            continue;
        }
        if provider_kind(metric).is_some_and(|p| SELF_JUDGING.contains(&p.as_str())) {
            continue;
        }
        let name = metric.get_str("name").unwrap_or("?");
        let at = metric.entry("name").map_or(metric, |(k, _)| k);
        cx.report(at, format!("metric `{name}` has no `successCondition` or `failureCondition`, so every measurement succeeds"))
            .help("add a condition on `result`, e.g. `successCondition: result[0] >= 0.95`; without one this gate can never stop a bad release");
    }
}
