use super::{Check, IndexCx, Rule};
use crate::diagnostic::{Severity, did_you_mean};

pub const RULE: Rule = Rule {
    id: "unresolved-reference",
    severity: Severity::Error,
    summary: "a Service, Ingress, analysis template, VirtualService, DestinationRule or workload named by reference does not exist",
    kinds: &[
        "Rollout",
        "Ingress",
        "AnalysisTemplate",
        "ClusterAnalysisTemplate",
        "Experiment",
        "HorizontalPodAutoscaler",
    ],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../rules/unresolved-reference.md"),
};

fn check(cx: &mut IndexCx<'_>) {
    let (index, obj) = (cx.index, cx.obj);
    for r in index.references_of(cx.obj) {
        let namespace = index.target_namespace(cx.obj, r);
        // Defined only where it is not applied with this object (a sibling folder, another
        // unit): maybe applied with it some other way, so not an error; but not used either.
        if index.resolve(cx.obj, r).is_some() || index.all(r.kind, namespace, &r.name).next().is_some() {
            continue;
        }
        let names: Vec<&str> = index.of_kind(cx.obj, r.kind, namespace).map(|o| o.name.as_str()).collect();
        let suggestion = did_you_mean(&r.name, names.iter().copied());
        let where_ = match namespace {
            Some(ns) => format!(" in namespace `{ns}`"),
            None => String::new(),
        };
        let node = cx.obj.doc.node(r.at);
        let d = cx.report(node, format!("{} `{}` not found{where_}", r.kind, r.name));
        d.label(format!("{} names {} {} that the linted files do not define", r.role, article(r.kind), r.kind));
        match suggestion {
            Some(s) => {
                let target = index.get_near(obj, r.kind, namespace, s).expect("suggested from the index");
                if node.text() == Some(r.name.as_str()) {
                    d.suggest(s);
                }
                d.help(format!("did you mean `{s}`?")).related(
                    target.file,
                    target.name_node().span(),
                    format!("{} `{s}` is defined here", r.kind),
                );
            }
            None if r.kind == "AnalysisTemplate"
                && index.get_near(obj, "ClusterAnalysisTemplate", None, &r.name).is_some() =>
            {
                d.help("a ClusterAnalysisTemplate has this name: add `clusterScope: true` to the reference");
            }
            None => {
                d.help(format!(
                    "define the {} `{}`{where_}, fix the name, or lint it together with the files that define it",
                    r.kind, r.name
                ));
            }
        }
    }
}

fn article(kind: &str) -> &'static str {
    if kind.starts_with(['A', 'E', 'I', 'O', 'U']) { "an" } else { "a" }
}
