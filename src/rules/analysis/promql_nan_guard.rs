use crate::diagnostic::Severity;
use crate::lang::promql::{Tok, Token, tokens};
use crate::rules::analysis::read::metrics;
use crate::rules::{Check, Cx, Rule};

pub const RULE: Rule = Rule {
    id: "promql-nan-guard",
    severity: Severity::Warning,
    summary: "a Prometheus ratio query without a zero-traffic guard: at zero traffic it returns NaN or nothing",
    kinds: &["AnalysisTemplate", "ClusterAnalysisTemplate"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/promql-nan-guard.md"),
};

/// Functions and operators that decide what a query returns when its denominator is zero.
const QUERY_GUARDS: &[&str] = &["or", "unless", "clamp_min", "clamp", "absent", "absent_over_time"];
const COMPARISONS: &[&str] = &[">", "<", ">=", "<=", "==", "!="];

fn check(cx: &mut Cx<'_>) {
    for metric in metrics(cx.obj.spec()) {
        let Some(query_node) = metric.path(&["provider", "prometheus", "query"]) else { continue };
        let Some(query) = query_node.text() else { continue };
        let toks = tokens(query);
        let Some(division) = toks.iter().position(|t| t.tok == Tok::Op("/")).filter(|&i| divides_by_traffic(&toks, i))
        else {
            continue;
        };
        let after = &toks[division + 1..];
        let epsilon = after.windows(2).any(|w| w[0].tok == Tok::Op("+") && w[1].tok == Tok::Number);
        let guarded = epsilon
            || toks.iter().any(|t| match t.tok {
                Tok::Ident(word) => QUERY_GUARDS.contains(&word),
                Tok::Op(op) => COMPARISONS.contains(&op),
                _ => false,
            });
        let success = metric.get_str("successCondition").filter(|c| !c.trim().is_empty());
        let failure = metric.get_str("failureCondition").filter(|c| !c.trim().is_empty());
        // Guards in the conditions: NaN tested, no data tested, or a default value.
        let condition_guards = success
            .into_iter()
            .chain(failure)
            .any(|c| c.contains("isNaN") || c.contains("len(result)") || c.contains("default("));
        if guarded || condition_guards {
            continue;
        }
        // What the controller does with NaN (every comparison false) and with no data
        // (`result[0]` on an empty result is an evaluation error): utils/evaluate.EvaluateResult.
        let outcome = match (success.is_some(), failure.is_some()) {
            (true, false) => {
                "NaN fails the success condition, so the measurement fails; no data makes `result[0]` an error"
            }
            (false, true) => {
                "NaN makes the failure condition false, so the measurement counts as a success whatever the release does; no data makes `result[0]` an error"
            }
            (true, true) => {
                "NaN makes both conditions false, so the measurement is inconclusive and the rollout pauses; no data makes `result[0]` an error"
            }
            (false, false) => continue,
        };
        let name = metric.get_str("name").unwrap_or("?");
        cx.report_span(
            query_node.value_span(toks[division].range.clone()),
            format!("the query of metric `{name}` divides with no zero-traffic guard: with no requests it returns NaN (0/0) or no data; {outcome}"),
        )
        .help("guard the denominator, e.g. `/ clamp_min(sum(rate(...)), 1)`, add `or vector(1)` for the value zero traffic should count as, or handle it in the condition: `isNaN(result[0]) || result[0] >= 0.95`, `len(result) > 0 && ...`, `default(...)`");
    }
}

/// Whether the divisor after the `/` at `at` can be zero when there is no traffic: not a
/// number, `vector(n)`, `time()`, or a `count(...)`, which is never 0 (no series gives no result).
fn divides_by_traffic(toks: &[Token<'_>], at: usize) -> bool {
    let mut i = at + 1;
    loop {
        match toks.get(i).map(|t| &t.tok) {
            Some(Tok::Ident("bool" | "group_left" | "group_right")) => i += 1,
            Some(Tok::Ident("on" | "ignoring")) => {
                i += 1;
                if toks.get(i).map(|t| &t.tok) == Some(&Tok::Op("(")) {
                    while toks.get(i).is_some_and(|t| t.tok != Tok::Op(")")) {
                        i += 1;
                    }
                    i += 1;
                }
            }
            Some(Tok::Op("(")) => i += 1,
            Some(Tok::Number | Tok::Placeholder | Tok::Ident("vector" | "time" | "count")) | None => return false,
            Some(_) => return true,
        }
    }
}
