use crate::diagnostic::Severity;
use crate::rules::{Check, Cx, Rule};

pub const RULE: Rule = Rule {
    id: "rollout-strategy",
    severity: Severity::Error,
    summary: "a Rollout must set exactly one of `strategy.canary` and `strategy.blueGreen`",
    kinds: &["Rollout"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/rollout-strategy.md"),
};

fn check(cx: &mut Cx<'_>) {
    let Some(spec) = cx.obj.spec() else { return };
    let Some((strategy_key, strategy)) = spec.entry("strategy") else {
        let at = cx.obj.root().entry("spec").map_or(spec, |(k, _)| k);
        cx.report(at, "Rollout has no `spec.strategy`")
            .label("strategy missing in this spec")
            .help("add `strategy: {canary: {steps: [...]}}` or `strategy: {blueGreen: {activeService: ...}}`");
        return;
    };
    let canary = strategy.entry("canary").filter(|(_, v)| !v.is_null());
    let blue_green = strategy.entry("blueGreen").filter(|(_, v)| !v.is_null());
    match (canary, blue_green) {
        (None, None) => {
            cx.report(strategy_key, "Rollout strategy sets neither `canary` nor `blueGreen`")
                .label("no canary or blueGreen under this key")
                .help("add `canary:` (progressive traffic shifting) or `blueGreen:` (switch all traffic at once); the controller rejects the Rollout otherwise");
        }
        (Some((canary_key, _)), Some((bg_key, _))) => {
            let second = if canary_key.span().start > bg_key.span().start { canary_key } else { bg_key };
            let first = if second.span() == canary_key.span() { bg_key } else { canary_key };
            let (file, first_span) = (cx.obj.file, first.span());
            cx.report(second, "Rollout strategy sets both `canary` and `blueGreen`; the controller rejects it (\"Multiple Strategies can not be listed\")")
                .label("second strategy")
                .help("keep one strategy and delete the other")
                .related(file, first_span, "first strategy here");
        }
        _ => {}
    }
}
