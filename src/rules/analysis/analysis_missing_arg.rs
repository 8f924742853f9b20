use std::collections::HashSet;

use crate::diagnostic::Severity;
use crate::index::Object;
use crate::refs::{analysis_template_nodes, rollout_analyses};
use crate::rules::{Check, IndexCx, Rule};
use crate::yaml::NodeRef;

pub const RULE: Rule = Rule {
    id: "analysis-missing-arg",
    severity: Severity::Error,
    summary: "an analysis reference does not pass an argument that its template requires",
    kinds: &["Rollout"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/analysis-missing-arg.md"),
};

/// How deep nested `spec.templates` references are followed (the controller has no cycle check).
const MAX_NESTING: usize = 8;

fn check(cx: &mut IndexCx<'_>) {
    for (what, analysis) in rollout_analyses(cx.obj.spec()) {
        let refs = analysis_template_nodes(analysis);
        let mut templates: Vec<&Object> = Vec::new();
        for r in &refs {
            collect_templates(cx, *r, &mut templates, 0);
        }
        if templates.is_empty() {
            continue;
        }
        let passed: HashSet<&str> =
            analysis.get("args").into_iter().flat_map(|a| a.items()).filter_map(|a| a.get_str("name")).collect();
        let defaulted: HashSet<&str> = templates
            .iter()
            .flat_map(|t| declared_args(t))
            .filter(|a| a.get_set("value").is_some() || a.get_set("valueFrom").is_some())
            .filter_map(|a| a.get_str("name"))
            .collect();
        let mut reported = HashSet::new();
        for template in &templates {
            for arg in declared_args(template) {
                let Some(name) = arg.get_str("name") else { continue };
                if passed.contains(name) || defaulted.contains(name) || !reported.insert(name) {
                    continue;
                }
                let at = analysis
                    .entry("args")
                    .map(|(k, _)| k)
                    .or_else(|| analysis.entry("templates").map(|(k, _)| k))
                    .unwrap_or(analysis);
                let (tfile, tspan) = (template.file, arg.span());
                cx.report(at, format!("{} `{}` requires arg `{name}`, which this {what} does not pass", template.kind, template.name))
                    .label(format!("`{name}` missing"))
                    .help(format!("add `- name: {name}` with a `value` (or `valueFrom`) to this analysis's `args`; the AnalysisRun fails with \"args.{name} was not resolved\" otherwise"))
                    .related(tfile, tspan, "declared here without a default");
            }
        }
    }
}

fn declared_args<'a>(template: &'a Object) -> impl Iterator<Item = NodeRef<'a>> + 'a {
    template.get(&["spec", "args"]).into_iter().flat_map(|a| a.items())
}

/// The templates a reference brings in, following nested `spec.templates`.
fn collect_templates<'a>(cx: &IndexCx<'a>, reference: NodeRef<'_>, out: &mut Vec<&'a Object>, depth: usize) {
    let Some(template) = crate::rules::analysis::read::resolve_template(cx.index, cx.obj, reference) else { return };
    if out.iter().any(|t| t.id == template.id) {
        return;
    }
    out.push(template);
    if depth < MAX_NESTING {
        for nested in template.get(&["spec", "templates"]).into_iter().flat_map(|t| t.items()) {
            collect_templates(cx, nested, out, depth + 1);
        }
    }
}
