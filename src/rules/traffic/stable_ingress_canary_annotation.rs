use crate::diagnostic::Severity;
use crate::rules::{Check, IndexCx, Rule};

pub const RULE: Rule = Rule {
    id: "stable-ingress-canary-annotation",
    severity: Severity::Error,
    summary: "the Ingress a Rollout names as nginx `stableIngress` is itself marked `canary: \"true\"`",
    kinds: &["Ingress"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/stable-ingress-canary-annotation.md"),
};

/// The controller's default `trafficRouting.nginx.annotationPrefix`.
const DEFAULT_PREFIX: &str = "nginx.ingress.kubernetes.io";

fn check(cx: &mut IndexCx<'_>) {
    let (index, ingress) = (cx.index, cx.obj);
    if ingress.external {
        return;
    }
    let Some(annotations) = ingress.get(&["metadata", "annotations"]) else { return };
    for (rollout, reference) in index.referrers_of(ingress) {
        if rollout.kind != "Rollout" || reference.role != "stableIngress" {
            continue;
        }
        let nginx = rollout.get(&["spec", "strategy", "canary", "trafficRouting", "nginx"]);
        let prefix =
            nginx.and_then(|n| n.get_str("annotationPrefix")).filter(|p| !p.is_empty()).unwrap_or(DEFAULT_PREFIX);
        let key = format!("{prefix}/canary");
        let Some((_, value)) = annotations.entry(&key) else { continue };
        // ingress-nginx reads it with strconv.ParseBool.
        if !value.as_str().is_some_and(|v| matches!(v, "1" | "t" | "T" | "TRUE" | "true" | "True")) {
            continue;
        }
        let (file, span) = (rollout.file, rollout.doc.node(reference.at).span());
        cx.report(
            value,
            format!("Ingress `{}` is the stable Ingress of Rollout `{}` but is marked `{key}: \"true\"`: ingress-nginx treats it as a canary, so the host has no main Ingress for the canary Ingress the controller creates, and the weights are not applied as set", ingress.name, rollout.name),
        )
        .help("remove the canary annotations from the stable Ingress: the controller creates the canary Ingress (`<rollout>-<ingress>-canary`) with them itself")
        .related(file, span, "named as stableIngress here");
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::{Options, lint_files};
    use crate::load::load_bytes;
    use crate::source::FileId;

    fn found(annotations: &str, prefix: &str) -> Vec<String> {
        let text = format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: shop\nspec:\n  selector:\n    matchLabels:\n      app: shop\n  template:\n    metadata:\n      labels:\n        app: shop\n    spec:\n      containers:\n        - name: shop\n          image: shop:1\n  strategy:\n    canary:\n      stableService: shop-stable\n      canaryService: shop-canary\n      trafficRouting:\n        nginx:\n          stableIngress: shop\n{prefix}      steps:\n        - setWeight: 10\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: shop\n  annotations:\n{annotations}spec:\n  rules:\n    - http:\n        paths:\n          - path: /\n            pathType: Prefix\n            backend:\n              service:\n                name: shop-stable\n                port:\n                  number: 80\n"
        );
        let out = lint_files(vec![load_bytes(FileId(0), "t.yaml".into(), text.into_bytes())], &Options::default());
        out.diagnostics
            .iter()
            .filter(|d| d.rule == "stable-ingress-canary-annotation")
            .map(|d| d.message.clone())
            .collect()
    }

    #[test]
    fn canary_marked_stable_ingress() {
        assert_eq!(found("    nginx.ingress.kubernetes.io/canary: \"true\"\n", "").len(), 1);
        assert!(found("    nginx.ingress.kubernetes.io/canary: \"false\"\n", "").is_empty());
        assert!(found("    nginx.ingress.kubernetes.io/ssl-redirect: \"true\"\n", "").is_empty());
        let custom = "          annotationPrefix: custom.nginx.org\n";
        assert_eq!(found("    custom.nginx.org/canary: \"True\"\n", custom).len(), 1);
        assert!(found("    nginx.ingress.kubernetes.io/canary: \"true\"\n", custom).is_empty());
    }
}
