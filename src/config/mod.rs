//! `.rollcheck.yaml`: rule levels and options, per-path overrides, excludes, namespace, context
//! paths and external objects. Read with the same span-preserving YAML layer as manifests, so
//! every mistake in it is reported at its line and column.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use globset::GlobSet;

use crate::diagnostic::Severity;
use crate::rules;
use crate::settings::{Effective, KubeVersion};
use crate::unit::normalize;

mod json_schema;
mod read;

pub use json_schema::json_schema;
pub use read::parse;

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
        let mut levels = Vec::new();
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
            levels.push((
                rule.id,
                match level {
                    Level::Off => None,
                    Level::On(s) => Some(s),
                },
            ));
            options.push(opts);
        }
        Effective { levels, options, kube_version: self.kube_version.unwrap_or(KubeVersion::DEFAULT) }
    }

    /// The config's base directory made absolute, for anchoring globs.
    pub fn absolute_base(&self) -> PathBuf {
        normalize(&std::path::absolute(&self.base).unwrap_or_else(|_| self.base.clone()))
    }
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
