use crate::diagnostic::Severity;
use crate::rules::analysis::read::placeholders;
use crate::rules::{Check, Cx, Rule};

pub const RULE: Rule = Rule {
    id: "analysis-unused-arg",
    severity: Severity::Info,
    summary: "an arg the template declares that no `{{args.x}}` placeholder of its metrics uses",
    kinds: &["AnalysisTemplate", "ClusterAnalysisTemplate"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/analysis-unused-arg.md"),
};

fn check(cx: &mut Cx<'_>) {
    let Some(spec) = cx.obj.spec() else { return };
    // Args of a template that includes others are merged with theirs: a nested template may use them.
    if spec.get_set("templates").is_some() {
        return;
    }
    let Some(metrics) = spec.get("metrics") else { return };
    // A plugin is handed the whole AnalysisRun, args included: it may read them directly.
    if crate::rules::analysis::read::metrics(Some(spec))
        .any(|m| crate::rules::analysis::read::provider_kind(m).as_deref() == Some("plugin"))
    {
        return;
    }
    let mut found = Vec::new();
    placeholders(Some(metrics), &mut found, 0);
    let used: Vec<&str> = found.iter().filter_map(|(_, _, tag)| tag.strip_prefix("args.")).map(str::trim).collect();
    // A placeholder that YAML did not read as a string (`key: {{args.x}}` unquoted is a flow
    // mapping) is still the author's use of the arg: look at the text too.
    let text = cx.obj.doc.source(metrics.span()).unwrap_or_default();
    for arg in spec.get("args").into_iter().flat_map(|a| a.items()) {
        let Some(name_node) = arg.get("name") else { continue };
        let Some(name) = name_node.as_str() else { continue };
        if used.contains(&name) || mentions(text, name) {
            continue;
        }
        cx.report(name_node, format!("arg `{name}` is declared but no metric uses `{{{{args.{name}}}}}`"))
            .help("use it where it narrows the measurement (often a label matcher such as `service=\"{{args.service-name}}\"`, without which the query judges stable and canary pods together), or remove it");
    }
}

/// Whether `text` has `args.<name>` not followed by more of a name.
fn mentions(text: &str, name: &str) -> bool {
    let needle = format!("args.{name}");
    text.match_indices(&needle).any(|(at, _)| {
        !text[at + needle.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

#[cfg(test)]
mod tests {
    use crate::lint::{Options, lint_files};
    use crate::load::load_bytes;
    use crate::source::FileId;

    fn found(spec: &str) -> Vec<String> {
        let text =
            format!("apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata:\n  name: t\nspec:\n{spec}");
        let out = lint_files(vec![load_bytes(FileId(0), "t.yaml".into(), text.into_bytes())], &Options::default());
        out.diagnostics.iter().filter(|d| d.rule == "analysis-unused-arg").map(|d| d.message.clone()).collect()
    }

    #[test]
    fn args_without_placeholders() {
        let f = found(
            "  args:\n    - name: service-name\n    - name: namespace\n  metrics:\n    - name: m\n      successCondition: result[0] > 0\n      provider:\n        prometheus:\n          query: sum(up{namespace=\"{{ args.namespace }}\"})\n",
        );
        assert_eq!(f, vec!["arg `service-name` is declared but no metric uses `{{args.service-name}}`"]);
        // A template that includes others may pass its args to them.
        let f = found("  args:\n    - name: a\n  templates:\n    - templateName: other\n  metrics: []\n");
        assert!(f.is_empty(), "{f:?}");
        // Unquoted, YAML reads the placeholder as a mapping with a mapping key: kubectl refuses
        // the document (`yaml-syntax`), so nothing of it is judged.
        let f = found(
            "  args:\n    - name: inj\n    - name: i\n  metrics:\n    - name: m\n      provider:\n        job:\n          spec:\n            template:\n              metadata:\n                annotations:\n                  inject: {{args.inj}}\n",
        );
        assert!(f.is_empty(), "{f:?}");
        let f = found(
            "  args:\n    - name: a\n  metrics:\n    - name: m\n      provider:\n        plugin:\n          acme/metric: {}\n",
        );
        assert!(f.is_empty(), "{f:?}");
    }
}
