//! Argo CD Applications: a folder an Application deploys is linted as Argo CD applies it, with
//! the Application's namespace and its Helm, kustomize or directory settings.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSetBuilder};

use super::{Found, Plan, Settings, Unit, UnitKind, helm, normalize};
use crate::yaml::{MAX_DEPTH, NodeRef, parse_stream, to_json};

/// What an Application's `spec.source.kustomize` changes in the build.
#[derive(Debug, Clone, Default)]
pub struct KustomizeEdits {
    pub name_prefix: Option<String>,
    pub name_suffix: Option<String>,
    pub namespace: Option<String>,
    pub images: Vec<String>,
    pub common_labels: Vec<(String, String)>,
}

impl KustomizeEdits {
    /// The lines these edits add to a kustomization.
    pub fn yaml(&self) -> String {
        let q = |s: &str| serde_json::to_string(s).expect("a string serializes");
        let mut out = String::new();
        if let Some(p) = &self.name_prefix {
            out.push_str(&format!("namePrefix: {}\n", q(p)));
        }
        if let Some(s) = &self.name_suffix {
            out.push_str(&format!("nameSuffix: {}\n", q(s)));
        }
        if let Some(ns) = &self.namespace {
            out.push_str(&format!("namespace: {}\n", q(ns)));
        }
        if !self.images.is_empty() {
            out.push_str("images:\n");
            for image in &self.images {
                // Argo CD's forms: `name=new:tag`, `name:tag`, `name@digest`.
                let (name, new) = image.split_once('=').unwrap_or(("", image));
                let (new_name, rest) = split_image(new);
                let name = if name.is_empty() { new_name } else { name };
                out.push_str(&format!("  - name: {}\n    newName: {}\n", q(name), q(new_name)));
                match rest {
                    Some(('@', digest)) => out.push_str(&format!("    digest: {}\n", q(digest))),
                    Some((_, tag)) => out.push_str(&format!("    newTag: {}\n", q(tag))),
                    None => {}
                }
            }
        }
        if !self.common_labels.is_empty() {
            out.push_str("commonLabels:\n");
            for (k, v) in &self.common_labels {
                out.push_str(&format!("  {}: {}\n", q(k), q(v)));
            }
        }
        out
    }
}

fn split_image(image: &str) -> (&str, Option<(char, &str)>) {
    if let Some((name, digest)) = image.split_once('@') {
        return (name, Some(('@', digest)));
    }
    // A tag follows the last `:` after the last `/` (a registry port is not a tag).
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[slash..].rfind(':') {
        Some(i) => (&image[..slash + i], Some((':', &image[slash + i + 1..]))),
        None => (image, None),
    }
}

/// One source of an Application that deploys a folder of the linted tree.
struct Source {
    app_file: PathBuf,
    app_name: String,
    folder: PathBuf,
    namespace: Option<String>,
    source: SourceSettings,
}

#[derive(Default)]
struct SourceSettings {
    recurse: bool,
    include: Option<String>,
    exclude: Option<String>,
    helm: Option<helm::Render>,
    kustomize: Option<KustomizeEdits>,
}

/// Replaces the default units of folders that Applications deploy with units built as Argo
/// CD builds them.
pub fn apply(plan: &mut Plan, found: &Found, _settings: &Settings) {
    // Only a folder that is walked can be deployed by an Application.
    if found.roots.is_empty() {
        return;
    }
    let sources: Vec<Source> = plan.plain.iter().flat_map(|f| applications(f, found)).collect();
    if sources.is_empty() {
        return;
    }
    let mut replaced: Vec<PathBuf> = Vec::new();
    for s in sources {
        let namespace = s.namespace.clone();
        // The Application says how the folder is deployed: it replaces the default unit (but
        // not values sets the config asks for).
        if !replaced.contains(&s.folder) {
            plan.units.retain(|u| u.root != s.folder || u.configured);
            replaced.push(s.folder.clone());
        }
        let is_chart = s.folder.join("Chart.yaml").is_file();
        let kustomization = super::kustomize::FILE_NAMES.iter().map(|n| s.folder.join(n)).find(|p| p.is_file());
        let unit = if is_chart {
            let mut render = s.source.helm.unwrap_or_default();
            if render.release.is_empty() {
                render.release = s.app_name.clone();
            }
            let mut u = helm::unit(&s.folder, render, namespace);
            u.label.push_str(&format!(" (Application in {})", s.app_file.display()));
            u
        } else if let Some(file) = kustomization {
            let Some(chain) = plan.chains.get(&s.folder).cloned() else { continue };
            let edits = s.source.kustomize.unwrap_or_default();
            Unit {
                label: format!("kustomize build {} (Application in {})", s.folder.display(), s.app_file.display()),
                anchor: file,
                root: s.folder.clone(),
                namespace,
                configured: false,
                kind: UnitKind::Kustomize(super::KustomizeUnit { chain, edits }),
            }
        } else {
            let files = directory_files(&plan.plain, &s.folder, &s.source);
            plan.plain.retain(|f| !files.contains(f));
            Unit {
                label: format!("directory {} (Application in {})", s.folder.display(), s.app_file.display()),
                anchor: s.app_file.clone(),
                root: s.folder.clone(),
                namespace,
                configured: false,
                kind: UnitKind::Directory { files },
            }
        };
        plan.units.push(unit);
    }
}

fn directory_files(plain: &[PathBuf], folder: &Path, s: &SourceSettings) -> Vec<PathBuf> {
    let glob = |pattern: &Option<String>| {
        pattern.as_ref().and_then(|p| {
            let mut b = GlobSetBuilder::new();
            b.add(Glob::new(p).ok()?);
            b.build().ok()
        })
    };
    let (include, exclude) = (glob(&s.include), glob(&s.exclude));
    plain
        .iter()
        .filter(|f| super::within(f, folder))
        .filter(|f| s.recurse || super::normalize(f.parent().unwrap_or(Path::new("."))) == folder)
        .filter(|f| {
            let rel = f.strip_prefix(folder).unwrap_or(f);
            include.as_ref().is_none_or(|g| g.is_match(rel)) && exclude.as_ref().is_none_or(|g| !g.is_match(rel))
        })
        .cloned()
        .collect()
}

/// Whether `file` contains `needle`, read in blocks.
fn mentions(file: &Path, needle: &[u8]) -> bool {
    use std::io::Read;
    let Ok(mut f) = std::fs::File::open(file) else { return false };
    let finder = memchr::memmem::Finder::new(needle);
    let mut block = vec![0u8; 1 << 20];
    // The end of the previous block, where a match may start.
    let mut kept = 0;
    loop {
        let n = match f.read(&mut block[kept..]) {
            Ok(0) => return false,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return false,
        };
        let filled = kept + n;
        if finder.find(&block[..filled]).is_some() {
            return true;
        }
        kept = (needle.len() - 1).min(filled);
        block.copy_within(filled - kept..filled, 0);
    }
}

/// The sources of the Applications in `file` that name a folder of the linted tree.
fn applications(file: &Path, found: &Found) -> Vec<Source> {
    // Most files hold no Application: find out without reading a large stream whole.
    if !mentions(file, b"Application") {
        return Vec::new();
    }
    let Ok(text) = std::fs::read_to_string(file) else { return Vec::new() };
    if !text.contains("argoproj.io") {
        return Vec::new();
    }
    let repo = super::repository_root(file);
    let cwd = std::env::current_dir().unwrap_or_default();
    let stream = parse_stream(std::sync::Arc::from(text));
    let mut out = Vec::new();
    for doc in &stream.documents {
        let Some(root) = doc.root() else { continue };
        if root.get_str("kind") != Some("Application")
            || !root.get_str("apiVersion").is_some_and(|v| v.starts_with("argoproj.io/"))
        {
            continue;
        }
        let Some(spec) = root.get("spec") else { continue };
        let app_name = root.path(&["metadata", "name"]).and_then(|n| n.as_str()).unwrap_or("release-name");
        let namespace = spec.path(&["destination", "namespace"]).and_then(|n| n.as_str()).map(str::to_string);
        let sources = spec.get("source").into_iter().chain(spec.get("sources").into_iter().flat_map(|s| s.items()));
        for source in sources {
            // A chart from a Helm repository is not in the files.
            let Some(path) = source.get_str("path").filter(|_| source.get("chart").is_none()) else { continue };
            let absolute = normalize(&repo.join(path));
            let folder = normalize(&super::relative_to(&absolute, &cwd));
            if !absolute.is_dir() || !found.roots.iter().any(|r| super::within(&folder, r)) {
                continue;
            }
            out.push(Source {
                app_file: file.to_path_buf(),
                app_name: app_name.to_string(),
                folder,
                namespace: namespace.clone(),
                source: settings_of(source, &absolute, &cwd),
            });
        }
    }
    out
}

fn settings_of(source: NodeRef<'_>, folder: &Path, cwd: &Path) -> SourceSettings {
    let mut s = SourceSettings::default();
    if let Some(d) = source.get("directory") {
        s.recurse = d.get("recurse").and_then(|r| r.as_bool()).unwrap_or(false);
        s.include = d.get_str("include").map(str::to_string);
        s.exclude = d.get_str("exclude").map(str::to_string);
    }
    if let Some(h) = source.get("helm") {
        let mut render =
            helm::Render { release: h.get_str("releaseName").unwrap_or_default().to_string(), ..Default::default() };
        for v in h.get("valueFiles").into_iter().flat_map(|v| v.items()).filter_map(|v| v.as_str()) {
            render.values.push(normalize(&super::relative_to(&normalize(&folder.join(v)), cwd)));
        }
        // Argo CD merges `valuesObject` over `values`: each becomes a values file, in that order.
        if let Some(values) = h.get_str("values") {
            render.inline_values.push(values.to_string());
        }
        if let Some(object) = h.get("valuesObject").filter(|o| o.is_map()) {
            render.inline_values.push(to_json(object, MAX_DEPTH as u32).to_string());
        }
        for p in h.get("parameters").into_iter().flat_map(|p| p.items()) {
            if let (Some(name), Some(value)) = (p.get_str("name"), p.get("value").and_then(|v| v.text())) {
                render.set.push(format!("{name}={value}"));
            }
        }
        s.helm = Some(render);
    }
    if let Some(k) = source.get("kustomize") {
        s.kustomize = Some(KustomizeEdits {
            name_prefix: k.get_str("namePrefix").map(str::to_string),
            name_suffix: k.get_str("nameSuffix").map(str::to_string),
            namespace: k.get_str("namespace").map(str::to_string),
            images: k
                .get("images")
                .into_iter()
                .flat_map(|i| i.items())
                .filter_map(|i| i.as_str())
                .map(str::to_string)
                .collect(),
            common_labels: k
                .get("commonLabels")
                .into_iter()
                .flat_map(|l| l.entries())
                .filter_map(|(k, v)| Some((k.key_text()?.to_string(), v.text()?.to_string())))
                .collect(),
        });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_take_argo_cd_forms() {
        let e =
            KustomizeEdits { images: vec!["web=reg:5000/web:v2".into(), "api@sha256:ab".into()], ..Default::default() };
        let yaml = e.yaml();
        assert!(yaml.contains("name: \"web\"\n    newName: \"reg:5000/web\"\n    newTag: \"v2\""), "{yaml}");
        assert!(yaml.contains("name: \"api\"\n    newName: \"api\"\n    digest: \"sha256:ab\""), "{yaml}");
    }
}
