//! `.rollcheck.yaml`: rule levels and options, per-path overrides, excludes, namespace, context
//! paths and external objects. Read with the same span-preserving YAML layer as manifests, so
//! every mistake in it is reported at its line and column.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::diagnostic::{Severity, did_you_mean};
use crate::rules::{self, Rule};
use crate::source::{SourceFile, Span};
use crate::unit::normalize;
use crate::yaml::{NodeRef, parse_stream};

pub const FILE_NAMES: &[&str] = &[".rollcheck.yaml", ".rollcheck.yml"];

/// A rule's level: off, or on with a severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Off,
    On(Severity),
}

#[derive(Clone, Debug, Default)]
pub struct RuleSetting {
    pub level: Option<Level>,
    pub options: HashMap<&'static str, i64>,
}

/// Settings by rule id; later tables (overrides) win key by key.
#[derive(Clone, Debug, Default)]
pub struct RuleTable(pub HashMap<&'static str, RuleSetting>);

#[derive(Debug)]
pub struct Override {
    pub files: GlobSet,
    pub rules: RuleTable,
}

/// An object that exists in the cluster but not in the files (`external:`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct External {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

#[derive(Debug, Default)]
pub struct Config {
    /// The config file, when one was read.
    pub path: Option<PathBuf>,
    /// Relative paths and globs in the file are relative to its directory.
    pub base: PathBuf,
    pub rules: RuleTable,
    pub overrides: Vec<Override>,
    pub exclude: Vec<String>,
    pub namespace: Option<String>,
    pub context: Vec<PathBuf>,
    /// CRD files whose schemas check their custom resources (like `--crd`).
    pub crds: Vec<PathBuf>,
    pub external: Vec<External>,
    pub fail_on: Option<Severity>,
    /// The Kubernetes version the manifests are applied to (`kube-version`, or `--kube-version`).
    pub kube_version: Option<KubeVersion>,
    /// The binaries that render units (`tools:`).
    pub tools: crate::unit::Tools,
    /// How to render the charts that globs match (`charts:`).
    pub charts: Vec<crate::unit::ChartConfig>,
    /// Renderers may use the network (`render: {network: true}`).
    pub render_network: bool,
    /// Effective settings per set of matching overrides, computed once.
    cache: Mutex<HashMap<Vec<usize>, Arc<Effective>>>,
}

/// A Kubernetes minor release, `1.33`: which API versions the cluster serves, which validation
/// applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct KubeVersion {
    pub major: u32,
    pub minor: u32,
}

impl KubeVersion {
    /// The target when neither the command line nor the config names one.
    pub const DEFAULT: KubeVersion = KubeVersion { major: 1, minor: 33 };

    /// `1.33`, `v1.33` or `1.33.2` (the patch release does not matter).
    pub fn parse(text: &str) -> Option<KubeVersion> {
        let text = text.trim();
        let text = text.strip_prefix('v').unwrap_or(text);
        let mut parts = text.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        match parts.next() {
            Some(patch) if patch.parse::<u32>().is_err() => return None,
            _ => {}
        }
        if parts.next().is_some() {
            return None;
        }
        Some(KubeVersion { major, minor })
    }
}

impl std::fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A mistake in the config file, at its place.
#[derive(Debug)]
pub struct ConfigError {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: {}", self.path, self.line, self.column, self.message)
    }
}

/// Finds `.rollcheck.yaml` in `dir` or its nearest parent that has one.
pub fn discover(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().flat_map(|d| FILE_NAMES.iter().map(move |n| d.join(n))).find(|p| p.is_file())
}

pub fn load(path: &Path) -> Result<Config, Vec<ConfigError>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![ConfigError { path: path.display().to_string(), line: 0, column: 0, message: e.to_string() }]
    })?;
    let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let base = normalize(&std::path::absolute(&parent).unwrap_or(parent));
    let mut config = parse(&text, &path.display().to_string(), &base)?;
    config.path = Some(path.to_path_buf());
    Ok(config)
}

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

/// What applies to one file: for each rule (in the order of [`rules::ALL`]), its severity or
/// `None` when it is off, and its options.
#[derive(Debug)]
pub struct Effective {
    pub severities: Vec<Option<Severity>>,
    pub options: Vec<HashMap<&'static str, i64>>,
    pub kube_version: KubeVersion,
}

impl Effective {
    pub fn severity(&self, rule: &str) -> Option<Severity> {
        rules::ALL.iter().position(|r| r.id == rule).and_then(|i| self.severities[i])
    }

    pub fn option(&self, rule: &Rule, name: &str) -> i64 {
        let i = rules::ALL.iter().position(|r| std::ptr::eq(*r, rule)).unwrap_or(0);
        self.options
            .get(i)
            .and_then(|o| o.get(name).copied())
            .unwrap_or_else(|| rule.options.iter().find(|o| o.name == name).map_or(0, |o| o.default))
    }
}

impl Config {
    /// The settings for a file, given its path as shown to the user.
    pub fn effective(&self, path: &str) -> Arc<Effective> {
        let matched: Vec<usize> = if self.overrides.is_empty() {
            Vec::new()
        } else {
            let absolute = std::path::absolute(path).unwrap_or_else(|_| PathBuf::from(path));
            let absolute = normalize(&absolute);
            self.overrides
                .iter()
                .enumerate()
                .filter(|(_, o)| o.files.is_match(&absolute) || o.files.is_match(path))
                .map(|(i, _)| i)
                .collect()
        };
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.entry(matched.clone()).or_insert_with(|| Arc::new(self.compute(&matched))).clone()
    }

    fn compute(&self, overrides: &[usize]) -> Effective {
        let tables: Vec<&RuleTable> =
            std::iter::once(&self.rules).chain(overrides.iter().map(|&i| &self.overrides[i].rules)).collect();
        let mut severities = Vec::new();
        let mut options = Vec::new();
        for rule in rules::ALL {
            let mut level = Level::On(rule.severity);
            let mut opts = HashMap::new();
            for table in &tables {
                if let Some(setting) = table.0.get(rule.id) {
                    if let Some(l) = setting.level {
                        level = l;
                    }
                    opts.extend(setting.options.iter().map(|(k, v)| (*k, *v)));
                }
            }
            severities.push(match level {
                Level::Off => None,
                Level::On(s) => Some(s),
            });
            options.push(opts);
        }
        Effective { severities, options, kube_version: self.kube_version.unwrap_or(KubeVersion::DEFAULT) }
    }

    /// The config's base directory made absolute, for anchoring globs.
    pub fn absolute_base(&self) -> PathBuf {
        normalize(&std::path::absolute(&self.base).unwrap_or_else(|_| self.base.clone()))
    }
}

/// The JSON schema of the config file, for editor completion (`schemas/rollcheck-config.schema.json`).
pub fn json_schema() -> serde_json::Value {
    use serde_json::json;
    let level = json!({"enum": ["off", "info", "warning", "error"]});
    let mut rule_props = serde_json::Map::new();
    for rule in rules::ALL {
        let mut settings = serde_json::Map::new();
        settings.insert("level".into(), level.clone());
        for o in rule.options {
            settings.insert(
                o.name.into(),
                json!({"type": "integer", "minimum": o.min, "default": o.default, "description": o.summary}),
            );
        }
        rule_props.insert(
            rule.id.into(),
            json!({
                "description": format!("{} (default: {})", rule.summary, rule.severity.as_str()),
                "oneOf": [level, {"type": "object", "properties": settings, "additionalProperties": false}]
            }),
        );
    }
    let rules = json!({"type": "object", "properties": rule_props, "additionalProperties": false});
    let strings = json!({"type": "array", "items": {"type": "string"}});
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://github.com/rollcheck/rollcheck/blob/main/schemas/rollcheck-config.schema.json",
        "title": "rollcheck configuration (.rollcheck.yaml)",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "rules": rules,
            "overrides": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["files"],
                    "additionalProperties": false,
                    "properties": {"files": strings, "rules": rules}
                }
            },
            "exclude": strings,
            "namespace": {"type": "string", "description": "namespace of objects that set none (default: `default`)"},
            "context": {"description": "files and directories loaded only to resolve references", "type": "array", "items": {"type": "string"}},
            "crds": {"description": "CRD files whose schemas check their custom resources", "type": "array", "items": {"type": "string"}},
            "external": {
                "description": "objects that exist in the cluster but not in the files",
                "type": "array",
                "items": {"oneOf": [
                    {"type": "string", "pattern": "^[^/]+/([^/]+/)?[^/]+$"},
                    {"type": "object", "required": ["kind", "name"], "additionalProperties": false,
                     "properties": {"kind": {"type": "string"}, "name": {"type": "string"}, "namespace": {"type": "string"}}}
                ]}
            },
            "fail-on": {"enum": ["info", "warning", "error"]},
            "tools": {
                "description": "the binaries that render charts and kustomizations",
                "type": "object",
                "additionalProperties": false,
                "properties": {"helm": {"type": "string"}, "kustomize": {"type": "string"}, "kubectl": {"type": "string"}}
            },
            "charts": {
                "description": "how to render the charts a path or glob matches: one unit per values set",
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["path"],
                    "additionalProperties": false,
                    "properties": {
                        "path": {"oneOf": [{"type": "string"}, strings]},
                        "release": {"type": "string"},
                        "namespace": {"type": "string"},
                        "values": {"type": "array", "items": {"oneOf": [{"type": "string"}, strings]}},
                        "set": strings,
                        "kube-version": {"type": "string"},
                        "api-versions": strings
                    }
                }
            },
            "render": {
                "type": "object",
                "additionalProperties": false,
                "properties": {"network": {"type": "boolean", "description": "let helm and kustomize use the network (default: false)"}}
            },
            "kube-version": {"type": ["string", "number"], "pattern": "^v?[0-9]+\\.[0-9]+(\\.[0-9]+)?$", "description": "the Kubernetes version manifests are applied to, e.g. \"1.33\" (default: 1.33): which API versions it serves"}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        parse(text, "c.yaml", Path::new("")).err().unwrap_or_default().iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn reads_every_setting() {
        let c = parse(
            "rules:\n  canary-no-analysis: off\n  missing-anti-affinity: warning\n  canary-large-weight-jump:\n    level: warning\n    max-jump: 30\noverrides:\n  - files: [legacy/**]\n    rules: {missing-readiness-probe: off}\nexclude: [charts/]\nnamespace: apps\ncontext: [../platform]\nexternal: [ClusterAnalysisTemplate/success-rate, Service/infra/gateway, {kind: Secret, name: s}]\nfail-on: warning\nkube-version: 1.29\n",
            "c.yaml",
            Path::new("/repo"),
        )
        .unwrap();
        assert_eq!(c.rules.0["canary-no-analysis"].level, Some(Level::Off));
        assert_eq!(c.rules.0["canary-large-weight-jump"].options["max-jump"], 30);
        assert_eq!(c.namespace.as_deref(), Some("apps"));
        assert_eq!(c.context, vec![PathBuf::from("/repo/../platform")]);
        assert_eq!(c.external.len(), 3);
        assert_eq!(c.external[1].namespace.as_deref(), Some("infra"));
        assert_eq!(c.fail_on, Some(Severity::Warning));
        assert_eq!(c.kube_version, Some(KubeVersion { major: 1, minor: 29 }));
        let legacy = c.effective("/repo/legacy/app.yaml");
        assert_eq!(legacy.severity("missing-readiness-probe"), None);
        assert_eq!(legacy.severity("missing-anti-affinity"), Some(Severity::Warning));
        let other = c.effective("/repo/apps/app.yaml");
        assert_eq!(other.severity("missing-readiness-probe"), Some(Severity::Warning));
        assert_eq!(other.severity("canary-no-analysis"), None);
    }

    #[test]
    fn mistakes_are_located() {
        assert_eq!(
            errors("rules:\n  canary-no-analysys: off\n"),
            vec!["c.yaml:2:3: unknown rule `canary-no-analysys`; did you mean `canary-no-analysis`?"]
        );
        assert_eq!(errors("namespac: x\n"), vec!["c.yaml:1:1: unknown setting `namespac`; did you mean `namespace`?"]);
        assert_eq!(
            errors("rules:\n  canary-no-analysis: loud\n"),
            vec!["c.yaml:2:23: `loud` is not a level: use `off`, `info`, `warning` or `error`"]
        );
        assert!(errors("rules:\n  canary-large-weight-jump: {max-jmp: 3}\n")[0].contains("did you mean `max-jump`?"));
        assert!(errors("external: [Service]\n")[0].starts_with("c.yaml:1:12:"));
        assert!(errors("rules: [\n")[0].contains("invalid YAML"));
        assert!(errors("").is_empty());
        assert_eq!(
            errors("kube-version: latest\n"),
            vec!["c.yaml:1:15: `kube-version` must be a Kubernetes version such as \"1.33\""]
        );
        assert_eq!(KubeVersion::parse("v1.25.3"), Some(KubeVersion { major: 1, minor: 25 }));
        assert_eq!(KubeVersion::parse("1"), None);
    }
}
