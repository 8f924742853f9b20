//! Units: what gets applied together. A walk of the linted paths finds Helm charts (rendered
//! with `helm template`), kustomize roots (built with kustomize), folders that an Argo CD
//! Application deploys, and plain files; files that only feed a render (templates, values,
//! patches, generator inputs) are never linted as objects.

pub mod argocd;
pub mod helm;
pub mod kustomize;
pub mod locate;
pub mod run;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use globset::GlobSet;

pub use run::Limits;

/// One unit: the objects one render (or one Argo CD directory source) applies.
#[derive(Debug, Clone)]
pub struct Unit {
    pub kind: UnitKind,
    /// The folder it is built from.
    pub root: PathBuf,
    /// The file a render failure is reported on: Chart.yaml, the kustomization, or the
    /// Application.
    pub anchor: PathBuf,
    /// What it is, for messages: `helm template charts/shop -f values-prod.yaml`.
    pub label: String,
    /// Namespace of objects that set none (`helm template --namespace`, an Application's
    /// destination).
    pub namespace: Option<String>,
    /// Asked for by the config (`charts:`): an Application adds its own unit beside it instead of
    /// replacing it.
    pub configured: bool,
}

#[derive(Debug, Clone)]
pub enum UnitKind {
    Helm(helm::Render),
    Kustomize(KustomizeUnit),
    /// Plain files an Argo CD Application deploys together.
    Directory {
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Clone, Default)]
pub struct KustomizeUnit {
    /// Every kustomization the build reads, the root first.
    pub chain: Vec<Arc<kustomize::Kustomization>>,
    /// What an Argo CD Application changes (`spec.source.kustomize`).
    pub edits: argocd::KustomizeEdits,
}

impl KustomizeUnit {
    pub fn patches(&self) -> impl Iterator<Item = &PathBuf> {
        self.chain.iter().flat_map(|k| &k.patches)
    }
}

/// How to find and render units.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `false` with `--no-render`: every file is linted as it is.
    pub render: bool,
    pub tools: Tools,
    /// `--values`: values files for every chart.
    pub values: Vec<PathBuf>,
    /// The config's `charts:` entries.
    pub charts: Vec<ChartConfig>,
    pub limits: Limits,
}

#[derive(Debug, Clone, Default)]
pub struct Tools {
    pub helm: Option<PathBuf>,
    pub kustomize: Option<PathBuf>,
    pub kubectl: Option<PathBuf>,
}

/// A `charts:` entry of the config: how to render the charts its glob matches.
#[derive(Debug, Clone, Default)]
pub struct ChartConfig {
    /// Matches chart folders (absolute, normalised).
    pub charts: GlobSet,
    pub release: Option<String>,
    pub namespace: Option<String>,
    /// One unit per set; each set is a list of values files, relative to the chart.
    pub values_sets: Vec<Vec<PathBuf>>,
    pub set: Vec<String>,
    pub kube_version: Option<String>,
    pub api_versions: Vec<String>,
}

/// What a walk found: units to render, and the files to lint as they are.
#[derive(Debug, Default)]
pub struct Plan {
    pub units: Vec<Unit>,
    pub plain: Vec<PathBuf>,
    /// Every kustomization found, by folder, with those it builds from (itself first).
    pub chains: BTreeMap<PathBuf, Vec<Arc<kustomize::Kustomization>>>,
    /// Standard input is linted too (a stream, as it is).
    pub stdin: bool,
    /// The chart a `helm template` stream on standard input was rendered from (`--chart-dir`).
    pub chart_dir: Option<PathBuf>,
}

/// The files a walk of the linted paths found (manifests, Chart.yaml files and
/// kustomizations), and the files named one by one.
#[derive(Debug, Default)]
pub struct Found {
    pub walked: Vec<PathBuf>,
    pub named: Vec<PathBuf>,
    /// The folders walked (normalised).
    pub roots: Vec<PathBuf>,
    /// Charts and kustomizations of the repositories around named files (pre-commit passes a
    /// changed template or patch alone).
    pub around_named: Vec<PathBuf>,
}

pub fn is_kustomization(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| kustomize::FILE_NAMES.contains(&n))
}

pub fn is_chart_file(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "Chart.yaml")
}

/// Removes `.` and `..` components without touching the file system; `.` for nothing.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), None | Some(Component::ParentDir)) {
                    out.push("..");
                } else {
                    out.pop();
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() { PathBuf::from(".") } else { out }
}

/// `path` relative to `base` (both absolute), with `..` where needed.
pub fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let (p, b): (Vec<_>, Vec<_>) = (path.components().collect(), base.components().collect());
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    if out.as_os_str().is_empty() { PathBuf::from(".") } else { out }
}

/// Whether `path` is `dir` or inside it (both normalised; `.` holds every relative path
/// that does not climb out).
pub fn within(path: &Path, dir: &Path) -> bool {
    dir == Path::new(".") && !path.is_absolute() && !path.starts_with("..") || path.starts_with(dir)
}

/// Finds the units among the found files.
pub fn plan(found: &Found, settings: &Settings) -> Plan {
    let mut plan = Plan::default();
    if !settings.render {
        plan.plain = found.walked.iter().chain(&found.named).map(|p| normalize(p)).collect();
        plan.plain.sort();
        plan.plain.dedup();
        return plan;
    }
    let all: BTreeSet<PathBuf> =
        found.walked.iter().chain(&found.named).chain(&found.around_named).map(|p| normalize(p)).collect();
    let named: BTreeSet<PathBuf> = found.named.iter().map(|p| normalize(p)).collect();
    let walked: BTreeSet<PathBuf> = found.walked.iter().map(|p| normalize(p)).collect();
    let selected_by_walk = |root: &Path| found.roots.iter().any(|r| within(root, r));

    // Charts: a Chart.yaml under another chart's folder belongs to it (subcharts, examples).
    let chart_dirs: Vec<PathBuf> = all.iter().filter(|p| is_chart_file(p)).map(|p| parent(p)).collect();
    let top_charts: Vec<&PathBuf> =
        chart_dirs.iter().filter(|d| !chart_dirs.iter().any(|o| o != *d && within(d, o))).collect();
    let mut owned: HashSet<PathBuf> = HashSet::new();
    for dir in &top_charts {
        let files: Vec<&PathBuf> = all.iter().filter(|f| within(f, dir)).collect();
        owned.extend(files.iter().map(|f| (*f).clone()));
        let wanted = selected_by_walk(dir) || files.iter().any(|f| named.contains(*f));
        if !wanted {
            continue;
        }
        let Some(chart) = helm::read_chart(dir) else { continue };
        if chart.library {
            continue;
        }
        let units = helm::units(dir, &chart, settings);
        // A changed values file named on the command line (pre-commit) is rendered too, when no
        // values set of the config has it already.
        let rendered_with = |f: &Path| {
            units.iter().any(|u| matches!(&u.kind, UnitKind::Helm(r) if r.values.iter().any(|v| normalize(v) == f)))
        };
        let extra: Vec<Unit> = files
            .iter()
            .filter(|f| named.contains(**f) && parent(f) == **dir && helm::is_values_file(f) && !rendered_with(f))
            .map(|f| {
                let render =
                    helm::Render { release: "release-name".into(), values: vec![(*f).clone()], ..Default::default() };
                helm::unit(dir, render, None)
            })
            .collect();
        plan.units.extend(units);
        plan.units.extend(extra);
    }

    // kustomizations: roots are those no other one builds from.
    let kustomizations: BTreeMap<PathBuf, Arc<kustomize::Kustomization>> = all
        .iter()
        .filter(|p| is_kustomization(p) && !owned.contains(*p))
        .filter_map(|p| kustomize::read(p).map(|k| (k.dir.clone(), Arc::new(k))))
        .collect();
    let used: HashSet<&PathBuf> = kustomizations.values().flat_map(|k| &k.resources).collect();
    for (dir, root) in &kustomizations {
        // Files of the root and every kustomization it builds from.
        let mut chain = vec![root.clone()];
        let mut files: Vec<PathBuf> = vec![root.file.clone()];
        let mut queue = vec![root.clone()];
        let mut seen: HashSet<PathBuf> = HashSet::from([dir.clone()]);
        while let Some(k) = queue.pop() {
            files.extend(k.patches.iter().chain(&k.inputs).cloned());
            for r in &k.resources {
                match kustomizations.get(r) {
                    Some(child) if seen.insert(r.clone()) => {
                        files.push(child.file.clone());
                        chain.push(child.clone());
                        queue.push(child.clone());
                    }
                    Some(_) => {}
                    None => files.push(r.clone()),
                }
            }
        }
        owned.extend(files.iter().cloned());
        plan.chains.insert(dir.clone(), chain.clone());
        if used.contains(dir) {
            continue;
        }
        let wanted = selected_by_walk(dir) || files.iter().any(|f| named.contains(f));
        if wanted {
            plan.units.push(Unit {
                label: format!("kustomize build {}", dir.display()),
                anchor: root.file.clone(),
                root: dir.clone(),
                namespace: None,
                configured: false,
                kind: UnitKind::Kustomize(KustomizeUnit { chain, edits: Default::default() }),
            });
        }
    }
    // Files a non-root kustomization reads are its roots' (patches, inputs, resources).
    for k in kustomizations.values() {
        owned.insert(k.file.clone());
        owned.extend(k.patches.iter().chain(&k.inputs).cloned());
    }

    plan.plain = walked.iter().chain(&named).filter(|f| !owned.contains(*f)).cloned().collect();
    plan.plain.sort();
    plan.plain.dedup();
    argocd::apply(&mut plan, found, settings);
    plan
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The repository a path is in: the nearest folder with `.git`, else the folder itself.
pub fn repository_root(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let start = if absolute.is_dir() { absolute.clone() } else { parent(&absolute) };
    start.ancestors().find(|d| d.join(".git").exists()).map(Path::to_path_buf).unwrap_or(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_and_made_relative() {
        assert_eq!(normalize(Path::new("./a/../b/./c")), PathBuf::from("b/c"));
        assert_eq!(normalize(Path::new("./")), PathBuf::from("."));
        assert_eq!(normalize(Path::new("../x/../../y")), PathBuf::from("../../y"));
        assert_eq!(relative_to(Path::new("/r/a/b"), Path::new("/r/c")), PathBuf::from("../a/b"));
        assert_eq!(relative_to(Path::new("/r"), Path::new("/r")), PathBuf::from("."));
        assert!(within(Path::new("a/b"), Path::new(".")));
        assert!(!within(Path::new("../a"), Path::new(".")));
        assert!(within(Path::new("a/b"), Path::new("a")));
    }
}

/// What rendering a unit gave.
#[derive(Debug)]
pub enum Output {
    /// The rendered objects, and for kustomize the file each document came from.
    Rendered { text: String, origins: Vec<Option<PathBuf>> },
    /// Files to load as they are (an Application's directory source).
    Files(Vec<PathBuf>),
    /// The renderer refused the unit: its message, and the file and line it names.
    Failed { message: String, at: Option<(PathBuf, usize)> },
    /// The tool is not installed.
    ToolMissing { tool: &'static str },
}

/// Renders one unit.
pub fn render(unit: &Unit, settings: &Settings) -> Output {
    match &unit.kind {
        UnitKind::Directory { files } => Output::Files(files.clone()),
        UnitKind::Helm(r) => render_helm(unit, r, settings),
        UnitKind::Kustomize(k) => render_kustomize(unit, k, settings),
    }
}

fn render_helm(unit: &Unit, render: &helm::Render, settings: &Settings) -> Output {
    let Some(helm) = settings.tools.helm.clone().or_else(|| run::on_path("helm")) else {
        return Output::ToolMissing { tool: "helm" };
    };
    let mut inline = Vec::new();
    for values in &render.inline_values {
        let written = tempfile::Builder::new().suffix(".yaml").tempfile().and_then(|mut f| {
            std::io::Write::write_all(&mut f, values.as_bytes())?;
            Ok(f.into_temp_path())
        });
        match written {
            Ok(path) => inline.push(path),
            Err(e) => return Output::Failed { message: format!("cannot write a values file: {e}"), at: None },
        }
    }
    let files: Vec<PathBuf> = inline.iter().map(|p| p.to_path_buf()).collect();
    let args = render.args(&unit.root, unit.namespace.as_deref(), &files);
    match run::run(&helm, &args, None, &settings.limits) {
        Ok(text) => Output::Rendered { text, origins: Vec::new() },
        Err(message) => {
            let at = helm_error_place(&unit.root, &message).or_else(|| Some((unit.anchor.clone(), 1)));
            let mut message = shorten(
                message
                    .trim_start_matches("Error: ")
                    .trim_end_matches("Use --debug flag to render out invalid YAML")
                    .trim_end(),
            );
            if message.contains("missing in charts/ directory") {
                message.push_str(
                    "; rollcheck never downloads dependencies: vendor them with `helm dependency build` (charts/ in the repository)",
                );
            }
            Output::Failed { message, at }
        }
    }
}

/// The template and line a helm error names (`shop/templates/x.yaml:12:5`).
fn helm_error_place(chart_dir: &Path, message: &str) -> Option<(PathBuf, usize)> {
    // A chart's values schema that is not JSON: helm names no file, the schema is to blame.
    let schema = chart_dir.join("values.schema.json");
    if message.contains("values don't meet the specifications of the schema")
        && message.contains("looking for beginning of value")
        && schema.is_file()
    {
        return Some((normalize(&schema), 1));
    }
    let re = regex::Regex::new(r"([\w.\-]+(?:/[\w.\-]+)*\.(?:yaml|yml|tpl|txt|json)):(\d+)").expect("valid");
    for c in re.captures_iter(message) {
        if let (Some(file), Ok(line)) = (helm::template_file(chart_dir, &c[1]), c[2].parse()) {
            return Some((file, line));
        }
    }
    // `YAML parse error on shop/templates/x.yaml: ...`
    let re = regex::Regex::new(r"on ([\w.\-]+(?:/[\w.\-]+)*\.(?:yaml|yml))").expect("valid");
    let file = re.captures_iter(message).find_map(|c| helm::template_file(chart_dir, &c[1]))?;
    let line = regex::Regex::new(r"line (\d+)").expect("valid").captures(message).and_then(|c| c[1].parse().ok());
    Some((file, line.unwrap_or(1)))
}

const ORIGIN: &str = "config.kubernetes.io/origin";

fn render_kustomize(unit: &Unit, k: &KustomizeUnit, settings: &Settings) -> Output {
    if let Some(remote) = k.chain.iter().find_map(|c| c.remote.as_ref().map(|r| (c, r)))
        && !settings.limits.network
    {
        let (kustomization, url) = remote;
        let line = kustomization.text.lines().position(|l| l.contains(url.as_str())).map_or(1, |i| i + 1);
        return Output::Failed {
            message: format!(
                "`{url}` is fetched over the network, which rollcheck does not allow by default: vendor it, or allow it with `render: {{network: true}}` in .rollcheck.yaml"
            ),
            at: Some((kustomization.file.clone(), line)),
        };
    }
    let (program, mut args) = match (&settings.tools.kustomize, &settings.tools.kubectl) {
        (Some(k), _) => (k.clone(), vec!["build".to_string()]),
        (None, Some(kubectl)) => (kubectl.clone(), vec!["kustomize".to_string()]),
        (None, None) => match (run::on_path("kustomize"), run::on_path("kubectl")) {
            (Some(k), _) => (k, vec!["build".to_string()]),
            (None, Some(kubectl)) => (kubectl, vec!["kustomize".to_string()]),
            (None, None) => return Output::ToolMissing { tool: "kustomize" },
        },
    };
    // A kustomization of our own, in a temporary folder, builds the root with the origin of
    // every object recorded (and an Application's edits applied).
    let Ok(wrapper) = tempfile::tempdir() else {
        return Output::Failed { message: "cannot create a temporary folder".into(), at: None };
    };
    let wrapper_dir = normalize(&std::fs::canonicalize(wrapper.path()).unwrap_or_else(|_| wrapper.path().into()));
    let root = std::path::absolute(&unit.root).map(|p| normalize(&p)).unwrap_or_else(|_| unit.root.clone());
    let resource = relative_to(&root, &wrapper_dir);
    let text = format!(
        "resources:\n  - {}\nbuildMetadata: [originAnnotations]\n{}",
        serde_json::to_string(&resource.to_string_lossy()).expect("a string serializes"),
        k.edits.yaml()
    );
    if let Err(e) = std::fs::write(wrapper_dir.join("kustomization.yaml"), text) {
        return Output::Failed { message: format!("cannot write a temporary kustomization: {e}"), at: None };
    }
    args.push(wrapper_dir.display().to_string());
    if k.chain.iter().any(|c| c.helm_charts) {
        args.push("--enable-helm".into());
        if let Some(helm) = settings.tools.helm.clone().or_else(|| run::on_path("helm")) {
            args.extend(["--helm-command".into(), helm.display().to_string()]);
        }
    }
    match run::run(&program, &args, None, &settings.limits) {
        Ok(text) => {
            let (text, origins) = strip_origins(&text);
            let cwd = std::env::current_dir().unwrap_or_default();
            let origins = origins
                .into_iter()
                .map(|o| o.map(|p| normalize(&relative_to(&normalize(&wrapper_dir.join(p)), &cwd))))
                .collect();
            Output::Rendered { text, origins }
        }
        Err(message) => {
            // Paths as the user knows them: the root and its neighbours relative to the run.
            let cwd = std::env::current_dir().unwrap_or_default();
            let message = message
                .replace(&resource.display().to_string(), &unit.root.display().to_string())
                .replace(&format!("{}/", wrapper_dir.display()), "")
                .replace(&format!("{}/", normalize(&cwd).display()), "");
            let message = shorten(&kustomize_message(&message));
            let at = kustomize_error_place(k, &message).or_else(|| Some((unit.anchor.clone(), 1)));
            Output::Failed { message, at }
        }
    }
}

/// kustomize's error without its deprecation warnings and the chain of folders it recursed
/// through (`accumulating resources from 'x': ... recursed accumulation of path 'x': `).
fn kustomize_message(message: &str) -> String {
    let lines: Vec<&str> = message.lines().filter(|l| !l.trim_start().starts_with("# Warning:")).collect();
    let mut text = lines.join("\n");
    text = text.trim_start_matches("error: ").trim_start_matches("Error: ").to_string();
    let nesting = regex::Regex::new(
        r"(accumulating resources: )?accumulation err='accumulating resources from '[^']*': '[^']*' must resolve to a file': recursed accumulation of path '[^']*': ",
    )
    .expect("valid");
    loop {
        let next = nesting.replace(&text, "").into_owned();
        if next == text {
            break;
        }
        text = next;
    }
    // A missing file, said plainly (kustomize repeats it twice inside its chain).
    let missing = regex::Regex::new(r"lstat ([^:']+): no such file or directory").expect("valid");
    if let Some(c) = missing.captures(&text) {
        return format!("`{}` does not exist", &c[1]);
    }
    text.trim_end_matches('\'').to_string()
}

/// kustomize nests its errors and may print its whole configuration: keep the start (what
/// failed) and the end (why).
fn shorten(message: &str) -> String {
    const HEAD: usize = 160;
    const TAIL: usize = 240;
    let chars: Vec<char> = message.chars().collect();
    if chars.len() <= HEAD + TAIL + 20 {
        return message.to_string();
    }
    let head: String = chars[..HEAD].iter().collect();
    let tail: String = chars[chars.len() - TAIL..].iter().collect();
    format!("{head} … {tail}")
}

/// The kustomization line an error is about: the entry naming a file the message names.
fn kustomize_error_place(k: &KustomizeUnit, message: &str) -> Option<(PathBuf, usize)> {
    for kustomization in &k.chain {
        for (i, line) in kustomization.text.lines().enumerate() {
            let value = line.trim().trim_start_matches("- ").trim_start_matches("path:").trim();
            let value = value.split(':').next_back().unwrap_or(value).trim().trim_matches(['"', '\'']);
            if value.len() > 2 && (value.contains('.') || value.contains('/')) && message.contains(value) {
                return Some((kustomization.file.clone(), i + 1));
            }
        }
    }
    None
}

/// Removes the origin annotations rollcheck asked for from kustomize's output, and returns
/// each document's origin path (relative to the temporary kustomization).
fn strip_origins(text: &str) -> (String, Vec<Option<PathBuf>>) {
    let mut out = String::with_capacity(text.len());
    let mut origins = Vec::new();
    let mut current: Option<PathBuf> = None;
    let mut started = false;
    let mut lines = text.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        if line.trim_end() == "---" {
            if started {
                origins.push(current.take());
            }
            started = false;
            out.push_str(line);
            continue;
        }
        started = true;
        // kustomize writes `metadata:\n  annotations:\n    config.kubernetes.io/origin: |`.
        if line.trim_end() == "  annotations:" {
            let mut block = Vec::new();
            while let Some(next) = lines.peek() {
                if next.starts_with("    ") {
                    block.push(lines.next().expect("peeked"));
                } else {
                    break;
                }
            }
            let mut kept = String::new();
            let mut i = 0;
            while i < block.len() {
                if block[i].trim_end() == format!("    {ORIGIN}: |") {
                    i += 1;
                    while i < block.len() && block[i].starts_with("      ") {
                        // `path:` for resources; `configuredIn:` for generated objects.
                        let entry = block[i].trim();
                        if let Some(p) = entry.strip_prefix("path: ").or_else(|| entry.strip_prefix("configuredIn: ")) {
                            current.get_or_insert_with(|| PathBuf::from(p.trim()));
                        }
                        i += 1;
                    }
                    continue;
                }
                kept.push_str(block[i]);
                i += 1;
            }
            if !kept.is_empty() {
                out.push_str(line);
                out.push_str(&kept);
            }
            continue;
        }
        out.push_str(line);
    }
    if started {
        origins.push(current.take());
    }
    (out, origins)
}

#[cfg(test)]
mod render_tests {
    use super::*;

    #[test]
    fn a_values_schema_that_is_not_json_is_the_place_of_the_failure() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("values.schema.json"), "# comment\n{}").unwrap();
        let message = "Error: values don't meet the specifications of the schema(s) in the following chart(s):\nshop:\ninvalid character '#' looking for beginning of value";
        assert_eq!(helm_error_place(dir.path(), message), Some((normalize(&dir.path().join("values.schema.json")), 1)));
        assert_eq!(
            helm_error_place(
                dir.path(),
                "Error: values don't meet the specifications of the schema(s): replicas: Invalid type"
            ),
            None
        );
    }

    #[test]
    fn origins_are_read_and_removed() {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  annotations:\n    config.kubernetes.io/origin: |\n      path: ../base/svc.yaml\n  name: web\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    a: b\n    config.kubernetes.io/origin: |\n      configuredIn: kustomization.yaml\n  name: c\n";
        let (out, origins) = strip_origins(text);
        assert_eq!(
            out,
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    a: b\n  name: c\n"
        );
        assert_eq!(origins, vec![Some(PathBuf::from("../base/svc.yaml")), Some(PathBuf::from("kustomization.yaml"))]);
    }
}
