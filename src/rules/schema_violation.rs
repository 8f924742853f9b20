use super::{Cx, Rule};
use crate::diagnostic::Severity;
use crate::schema::{FindingKind, validate};

pub const RULE: Rule = Rule {
    id: "schema-violation",
    severity: Severity::Error,
    summary: "a value of the wrong type, outside its enum, pattern or range, or a missing required field",
    kinds: &["*"],
    check: Some(check),
    options: &[],
    doc: include_str!("../../rules/schema-violation.md"),
};

fn check(cx: &mut Cx<'_>) {
    let Some(schema) = cx.schemas.get(&cx.obj.api_version, &cx.obj.kind) else { return };
    for f in validate(schema, cx.obj.root(), FindingKind::Violation) {
        let d = cx.report_span(f.span, f.message);
        if let Some(help) = f.help {
            d.help(help);
        }
        if let Some(s) = f.suggestion {
            d.suggest(s);
        }
    }
}
