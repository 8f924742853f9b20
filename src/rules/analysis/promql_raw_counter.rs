use crate::diagnostic::Severity;
use crate::lang::promql::{Tok, contexts, tokens};
use crate::rules::analysis::read::metrics;
use crate::rules::{Check, Cx, Rule};

pub const RULE: Rule = Rule {
    id: "promql-raw-counter",
    severity: Severity::Warning,
    summary: "a Prometheus query that reads a counter (`*_total`, `*_count`, `*_sum`, `*_bucket`) without `rate`, `irate`, `increase` or `delta`",
    kinds: &["AnalysisTemplate", "ClusterAnalysisTemplate"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/promql-raw-counter.md"),
};

/// Names that are counters by Prometheus convention (histograms and summaries included).
const COUNTER_SUFFIXES: &[&str] = &["_total", "_count", "_sum", "_bucket"];

/// Functions whose result does not depend on the counter's absolute value: rates and
/// differences, and what counts series rather than reading their values.
const VALUE_FREE: &[&str] = &[
    "rate",
    "irate",
    "increase",
    "delta",
    "idelta",
    "deriv",
    "resets",
    "changes",
    "count",
    "count_values",
    "group",
    "absent",
    "absent_over_time",
    "present_over_time",
    "count_over_time",
    "timestamp",
];

fn check(cx: &mut Cx<'_>) {
    for metric in metrics(cx.obj.spec()) {
        let Some(query_node) = metric.path(&["provider", "prometheus", "query"]) else { continue };
        let Some(query) = query_node.text() else { continue };
        let toks = tokens(query);
        // `x_total - x_total offset 1h` is an increase written by hand.
        if toks.iter().any(|t| t.tok == Tok::Ident("offset")) {
            continue;
        }
        let ctx = contexts(&toks);
        let raw = toks.iter().enumerate().find(|&(i, t)| {
            let Tok::Ident(name) = t.tok else { return false };
            if !COUNTER_SUFFIXES.iter().any(|s| name.ends_with(s) && name.len() > s.len()) || name.contains(':') {
                return false;
            }
            let next = toks.get(i + 1);
            // A function call, part of a name built from a placeholder, or a label name.
            let glued = |t: Option<&crate::lang::promql::Token<'_>>| {
                t.is_some_and(|t| {
                    t.tok == Tok::Placeholder
                        && (t.range.end == toks[i].range.start || t.range.start == toks[i].range.end)
                })
            };
            if next.is_some_and(|n| n.tok == Tok::Op("(")) || glued(next) || glued(i.checked_sub(1).map(|p| &toks[p])) {
                return false;
            }
            if ctx[i].in_labels || ctx[i].functions.iter().any(|f| VALUE_FREE.contains(f)) {
                return false;
            }
            // A range selector goes to a range function: `*_over_time` of a counter aside, a rate.
            let after = if next.is_some_and(|n| n.tok == Tok::Matchers) { toks.get(i + 2) } else { next };
            !after.is_some_and(|a| matches!(a.tok, Tok::Range(_)))
        });
        let Some((_, token)) = raw else { continue };
        let Tok::Ident(counter) = token.tok else { continue };
        let name = metric.get_str("name").unwrap_or("?");
        cx.report_span(
            query_node.value_span(token.range.clone()),
            format!("the query of metric `{name}` reads the counter `{counter}` raw: a counter only grows from the process's start, so the condition is decided by uptime and history, not by the canary"),
        )
        .help(format!("take its rate over a window, e.g. `sum(rate({counter}{{...}}[5m]))`, or `increase(...)` for a count per window"));
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::{Options, lint_files};
    use crate::load::load_bytes;
    use crate::source::FileId;

    fn found(query: &str) -> Vec<String> {
        let text = format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata:\n  name: t\nspec:\n  metrics:\n    - name: m\n      successCondition: result[0] < 1\n      provider:\n        prometheus:\n          query: '{}'\n",
            query.replace('\'', "''")
        );
        let out = lint_files(vec![load_bytes(FileId(0), "t.yaml".into(), text.into_bytes())], &Options::default());
        out.diagnostics.iter().filter(|d| d.rule == "promql-raw-counter").map(|d| d.message.clone()).collect()
    }

    #[test]
    fn raw_counters() {
        for q in [
            r#"sum(http_requests_total{code=~"5.."})"#,
            r#"exceptions_total{instance="a:80"}"#,
            "sum(errors_total) / sum(requests_total)",
            "max(latency_seconds_sum) by (pod)",
        ] {
            assert_eq!(found(q).len(), 1, "{q}");
        }
        assert!(found("sum(http_requests_total)")[0].contains("`http_requests_total`"));
    }

    #[test]
    fn rates_counts_and_other_names() {
        for q in [
            "sum(rate(http_requests_total[5m]))",
            "histogram_quantile(0.9, sum by (le) (rate(latency_bucket[5m])))",
            "sum(increase(restarts_total{pod=~\"a.*\"}[10m]))",
            "count(ready_check_total{job=\"a\"})",
            "requests_total - requests_total offset 1h",
            "sum(up) by (pod_total)",
            "rate(sum(a_total)[5m:1m])",
            "sum({{args.metric}}_total)",
            "job:requests_total:rate5m",
            "sum(nginx_ingress_controller_requests)",
            "histogram_count(rate(x[5m]))",
        ] {
            assert!(found(q).is_empty(), "{q}: {:?}", found(q));
        }
    }
}
