//! A reference with two different definitions equally near it, so nothing says which one is
//! applied with the referrer.

use crate::diagnostic::Severity;
use crate::rules::{Check, IndexCx, Rule};
use crate::yaml::{MAX_DEPTH, to_json};

pub const RULE: Rule = Rule {
    id: "ambiguous-reference",
    severity: Severity::Warning,
    summary: "a reference with two different definitions equally near it: which one is applied with it?",
    kinds: &["*"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/ambiguous-reference.md"),
};

fn check(cx: &mut IndexCx<'_>) {
    let (index, obj) = (cx.index, cx.obj);
    for r in index.references_of(obj) {
        let namespace = index.target_namespace(obj, r);
        if index.all(r.kind, namespace, &r.name).nth(1).is_none() {
            continue;
        }
        let nearest = index.nearest(obj, r.kind, namespace, &r.name);
        let [first, rest @ ..] = nearest.as_slice() else { continue };
        // Definitions applied together are `duplicate-object`; identical copies are harmless.
        let differing: Vec<_> = rest
            .iter()
            .filter(|o| {
                !index.together(first, o)
                    && to_json(o.root(), MAX_DEPTH as u32) != to_json(first.root(), MAX_DEPTH as u32)
            })
            .collect();
        if differing.is_empty() || first.file == obj.file {
            continue;
        }
        let d = cx.report(
            obj.doc.node(r.at),
            format!(
                "{} `{}` has {} different definitions equally near this {}",
                r.kind,
                r.name,
                differing.len() + 1,
                obj.kind
            ),
        );
        d.label(format!("{} could mean any of them", r.role))
            .help("keep the definition that is applied with this object in its folder (or one inside it), or lint the apps one by one");
        d.related(first.file, first.name_node().span(), "one definition");
        for o in differing {
            d.related(o.file, o.name_node().span(), "another definition");
        }
    }
}
