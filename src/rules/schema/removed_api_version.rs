use crate::diagnostic::Severity;
use crate::rules::{Check, Cx, Rule};
use crate::settings::KubeVersion;

pub const RULE: Rule = Rule {
    id: "removed-api-version",
    severity: Severity::Error,
    summary: "an apiVersion the target Kubernetes version no longer serves (or, as a warning, has deprecated)",
    kinds: &["*"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/removed-api-version.md"),
};

/// A served-then-retired API version of a kind: deprecated in `deprecated`, no longer served
/// from `removed`, and what to use instead.
struct Retired {
    api_version: &'static str,
    kind: &'static str,
    deprecated: u32,
    removed: u32,
    replacement: Option<&'static str>,
}

const fn r(
    api_version: &'static str,
    kind: &'static str,
    deprecated: u32,
    removed: u32,
    replacement: Option<&'static str>,
) -> Retired {
    Retired { api_version, kind, deprecated, removed, replacement }
}

/// Kubernetes 1.x minor versions, from the API types' lifecycle (`prerelease-lifecycle-gen`
/// tags of k8s.io/api, which the API server uses for its deprecation warnings) and the
/// deprecated API migration guide. Alpha versions are left out: they are off by default.
const RETIRED: &[Retired] = &[
    r("extensions/v1beta1", "Deployment", 8, 16, Some("apps/v1")),
    r("extensions/v1beta1", "DaemonSet", 8, 16, Some("apps/v1")),
    r("extensions/v1beta1", "ReplicaSet", 8, 16, Some("apps/v1")),
    r("extensions/v1beta1", "NetworkPolicy", 9, 16, Some("networking.k8s.io/v1")),
    r("extensions/v1beta1", "PodSecurityPolicy", 10, 16, Some("policy/v1beta1")),
    r("extensions/v1beta1", "Ingress", 14, 22, Some("networking.k8s.io/v1")),
    r("apps/v1beta1", "Deployment", 8, 16, Some("apps/v1")),
    r("apps/v1beta1", "StatefulSet", 8, 16, Some("apps/v1")),
    r("apps/v1beta2", "Deployment", 9, 16, Some("apps/v1")),
    r("apps/v1beta2", "DaemonSet", 9, 16, Some("apps/v1")),
    r("apps/v1beta2", "ReplicaSet", 9, 16, Some("apps/v1")),
    r("apps/v1beta2", "StatefulSet", 9, 16, Some("apps/v1")),
    r("networking.k8s.io/v1beta1", "Ingress", 19, 22, Some("networking.k8s.io/v1")),
    r("networking.k8s.io/v1beta1", "IngressClass", 19, 22, Some("networking.k8s.io/v1")),
    r(
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration",
        16,
        22,
        Some("admissionregistration.k8s.io/v1"),
    ),
    r(
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
        16,
        22,
        Some("admissionregistration.k8s.io/v1"),
    ),
    r("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", 16, 22, Some("apiextensions.k8s.io/v1")),
    r("apiregistration.k8s.io/v1beta1", "APIService", 19, 22, Some("apiregistration.k8s.io/v1")),
    r("certificates.k8s.io/v1beta1", "CertificateSigningRequest", 19, 22, Some("certificates.k8s.io/v1")),
    r("coordination.k8s.io/v1beta1", "Lease", 19, 22, Some("coordination.k8s.io/v1")),
    r("rbac.authorization.k8s.io/v1beta1", "ClusterRole", 17, 22, Some("rbac.authorization.k8s.io/v1")),
    r("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding", 17, 22, Some("rbac.authorization.k8s.io/v1")),
    r("rbac.authorization.k8s.io/v1beta1", "Role", 17, 22, Some("rbac.authorization.k8s.io/v1")),
    r("rbac.authorization.k8s.io/v1beta1", "RoleBinding", 17, 22, Some("rbac.authorization.k8s.io/v1")),
    r("scheduling.k8s.io/v1beta1", "PriorityClass", 14, 22, Some("scheduling.k8s.io/v1")),
    r("storage.k8s.io/v1beta1", "CSIDriver", 19, 22, Some("storage.k8s.io/v1")),
    r("storage.k8s.io/v1beta1", "CSINode", 17, 22, Some("storage.k8s.io/v1")),
    r("storage.k8s.io/v1beta1", "StorageClass", 19, 22, Some("storage.k8s.io/v1")),
    r("storage.k8s.io/v1beta1", "VolumeAttachment", 19, 22, Some("storage.k8s.io/v1")),
    r("batch/v1beta1", "CronJob", 21, 25, Some("batch/v1")),
    r("discovery.k8s.io/v1beta1", "EndpointSlice", 21, 25, Some("discovery.k8s.io/v1")),
    r("events.k8s.io/v1beta1", "Event", 22, 25, Some("events.k8s.io/v1")),
    r("autoscaling/v2beta1", "HorizontalPodAutoscaler", 22, 25, Some("autoscaling/v2")),
    r("policy/v1beta1", "PodDisruptionBudget", 21, 25, Some("policy/v1")),
    r("policy/v1beta1", "PodSecurityPolicy", 21, 25, None),
    r("node.k8s.io/v1beta1", "RuntimeClass", 22, 25, Some("node.k8s.io/v1")),
    r("autoscaling/v2beta2", "HorizontalPodAutoscaler", 23, 26, Some("autoscaling/v2")),
    r("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", 23, 26, Some("flowcontrol.apiserver.k8s.io/v1beta3")),
    r(
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "PriorityLevelConfiguration",
        23,
        26,
        Some("flowcontrol.apiserver.k8s.io/v1beta3"),
    ),
    r("storage.k8s.io/v1beta1", "CSIStorageCapacity", 24, 27, Some("storage.k8s.io/v1")),
    r("flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema", 26, 29, Some("flowcontrol.apiserver.k8s.io/v1beta3")),
    r(
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "PriorityLevelConfiguration",
        26,
        29,
        Some("flowcontrol.apiserver.k8s.io/v1beta3"),
    ),
    r("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", 29, 32, Some("flowcontrol.apiserver.k8s.io/v1")),
    r(
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "PriorityLevelConfiguration",
        29,
        32,
        Some("flowcontrol.apiserver.k8s.io/v1"),
    ),
    r(
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingAdmissionPolicy",
        31,
        34,
        Some("admissionregistration.k8s.io/v1"),
    ),
    r(
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingAdmissionPolicyBinding",
        31,
        34,
        Some("admissionregistration.k8s.io/v1"),
    ),
    r("storage.k8s.io/v1beta1", "VolumeAttributesClass", 34, 37, Some("storage.k8s.io/v1")),
];

fn check(cx: &mut Cx<'_>) {
    let (api_version, kind) = (cx.obj.api_version.as_str(), cx.obj.kind.as_str());
    let Some(retired) = RETIRED.iter().find(|r| r.api_version == api_version && r.kind == kind) else { return };
    let target = cx.kube_version();
    let version = |minor| KubeVersion { major: 1, minor };
    let removed = version(retired.removed);
    let instead = match retired.replacement {
        Some(new) => format!("use `apiVersion: {new}`"),
        None => format!("{kind} has no replacement: remove it (Pod Security Admission took its place)"),
    };
    let Some(at) = cx.obj.root().get("apiVersion") else { return };
    if target >= removed {
        cx.report(at, format!("{api_version} {kind} is no longer served since Kubernetes {removed} (the target is {target}): the API server refuses the object"))
            .label(format!("removed in {removed}"))
            .help(format!("{instead}; the target version is set by `--kube-version` or `kube-version` in the config"));
    } else if target >= version(retired.deprecated) {
        let d = cx.report(at, format!("{api_version} {kind} is deprecated since Kubernetes {} and no longer served from {removed} (the target is {target})", version(retired.deprecated)));
        d.severity = d.severity.min(Severity::Warning);
        d.label(format!("removed in {removed}")).help(format!("{instead} before upgrading to {removed}"));
    }
}

#[cfg(test)]
mod tests {
    use super::RETIRED;

    #[test]
    fn each_api_version_and_kind_is_listed_once() {
        for (i, a) in RETIRED.iter().enumerate() {
            assert!(a.deprecated < a.removed, "{} {}", a.api_version, a.kind);
            assert!(!RETIRED[..i].iter().any(|b| b.api_version == a.api_version && b.kind == a.kind));
        }
    }
}
