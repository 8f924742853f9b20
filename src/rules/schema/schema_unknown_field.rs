use crate::diagnostic::Severity;
use crate::rules::{Check, Cx, Rule};
use crate::schema::{Finding, FindingKind, validate, validate_both};

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

type Object = (usize, u32);

thread_local! {
    /// `schema-violation`'s findings on the object this rule just walked.
    static VIOLATIONS: std::cell::Cell<Option<(Object, Vec<Finding>)>> = const { std::cell::Cell::new(None) };
}

/// Validates the object against its kind's schema, if there is one, and reports the findings
/// of one kind (this rule's, or `schema-violation`'s). When both rules are on, the object is
/// walked once: this rule runs first and keeps `schema-violation`'s findings for it.
pub(super) fn report(cx: &mut Cx<'_>, kind: FindingKind) {
    let Some(schema) = cx.schemas.get(&cx.obj.api_version, &cx.obj.kind) else { return };
    let object = (std::sync::Arc::as_ptr(&cx.obj.doc) as usize, cx.obj.node.0);
    let findings = match kind {
        FindingKind::UnknownField if cx.enabled("schema-violation") => {
            let (mine, theirs) =
                validate_both(schema, cx.obj.root()).into_iter().partition(|f| f.kind == FindingKind::UnknownField);
            VIOLATIONS.set(Some((object, theirs)));
            mine
        }
        FindingKind::Violation => match VIOLATIONS.take() {
            Some((of, found)) if of == object => found,
            _ => validate(schema, cx.obj.root(), kind),
        },
        _ => validate(schema, cx.obj.root(), kind),
    };
    for f in findings {
        let d = cx.report_span(f.span, f.message);
        if let Some(help) = f.help {
            d.help(help);
        }
        if let Some(s) = f.suggestion {
            d.suggest(s);
        }
    }
}
