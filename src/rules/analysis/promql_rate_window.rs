use crate::diagnostic::Severity;
use crate::lang::duration::parse_go_duration;
use crate::lang::promql::{Tok, parse_duration, tokens};
use crate::rules::analysis::read::metrics;
use crate::rules::{Check, Cx, Rule};

pub const RULE: Rule = Rule {
    id: "promql-rate-window",
    severity: Severity::Warning,
    summary: "a `rate`/`irate`/`increase` range shorter than the metric's `interval`: data between measurements is never looked at",
    kinds: &["AnalysisTemplate", "ClusterAnalysisTemplate"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/promql-rate-window.md"),
};

const RATE_FUNCTIONS: &[&str] = &["rate", "irate", "increase"];

fn check(cx: &mut Cx<'_>) {
    for metric in metrics(cx.obj.spec()) {
        let Some(interval_node) = metric.get_set("interval") else { continue };
        let Some(interval_text) = interval_node.as_str() else { continue };
        let Some(interval) = parse_go_duration(interval_text) else { continue };
        let Some(query_node) = metric.path(&["provider", "prometheus", "query"]) else { continue };
        let Some(query) = query_node.text() else { continue };
        let toks = tokens(query);
        for (i, token) in toks.iter().enumerate() {
            let Tok::Ident(function) = token.tok else { continue };
            if !RATE_FUNCTIONS.contains(&function) || toks.get(i + 1).map(|t| &t.tok) != Some(&Tok::Op("(")) {
                continue;
            }
            let mut depth = 0;
            for t in &toks[i + 1..] {
                match t.tok {
                    Tok::Op("(") => depth += 1,
                    Tok::Op(")") => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    Tok::Range(range) if depth == 1 => {
                        let window_text = range.split(':').next().unwrap_or("").trim();
                        let Some(window) = parse_duration(window_text) else { continue };
                        if window < interval {
                            let name = metric.get_str("name").unwrap_or("?");
                            let (index, related) = (cx.obj.file, interval_node.span());
                            cx.report_span(
                                query_node.value_span(t.range.clone()),
                                format!("`{function}` of metric `{name}` looks back {window_text} but the metric is measured every {interval_text}: what happens in between is never seen"),
                            )
                            .help(format!("use a range of at least the interval, e.g. `[{interval_text}]`"))
                            .related(index, related, "the measurement interval");
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}
