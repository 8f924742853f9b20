use crate::diagnostic::Severity;
use crate::rules::{Check, Cx, Rule};

pub const RULE: Rule = Rule {
    id: "analysis-single-measurement",
    severity: Severity::Warning,
    summary: "a metric with `count: 1`: one noisy sample decides the release",
    kinds: &["AnalysisTemplate", "ClusterAnalysisTemplate"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/analysis-single-measurement.md"),
};

/// Providers whose one measurement is a whole test or statistical judgement, not a sample.
const WHOLE_JUDGEMENT: &[&str] = &["job", "kayenta", "plugin"];

fn check(cx: &mut Cx<'_>) {
    for metric in crate::rules::analysis::read::metrics(cx.obj.spec()) {
        let Some(count) = metric.get_set("count").filter(|c| c.as_i64() == Some(1)) else { continue };
        if crate::rules::analysis::read::provider_kind(metric).is_some_and(|p| WHOLE_JUDGEMENT.contains(&p.as_str())) {
            continue;
        }
        // A metric that tolerates its one failure never decides at all: `analysis-never-fails`.
        if crate::rules::analysis::read::never_fails(metric).is_some() {
            continue;
        }
        let name = metric.get_str("name").unwrap_or("?");
        cx.report(count, format!("metric `{name}` decides on a single measurement"))
            .help("take several measurements (`count: 3` or more with an `interval`) and tolerate a failure with `failureLimit`");
    }
}
