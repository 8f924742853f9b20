use crate::diagnostic::Severity;
use crate::rules::{Check, IndexCx, Rule};

pub const RULE: Rule = Rule {
    id: "helm-hook-rollout",
    severity: Severity::Warning,
    summary: "a Rollout, or a Service or Ingress a Rollout uses, is a Helm hook (`helm.sh/hook`): `helm upgrade` does not update it as a release object",
    kinds: &["Rollout", "Service", "Ingress"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/helm-hook-rollout.md"),
};

fn check(cx: &mut IndexCx<'_>) {
    let (index, obj) = (cx.index, cx.obj);
    if obj.external {
        return;
    }
    let Some(hook) = obj.get(&["metadata", "annotations", "helm.sh/hook"]) else { return };
    let Some(events) = hook.as_str().filter(|h| !h.trim().is_empty()) else { return };
    let consequence = if events.split(',').any(|e| e.trim().ends_with("-upgrade")) {
        "on each upgrade Helm deletes and recreates it (the default `before-hook-creation` policy) instead of updating it"
    } else {
        "`helm upgrade` never updates it"
    };
    if obj.kind == "Rollout" {
        cx.report(
            hook,
            format!("Rollout `{}` is a Helm hook (`{events}`): hook resources are not release objects, and {consequence}; a new version never goes through the canary or blue-green steps (a recreated Rollout deploys at once, as on first install)", obj.name),
        )
        .help("remove `helm.sh/hook` (and `helm.sh/hook-*`) so the Rollout is a release object that `helm upgrade` updates");
        return;
    }
    let Some((rollout, reference)) = index.referrers_of(obj).find(|(r, _)| r.kind == "Rollout") else { return };
    let (file, span) = (rollout.file, rollout.doc.node(reference.at).span());
    cx.report(
        hook,
        format!("{} `{}` is a Helm hook (`{events}`) and Rollout `{}` uses it as its {}: hook resources are not release objects, and {consequence}; changes to it never reach the cluster, or it disappears while the Rollout still needs it", obj.kind, obj.name, rollout.name, reference.role),
    )
    .help("remove `helm.sh/hook` so it is a release object, created and updated with the Rollout")
    .related(file, span, format!("{} of Rollout `{}`", reference.role, rollout.name));
}

#[cfg(test)]
mod tests {
    use crate::lint::{Options, lint_files};
    use crate::load::load_bytes;
    use crate::source::FileId;

    fn found(rollout_hook: &str, service_hook: &str) -> Vec<String> {
        let text = format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: shop\n{rollout_hook}spec:\n  selector:\n    matchLabels:\n      app: shop\n  template:\n    metadata:\n      labels:\n        app: shop\n    spec:\n      containers:\n        - name: shop\n          image: shop:1\n  strategy:\n    blueGreen:\n      activeService: shop\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: shop\n{service_hook}spec:\n  selector:\n    app: shop\n  ports:\n    - port: 80\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: unrelated\n  annotations:\n    helm.sh/hook: test\nspec:\n  ports:\n    - port: 80\n"
        );
        let out = lint_files(vec![load_bytes(FileId(0), "t.yaml".into(), text.into_bytes())], &Options::default());
        out.diagnostics.iter().filter(|d| d.rule == "helm-hook-rollout").map(|d| d.message.clone()).collect()
    }

    #[test]
    fn hooks_on_the_rollout_and_its_services() {
        let f = found("  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n", "");
        assert!(f.len() == 1 && f[0].contains("deletes and recreates"), "{f:?}");
        let f = found("", "  annotations:\n    helm.sh/hook: post-install\n");
        assert!(f.len() == 1 && f[0].contains("activeService") && f[0].contains("never updates"), "{f:?}");
        assert!(found("", "").is_empty());
    }
}
