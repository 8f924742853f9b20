use crate::diagnostic::Severity;
use crate::rules::{Check, Cx, Rule};

pub const RULE: Rule = Rule {
    id: "bluegreen-unguarded-auto-promotion",
    severity: Severity::Info,
    summary: "blue-green auto-promotion (the default) with no `prePromotionAnalysis`",
    kinds: &["Rollout"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/bluegreen-unguarded-auto-promotion.md"),
};

fn check(cx: &mut Cx<'_>) {
    let Some(strategy) = cx.obj.get(&["spec", "strategy"]) else { return };
    let Some((bg_key, bg)) = strategy.entry("blueGreen").filter(|(_, v)| v.is_map()) else { return };
    if bg.get_set("prePromotionAnalysis").is_some() {
        return;
    }
    let at = match bg.get("autoPromotionEnabled") {
        Some(v) if v.as_bool() == Some(false) => return,
        Some(v) => v,
        None => bg_key,
    };
    cx.report(at, "the new version is promoted to all traffic automatically, with no analysis before the switch")
        .help("add a `prePromotionAnalysis` that checks the preview Service, or set `autoPromotionEnabled: false` and promote by hand");
}
