use crate::diagnostic::Severity;
use crate::rules::analysis::read::{IGNORES_CONDITIONS, metrics, provider_kind};
use crate::rules::{Check, Cx, Rule};

pub const RULE: Rule = Rule {
    id: "analysis-condition-ignored",
    severity: Severity::Warning,
    summary: "a `successCondition` or `failureCondition` on a `job` or `kayenta` metric, which decides by itself and never reads it",
    kinds: &["AnalysisTemplate", "ClusterAnalysisTemplate"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/analysis-condition-ignored.md"),
};

fn check(cx: &mut Cx<'_>) {
    for metric in metrics(cx.obj.spec()) {
        let Some(provider) = provider_kind(metric).filter(|p| IGNORES_CONDITIONS.contains(&p.as_str())) else {
            continue;
        };
        let name = metric.get_str("name").unwrap_or("?");
        let decided_by = match provider.as_str() {
            "job" => "the Job's outcome: `Complete` passes, `Failed` fails",
            _ => "the canary score against `threshold.pass` and `threshold.marginal`",
        };
        for field in ["successCondition", "failureCondition"] {
            let Some(node) = metric.get_set(field) else { continue };
            let help = match provider.as_str() {
                "job" => {
                    "remove it, and make the Job's container exit non-zero when the check fails (that is what fails the measurement)"
                }
                _ => "remove it, and set the verdict with `threshold.pass` and `threshold.marginal`",
            };
            cx.report(
                node,
                format!(
                    "`{field}` of metric `{name}` is never evaluated: a `{provider}` metric is decided by {decided_by}"
                ),
            )
            .help(help);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::{Options, lint_files};
    use crate::load::load_bytes;
    use crate::source::FileId;

    fn found(rule: &str, metric: &str) -> Vec<String> {
        let text = format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata:\n  name: t\nspec:\n  metrics:\n    - name: m\n{metric}"
        );
        let out = lint_files(vec![load_bytes(FileId(0), "t.yaml".into(), text.into_bytes())], &Options::default());
        out.diagnostics.iter().filter(|d| d.rule == rule).map(|d| d.message.clone()).collect()
    }

    #[test]
    fn conditions_on_self_judging_providers() {
        let job = "      successCondition: result == 'ok'\n      failureCondition: result >\n      provider:\n        job:\n          spec: {}\n";
        let f = found("analysis-condition-ignored", job);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f[0].contains("`job` metric") && f[1].contains("failureCondition"));
        // An ignored condition's syntax does not matter: no error for it.
        assert!(found("analysis-invalid-condition", job).is_empty());
        let kayenta =
            "      successCondition: result > 1\n      provider:\n        kayenta:\n          address: http://k\n";
        assert!(found("analysis-condition-ignored", kayenta)[0].contains("threshold.pass"));
        let prom = "      successCondition: result[0] > 1\n      provider:\n        prometheus:\n          query: up\n";
        assert!(found("analysis-condition-ignored", prom).is_empty());
    }
}
