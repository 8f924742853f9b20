use crate::diagnostic::{Severity, did_you_mean};
use crate::lang::expr::{ENV, analyse};
use crate::rules::analysis::read::metrics;
use crate::rules::{Check, Cx, Rule};

pub const RULE: Rule = Rule {
    id: "analysis-invalid-condition",
    severity: Severity::Error,
    summary: "a `successCondition` or `failureCondition` that expr cannot compile, cannot be true or false, or never reads `result`",
    kinds: &["AnalysisTemplate", "ClusterAnalysisTemplate"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/analysis-invalid-condition.md"),
};

fn check(cx: &mut Cx<'_>) {
    for metric in metrics(cx.obj.spec()) {
        let metric_name = metric.get_str("name").unwrap_or("?");
        // A `job` or `kayenta` metric never evaluates its conditions: `analysis-condition-ignored`.
        if crate::rules::analysis::read::provider_kind(metric)
            .is_some_and(|p| crate::rules::analysis::read::IGNORES_CONDITIONS.contains(&p.as_str()))
        {
            continue;
        }
        for field in ["successCondition", "failureCondition"] {
            let Some(node) = metric.get_set(field) else { continue };
            let Some(condition) = node.text() else {
                cx.report(node, format!("`{field}` of metric `{metric_name}` must be a string expression"));
                continue;
            };
            // Placeholders are substituted before evaluation; their value is unknown here.
            if condition.contains("{{") {
                continue;
            }
            let analysis = analyse(condition);
            if let Some((range, message)) = analysis.syntax_error {
                cx.report_span(node.value_span(range), format!("`{field}` of metric `{metric_name}` is not a valid expression: {message}"))
                    .help("the controller compiles conditions with expr (expr-lang.org); every measurement of this metric would end in `Error`");
                continue;
            }
            for (range, name) in &analysis.unknown_names {
                let d = cx.report_span(
                    node.value_span(range.clone()),
                    format!("`{field}` of metric `{metric_name}` reads `{name}`, which the controller does not define: the condition cannot compile"),
                );
                match did_you_mean(name, ENV.iter().copied()) {
                    Some(close) => d.help(format!(
                        "did you mean `{close}`? Conditions can read `result` and call {}",
                        env_functions()
                    )),
                    None => {
                        d.help(format!("conditions can read `result` and call {} and expr's builtins", env_functions()))
                    }
                };
            }
            if !analysis.unknown_names.is_empty() {
                continue;
            }
            if let Some(kind) = analysis.not_boolean {
                cx.report(node, format!("`{field}` of metric `{metric_name}` evaluates to {kind}, not true or false"))
                    .help("the controller requires a boolean and marks every measurement as `Error` otherwise; compare it, e.g. `result[0] >= 0.95`");
            } else if !analysis.reads_result && compares_a_value(metric) {
                cx.report(node, format!("`{field}` of metric `{metric_name}` never reads `result`, so it gives the same answer whatever the measurement"))
                    .help("compare the measured value, e.g. `result[0] >= 0.95`");
            }
        }
    }
}

/// Whether the metric's provider measures a value for the condition to compare. A `web`
/// metric with `successCondition: "true"` is a reachability check: a non-2xx answer, a
/// timeout or a connection error still fails or errors the measurement. `job` and `kayenta`
/// decide by themselves, and a plugin's result is its own.
fn compares_a_value(metric: crate::yaml::NodeRef<'_>) -> bool {
    let Some(provider) = metric.get("provider") else { return true };
    !provider.entries().any(|(k, _)| matches!(k.key_text().as_deref(), Some("web" | "job" | "kayenta" | "plugin")))
}

fn env_functions() -> String {
    ENV[1..].iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
}
