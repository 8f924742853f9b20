//! The controller's analysis checks: per metric (`ValidateMetrics`, run only when an
//! AnalysisRun starts, mid-rollout), per provider, and per group of templates a Rollout merges
//! (`ValidateAnalysisTemplatesWithType`).

use crate::diagnostic::Severity;
use crate::index::Object;
use crate::lang::duration::go_duration_problem;
use crate::rules::analysis::read::{int_or_string as int_field, metrics, resolve_template, rollout_groups};
use crate::rules::{Check, Cx, IndexCx, Rule};
use crate::yaml::NodeRef;

pub const RULE: Rule = Rule {
    id: "analysis-spec",
    severity: Severity::Error,
    summary: "an analysis the controller rejects when it runs: metric limits and counts, providers, dryRun rules, metrics that never end, merged-template conflicts",
    kinds: &["AnalysisTemplate", "ClusterAnalysisTemplate", "AnalysisRun", "Rollout"],
    check: Some(Check::Both(check, check_with_index)),
    options: &[],
    doc: include_str!("../../../rules/analysis-spec.md"),
};

fn check(cx: &mut Cx<'_>) {
    if cx.obj.kind == "Rollout" {
        return;
    }
    let Some(spec) = cx.obj.spec() else { return };
    let list: Vec<NodeRef<'_>> = metrics(Some(spec)).collect();
    if list.is_empty() && spec.get_set("templates").is_none() {
        let at = spec.get("metrics").unwrap_or(cx.obj.name_node());
        cx.report(at, "this template has no metrics (\"no metrics specified\"): an analysis run from it errors")
            .help("add at least one metric");
    }
    let mut seen: Vec<(&str, NodeRef<'_>)> = Vec::new();
    for m in &list {
        if let Some(name_node) = m.get("name")
            && let Some(name) = name_node.as_str()
        {
            if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
                let (file, first) = (cx.obj.file, first.span());
                cx.report(name_node, format!("duplicate metric name `{name}`"))
                    .help("give every metric its own name")
                    .related(file, first, "first used here");
            }
            seen.push((name, name_node));
        }
        limits(cx, *m);
        provider(cx, *m);
    }
    let names: Vec<&str> = seen.iter().map(|(n, _)| *n).collect();
    for field in ["dryRun", "measurementRetention"] {
        for (k, rule) in spec.get(field).into_iter().flat_map(|d| d.items()).enumerate() {
            let Some(pattern_node) = rule.get("metricName") else { continue };
            let Some(pattern) = pattern_node.as_str() else { continue };
            if pattern.contains("{{") {
                continue;
            }
            let matches = match regex::Regex::new(pattern) {
                Ok(re) => names.iter().any(|n| re.is_match(n)),
                Err(_) => false,
            };
            if !matches {
                let help = if pattern == "*" {
                    "`*` is not a wildcard here: metric names are matched as a regular expression, so write `.*` for every metric".to_string()
                } else {
                    format!(
                        "name a metric of this template ({}), or a regular expression that matches one",
                        names.join(", ")
                    )
                };
                cx.report(pattern_node, format!("{field}[{k}] `{pattern}` matches no metric (\"Rule didn't match any metric name(s)\"): the analysis run errors"))
                    .help(help);
            }
        }
    }
    for arg in spec.get("args").into_iter().flat_map(|a| a.items()) {
        if arg.get_set("value").is_some() && arg.get_set("valueFrom").is_some() {
            let name = arg.get_str("name").unwrap_or("?");
            cx.report(arg.get("valueFrom").unwrap_or(arg), format!("arg `{name}` has both `value` and `valueFrom`"))
                .help("keep one of the two");
        }
    }
}

fn limits(cx: &mut Cx<'_>, m: NodeRef<'_>) {
    let name = m.get_str("name").unwrap_or("?");
    let count = int_field(m, "count");
    let failure = int_field(m, "failureLimit");
    let success = int_field(m, "consecutiveSuccessLimit");
    let inconclusive = int_field(m, "inconclusiveLimit");
    let errors = int_field(m, "consecutiveErrorLimit");
    let bad = |cx: &mut Cx<'_>, at: NodeRef<'_>, message: String, help: &'static str| {
        cx.report(at, format!("metric `{name}`: {message}; the analysis run errors when it starts")).help(help);
    };
    if let Some((n, v)) = success.filter(|(_, v)| *v < 0) {
        bad(cx, n, format!("`consecutiveSuccessLimit: {v}` must be >= 0"), "use 0 (off) or more");
    }
    if let Some((n, v)) = failure.filter(|(_, v)| *v < -1) {
        bad(cx, n, format!("`failureLimit: {v}` must be >= 0, or -1 to disable it"), "use -1, 0 or more");
    }
    if let (Some((n, 0)), Some((_, -1))) = (success, failure) {
        bad(
            cx,
            n,
            "`failureLimit: -1` and `consecutiveSuccessLimit: 0` disable both ways to end".into(),
            "enable one of them",
        );
    }
    if let Some((n, v)) = inconclusive.filter(|(_, v)| *v < 0) {
        bad(cx, n, format!("`inconclusiveLimit: {v}` must be >= 0"), "use 0 or more");
    }
    if let Some((n, v)) = errors.filter(|(_, v)| *v < 0) {
        bad(cx, n, format!("`consecutiveErrorLimit: {v}` must be >= 0"), "use 0 or more (the default is 4)");
    }
    if let Some((count_node, c)) = count.filter(|(_, c)| *c > 0) {
        let fl = failure.map_or(0, |(_, v)| v);
        let csl = success.map_or(0, |(_, v)| v);
        if csl >= 0 && fl >= 0 && c < fl + csl {
            bad(
                cx,
                count_node,
                format!("`count: {c}` is below failureLimit + consecutiveSuccessLimit ({fl} + {csl})"),
                "raise `count`, or lower the limits",
            );
        } else if fl < 0 && c < csl {
            bad(cx, count_node, format!("`count: {c}` is below `consecutiveSuccessLimit: {csl}`"), "raise `count`");
        }
        if let Some((_, il)) = inconclusive.filter(|(_, il)| c < *il) {
            bad(cx, count_node, format!("`count: {c}` is below `inconclusiveLimit: {il}`"), "raise `count`");
        }
        if c > 1 && m.get_set("interval").is_none() {
            bad(
                cx,
                count_node,
                format!("`count: {c}` takes several measurements but no `interval` says how often"),
                "add `interval`, e.g. `interval: 1m`",
            );
        }
    }
}

fn provider(cx: &mut Cx<'_>, m: NodeRef<'_>) {
    let name = m.get_str("name").unwrap_or("?");
    let Some(p) = m.get_set("provider") else {
        let at = m.entry("name").map_or(m, |(k, _)| k);
        cx.report(at, format!("metric `{name}` has no `provider` (\"no provider specified\")"))
            .help("add a provider, e.g. `prometheus: {address: ..., query: ...}`");
        return;
    };
    let providers: Vec<(String, NodeRef<'_>)> = p
        .entries()
        .filter(|(_, v)| !v.is_null())
        .flat_map(|(k, v)| {
            let key = k.key_text().unwrap_or_default().into_owned();
            // Each plugin entry counts as a provider.
            if key == "plugin" {
                v.entries().map(|(pk, pv)| (format!("plugin {}", pk.display()), pv)).collect::<Vec<_>>()
            } else {
                vec![(key, v)]
            }
        })
        .collect();
    match providers.len() {
        0 => {
            cx.report(p, format!("metric `{name}`: `provider` is empty (\"no provider specified\")"))
                .help("configure one provider");
            return;
        }
        1 => {}
        _ => {
            let list: Vec<String> = providers.iter().map(|(k, _)| format!("`{k}`")).collect();
            cx.report(
                p,
                format!(
                    "metric `{name}` has several providers ({}): \"multiple providers specified\"",
                    list.join(", ")
                ),
            )
            .help("split it into one metric per provider");
            return;
        }
    }
    let (kind, cfg) = (&providers[0].0, providers[0].1);
    let placeholder = |n: NodeRef<'_>| n.text().is_some_and(|t| t.contains("{{"));
    let report = |cx: &mut Cx<'_>, at: NodeRef<'_>, message: String, help: &'static str| {
        cx.report(at, format!("metric `{name}`: {message}")).help(help);
    };
    match kind.as_str() {
        "prometheus" => {
            if let Some(address) = cfg.get_set("address").filter(|a| !placeholder(*a))
                && !is_url(address.as_str().unwrap_or(""))
            {
                report(
                    cx,
                    address,
                    format!("Prometheus address `{}` is not a URL with a scheme and host", address.display()),
                    "write it as `http://prometheus.monitoring:9090`",
                );
            }
            if let Some((t, v)) = int_field(cfg, "timeout").filter(|(_, v)| *v < 0) {
                report(
                    cx,
                    t,
                    format!("Prometheus `timeout: {v}` is negative"),
                    "use a positive number of seconds (default 30)",
                );
            }
            if let Some(basic) = cfg.path(&["authentication", "basicAuth"]) {
                let (user, pass) = (basic.get_set("username").is_some(), basic.get_set("password").is_some());
                if user != pass {
                    let missing = if user { "password" } else { "username" };
                    report(
                        cx,
                        basic,
                        format!("basic auth sets one of username and password but not `{missing}`"),
                        "set both, or neither",
                    );
                }
            }
            oauth2(cx, cfg.path(&["authentication", "oauth2"]), name);
            if let Some(step) = cfg.path(&["rangeQuery", "step"]).filter(|s| !placeholder(*s))
                && let Some(problem) = step.as_str().and_then(go_duration_problem)
            {
                report(
                    cx,
                    step,
                    format!("`rangeQuery.step` is not a duration: {problem}"),
                    "write a Go duration such as `1m`",
                );
            }
        }
        "datadog" => {
            let (query, queries) = (cfg.get_set("query"), cfg.get_set("queries"));
            let version = cfg.get_str("apiVersion").unwrap_or("v1");
            match (query, queries) {
                (None, None) => report(cx, cfg, "Datadog needs `query` or `queries`".into(), "add a query"),
                (Some(q), Some(_)) => {
                    report(cx, q, "Datadog cannot have both `query` and `queries`".into(), "keep one")
                }
                _ => {}
            }
            if version == "v1" && query.is_none() && queries.is_some() {
                report(cx, cfg, "Datadog API v1 supports only `query`".into(), "set `apiVersion: v2` to use `queries`");
            }
            if let Some(f) = cfg.get_set("formula")
                && queries.is_none()
            {
                report(
                    cx,
                    f,
                    "a Datadog `formula` only works with `queries`".into(),
                    "use `queries` with the formula, or drop it",
                );
            }
            if let Some(qs) = queries.filter(|q| q.len() > 1)
                && cfg.get_set("formula").is_none()
            {
                report(
                    cx,
                    qs,
                    "several Datadog `queries` need a `formula`".into(),
                    "add a formula combining them, e.g. `formula: a / b`",
                );
            }
            if let Some(a) = cfg.get_set("aggregator")
                && version == "v1"
            {
                report(
                    cx,
                    a,
                    "`aggregator` is not supported with Datadog API v1".into(),
                    "set `apiVersion: v2`, or remove it",
                );
            }
            if let Some(t) = cfg.get_set("requestTimeout").filter(|t| !placeholder(*t)) {
                match t.as_str().map(|s| (s, crate::lang::duration::parse_go_duration(s))) {
                    Some((_, Some(secs))) if secs <= 0.0 => {
                        report(cx, t, "Datadog `requestTimeout` must be positive".into(), "use e.g. `30s`")
                    }
                    Some((s, None)) => {
                        report(cx, t, format!("Datadog `requestTimeout` `{s}` is not a duration"), "use e.g. `30s`")
                    }
                    _ => {}
                }
            }
            if let Some(secret) = cfg.get_set("secretRef")
                && secret.get("namespaced").and_then(|n| n.as_bool()) == Some(true)
                && secret.get_str("name").is_none_or(str::is_empty)
            {
                report(
                    cx,
                    secret,
                    "a namespaced Datadog `secretRef` needs `name`".into(),
                    "name the Secret with the API keys",
                );
            }
        }
        "web" => {
            let body = cfg.get_set("body").or(cfg.get_set("jsonBody"));
            if cfg.get_set("body").is_some() && cfg.get_set("jsonBody").is_some() {
                report(cx, cfg, "web metrics take `body` or `jsonBody`, not both".into(), "keep one");
            }
            let method = cfg.get_str("method").unwrap_or("GET");
            if let Some(b) = body
                && !matches!(method, "POST" | "PUT")
            {
                report(
                    cx,
                    b,
                    format!("a web request body needs method POST or PUT, not {method}"),
                    "add `method: POST`, or remove the body",
                );
            }
            oauth2(cx, cfg.path(&["authentication", "oauth2"]), name);
        }
        "newRelic" => {
            if let Some((t, v)) = int_field(cfg, "timeout").filter(|(_, v)| *v <= 0) {
                report(cx, t, format!("New Relic `timeout: {v}` must be positive"), "use a positive number of seconds");
            }
        }
        "graphite" => {
            let address = cfg.get_set("address");
            if address.is_none_or(|a| !placeholder(a) && !is_url(a.as_str().unwrap_or(""))) {
                report(
                    cx,
                    address.unwrap_or(cfg),
                    "Graphite `address` is not a valid URL".into(),
                    "write it as `http://graphite:8080`",
                );
            }
        }
        "kayenta" => {
            let scopes: Vec<NodeRef<'_>> = cfg.get("scopes").into_iter().flat_map(|s| s.items()).collect();
            for scope in scopes {
                for bound in ["start", "end"] {
                    let c = scope.path(&["controlScope", bound]).is_some_and(|n| !n.is_null());
                    let e = scope.path(&["experimentScope", bound]).is_some_and(|n| !n.is_null());
                    if c != e {
                        report(
                            cx,
                            scope,
                            format!(
                                "Kayenta `controlScope.{bound}` and `experimentScope.{bound}` must both be set or both be empty"
                            ),
                            "set both, or neither",
                        );
                    }
                }
            }
        }
        _ => {}
    }
}

fn oauth2(cx: &mut Cx<'_>, node: Option<NodeRef<'_>>, name: &str) {
    let Some(o) = node else { return };
    if o.get_set("tokenUrl").is_some() && (o.get_set("clientId").is_none() || o.get_set("clientSecret").is_none()) {
        cx.report(o, format!("metric `{name}`: OAuth2 with `tokenUrl` needs `clientId` and `clientSecret`"))
            .help("add both");
    }
}

fn is_url(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else { return false };
    !scheme.is_empty()
        && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        && !rest.is_empty()
        && !rest.starts_with('/')
}

/// Checks that read other objects: the templates a Rollout merges, and the controller's
/// ConfigMap for a template's metric plugins.
fn check_with_index(cx: &mut IndexCx<'_>) {
    if cx.obj.kind == "Rollout" {
        return groups(cx);
    }
    for m in metrics(cx.obj.spec()) {
        metric_plugin_configured(cx, m);
    }
}

/// Checks on the templates a Rollout merges per analysis group (a step, the background
/// analysis, pre- and post-promotion).
fn groups(cx: &mut IndexCx<'_>) {
    let (index, obj) = (cx.index, cx.obj);
    for group in rollout_groups(obj) {
        let mut templates: Vec<(&Object, NodeRef<'_>)> = Vec::new();
        for reference in group.templates.iter() {
            collect_templates(index, obj, *reference, &mut templates, 0);
        }
        if templates.is_empty() {
            continue;
        }
        let at = group.node;
        // Metric names across the merged templates.
        let mut names: Vec<(&str, &Object)> = Vec::new();
        let mut args: Vec<(&str, &str, &Object)> = Vec::new();
        let mut dry_run: Vec<&str> = group.dry_run.clone();
        let mut retention: Vec<&str> = group.retention.clone();
        for (t, _) in &templates {
            for m in metrics(t.spec()) {
                let Some(name) = m.get_str("name") else { continue };
                if names.iter().any(|(n, other)| *n == name && other.id != t.id) {
                    cx.report(at, format!("two of the merged templates have a metric named `{name}` (\"two metrics have the same name\")"))
                        .help("rename one of the metrics: metric names must be unique across the templates of one analysis")
                        .related(t.file, m.get("name").map_or(t.name_node().span(), |n| n.span()), format!("`{name}` in {}", t.label()));
                }
                names.push((name, t));
            }
            for arg in t.spec().and_then(|s| s.get("args")).into_iter().flat_map(|a| a.items()) {
                let (Some(name), Some(value)) = (arg.get_str("name"), arg.get_set("value").and_then(|v| v.text()))
                else {
                    continue;
                };
                if let Some((_, other, o)) = args.iter().find(|(n, v, _)| *n == name && *v != value) {
                    cx.report(at, format!("arg `{name}` has different default values in the merged templates: '{other}' in {} and '{value}' in {}", o.label(), t.label()))
                        .help("give the arg the same default in both templates, or pass it from the Rollout");
                }
                args.push((name, value, t));
            }
            dry_run.extend(
                t.spec()
                    .and_then(|s| s.get("dryRun"))
                    .into_iter()
                    .flat_map(|d| d.items())
                    .filter_map(|d| d.get_str("metricName")),
            );
            retention.extend(
                t.spec()
                    .and_then(|s| s.get("measurementRetention"))
                    .into_iter()
                    .flat_map(|d| d.items())
                    .filter_map(|d| d.get_str("metricName")),
            );
        }
        for (list, what) in [(&dry_run, "Dry-Run"), (&retention, "Measurement Retention")] {
            let mut seen: Vec<&str> = Vec::new();
            for name in list.iter() {
                if seen.contains(name) {
                    cx.report(at, format!("two {what} rules of the merged templates name `{name}`"))
                        .help("keep one rule per metric");
                }
                seen.push(name);
            }
        }
        // A step or a promotion analysis must end: a metric with an interval needs a count.
        if group.must_end {
            for (t, _) in &templates {
                for m in metrics(t.spec()) {
                    let interval = m.get_set("interval").is_some();
                    let count = m.get_set("count");
                    let endless = interval
                        && count.is_none_or(|c| {
                            c.as_i64().is_none_or(|n| n == 0) && c.text().is_none_or(|t| !t.contains("{{"))
                        });
                    if endless {
                        let metric = m.get_str("name").unwrap_or("?");
                        cx.report(at, format!("{} has metric `{metric}`, which runs until stopped (`interval` without `count`): this {} never ends", t.label(), group.what))
                            .help("set `count` on the metric, or run the template as a background analysis")
                            .related(t.file, m.get("interval").map_or(t.name_node().span(), |i| i.span()), "interval without count");
                    }
                }
            }
        }
    }
}

/// The templates a reference names, and the templates they nest (`spec.templates`).
fn collect_templates<'a>(
    index: &'a crate::index::Index,
    from: &Object,
    reference: NodeRef<'_>,
    out: &mut Vec<(&'a Object, NodeRef<'a>)>,
    depth: u8,
) {
    if depth > 8 {
        return;
    }
    let Some(t) = resolve_template(index, from, reference) else { return };
    if out.iter().any(|(o, _)| o.id == t.id) {
        return;
    }
    out.push((t, t.root()));
    for nested in t.spec().and_then(|s| s.get("templates")).into_iter().flat_map(|n| n.items()) {
        collect_templates(index, t, nested, out, depth + 1);
    }
}

/// A metric provider plugin must be listed in the controller's ConfigMap, when that ConfigMap
/// is among the linted files.
fn metric_plugin_configured(cx: &mut IndexCx<'_>, m: NodeRef<'_>) {
    let Some(plugins) = m.path(&["provider", "plugin"]) else { return };
    let index = cx.index;
    let Some(config) = index.controller_config() else { return };
    let listed = index.controller_plugins("metricProviderPlugins");
    for (k, _) in plugins.entries() {
        let name = k.key_text().unwrap_or_default();
        if !listed.iter().any(|n| *n == *name) {
            cx.report(k, format!("metric provider plugin `{name}` is not configured in ConfigMap `argo-rollouts-config` (`metricProviderPlugins`)"))
                .help("add it to `metricProviderPlugins`, or fix the name")
                .related(config.file, config.name_node().span(), "the controller's ConfigMap");
        }
    }
}
