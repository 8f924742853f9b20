//! Shared reading of analysis templates and canary steps for the analysis and risk rules.

use crate::index::{Index, Object};
use crate::yaml::NodeRef;

/// The metrics of an AnalysisTemplate or ClusterAnalysisTemplate.
pub fn metrics<'a>(spec: Option<NodeRef<'a>>) -> impl Iterator<Item = NodeRef<'a>> + 'a {
    spec.and_then(|s| s.get("metrics")).into_iter().flat_map(|m| m.items()).filter(|m| m.is_map())
}

/// The provider kind of a metric (`prometheus`, `job`, `web`...).
pub fn provider_kind(metric: NodeRef<'_>) -> Option<String> {
    metric.get("provider")?.entries().next().and_then(|(k, _)| k.key_text().map(|t| t.into_owned()))
}

/// How many measurements a metric takes, when it is known statically: neither count nor
/// interval is one; interval without count runs until stopped (`None` count, `true` endless).
pub enum Measurements {
    Known(i64),
    Endless,
    Unknown,
}

pub fn measurements(metric: NodeRef<'_>) -> Measurements {
    let interval = metric.get_set("interval").is_some();
    match metric.get_set("count") {
        None if interval => Measurements::Endless,
        None => Measurements::Known(1),
        Some(c) => match c.as_i64() {
            Some(0) if interval => Measurements::Endless,
            Some(n) => Measurements::Known(n),
            None => Measurements::Unknown,
        },
    }
}

/// An IntOrString field as the controller reads it (`IntValue()`: a non-numeric string is 0):
/// (node, value); `None` when absent, null, a placeholder or not a number or string.
pub fn int_or_string<'a>(metric: NodeRef<'a>, key: &str) -> Option<(NodeRef<'a>, i64)> {
    let node = metric.get_set(key)?;
    if let Some(s) = node.as_str() {
        if s.contains("{{") {
            return None;
        }
        return Some((node, s.trim().parse().unwrap_or(0)));
    }
    Some((node, node.as_i64()?))
}

/// Providers that decide a measurement with `successCondition`/`failureCondition`
/// (`utils/evaluate.EvaluateResult` is called by each of them).
pub const EVALUATES_CONDITIONS: &[&str] =
    &["prometheus", "datadog", "newrelic", "wavefront", "cloudwatch", "graphite", "influxdb", "skywalking", "web"];

/// Providers that decide a measurement themselves and never read the conditions: `job` (the
/// Job's `Complete` or `Failed` condition) and `kayenta` (the canary score against
/// `threshold.pass` and `threshold.marginal`).
pub const IGNORES_CONDITIONS: &[&str] = &["job", "kayenta"];

/// How many measurements a metric takes before it is complete, as `Metric.EffectiveCount()`
/// computes it: `count` when above 0, else 1 without an `interval` and no end with one. `None`
/// when unknown (a placeholder) or endless.
pub fn effective_count(metric: NodeRef<'_>) -> Option<i64> {
    match int_or_string(metric, "count") {
        Some((_, c)) if c > 0 => Some(c),
        None if metric.get_set("count").is_some() => None,
        _ if metric.get_set("interval").is_some() => None,
        _ => Some(1),
    }
}

/// A metric whose `failureLimit` is at least the measurements it takes, so `Failed >
/// failureLimit` can never hold: (the `failureLimit` node, its value, the count). Not when
/// `consecutiveSuccessLimit` is on (the metric then ends Inconclusive or Failed when that is not
/// reached), and not when the controller rejects the limits (`count` below `failureLimit`:
/// `analysis-spec`).
pub fn never_fails<'a>(metric: NodeRef<'a>) -> Option<(NodeRef<'a>, i64, i64)> {
    let count = effective_count(metric)?;
    let (node, limit) = int_or_string(metric, "failureLimit")?;
    let success = int_or_string(metric, "consecutiveSuccessLimit").map_or(0, |(_, v)| v);
    let explicit_count = int_or_string(metric, "count").is_some_and(|(_, c)| c > 0);
    let rejected = explicit_count && limit > count;
    (limit >= count && success == 0 && !rejected).then_some((node, limit, count))
}

/// Every `{{ ... }}` in the string scalars under `node`: (scalar, byte range of the tag in the
/// value, the trimmed tag).
pub fn placeholders<'a>(
    node: Option<NodeRef<'a>>,
    out: &mut Vec<(NodeRef<'a>, std::ops::Range<usize>, String)>,
    depth: u32,
) {
    let Some(node) = node else { return };
    if depth > 64 {
        return;
    }
    if node.is_map() {
        for (_, v) in node.entries() {
            placeholders(Some(v), out, depth + 1);
        }
    } else if node.is_seq() {
        for item in node.items() {
            placeholders(Some(item), out, depth + 1);
        }
    } else if let Some(text) = node.text() {
        let mut from = 0;
        while let Some(start) = text[from..].find("{{").map(|s| s + from) {
            let Some(end) = text[start..].find("}}").map(|e| e + start + 2) else { break };
            let tag = text[start + 2..end - 2].trim().to_string();
            out.push((node, start..end, tag));
            from = end;
        }
    }
}

/// `setWeight` values of a canary's steps, in order: (weight node, weight).
pub fn weight_steps<'a>(canary: NodeRef<'a>) -> Vec<(NodeRef<'a>, i64)> {
    canary
        .get("steps")
        .into_iter()
        .flat_map(|s| s.items())
        .filter_map(|step| step.get_set("setWeight"))
        .filter_map(|w| w.as_i64().map(|v| (w, v)))
        .collect()
}

/// The template a `templateName` (+ `clusterScope`) reference in `from` names.
pub fn resolve_template<'a>(index: &'a Index, from: &Object, reference: NodeRef<'_>) -> Option<&'a Object> {
    let name = reference.get_str("templateName")?;
    if reference.get("clusterScope").and_then(|c| c.as_bool()).unwrap_or(false) {
        index.get_near(from, "ClusterAnalysisTemplate", None, name)
    } else {
        index.get_near(from, "AnalysisTemplate", from.namespace.as_deref(), name)
    }
}

/// One group of templates a Rollout merges into one AnalysisRun.
pub struct Group<'a> {
    /// Where to report: the group's `templates` key.
    pub node: NodeRef<'a>,
    /// The `templateName` references.
    pub templates: Vec<NodeRef<'a>>,
    pub dry_run: Vec<&'a str>,
    pub retention: Vec<&'a str>,
    /// Steps and promotion analyses must end; a background analysis runs until the rollout ends.
    pub must_end: bool,
    pub what: &'static str,
}

pub fn rollout_groups(obj: &Object) -> Vec<Group<'_>> {
    fn add<'a>(out: &mut Vec<Group<'a>>, analysis: Option<NodeRef<'a>>, must_end: bool, what: &'static str) {
        let Some(a) = analysis.filter(|a| a.is_map()) else { return };
        let Some((key, list)) = a.entry("templates") else { return };
        let names = |field: &str| -> Vec<&'a str> {
            a.get(field).into_iter().flat_map(|d| d.items()).filter_map(|d| d.get_str("metricName")).collect()
        };
        out.push(Group {
            node: key,
            templates: list.items().collect(),
            dry_run: names("dryRun"),
            retention: names("measurementRetention"),
            must_end,
            what,
        });
    }
    let mut out = Vec::new();
    let Some(strategy) = obj.get(&["spec", "strategy"]) else { return out };
    if let Some(canary) = strategy.get_set("canary") {
        for step in canary.get("steps").into_iter().flat_map(|s| s.items()) {
            add(&mut out, step.get_set("analysis"), true, "analysis step");
        }
        add(&mut out, canary.get_set("analysis"), false, "background analysis");
    }
    if let Some(bg) = strategy.get_set("blueGreen") {
        add(&mut out, bg.get_set("prePromotionAnalysis"), true, "pre-promotion analysis");
        add(&mut out, bg.get_set("postPromotionAnalysis"), true, "post-promotion analysis");
    }
    out
}
