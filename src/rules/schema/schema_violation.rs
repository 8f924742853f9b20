use crate::diagnostic::Severity;
use crate::rules::{Check, Cx, Rule};
use crate::schema::FindingKind;

pub const RULE: Rule = Rule {
    id: "schema-violation",
    severity: Severity::Error,
    summary: "a value of the wrong type, outside its enum, pattern or range, a missing required field, or a value the API server refuses (quantity, name, host, port)",
    kinds: &["*"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/schema-violation.md"),
};

fn check(cx: &mut Cx<'_>) {
    super::schema_unknown_field::report(cx, FindingKind::Violation);
    let target = cx.kube_version();
    for refusal in crate::rules::schema::apiserver::check(&cx.obj.kind, cx.obj.root(), target) {
        cx.report(refusal.at, refusal.message).help(refusal.help);
    }
}
