//! Helm charts: reading Chart.yaml, the values sets a chart is rendered with, and where a
//! `# Source:` path of the rendered output is in the repository.

use std::path::{Path, PathBuf};

use super::{ChartConfig, Settings, Unit, UnitKind};
use crate::yaml::parse_stream;

#[derive(Debug, Clone)]
pub struct Chart {
    pub name: String,
    pub library: bool,
}

pub fn read_chart(dir: &Path) -> Option<Chart> {
    let text = std::fs::read_to_string(dir.join("Chart.yaml")).ok()?;
    let stream = parse_stream(std::sync::Arc::from(text));
    let root = stream.documents.first().and_then(|d| d.root());
    let field = |k: &str| root.and_then(|r| r.get_str(k)).map(str::to_string);
    Some(Chart {
        name: field("name")
            .unwrap_or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()),
        library: field("type").as_deref() == Some("library"),
    })
}

/// One `helm template` run.
#[derive(Debug, Clone, Default)]
pub struct Render {
    pub release: String,
    pub values: Vec<PathBuf>,
    /// Values given inline (an Application's `values` and `valuesObject`), each written to a
    /// file.
    pub inline_values: Vec<String>,
    pub set: Vec<String>,
    pub kube_version: Option<String>,
    pub api_versions: Vec<String>,
}

impl Render {
    /// Arguments after `helm`; `inline` are the files holding `inline_values`.
    pub fn args(&self, chart: &Path, namespace: Option<&str>, inline: &[PathBuf]) -> Vec<String> {
        let mut args = vec!["template".to_string(), self.release.clone(), chart.display().to_string()];
        if let Some(ns) = namespace {
            args.extend(["--namespace".into(), ns.into()]);
        }
        for v in &self.values {
            args.extend(["--values".into(), v.display().to_string()]);
        }
        for file in inline {
            args.extend(["--values".into(), file.display().to_string()]);
        }
        for s in &self.set {
            args.extend(["--set".into(), s.clone()]);
        }
        if let Some(v) = &self.kube_version {
            args.extend(["--kube-version".into(), v.clone()]);
        }
        for a in &self.api_versions {
            args.extend(["--api-versions".into(), a.clone()]);
        }
        args
    }
}

/// The units of one chart: one per values set the config names for it, else one with the
/// chart's own values.
pub fn units(dir: &Path, _chart: &Chart, settings: &Settings) -> Vec<Unit> {
    let absolute = super::normalize(&std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()));
    let configs: Vec<&ChartConfig> = settings.charts.iter().filter(|c| c.charts.is_match(&absolute)).collect();
    let base = Render { release: "release-name".into(), values: settings.values.clone(), ..Default::default() };
    let mut renders = Vec::new();
    let mut namespace = None;
    match configs.last() {
        None => renders.push(base),
        Some(config) => {
            let render = Render {
                release: config.release.clone().unwrap_or(base.release),
                set: config.set.clone(),
                kube_version: config.kube_version.clone(),
                api_versions: config.api_versions.clone(),
                ..base
            };
            namespace = config.namespace.clone();
            for set in &config.values_sets {
                let mut r = render.clone();
                r.values = set.iter().map(|v| dir.join(v)).chain(r.values).collect();
                renders.push(r);
            }
            if config.values_sets.is_empty() {
                renders.push(render);
            }
        }
    }
    let configured = !configs.is_empty();
    renders.into_iter().map(|r| Unit { configured, ..unit(dir, r, namespace.clone()) }).collect()
}

pub fn unit(dir: &Path, render: Render, namespace: Option<String>) -> Unit {
    let mut label = format!("helm template {}", dir.display());
    for v in &render.values {
        label.push_str(&format!(" -f {}", v.display()));
    }
    if !render.inline_values.is_empty() {
        label.push_str(" (with the Application's values)");
    }
    Unit {
        anchor: super::normalize(&dir.join("Chart.yaml")),
        root: dir.to_path_buf(),
        label,
        namespace,
        configured: false,
        kind: UnitKind::Helm(render),
    }
}

/// `values-prod.yaml`, `values.staging.yml`: a values file other than the chart's default.
pub fn is_values_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return false };
    name.starts_with("values")
        && (name.ends_with(".yaml") || name.ends_with(".yml"))
        && !matches!(name, "values.yaml" | "values.yml")
}

/// The file a `# Source:` path names: it starts with the chart's name, not its folder;
/// subcharts follow as `charts/<name>/templates/...`.
pub fn template_file(chart_dir: &Path, source: &str) -> Option<PathBuf> {
    let rest = source.split_once('/')?.1;
    let mut path = chart_dir.to_path_buf();
    // `parent/charts/sub/templates/x.yaml`: the subchart's folder is usually its name, but an
    // archive (`charts/sub-1.0.0.tgz`) has no file to point at.
    for part in rest.split('/') {
        path.push(part);
    }
    let path = super::normalize(&path);
    path.is_file().then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_paths_start_with_the_chart_name() {
        let dir = tempfile::tempdir().unwrap();
        let chart = dir.path().join("folder-not-name");
        std::fs::create_dir_all(chart.join("templates")).unwrap();
        std::fs::create_dir_all(chart.join("charts/db/templates")).unwrap();
        std::fs::write(chart.join("templates/rollout.yaml"), "x").unwrap();
        std::fs::write(chart.join("charts/db/templates/svc.yaml"), "x").unwrap();
        assert_eq!(template_file(&chart, "shop/templates/rollout.yaml"), Some(chart.join("templates/rollout.yaml")));
        assert_eq!(
            template_file(&chart, "shop/charts/db/templates/svc.yaml"),
            Some(chart.join("charts/db/templates/svc.yaml"))
        );
        assert_eq!(template_file(&chart, "shop/templates/missing.yaml"), None);
    }
}
