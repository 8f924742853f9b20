//! The same kind, namespace and name defined twice among objects applied together.

use crate::diagnostic::Severity;
use crate::rules::{Check, IndexCx, Rule};

pub const RULE: Rule = Rule {
    id: "duplicate-object",
    severity: Severity::Error,
    summary: "the same kind, namespace and name defined twice among objects applied together",
    kinds: &["*"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/duplicate-object.md"),
};

fn check(cx: &mut IndexCx<'_>) {
    let (index, obj) = (cx.index, cx.obj);
    if obj.external || !obj.addressable || !index.may_have_namesake(obj) {
        return;
    }
    // Reported on the later definition, once, pointing at the first.
    let Some(first) = index
        .all(&obj.kind, obj.namespace.as_deref(), &obj.name)
        .filter(|o| o.id < obj.id && !o.external && !index.joins_every_unit(o) && index.applied_as_one(obj, o))
        .min_by_key(|o| o.id)
    else {
        return;
    };
    let where_ = match &obj.namespace {
        Some(ns) => format!(" in namespace `{ns}`"),
        None => String::new(),
    };
    let (file, span) = (first.file, first.name_node().span());
    cx.report(obj.name_node(), format!("{} `{}`{where_} is defined twice among the objects applied together", obj.kind, obj.name))
        .label("defined again here")
        .help("keep one definition: `kubectl apply` keeps whichever it applies last, and `kustomize build` refuses the duplicate; if the two belong to different apps, put them in folders that are not one inside the other")
        .related(file, span, "first defined here");
}
