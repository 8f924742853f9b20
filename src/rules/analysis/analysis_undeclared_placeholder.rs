use crate::diagnostic::{Severity, did_you_mean};
use crate::rules::analysis::read::placeholders;
use crate::rules::{Check, Cx, Rule};

pub const RULE: Rule = Rule {
    id: "analysis-undeclared-placeholder",
    severity: Severity::Error,
    summary: "a `{{args.x}}` placeholder whose arg no template declares, or a `{{templates...}}` placeholder that cannot resolve",
    kinds: &["AnalysisTemplate", "ClusterAnalysisTemplate", "AnalysisRun", "Experiment"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/analysis-undeclared-placeholder.md"),
};

fn check(cx: &mut Cx<'_>) {
    let Some(spec) = cx.obj.spec() else { return };
    if cx.obj.kind == "Experiment" {
        let templates: Vec<&str> =
            spec.get("templates").into_iter().flat_map(|t| t.items()).filter_map(|t| t.get_str("name")).collect();
        let mut found = Vec::new();
        for analysis in spec.get("analyses").into_iter().flat_map(|a| a.items()) {
            placeholders(analysis.get("args"), &mut found, 0);
        }
        for (node, range, tag) in found {
            let Some(rest) = tag.strip_prefix("templates.") else { continue };
            let name = rest.split('.').next().unwrap_or("");
            if !templates.contains(&name) {
                let close = did_you_mean(name, templates.iter().copied());
                let d = cx.report_span(
                    node.value_span(range),
                    format!("`{{{{{tag}}}}}` names template `{name}`, which this Experiment does not have"),
                );
                match close {
                    Some(c) => d.help(format!("did you mean `{c}`?")),
                    None => d.help(format!("use one of the templates: {}", templates.join(", "))),
                };
            }
        }
        return;
    }
    let declared: Vec<&str> =
        spec.get("args").into_iter().flat_map(|a| a.items()).filter_map(|a| a.get_str("name")).collect();
    let mut found = Vec::new();
    placeholders(spec.get("metrics"), &mut found, 0);
    for (node, range, tag) in found {
        let span = node.value_span(range);
        match tag.strip_prefix("args.") {
            Some(arg) if declared.contains(&arg) => {}
            Some(arg) => {
                let close = did_you_mean(arg, declared.iter().copied());
                let d = cx.report_span(span, format!("`{{{{{tag}}}}}` uses arg `{arg}`, which this template does not declare: the analysis run fails (\"failed to resolve {{{{{tag}}}}}\")"));
                match close {
                    Some(c) => d.help(format!("did you mean `{c}`?")),
                    None => d.help(format!("declare it under `spec.args` (`- name: {arg}`), or fix the name")),
                };
            }
            None => {
                cx.report_span(span, format!("`{{{{{tag}}}}}` is not an arg placeholder: an analysis template can only substitute `{{{{args.<name>}}}}`, so the run fails"))
                    .help("use `{{args.<name>}}` with a declared arg; write a literal `{{` some other way (the controller renders every `{{ }}`)");
            }
        }
    }
}
