//! Reading `.rollcheck.yaml`: every setting checked, every mistake located at its line and column.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::{Glob, GlobSetBuilder};

use super::{Config, ConfigError, External, Level, Override, RuleSetting, RuleTable};
use crate::diagnostic::{Severity, did_you_mean};
use crate::rules;
use crate::settings::KubeVersion;
use crate::source::{SourceFile, Span};
use crate::unit::normalize;
use crate::yaml::{NodeRef, parse_stream};

/// Parses a config file's text; `base` anchors its relative paths.
pub fn parse(text: &str, name: &str, base: &Path) -> Result<Config, Vec<ConfigError>> {
    let text: Arc<str> = Arc::from(text);
    let source = SourceFile::new(name.to_string(), text.clone());
    let stream = parse_stream(text);
    let mut p = Reader { source: &source, errors: Vec::new() };
    for e in &stream.errors {
        p.error(e.span, format!("invalid YAML: {}", e.message));
    }
    let mut config = Config { base: base.to_path_buf(), ..Config::default() };
    if stream.documents.len() > 1 {
        p.error(stream.documents[1].span, "the config file must hold one YAML document".into());
    }
    if let Some(root) = stream.documents.first().and_then(|d| d.root()) {
        if root.is_null() {
            // An empty file is a valid, empty config.
        } else if !root.is_map() {
            p.error(root.span(), "the config file must be a mapping of settings".into());
        } else {
            p.read_root(root, &mut config);
        }
    }
    if p.errors.is_empty() { Ok(config) } else { Err(p.errors) }
}

const TOP_KEYS: &[&str] = &[
    "rules",
    "overrides",
    "exclude",
    "namespace",
    "context",
    "crds",
    "external",
    "fail-on",
    "tools",
    "charts",
    "render",
    "kube-version",
];

struct Reader<'s> {
    source: &'s SourceFile,
    errors: Vec<ConfigError>,
}

impl Reader<'_> {
    fn error(&mut self, span: Span, message: String) {
        let at = self.source.line_col(span.start);
        self.errors.push(ConfigError { path: self.source.name.clone(), line: at.line, column: at.column, message });
    }

    fn unknown_key(&mut self, key: NodeRef<'_>, what: &str, allowed: &[&str]) {
        let name = key.key_text().unwrap_or_default();
        let hint = match did_you_mean(&name, allowed.iter().copied()) {
            Some(s) => format!("; did you mean `{s}`?"),
            None => format!(" (expected one of: {})", allowed.join(", ")),
        };
        self.error(key.span(), format!("unknown {what} `{name}`{hint}"));
    }

    fn read_root(&mut self, root: NodeRef<'_>, config: &mut Config) {
        for (key, value) in root.entries() {
            match key.key_text().as_deref() {
                Some("rules") => config.rules = self.rule_table(value),
                Some("overrides") => config.overrides = self.overrides(value, &config.base),
                Some("exclude") => {
                    config.exclude = self.strings(value, "exclude");
                    for glob in &config.exclude {
                        if let Err(e) = Glob::new(glob) {
                            self.error(value.span(), format!("invalid glob `{glob}`: {e}"));
                        }
                    }
                }
                Some("namespace") => match value.text().filter(|_| value.scalar().is_some() && !value.is_null()) {
                    Some(ns) => config.namespace = Some(ns.to_string()),
                    None => self.error(value.span(), "`namespace` must be a string".into()),
                },
                Some("context") => {
                    config.context = self.strings(value, "context").iter().map(|p| config.base.join(p)).collect();
                }
                Some("crds") => {
                    config.crds = self.strings(value, "crds").iter().map(|p| config.base.join(p)).collect();
                }
                Some("external") => config.external = self.externals(value),
                Some("tools") => config.tools = self.tools(value, &config.base),
                Some("charts") => config.charts = self.charts(value, &config.base),
                Some("render") => {
                    for (k, v) in self.mapping(value, "render") {
                        match k.key_text().as_deref() {
                            Some("network") => match v.as_bool() {
                                Some(b) => config.render_network = b,
                                None => self.error(v.span(), "`network` must be `true` or `false`".into()),
                            },
                            _ => self.unknown_key(k, "render setting", &["network"]),
                        }
                    }
                }
                Some("fail-on") => match value.text().and_then(severity) {
                    Some(s) => config.fail_on = Some(s),
                    None => self.error(value.span(), "`fail-on` must be `error`, `warning` or `info`".into()),
                },
                // `1.33` is read as a YAML number: its text is what counts.
                Some("kube-version") => {
                    match value.text().filter(|_| value.scalar().is_some()).and_then(KubeVersion::parse) {
                        Some(v) => config.kube_version = Some(v),
                        None => self
                            .error(value.span(), "`kube-version` must be a Kubernetes version such as \"1.33\"".into()),
                    }
                }
                _ => self.unknown_key(key, "setting", TOP_KEYS),
            }
        }
    }

    fn mapping<'n>(&mut self, value: NodeRef<'n>, what: &str) -> Vec<(NodeRef<'n>, NodeRef<'n>)> {
        if !value.is_map() {
            self.error(value.span(), format!("`{what}` must be a mapping"));
            return Vec::new();
        }
        value.entries().collect()
    }

    fn tools(&mut self, value: NodeRef<'_>, base: &Path) -> crate::unit::Tools {
        let mut tools = crate::unit::Tools::default();
        for (k, v) in self.mapping(value, "tools") {
            let Some(path) = v.as_str().map(|p| base.join(p)) else {
                self.error(v.span(), "a tool is the path of its binary".into());
                continue;
            };
            match k.key_text().as_deref() {
                Some("helm") => tools.helm = Some(path),
                Some("kustomize") => tools.kustomize = Some(path),
                Some("kubectl") => tools.kubectl = Some(path),
                _ => self.unknown_key(k, "tool", &["helm", "kustomize", "kubectl"]),
            }
        }
        tools
    }

    /// `charts:`: a list of `{path, release, namespace, values, set, kube-version, api-versions}`;
    /// `values` is a list of values sets, each a file or a list of files.
    fn charts(&mut self, value: NodeRef<'_>, base: &Path) -> Vec<crate::unit::ChartConfig> {
        const KEYS: &[&str] = &["path", "release", "namespace", "values", "set", "kube-version", "api-versions"];
        let mut out = Vec::new();
        if !value.is_seq() {
            self.error(value.span(), "`charts` must be a list of `{path: GLOB, values: [...]}`".into());
            return out;
        }
        for item in value.items() {
            let mut chart = crate::unit::ChartConfig::default();
            let mut globs = GlobSetBuilder::new();
            let mut has_path = false;
            for (k, v) in self.mapping(item, "a chart entry") {
                let text = || v.text().filter(|_| v.scalar().is_some() && !v.is_null()).map(str::to_string);
                match k.key_text().as_deref() {
                    Some("path") => {
                        has_path = true;
                        for g in self.strings(v, "path") {
                            let g = g.trim_end_matches('/').to_string();
                            match Glob::new(&normalize(&base.join(&g)).to_string_lossy()) {
                                Ok(glob) => {
                                    globs.add(glob);
                                }
                                Err(e) => self.error(v.span(), format!("invalid glob `{g}`: {e}")),
                            }
                        }
                    }
                    Some("release") => chart.release = text(),
                    Some("namespace") => chart.namespace = text(),
                    Some("kube-version") => chart.kube_version = text(),
                    Some("api-versions") => chart.api_versions = self.strings(v, "api-versions"),
                    Some("set") => chart.set = self.strings(v, "set"),
                    Some("values") => {
                        if !v.is_seq() {
                            self.error(
                                v.span(),
                                "`values` is a list of values sets: a file, or a list of files".into(),
                            );
                            continue;
                        }
                        // Relative to the chart folder, as an Application's `valueFiles`.
                        for set in v.items() {
                            chart
                                .values_sets
                                .push(self.strings(set, "values").into_iter().map(PathBuf::from).collect());
                        }
                    }
                    _ => self.unknown_key(k, "chart setting", KEYS),
                }
            }
            if !has_path {
                self.error(item.span(), "a chart entry needs `path`, the chart folder (or a glob)".into());
            }
            match globs.build() {
                Ok(set) => chart.charts = set,
                Err(e) => self.error(item.span(), e.to_string()),
            }
            out.push(chart);
        }
        out
    }

    fn strings(&mut self, value: NodeRef<'_>, what: &str) -> Vec<String> {
        if let Some(s) = value.as_str() {
            return vec![s.to_string()];
        }
        if !value.is_seq() {
            self.error(value.span(), format!("`{what}` must be a list of strings"));
            return Vec::new();
        }
        let mut out = Vec::new();
        for item in value.items() {
            match item.text().filter(|_| item.scalar().is_some()) {
                Some(s) => out.push(s.to_string()),
                None => self.error(item.span(), format!("`{what}` must be a list of strings")),
            }
        }
        out
    }

    fn rule_table(&mut self, value: NodeRef<'_>) -> RuleTable {
        let mut table = RuleTable::default();
        if !value.is_map() {
            self.error(
                value.span(),
                "`rules` must map rule ids to a level (`off`, `info`, `warning`, `error`) or to settings".into(),
            );
            return table;
        }
        for (key, setting) in value.entries() {
            let id = key.key_text().unwrap_or_default();
            let Some(rule) = rules::find(&id) else {
                let hint = did_you_mean(&id, rules::ALL.iter().map(|r| r.id))
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_else(|| " (`rollcheck rules` lists them)".into());
                self.error(key.span(), format!("unknown rule `{id}`{hint}"));
                continue;
            };
            let mut entry = RuleSetting::default();
            if setting.is_map() {
                for (k, v) in setting.entries() {
                    let name = k.key_text().unwrap_or_default();
                    if name == "level" || name == "severity" {
                        entry.level = self.level(v);
                    } else if let Some(option) = rule.options.iter().find(|o| o.name == name) {
                        match v.as_i64().filter(|n| *n >= option.min) {
                            Some(n) => {
                                entry.options.insert(option.name, n);
                            }
                            None => self.error(
                                v.span(),
                                format!("`{name}` of `{}` must be an integer of at least {}", rule.id, option.min),
                            ),
                        }
                    } else {
                        let mut allowed = vec!["level"];
                        allowed.extend(rule.options.iter().map(|o| o.name));
                        self.unknown_key(k, &format!("setting of `{}`", rule.id), &allowed);
                    }
                }
            } else {
                entry.level = self.level(setting);
            }
            table.0.insert(rule.id, entry);
        }
        table
    }

    fn level(&mut self, value: NodeRef<'_>) -> Option<Level> {
        let text = value.text().filter(|_| value.scalar().is_some()).unwrap_or_default();
        match text {
            "off" | "false" => Some(Level::Off),
            other => match severity(other) {
                Some(s) => Some(Level::On(s)),
                None => {
                    self.error(
                        value.span(),
                        format!("`{text}` is not a level: use `off`, `info`, `warning` or `error`"),
                    );
                    None
                }
            },
        }
    }

    fn overrides(&mut self, value: NodeRef<'_>, base: &Path) -> Vec<Override> {
        let mut out = Vec::new();
        if !value.is_seq() {
            self.error(value.span(), "`overrides` must be a list of `{files: [...], rules: {...}}`".into());
            return out;
        }
        for item in value.items() {
            if !item.is_map() {
                self.error(item.span(), "an override must be a mapping with `files` and `rules`".into());
                continue;
            }
            let mut builder = GlobSetBuilder::new();
            let mut rules = RuleTable::default();
            let mut has_files = false;
            for (k, v) in item.entries() {
                match k.key_text().as_deref() {
                    Some("files") => {
                        has_files = true;
                        for glob in self.strings(v, "files") {
                            match glob_for(&glob, base) {
                                Ok(globs) => globs.into_iter().for_each(|g| {
                                    builder.add(g);
                                }),
                                Err(e) => self.error(v.span(), format!("invalid glob `{glob}`: {e}")),
                            }
                        }
                    }
                    Some("rules") => rules = self.rule_table(v),
                    _ => self.unknown_key(k, "override setting", &["files", "rules"]),
                }
            }
            if !has_files {
                self.error(item.span(), "an override needs `files`, the globs it applies to".into());
            }
            match builder.build() {
                Ok(files) => out.push(Override { files, rules }),
                Err(e) => self.error(item.span(), e.to_string()),
            }
        }
        out
    }

    fn externals(&mut self, value: NodeRef<'_>) -> Vec<External> {
        let mut out = Vec::new();
        if !value.is_seq() {
            self.error(value.span(), "`external` must be a list like `ClusterAnalysisTemplate/success-rate`".into());
            return out;
        }
        for item in value.items() {
            let parsed = if let Some(text) = item.as_str() {
                let parts: Vec<&str> = text.split('/').collect();
                match parts[..] {
                    [kind, name] if !kind.is_empty() && !name.is_empty() => {
                        Some(External { kind: kind.into(), name: name.into(), namespace: None })
                    }
                    [kind, ns, name] if !kind.is_empty() && !ns.is_empty() && !name.is_empty() => {
                        Some(External { kind: kind.into(), name: name.into(), namespace: Some(ns.into()) })
                    }
                    _ => None,
                }
            } else if item.is_map() {
                for (k, _) in item.entries() {
                    if !matches!(k.key_text().as_deref(), Some("kind" | "name" | "namespace")) {
                        self.unknown_key(k, "external object field", &["kind", "name", "namespace"]);
                    }
                }
                match (item.get_str("kind"), item.get_str("name")) {
                    (Some(kind), Some(name)) => Some(External {
                        kind: kind.into(),
                        name: name.into(),
                        namespace: item.get_str("namespace").map(Into::into),
                    }),
                    _ => None,
                }
            } else {
                None
            };
            match parsed {
                Some(e) => out.push(e),
                None => self.error(
                    item.span(),
                    "an external object is `Kind/name`, `Kind/namespace/name` or `{kind, name, namespace}`".into(),
                ),
            }
        }
        out
    }
}

fn severity(text: &str) -> Option<Severity> {
    match text {
        "error" => Some(Severity::Error),
        "warning" => Some(Severity::Warning),
        "info" => Some(Severity::Info),
        _ => None,
    }
}

/// A config glob matches paths relative to the config's directory; a bare name matches at any
/// depth, as in `.gitignore`.
fn glob_for(glob: &str, base: &Path) -> Result<Vec<Glob>, globset::Error> {
    let glob = glob.strip_prefix("./").unwrap_or(glob);
    let mut out = Vec::new();
    let anchored = base.join(glob);
    out.push(Glob::new(&anchored.to_string_lossy())?);
    if !glob.contains('/') {
        out.push(Glob::new(&base.join("**").join(glob).to_string_lossy())?);
    }
    Ok(out)
}
