use std::collections::HashSet;

use crate::diagnostic::{Severity, did_you_mean};
use crate::refs::{analysis_template_nodes, rollout_analyses};
use crate::rules::{Check, IndexCx, Rule};

pub const RULE: Rule = Rule {
    id: "analysis-unknown-arg",
    severity: Severity::Warning,
    summary: "an analysis passes an arg that none of its templates declares",
    kinds: &["Rollout"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/analysis-unknown-arg.md"),
};

fn check(cx: &mut IndexCx<'_>) {
    let index = cx.index;
    for (what, analysis) in rollout_analyses(cx.obj.spec()) {
        let mut declared: HashSet<&str> = HashSet::new();
        for t in analysis_template_nodes(analysis) {
            let found = crate::rules::analysis::read::resolve_template(index, cx.obj, t);
            // An unresolved or nested template could declare anything: stay quiet.
            let Some(template) = found.filter(|t| t.get(&["spec", "templates"]).is_none()) else { return };
            declared.extend(
                template.get(&["spec", "args"]).into_iter().flat_map(|a| a.items()).filter_map(|a| a.get_str("name")),
            );
        }
        for arg in analysis.get("args").into_iter().flat_map(|a| a.items()) {
            let Some(name_node) = arg.get("name") else { continue };
            let Some(name) = name_node.as_str() else { continue };
            if declared.contains(name) {
                continue;
            }
            let d = cx.report(
                name_node,
                format!("arg `{name}` is passed to this {what} but no template declares it; it is ignored"),
            );
            match did_you_mean(name, declared.iter().copied()) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help("remove it, or declare it in the template's `spec.args`"),
            };
        }
    }
}
