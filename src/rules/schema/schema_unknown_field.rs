use crate::diagnostic::Severity;
use crate::rules::{Check, Cx, Rule};
use crate::schema::{FindingKind, validate, validate_both};

pub const RULE: Rule = Rule {
    id: "schema-unknown-field",
    severity: Severity::Error,
    summary: "a field the kind's schema does not define: the API server drops it silently",
    kinds: &["*"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/schema-unknown-field.md"),
};

fn check(cx: &mut Cx<'_>) {
    report(cx, FindingKind::UnknownField);
}

/// Validates the object against its kind's schema, if there is one, and reports the findings
/// of one kind (this rule's, or `schema-violation`'s). When both rules are on, the first to ask
/// walks the object once for both.
pub(super) fn report(cx: &mut Cx<'_>, kind: FindingKind) {
    let Some(schema) = cx.schemas.get(&cx.obj.api_version, &cx.obj.kind) else { return };
    let root = cx.obj.root();
    let both = cx.enabled("schema-unknown-field") && cx.enabled("schema-violation");
    let shared = cx.shared;
    let found =
        shared.schema.get_or_init(|| if both { validate_both(schema, root) } else { validate(schema, root, kind) });
    for f in found.iter().filter(|f| f.kind == kind) {
        let d = cx.report_span(f.span, f.message.clone());
        if let Some(help) = &f.help {
            d.help(help.clone());
        }
        if let Some(s) = &f.suggestion {
            d.suggest(s.clone());
        }
    }
}
