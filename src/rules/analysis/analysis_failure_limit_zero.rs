use crate::diagnostic::Severity;
use crate::rules::analysis::read::{Measurements, measurements, metrics};
use crate::rules::{Check, Cx, Rule};

pub const RULE: Rule = Rule {
    id: "analysis-failure-limit-zero",
    severity: Severity::Warning,
    summary: "a repeated metric with `failureLimit` 0 (written or defaulted): the first failed measurement aborts the rollout",
    kinds: &["AnalysisTemplate", "ClusterAnalysisTemplate"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/analysis-failure-limit-zero.md"),
};

fn check(cx: &mut Cx<'_>) {
    for metric in metrics(cx.obj.spec()) {
        let repeated = match measurements(metric) {
            Measurements::Known(n) => n > 1,
            Measurements::Endless => true,
            Measurements::Unknown => false,
        };
        if !repeated {
            continue;
        }
        let name = metric.get_str("name").unwrap_or("?");
        match metric.get_set("failureLimit") {
            Some(limit) if limit.as_i64() == Some(0) => {
                cx.report(limit, format!("metric `{name}` takes several measurements but `failureLimit: 0` aborts the rollout on the first failed one"))
                    .help("set `failureLimit: 1` or more so one noisy sample does not abort the release; keep 0 only for a metric that must fail fast, and say so in a comment");
            }
            Some(_) => {}
            None => {
                let at = metric.entry("name").map_or(metric, |(k, _)| k);
                cx.report(at, format!("metric `{name}` takes several measurements and has no `failureLimit`, which defaults to 0: the first failed measurement aborts the rollout"))
                    .help("set `failureLimit: 1` or more (measurement errors are counted separately, by `consecutiveErrorLimit`, default 4)");
            }
        }
    }
}
