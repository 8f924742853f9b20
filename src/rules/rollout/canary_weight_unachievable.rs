use crate::diagnostic::Severity;
use crate::rules::{Check, IndexCx, Rule};
use crate::yaml::NodeRef;

pub const RULE: Rule = Rule {
    id: "canary-weight-unachievable",
    severity: Severity::Warning,
    summary: "without traffic routing, a `setWeight` that the replica count cannot represent",
    kinds: &["Rollout"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/canary-weight-unachievable.md"),
};

fn check(cx: &mut IndexCx<'_>) {
    let (index, obj) = (cx.index, cx.obj);
    let Some(spec) = obj.spec() else { return };
    let Some(canary) = spec.path(&["strategy", "canary"]) else { return };
    if canary.get_set("trafficRouting").is_some() {
        return;
    }
    let replicas = match spec.get_set("replicas") {
        Some(r) => match r.as_i64() {
            Some(n) if n > 0 => n,
            _ => return,
        },
        // An HPA sets the count: it is not known statically.
        None if index.referrers_of(obj).any(|(o, _)| o.kind == "HorizontalPodAutoscaler") => return,
        None => 1,
    };
    let Some(max_surge) = resolve_max_surge(canary.get_set("maxSurge"), replicas) else { return };
    for (node, weight) in crate::rules::analysis::read::weight_steps(canary) {
        if weight <= 0 || weight >= 100 {
            continue;
        }
        let (canary_pods, stable_pods) = canary_stable_counts(replicas, weight, max_surge);
        let actual = canary_pods as f64 * 100.0 / (canary_pods + stable_pods) as f64;
        if (actual - weight as f64).abs() < 1.0 {
            continue;
        }
        cx.report(node, format!("with {replicas} replica(s) and no traffic routing, `setWeight: {weight}` runs {canary_pods} canary and {stable_pods} stable pod(s): the canary gets {actual:.0}% of traffic, not {weight}%"))
            .help("without traffic routing traffic splits by pod count: pick weights that are multiples of 100/replicas, raise `replicas`, or configure `trafficRouting` for exact weights");
    }
}

/// `maxSurge` in pods: an int is pods, a string is a percentage of replicas rounded up (the
/// controller reads every string as a percentage, `"3"` included). Default 25%.
fn resolve_max_surge(node: Option<NodeRef<'_>>, replicas: i64) -> Option<i64> {
    let percent = |p: f64| Some((p * replicas as f64 / 100.0).ceil() as i64);
    match node {
        None => percent(25.0),
        Some(n) => match (n.as_i64(), n.as_str()) {
            (Some(i), _) => Some(i),
            (None, Some(s)) => s.trim_end_matches('%').parse::<f64>().ok().and_then(percent),
            _ => None,
        },
    }
}

/// `approximateWeightedCanaryStableReplicaCounts` from the controller (`utils/replicaset/canary.go`).
pub fn canary_stable_counts(replicas: i64, weight: i64, max_surge: i64) -> (i64, i64) {
    if replicas == 0 {
        return (0, 0);
    }
    let exact = (replicas * weight) as f64 / 100.0;
    let ceil = exact.ceil() as i64;
    let floor = exact.floor() as i64;
    let tied = |total: i64| (total as f64 * (weight as f64 / 100.0)).fract() == 0.5;
    let zero_allowed = weight == 100 || weight == 0 || (replicas == 1 && max_surge == 0);
    let mut options = Vec::new();
    if ceil < replicas || zero_allowed {
        options.push((ceil, replicas));
    }
    if !tied(replicas) && (floor != 0 || zero_allowed) {
        options.push((floor, replicas));
    }
    if max_surge > 0 {
        options.push((ceil, replicas + 1));
        if !tied(replicas + 1) && (floor != 0 || zero_allowed) {
            options.push((floor, replicas + 1));
        }
    }
    let delta = |(c, t): (i64, i64)| ((c * 100) as f64 / t as f64 - weight as f64).abs();
    let Some(&first) = options.first() else { return (0, replicas) };
    let best = options.iter().skip(1).fold(first, |best, &o| if delta(o) < delta(best) { o } else { best });
    (best.0, best.1 - best.0)
}

#[cfg(test)]
mod tests {
    use super::canary_stable_counts;

    #[test]
    fn matches_the_controller() {
        // 2% of 4 replicas, maxSurge 25% of 4 = 1: 1 canary + 4 stable = 20%.
        assert_eq!(canary_stable_counts(4, 2, 1), (1, 4));
        // 90% of 1 replica (maxSurge rounds up to 1): 1 + 1 = 50%.
        assert_eq!(canary_stable_counts(1, 90, 1), (1, 1));
        // 50% of 1 replica is exactly 50%.
        assert_eq!(canary_stable_counts(1, 50, 1), (1, 1));
        // Exact splits stay exact.
        assert_eq!(canary_stable_counts(10, 20, 3), (2, 8));
        assert_eq!(canary_stable_counts(4, 25, 1), (1, 3));
        // No surge and one replica: zero is allowed.
        assert_eq!(canary_stable_counts(1, 20, 0), (0, 1));
    }
}
