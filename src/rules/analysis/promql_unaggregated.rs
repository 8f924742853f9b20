use crate::diagnostic::Severity;
use crate::lang::promql::{Shape, shape, tokens};
use crate::rules::analysis::read::metrics;
use crate::rules::{Check, Cx, Rule};

pub const RULE: Rule = Rule {
    id: "promql-unaggregated",
    severity: Severity::Warning,
    summary: "a condition reads `result[0]` of a Prometheus query that returns one series per pod or instance (no aggregation, or `by (pod)`)",
    kinds: &["AnalysisTemplate", "ClusterAnalysisTemplate"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/promql-unaggregated.md"),
};

/// Labels with one value per pod or scrape target.
const PER_INSTANCE: &[&str] =
    &["pod", "pod_name", "kubernetes_pod_name", "instance", "container", "container_name", "node", "host", "hostname"];

/// Condition functions that look at every element of `result`.
const WHOLE_RESULT: &[&str] =
    &["all(", "any(", "none(", "one(", "filter(", "map(", "len(", "count(", "sum(", "max(", "min("];

fn check(cx: &mut Cx<'_>) {
    for metric in metrics(cx.obj.spec()) {
        let conditions: Vec<_> =
            ["successCondition", "failureCondition"].iter().filter_map(|f| metric.get_set(f)).collect();
        let texts: Vec<&str> = conditions.iter().filter_map(|c| c.text()).collect();
        let Some(first) =
            conditions.iter().find(|c| c.text().is_some_and(|t| t.replace(' ', "").contains("result[0]")))
        else {
            continue;
        };
        if texts.iter().any(|t| WHOLE_RESULT.iter().any(|f| t.contains(f))) {
            continue;
        }
        let Some(query_node) = metric.path(&["provider", "prometheus", "query"]) else { continue };
        let Some(query) = query_node.text() else { continue };
        let toks = tokens(query);
        let (at, what) = match shape(query) {
            // A selector pinned to one pod or target (`instance="a:80"`) is one series.
            Shape::PerSeries(i) if pinned(query, &toks, i) => continue,
            Shape::PerSeries(i) => {
                (i, "is not aggregated, so it returns one series per pod, instance or label set".to_string())
            }
            Shape::Grouped(labels, i) if labels.iter().any(|l| PER_INSTANCE.contains(&l.as_str())) => {
                (i, format!("groups by ({}), so it returns one series per value", labels.join(", ")))
            }
            _ => continue,
        };
        let Some(token) = toks.get(at) else { continue };
        let name = metric.get_str("name").unwrap_or("?");
        let (file, condition_span) = (cx.obj.file, first.span());
        cx.report_span(
            query_node.value_span(token.range.clone()),
            format!("the query of metric `{name}` {what}, and the condition reads `result[0]`: it judges one arbitrary series and ignores the others"),
        )
        .help("aggregate to one series, e.g. `sum(rate(...))` or `sum by (service) (...)` with the service pinned by a matcher; per-pod series are also the costliest queries of a busy namespace")
        .related(file, condition_span, "reads only the first series");
    }
}

/// Whether the matchers after the selector at `i` fix a per-instance label with `=`.
fn pinned(query: &str, toks: &[crate::lang::promql::Token<'_>], i: usize) -> bool {
    let matchers = match toks.get(i).map(|t| &t.tok) {
        Some(crate::lang::promql::Tok::Matchers) => &toks[i],
        _ => match toks.get(i + 1) {
            Some(t) if t.tok == crate::lang::promql::Tok::Matchers => t,
            _ => return false,
        },
    };
    let text = &query[matchers.range.clone()];
    PER_INSTANCE.iter().any(|label| {
        text.match_indices(label).any(|(at, _)| {
            let before = text[..at].trim_end();
            let after = text[at + label.len()..].trim_start();
            (before.ends_with('{') || before.ends_with(',')) && after.starts_with('=') && !after.starts_with("=~")
        })
    })
}

#[cfg(test)]
mod tests {
    use crate::lint::{Options, lint_files};
    use crate::load::load_bytes;
    use crate::source::FileId;

    fn found(condition: &str, query: &str) -> Vec<String> {
        let text = format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata:\n  name: t\nspec:\n  metrics:\n    - name: m\n      successCondition: '{condition}'\n      provider:\n        prometheus:\n          query: '{}'\n",
            query.replace('\'', "''")
        );
        let out = lint_files(vec![load_bytes(FileId(0), "t.yaml".into(), text.into_bytes())], &Options::default());
        out.diagnostics.iter().filter(|d| d.rule == "promql-unaggregated").map(|d| d.message.clone()).collect()
    }

    #[test]
    fn per_series_queries_read_at_result_0() {
        let f = found("result[0] < 5", r#"rate(http_requests_total{job="a", code=~"5.."}[1m])"#);
        assert!(f.len() == 1 && f[0].contains("not aggregated"), "{f:?}");
        let f =
            found("result[0] < 0.5", "sum by (pod) (rate(errors_total[5m])) / sum by (pod) (rate(requests_total[5m]))");
        assert!(f.len() == 1 && f[0].contains("groups by (pod)"), "{f:?}");
    }

    #[test]
    fn aggregated_or_judged_whole() {
        let q = "sum(rate(errors_total[5m])) / sum(rate(requests_total[5m]))";
        assert!(found("result[0] < 0.05", q).is_empty());
        assert!(found("all(result, {# < 5})", "rate(errors_total[1m])").is_empty());
        assert!(found("result[0] < 5", "sum by (service) (rate(errors_total{service=\"a\"}[1m]))").is_empty());
        assert!(found("result[0] < 5", "histogram_quantile(0.9, sum(rate(x_bucket[5m])) by (le))").is_empty());
        assert!(found("result[0] < 5", "job:errors:ratio_rate5m{service=\"a\"}").is_empty());
        assert!(found("result[0] < 5", "exceptions_total{instance=\"a:80\"}").is_empty());
        assert!(found("result[0] == 0", "rate(errors_total[1m]) > 5 or on() vector(0)").is_empty());
    }
}
