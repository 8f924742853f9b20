use crate::diagnostic::Severity;
use crate::rules::analysis::read::{
    EVALUATES_CONDITIONS, effective_count, int_or_string, metrics, never_fails, provider_kind,
};
use crate::rules::{Check, Cx, Rule};
use crate::yaml::NodeRef;

pub const RULE: Rule = Rule {
    id: "analysis-never-fails",
    severity: Severity::Warning,
    summary: "a metric whose `failureLimit` (or `inconclusiveLimit`) is at least the measurements it takes: it can never fail (or be inconclusive)",
    kinds: &["AnalysisTemplate", "ClusterAnalysisTemplate"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/analysis-never-fails.md"),
};

fn check(cx: &mut Cx<'_>) {
    for metric in metrics(cx.obj.spec()) {
        let name = metric.get_str("name").unwrap_or("?");
        let provider = provider_kind(metric);
        let evaluates = provider.as_deref().is_some_and(|p| EVALUATES_CONDITIONS.contains(&p));
        let success = metric.get_set("successCondition").is_some();
        let failure = metric.get_set("failureCondition").is_some();
        // Without a condition every measurement succeeds anyway: `analysis-no-condition` says so.
        let judged = !evaluates || success || failure;
        if judged && let Some((node, limit, count)) = never_fails(metric) {
            cx.report(
                node,
                format!(
                    "metric `{name}` takes {} and `failureLimit: {limit}` tolerates {}: a metric fails only when its failures exceed the limit, so this one never fails and the analysis passes whatever the measurements say",
                    measurements(metric, count),
                    if limit == count && count == 1 { "that one failing".to_string() } else if limit == count { "all of them failing".to_string() } else { format!("{limit} failures") },
                ),
            )
            .help(format!(
                "set `failureLimit` below the number of measurements (e.g. `count: {}` with `failureLimit: 1`, and an `interval`); only measurement errors beyond `consecutiveErrorLimit` can stop this metric now",
                (count + 2).max(3)
            ));
        }
        // Inconclusive measurements: both conditions false (evaluating providers), or a Kayenta
        // score between `marginal` and `pass`.
        let can_be_inconclusive = (evaluates && success && failure) || provider.as_deref() == Some("kayenta");
        if !can_be_inconclusive {
            continue;
        }
        let Some(count) = effective_count(metric) else { continue };
        let Some((node, limit)) = int_or_string(metric, "inconclusiveLimit") else { continue };
        let explicit_count = int_or_string(metric, "count").is_some_and(|(_, c)| c > 0);
        if limit < count || (explicit_count && limit > count) {
            continue;
        }
        cx.report(
            node,
            format!(
                "metric `{name}` takes {} and `inconclusiveLimit: {limit}` tolerates every one being inconclusive: the metric is inconclusive only when inconclusive measurements exceed the limit, so undecided results count as a pass",
                measurements(metric, count)
            ),
        )
        .help("set `inconclusiveLimit` below the number of measurements, so an undecided metric pauses the rollout for a person to judge");
    }
}

fn measurements(metric: NodeRef<'_>, count: i64) -> String {
    if int_or_string(metric, "count").is_some_and(|(_, c)| c > 0) {
        format!("{count} measurement{}", if count == 1 { "" } else { "s" })
    } else {
        "one measurement (no `count` and no `interval`)".to_string()
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::{Options, lint_files};
    use crate::load::load_bytes;
    use crate::source::FileId;

    fn found(metric: &str) -> Vec<String> {
        let text = format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata:\n  name: t\nspec:\n  metrics:\n    - name: m\n{metric}"
        );
        let out = lint_files(vec![load_bytes(FileId(0), "t.yaml".into(), text.into_bytes())], &Options::default());
        out.diagnostics.iter().filter(|d| d.rule == "analysis-never-fails").map(|d| d.message.clone()).collect()
    }

    const PROM: &str =
        "      provider:\n        prometheus:\n          address: http://p:9090\n          query: sum(up)\n";

    #[test]
    fn failure_limit_at_or_above_the_count() {
        let f = found(&format!(
            "      interval: 1m\n      count: 2\n      failureLimit: 2\n      successCondition: result[0] > 0\n{PROM}"
        ));
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].contains("takes 2 measurements") && f[0].contains("`failureLimit: 2`"), "{f:?}");
        let f = found(&format!("      failureLimit: 3\n      successCondition: result[0] > 0\n{PROM}"));
        assert!(f[0].contains("one measurement (no `count` and no `interval`)"), "{f:?}");
        assert_eq!(
            found(&format!("      count: 1\n      failureLimit: \"1\"\n      successCondition: result[0] > 0\n{PROM}"))
                .len(),
            1
        );
    }

    #[test]
    fn limits_that_can_still_fail_or_that_the_controller_rejects() {
        // Below the count; endless; a placeholder; above the count (analysis-spec's error).
        for metric in [
            "      interval: 1m\n      count: 3\n      failureLimit: 2\n",
            "      interval: 1m\n      failureLimit: 5\n",
            "      count: 1\n      failureLimit: \"{{args.limit}}\"\n",
            "      interval: 1m\n      count: 2\n      failureLimit: 3\n",
            "      failureLimit: 1\n      consecutiveSuccessLimit: 1\n",
            "      failureLimit: -1\n      consecutiveSuccessLimit: 1\n",
        ] {
            assert!(found(&format!("{metric}      successCondition: result[0] > 0\n{PROM}")).is_empty(), "{metric}");
        }
        // No condition: analysis-no-condition reports it.
        assert!(found(&format!("      failureLimit: 1\n{PROM}")).is_empty());
        // A job decides by itself.
        let job = "      failureLimit: 1\n      provider:\n        job:\n          spec: {}\n";
        assert_eq!(found(job).len(), 1);
    }

    #[test]
    fn inconclusive_limit_only_when_measurements_can_be_inconclusive() {
        let both = "      successCondition: result[0] > 0.9\n      failureCondition: result[0] < 0.5\n";
        let f = found(&format!("      interval: 1m\n      count: 3\n      inconclusiveLimit: 3\n{both}{PROM}"));
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].contains("`inconclusiveLimit: 3`"));
        assert!(
            found(&format!("      interval: 1m\n      count: 3\n      inconclusiveLimit: 2\n{both}{PROM}")).is_empty()
        );
        // One condition: a measurement is never inconclusive.
        let one = "      successCondition: result[0] > 0.9\n";
        assert!(
            found(&format!("      interval: 1m\n      count: 3\n      inconclusiveLimit: 3\n{one}{PROM}")).is_empty()
        );
    }
}
