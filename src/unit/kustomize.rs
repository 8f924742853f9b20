//! kustomization files: what they build from (resources, bases, components), the files they
//! only read (patches, generator inputs, configurations), and how rollcheck builds a root.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::yaml::{NodeRef, parse_stream};

pub const FILE_NAMES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// What one kustomization file says about other files.
#[derive(Debug, Default, Clone)]
pub struct Kustomization {
    /// The kustomization file.
    pub file: PathBuf,
    /// Its folder (normalised, as the other paths).
    pub dir: PathBuf,
    /// Files and folders it builds from: `resources`, `bases`, `components`.
    pub resources: Vec<PathBuf>,
    /// Patch files (strategic-merge and JSON 6902), in order.
    pub patches: Vec<PathBuf>,
    /// Files it reads that are not objects: patches, generator inputs, configurations, values.
    pub inputs: Vec<PathBuf>,
    /// A resource fetched over the network (a URL or a git repository).
    pub remote: Option<String>,
    /// It inflates Helm charts (`helmCharts:`), which needs `--enable-helm`.
    pub helm_charts: bool,
    /// It gives kustomize the Rollout schema (`openapi:` or `configurations:`).
    pub schema_config: bool,
    /// The transformers it applies that need the Rollout schema, with the line they are set on.
    pub schema_transforms: Vec<(&'static str, usize)>,
    /// The text, for locating findings on it.
    pub text: Arc<str>,
}

fn is_remote(entry: &str) -> bool {
    entry.contains("://") || entry.starts_with("git@") || entry.starts_with("github.com/") || entry.contains("?ref=")
}

/// Reads a kustomization file; `None` if it cannot be read or is not a mapping (the build
/// reports that).
pub fn read(file: &Path) -> Option<Kustomization> {
    let text: Arc<str> = Arc::from(std::fs::read_to_string(file).ok()?);
    let dir = super::normalize(file.parent().unwrap_or(Path::new(".")));
    let stream = parse_stream(text.clone());
    let root = stream.documents.first().and_then(|d| d.root()).filter(|r| r.is_map())?;
    let mut k =
        Kustomization { file: super::normalize(file), dir: dir.clone(), text: text.clone(), ..Default::default() };
    let at = |p: &str| super::normalize(&dir.join(p));
    let line_of = |node: NodeRef<'_>| text[..node.span().start as usize].matches('\n').count() + 1;
    for (key, value) in root.entries() {
        let key_name = key.key_text().unwrap_or_default();
        match key_name.as_ref() {
            "resources" | "bases" | "components" => {
                for item in value.items().filter_map(|i| i.as_str()) {
                    if is_remote(item) {
                        k.remote.get_or_insert_with(|| item.to_string());
                    } else {
                        k.resources.push(at(item));
                    }
                }
            }
            "patchesStrategicMerge" => {
                for item in value.items().filter_map(|i| i.as_str()) {
                    // An entry is a file name or an inline patch.
                    if !item.contains('\n') && !item.contains(':') {
                        k.patches.push(at(item));
                    }
                }
            }
            "patches" | "patchesJson6902" => {
                for item in value.items() {
                    if let Some(p) = item.get_str("path") {
                        k.patches.push(at(p));
                    } else if let Some(p) = item.as_str().filter(|s| !s.contains('\n')) {
                        // Not valid kustomize, but the file is still a patch, never an object.
                        k.inputs.push(at(p));
                    }
                }
            }
            "configMapGenerator" | "secretGenerator" => {
                for generator in value.items() {
                    for field in ["files", "envs"] {
                        for f in generator.get(field).into_iter().flat_map(|f| f.items()).filter_map(|f| f.as_str()) {
                            // `key=path` names the key it becomes.
                            k.inputs.push(at(f.rsplit_once('=').map_or(f, |(_, p)| p)));
                        }
                    }
                    if let Some(env) = generator.get_str("env") {
                        k.inputs.push(at(env));
                    }
                }
            }
            "crds" | "configurations" | "transformers" | "generators" | "validators" => {
                if key_name == "configurations" {
                    k.schema_config = true;
                }
                for f in value.items().filter_map(|i| i.as_str()).filter(|s| !s.contains('\n')) {
                    k.inputs.push(at(f));
                }
            }
            "openapi" => {
                k.schema_config = true;
                if let Some(p) = value.get_str("path") {
                    k.inputs.push(at(p));
                }
            }
            "replacements" => {
                for p in value.items().filter_map(|i| i.get_str("path")) {
                    k.inputs.push(at(p));
                }
            }
            "helmCharts" => {
                k.helm_charts = true;
                for p in value.items().filter_map(|i| i.get_str("valuesFile")) {
                    k.inputs.push(at(p));
                }
            }
            "images" | "replicas" | "namePrefix" | "nameSuffix" | "commonLabels" | "labels" => {
                let name = match key_name.as_ref() {
                    "images" => "images",
                    "replicas" => "replicas",
                    "namePrefix" => "namePrefix",
                    "nameSuffix" => "nameSuffix",
                    "commonLabels" => "commonLabels",
                    _ => "labels",
                };
                k.schema_transforms.push((name, line_of(key)));
            }
            _ => {}
        }
    }
    Some(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_a_kustomization_builds_from_and_reads() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kustomization.yaml");
        std::fs::write(
            &file,
            "resources: [../base, rollout.yaml, https://github.com/x/y//z?ref=v1]\ncomponents: [../c]\n\
             patches:\n  - path: p.yaml\n  - patch: |-\n      - op: remove\npatchesStrategicMerge: [sm.yaml]\n\
             configMapGenerator:\n  - name: x\n    files: [k=conf.txt]\n    envs: [a.env]\n\
             openapi: {path: schema.json}\nimages: [{name: a, newTag: b}]\n",
        )
        .unwrap();
        let k = read(&file).unwrap();
        let base = super::super::normalize(dir.path());
        assert_eq!(
            k.resources,
            vec![base.parent().unwrap().join("base"), base.join("rollout.yaml"), base.parent().unwrap().join("c")]
        );
        assert_eq!(k.patches, vec![base.join("p.yaml"), base.join("sm.yaml")]);
        assert_eq!(k.inputs, vec![base.join("conf.txt"), base.join("a.env"), base.join("schema.json")]);
        assert!(k.remote.is_some() && k.schema_config);
        assert_eq!(k.schema_transforms, vec![("images", 13)]);
    }
}
