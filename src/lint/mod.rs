//! One lint run: load → index → rules → settings → suppressions → baseline → sorted findings.

use std::sync::Arc;

use rayon::prelude::*;

use crate::baseline::Baseline;
use crate::config::{Config, External};
use crate::diagnostic::{Diagnostic, Severity};
use crate::index::{Index, objects_of};
use crate::load::{
    DocRef, DocumentPass, Input, IoError, LoadOptions, LoadedFile, Rendered, Role, Scope, load_all, load_bytes_with,
};
use crate::schema::Registry;
use crate::settings::Effective;
use crate::source::{FileId, Span};
use crate::yaml::Document;
use crate::{retain, rules, unit};
use std::path::PathBuf;

mod suppress;

pub struct Options {
    pub namespace: String,
    pub load: LoadOptions,
    pub config: Arc<Config>,
    pub baseline: Option<Baseline>,
    /// Schemas of CRDs given with `--crd`, beside the embedded ones.
    pub schemas: Arc<Registry>,
    pub retention: Retention,
    /// Also check the objects of context files, and report a finding there when its cause is
    /// in a linted file (a pre-commit run that renames a Service a context Rollout names).
    pub context_causes: bool,
}

/// How much of each document outlives its object checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Retention {
    /// Whole trees: the language server answers hovers and definitions from them.
    #[default]
    Whole,
    /// What the index checks read ([`retain::facts`]): memory follows the objects, not the text.
    Facts,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            namespace: "default".into(),
            load: LoadOptions::default(),
            config: Arc::new(Config::default()),
            baseline: None,
            schemas: Arc::new(Registry::default()),
            retention: Retention::default(),
            context_causes: false,
        }
    }
}

#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Summary {
    pub files: usize,
    pub documents: usize,
    pub objects: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    /// Findings hidden by `rollcheck-ignore` comments and annotations.
    pub suppressed: usize,
    /// Findings hidden because the baseline records them.
    pub baselined: usize,
    /// Files loaded only to resolve references.
    pub context_files: usize,
}

pub struct Outcome {
    /// Every loaded file, context files included (related places may point into them).
    pub files: Vec<LoadedFile>,
    pub diagnostics: Vec<Diagnostic>,
    pub io_errors: Vec<IoError>,
    pub summary: Summary,
}

impl Outcome {
    pub fn file(&self, id: FileId) -> &LoadedFile {
        crate::load::file_of(&self.files, id).expect("diagnostics point at loaded files")
    }
}

/// Lints `inputs`; `context` inputs only resolve references. An input given as both is linted.
pub fn lint_inputs(inputs: &[Input], context: &[Input], options: &Options) -> Outcome {
    let context = not_linted(context, inputs);
    let all: Vec<Input> = inputs.iter().chain(&context).cloned().collect();
    let linted = inputs.iter().enumerate().map(|(i, input)| (FileId(i as u32), input.display(), None));
    let pass = ObjectPass::new(options, linted);
    let (mut files, io_errors) = load_all(&all, &options.load, &pass);
    for f in &mut files {
        if f.id.0 as usize >= inputs.len() {
            f.role = Role::Context;
            f.scope = Scope::Everywhere;
        }
    }
    files.extend(external_file(options, FileId(all.len() as u32), &pass));
    let mut outcome = lint_files(files, options);
    outcome.io_errors = io_errors;
    outcome
}

/// Lints what a walk found: plain files as they are, and each unit as it renders. `context`
/// inputs only resolve references, in every unit.
pub fn lint_plan(plan: &unit::Plan, settings: &unit::Settings, context: &[Input], options: &Options) -> Outcome {
    let outputs: Vec<unit::Output> = plan.units.par_iter().map(|u| unit::render(u, settings)).collect();
    // Files loaded from disk: plain files, an Application's folders, and the resources of
    // kustomizations that cannot be built here (no kustomize).
    let mut disk: Vec<(PathBuf, Scope, Option<Arc<str>>)> =
        plan.plain.iter().map(|p| (p.clone(), Scope::of_file(p), None)).collect();
    let mut rendered = Vec::new();
    let mut unit_findings: Vec<(PathBuf, usize, Diagnostic)> = Vec::new();
    // Objects of kustomizations that were not built, linted as plain files unless a build
    // that worked covers them.
    let mut fallback: Vec<(PathBuf, Scope, Option<Arc<str>>)> = Vec::new();
    let mut built: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    for (i, (u, output)) in plan.units.iter().zip(outputs).enumerate() {
        let namespace: Option<Arc<str>> = u.namespace.as_deref().map(Arc::from);
        match output {
            unit::Output::Files(files) => {
                disk.extend(files.into_iter().map(|f| (f, Scope::Unit(i as u32), namespace.clone())));
            }
            unit::Output::Rendered { text, origins } => {
                built.extend(plain_resources(u).into_iter().map(|(p, _, _)| p));
                if let unit::UnitKind::Kustomize(k) = &u.kind {
                    let built = crate::yaml::parse_stream(Arc::from(text.as_str()));
                    unit_findings.extend(rules::render::kustomize_rollout_config_missing::check(k, &built));
                }
                rendered.push((i, text, origins));
            }
            unit::Output::Failed { message, at } => {
                let mut d = Diagnostic::new(
                    "render-failed",
                    rules::default_severity("render-failed"),
                    FileId(0),
                    Span::default(),
                    "",
                );
                d.message = format!("`{}` failed: {message}", u.label);
                d.help(match u.kind {
                    unit::UnitKind::Helm(_) => {
                        "fix the chart so that `helm template` renders it; rollcheck lints what it renders"
                    }
                    _ => "fix the kustomization so that `kustomize build` builds it; rollcheck lints what it builds",
                });
                let (file, line) = at.unwrap_or_else(|| (u.anchor.clone(), 1));
                unit_findings.push((file, line, d));
                fallback.extend(plain_resources(u));
            }
            unit::Output::ToolMissing { tool } => {
                let mut d = Diagnostic::new(
                    "render-tool-missing",
                    rules::default_severity("render-tool-missing"),
                    FileId(0),
                    Span::default(),
                    "",
                );
                d.message = format!("`{tool}` is not installed, so `{}` was not rendered or linted", u.label);
                d.help(format!(
                    "install {tool} (see https://{}) or name it with `--{tool} BIN` or `tools: {{{tool}: BIN}}` in .rollcheck.yaml; `--no-render` lints every file as it is",
                    if tool == "helm" { "helm.sh/docs/intro/install" } else { "kubectl.docs.kubernetes.io/installation/kustomize" }
                ));
                unit_findings.push((u.anchor.clone(), 1, d));
                fallback.extend(plain_resources(u));
            }
        }
    }
    disk.extend(fallback.into_iter().filter(|(p, _, _)| !built.contains(p)));
    disk.sort_by(|a, b| a.0.cmp(&b.0));
    disk.dedup_by(|a, b| a.0 == b.0);
    let mut inputs: Vec<Input> = disk.iter().map(|(p, _, _)| Input::File(p.clone())).collect();
    if plan.stdin {
        inputs.push(Input::Stdin);
    }
    let context = not_linted(context, &inputs);
    let first_rendered = inputs.len() + context.len();
    let linted = disk
        .iter()
        .map(|(p, _, ns)| (p.display().to_string(), ns.clone()))
        .chain(plan.stdin.then(|| ("-".to_string(), None)))
        .enumerate()
        .map(|(i, (p, ns))| (FileId(i as u32), p, ns))
        .chain(rendered.iter().enumerate().map(|(n, (i, _, _))| {
            let u = &plan.units[*i];
            (FileId((first_rendered + n) as u32), u.anchor.display().to_string(), u.namespace.as_deref().map(Arc::from))
        }));
    let pass = ObjectPass::new(options, linted);
    let all: Vec<Input> = inputs.iter().chain(&context).cloned().collect();
    let (mut files, io_errors) = load_all(&all, &options.load, &pass);
    for f in &mut files {
        match disk.get(f.id.0 as usize) {
            Some((_, scope, namespace)) => {
                f.scope = scope.clone();
                f.namespace = namespace.clone();
            }
            None if f.id.0 as usize == disk.len() && plan.stdin => {
                // A `helm template` stream whose chart is known: findings go to its templates.
                if let Some(dir) = &plan.chart_dir {
                    let unit = unit::helm::unit(dir, Default::default(), None);
                    f.rendered = Some(Arc::new(Rendered { unit, origins: Vec::new() }));
                }
            }
            None => {
                f.role = Role::Context;
                f.scope = Scope::Everywhere;
            }
        }
    }
    let mut next = first_rendered;
    for (i, text, origins) in rendered {
        let u = &plan.units[i];
        let mut f = load_bytes_with(FileId(next as u32), u.label.clone(), text.into_bytes(), Some(&pass));
        next += 1;
        f.scope = Scope::Unit(i as u32);
        f.namespace = u.namespace.as_deref().map(Arc::from);
        f.rendered = Some(Arc::new(Rendered { unit: u.clone(), origins }));
        files.push(f);
    }
    // Render failures and missing tools are findings on the file that defines the unit.
    let mut anchors: Vec<LoadedFile> = Vec::new();
    for (path, line, mut d) in unit_findings {
        let position = anchors.iter().position(|f| f.source.name == path.display().to_string());
        let f = match position {
            Some(i) => &mut anchors[i],
            None => {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let source = crate::source::SourceFile::new(path.display().to_string(), Arc::from(text));
                anchors.push(LoadedFile::quoted(FileId(next as u32), Role::Lint, source));
                next += 1;
                anchors.last_mut().expect("just pushed")
            }
        };
        let text = f.source.text();
        let start = f.source.line_start(line.saturating_sub(1)).min(text.len());
        let end = text[start..].find('\n').map_or(text.len(), |e| start + e);
        let indent = text[start..end].len() - text[start..end].trim_start().len();
        d.file = f.id;
        d.span = Span::new(start + indent, end.max(start + indent));
        f.diagnostics.push(d);
    }
    files.extend(anchors);
    files.extend(external_file(options, FileId(next as u32), &pass));
    let mut outcome = lint_files(files, options);
    outcome.io_errors = io_errors;
    outcome
}

/// The resource files of a kustomization that was not built, to lint as plain files (its
/// patches and generator inputs are not objects).
fn plain_resources(u: &unit::Unit) -> Vec<(PathBuf, Scope, Option<Arc<str>>)> {
    let unit::UnitKind::Kustomize(k) = &u.kind else { return Vec::new() };
    let resources = k.chain.iter().flat_map(|c| &c.resources).filter(|r| r.is_file());
    resources.map(|r| (r.clone(), Scope::of_file(r), None)).collect()
}

/// The objects the config says exist in the cluster (`external:`), as a file of stubs.
fn external_file(options: &Options, id: FileId, pass: &ObjectPass<'_>) -> Option<LoadedFile> {
    if options.config.external.is_empty() {
        return None;
    }
    let name = match &options.config.path {
        Some(p) => format!("{} (external:)", p.display()),
        None => "(external objects)".to_string(),
    };
    let stubs = external_stubs(&options.config.external).into_bytes();
    let mut stub = load_bytes_with(id, name, stubs, Some(pass));
    stub.role = Role::External;
    stub.scope = Scope::Everywhere;
    Some(stub)
}

/// The context inputs that are not also linted, whichever way their paths were written
/// (`services.yaml` linted, `--context .` finding `./services.yaml`).
fn not_linted(context: &[Input], inputs: &[Input]) -> Vec<Input> {
    let key = |i: &Input| match i {
        Input::File(p) => Some(crate::paths::absolute(p)),
        Input::Stdin => None,
    };
    let linted: std::collections::HashSet<_> = inputs.iter().map(key).collect();
    context.iter().filter(|c| !linted.contains(&key(c))).cloned().collect()
}

/// YAML for the objects the config says exist outside the files.
fn external_stubs(external: &[External]) -> String {
    let mut text = String::new();
    for e in external {
        text.push_str(&format!(
            "---\napiVersion: external/v1\nkind: {}\nmetadata:\n  name: {}\n",
            quote(&e.kind),
            quote(&e.name)
        ));
        if let Some(ns) = &e.namespace {
            text.push_str(&format!("  namespace: {}\n", quote(ns)));
        }
    }
    text
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

/// The object checks, run on each document as soon as it is parsed; then the document is cut
/// down to what the index checks need (with [`Retention::Facts`]).
struct ObjectPass<'a> {
    options: &'a Options,
    /// The settings and default namespace of each file to lint, by id; files not listed are
    /// only context.
    settings: Vec<(FileId, Arc<Effective>, Option<Arc<str>>)>,
}

impl<'a> ObjectPass<'a> {
    /// `linted`: each file's id, the path its settings follow and its unit's namespace.
    fn new(options: &'a Options, linted: impl Iterator<Item = (FileId, String, Option<Arc<str>>)>) -> ObjectPass<'a> {
        let mut settings: Vec<_> =
            linted.map(|(id, name, namespace)| (id, options.config.effective(&name), namespace)).collect();
        settings.sort_by_key(|(id, _, _)| *id);
        ObjectPass { options, settings }
    }
}

impl DocumentPass for ObjectPass<'_> {
    fn document(&self, file: FileId, doc: &Arc<Document>, out: &mut Vec<Diagnostic>) {
        if let Ok(i) = self.settings.binary_search_by_key(&file, |(id, _, _)| *id) {
            let (_, settings, namespace) = &self.settings[i];
            let namespace = namespace.as_deref().unwrap_or(&self.options.namespace);
            // `invalid-object` is reported once, by the index.
            let whole = DocRef::whole(doc.clone());
            for obj in objects_of(file, &whole, namespace, &mut Vec::new()) {
                rules::check_object(&obj, &self.options.schemas, settings, out);
            }
        }
    }

    fn piece(&self, docs: Vec<Arc<Document>>) -> Vec<DocRef> {
        if self.options.retention == Retention::Whole {
            return docs.into_iter().map(DocRef::whole).collect();
        }
        // Retained documents are small: one tree for the piece saves an allocation set each.
        let (tree, roots) = retain::facts(&docs);
        let tree = Arc::new(tree);
        roots
            .into_iter()
            .zip(docs)
            .map(|(root, doc)| DocRef { tree: tree.clone(), root, helm_source: doc.helm_source.clone() })
            .collect()
    }
}

/// Indexes loaded files and runs every enabled rule on the files to lint.
pub fn lint_files(files: Vec<LoadedFile>, options: &Options) -> Outcome {
    lint_files_indexed(files, None, options)
}

/// [`lint_files`] with the index of `files` already built (the language server builds it to
/// find the files an edit affects); used only with whole trees, which the lint leaves as they are.
pub fn lint_files_indexed(
    mut files: Vec<LoadedFile>,
    index: Option<(Index, Vec<Diagnostic>)>,
    options: &Options,
) -> Outcome {
    // Files loaded without the object pass (the language server, tests) get it now.
    let unchecked = files
        .iter()
        .filter(|f| !f.checked && f.role == Role::Lint)
        .map(|f| (f.id, f.settings_path(), f.namespace.clone()));
    let pass = ObjectPass::new(options, unchecked);
    files.par_iter_mut().filter(|f| !f.checked).for_each(|f| {
        let documents = std::mem::take(&mut f.documents);
        for d in &documents {
            pass.document(f.id, &d.tree, &mut f.diagnostics);
        }
        f.documents = pass.piece(documents.into_iter().map(|d| d.tree).collect());
        f.checked = true;
    });
    // Findings of the loader and the object checks; taken, not copied.
    let loaded: Vec<Diagnostic> =
        files.iter_mut().filter(|f| f.role == Role::Lint).flat_map(|f| std::mem::take(&mut f.diagnostics)).collect();
    release_free_memory();
    let (index, index_diagnostics) = match index {
        Some(built) if options.retention == Retention::Whole => built,
        _ => Index::build(&files, &options.namespace),
    };
    release_free_memory();
    let settings: Vec<Arc<Effective>> = files.iter().map(|f| options.config.effective(&f.settings_path())).collect();
    let position = |id: FileId| files.binary_search_by_key(&id, |f| f.id).ok();
    let is_lint = |id: FileId| position(id).is_some_and(|i| files[i].role == Role::Lint);
    let is_checked = |id: FileId| {
        position(id).is_some_and(|i| match files[i].role {
            Role::Lint => true,
            Role::Context => options.context_causes,
            Role::External | Role::Source => false,
        })
    };
    let is_context = |id: FileId| position(id).is_some_and(|i| files[i].role == Role::Context);
    let settings_of = |id: FileId| position(id).map(|i| &settings[i]);

    let rule_diagnostics: Vec<Diagnostic> = index
        .objects
        .par_iter()
        .filter(|obj| is_checked(obj.file))
        .fold(Vec::new, |mut out, obj| {
            if let Some(settings) = settings_of(obj.file) {
                rules::check_with_index(obj, &index, &options.schemas, settings, &mut out);
            }
            out
        })
        .reduce(Vec::new, |mut a, mut b| {
            a.append(&mut b);
            a
        });
    let mut diagnostics = loaded;
    diagnostics.extend(index_diagnostics.into_iter().filter(|d| is_lint(d.file)));
    diagnostics.extend(rule_diagnostics);
    if options.context_causes {
        let name_of = |id: FileId| position(id).map_or("", |i| files[i].source.name.as_str());
        diagnostics.retain_mut(|d| !is_context(d.file) || caused_in_linted_files(d, &index, &is_lint, &name_of));
        // A finding that mirrors one in a linted file (a duplicate's other copy) says it again.
        let mirrored: Vec<(&'static str, FileId, crate::source::Span)> = diagnostics
            .iter()
            .filter(|d| !is_context(d.file))
            .flat_map(|d| d.related.iter().filter(|r| is_context(r.file)).map(move |r| (d.rule, r.file, r.span)))
            .collect();
        diagnostics.retain(|d| {
            !is_context(d.file)
                || !mirrored.iter().any(|&(rule, file, span)| {
                    rule == d.rule && file == d.file && span.start <= d.span.start && d.span.start <= span.end
                })
        });
    }
    apply_levels(&mut diagnostics, &settings_of);
    sort(&mut diagnostics);
    defer_schema_findings(&mut diagnostics);

    let mut suppressions = suppress::collect(&files, &index, is_checked);
    let suppressed = suppress::apply(&mut diagnostics, &mut suppressions);
    let mut unused =
        suppress::unused(&suppressions, |file, rule| settings_of(file).is_some_and(|s| s.severity(rule).is_some()));
    // Context files are not linted: their suppressions may serve findings not shown today.
    unused.retain(|d| !is_context(d.file));
    apply_levels(&mut unused, &settings_of);
    diagnostics.extend(unused);
    let objects = index.objects.iter().filter(|o| is_lint(o.file)).count();

    // Findings on rendered output move to the repository files they came from.
    let sources = relocate(&mut diagnostics, &files);
    if !sources.is_empty() {
        let effective: Vec<(FileId, Arc<Effective>)> =
            sources.iter().map(|f| (f.id, options.config.effective(&f.source.name))).collect();
        files.extend(sources);
        let moved = |id: FileId| effective.binary_search_by_key(&id, |(i, _)| *i).ok().map(|i| &effective[i].1);
        apply_levels(&mut diagnostics, &moved);
    }

    let baselined = options.baseline.as_ref().map_or(0, |b| b.filter(&mut diagnostics, &files));

    sort(&mut diagnostics);
    let count = |s| diagnostics.iter().filter(|d| d.severity == s).count();
    let linted = || files.iter().filter(|f| f.role == Role::Lint);
    let summary = Summary {
        files: linted().count(),
        documents: linted().map(|f| f.documents.len()).sum(),
        objects,
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        infos: count(Severity::Info),
        suppressed,
        baselined,
        context_files: files.iter().filter(|f| f.role == Role::Context).count(),
    };
    Outcome { files, diagnostics, io_errors: Vec::new(), summary }
}

/// Whether a finding on an object of a context file has its cause in a linted file, and if so
/// says which: a related place is there (the Service a misspelt name is closest to), or it is a
/// missing reference and a linted file defines an object of that kind and namespace that
/// nothing names and that looks like the missing one (the Service that was renamed).
fn caused_in_linted_files<'a>(
    d: &mut Diagnostic,
    index: &Index,
    is_lint: &impl Fn(FileId) -> bool,
    name_of: &impl Fn(FileId) -> &'a str,
) -> bool {
    if let Some(r) = d.related.iter().find(|r| is_lint(r.file)) {
        let cause = name_of(r.file).to_string();
        d.message.push_str(&format!(" (after the change to `{cause}`)"));
        return true;
    }
    if d.rule != "unresolved-reference" {
        return false;
    }
    let within = |o: &&crate::index::Object| {
        let s = o.root().span();
        o.file == d.file && s.start <= d.span.start && d.span.start <= s.end
    };
    let Some(obj) = index.objects.iter().find(within) else { return false };
    for r in index.references_of(obj) {
        if obj.doc.node(r.at).span() != d.span || index.resolve(obj, r).is_some() {
            continue;
        }
        let namespace = index.target_namespace(obj, r);
        // What was renamed still looks like what is missing: a Service still selects the
        // referrer's pods; anything else kept a similar name.
        let pods = index.template_of(obj);
        let like_the_missing_one = |o: &crate::index::Object| match (r.kind, pods) {
            ("Service", Some(pods)) => crate::selector::Selector::of_service(o.root())
                .is_some_and(|(_, selector)| !selector.is_empty() && selector.matches(&pods.labels)),
            _ => strsim::damerau_levenshtein(&r.name, &o.name) <= r.name.len().max(o.name.len()) / 2,
        };
        let orphan = index
            .of_kind(obj, r.kind, namespace)
            .filter(|o| is_lint(o.file) && index.referrers_of(o).next().is_none() && like_the_missing_one(o))
            .min_by_key(|o| (strsim::damerau_levenshtein(&r.name, &o.name), o.name.clone()));
        if let Some(o) = orphan {
            let cause = name_of(o.file).to_string();
            d.message.push_str(&format!(" (after the change to `{cause}`)"));
            d.related(
                o.file,
                o.name_node().span(),
                format!("{} `{}` is defined in `{cause}` and nothing names it: was it `{}`?", o.kind, o.name, r.name),
            );
            return true;
        }
    }
    false
}

/// Drops findings of rules that are off for their file and applies configured severities.
fn apply_levels<'a>(diagnostics: &mut Vec<Diagnostic>, settings_of: &impl Fn(FileId) -> Option<&'a Arc<Effective>>) {
    diagnostics.retain_mut(|d| match settings_of(d.file).map(|s| s.severity(d.rule)) {
        Some(Some(severity)) => {
            // A rule may report some findings below its own severity (a deprecated API beside
            // removed ones); the configured level caps those rather than raising them.
            let below_default = rules::find(d.rule).is_some_and(|r| d.severity < r.severity);
            d.severity = if below_default { d.severity.min(severity) } else { severity };
            true
        }
        Some(None) => false,
        None => true,
    });
}

fn sort(diagnostics: &mut Vec<Diagnostic>) {
    // Sorted through an index permutation: a stable sort of the findings themselves would
    // take a scratch copy of all of them at the run's peak of memory.
    let mut order: Vec<u32> = (0..diagnostics.len() as u32).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&diagnostics[a as usize], &diagnostics[b as usize]);
        (a.file, a.span.start, a.rule, &a.message, a.span.end).cmp(&(
            b.file,
            b.span.start,
            b.rule,
            &b.message,
            b.span.end,
        ))
    });
    permute(diagnostics, &mut order);
    diagnostics.dedup_by(|a, b| a.file == b.file && a.span == b.span && a.rule == b.rule && a.message == b.message);
}

/// Puts `items[order[i]]` at `i`, in place; `order` is used up.
fn permute<T>(items: &mut [T], order: &mut [u32]) {
    const DONE: u32 = u32::MAX;
    for start in 0..items.len() {
        if order[start] == DONE {
            continue;
        }
        // Follow the cycle through `start`: each place takes the item its order names.
        let mut at = start;
        loop {
            let from = order[at] as usize;
            order[at] = DONE;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

/// Returns the free memory of the allocator's arenas to the system: loading leaves holes
/// where whole trees were (glibc keeps them resident), the index is built next, and the
/// report after the trees are freed.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A schema finding at the same place as a finding of a specific rule says the same thing less
/// well (`interval: 60`: "must be a string" beside "a number, not a duration"); keep the
/// specific one, at the level of its own rule (the config's, else the registry's): a rule's
/// level comes from one place. Diagnostics are sorted by file and start, so equal places are
/// adjacent.
fn defer_schema_findings(diagnostics: &mut Vec<Diagnostic>) {
    let is_schema = |d: &Diagnostic| d.rule.starts_with("schema-");
    let mut keep = vec![true; diagnostics.len()];
    let mut start = 0;
    while start < diagnostics.len() {
        let mut end = start + 1;
        while end < diagnostics.len()
            && diagnostics[end].file == diagnostics[start].file
            && diagnostics[end].span.start == diagnostics[start].span.start
        {
            end += 1;
        }
        for i in start..end {
            if !is_schema(&diagnostics[i]) {
                continue;
            }
            let span = diagnostics[i].span;
            if (start..end).any(|j| !is_schema(&diagnostics[j]) && diagnostics[j].span == span) {
                keep[i] = false;
            }
        }
        start = end;
    }
    let mut i = 0;
    diagnostics.retain(|_| {
        i += 1;
        keep[i - 1]
    });
}

/// Moves findings on rendered output (and their related places) to the repository file each
/// came from: the template, origin file or patch that has the same key, else its object, else
/// the file that defines the unit. Returns the repository files it points at, as new files.
fn relocate(diagnostics: &mut [Diagnostic], files: &[LoadedFile]) -> Vec<LoadedFile> {
    use std::collections::HashMap;
    let rendered: HashMap<FileId, &LoadedFile> =
        files.iter().filter(|f| f.rendered.is_some()).map(|f| (f.id, f)).collect();
    if rendered.is_empty() {
        return Vec::new();
    }
    let mut next = files.iter().map(|f| f.id.0).max().map_or(0, |m| m + 1);
    let mut new_files: Vec<LoadedFile> = Vec::new();
    let mut by_path: HashMap<std::path::PathBuf, FileId> = HashMap::new();
    let mut streams: HashMap<FileId, crate::yaml::Stream> = HashMap::new();
    let mut places: HashMap<(FileId, Span), (FileId, Span)> = HashMap::new();
    let mut move_place = |file: FileId, span: Span| -> Option<(FileId, Span)> {
        let f = rendered.get(&file)?;
        if let Some(done) = places.get(&(file, span)) {
            return Some(*done);
        }
        let r = f.rendered.as_ref().expect("rendered files");
        let stream =
            streams.entry(file).or_insert_with(|| crate::yaml::parse_stream(std::sync::Arc::from(f.source.text())));
        let place = crate::unit::locate::in_repository(&r.unit, &r.origins, stream, span);
        let id = *by_path.entry(place.file.clone()).or_insert_with(|| {
            let id = FileId(next);
            next += 1;
            let name = place.file.display().to_string();
            let source = crate::source::SourceFile::on_disk(name, place.file.clone());
            new_files.push(LoadedFile::quoted(id, Role::Source, source));
            id
        });
        places.insert((file, span), (id, place.span));
        Some((id, place.span))
    };
    for d in diagnostics.iter_mut() {
        if let Some((file, span)) = move_place(d.file, d.span) {
            d.rendered = Some((d.file, d.span));
            d.file = file;
            d.span = span;
        }
        for r in &mut d.related {
            if let Some((file, span)) = move_place(r.file, r.span) {
                r.file = file;
                r.span = span;
            }
        }
    }
    new_files
}

#[cfg(test)]
mod tests {
    #[test]
    fn permute_puts_each_item_where_the_order_says() {
        for order in [vec![2, 0, 1], vec![1, 0, 2], vec![0, 1, 2], vec![3, 2, 1, 0], vec![1, 2, 3, 0]] {
            let items: Vec<u32> = (0..order.len() as u32).map(|i| i * 10).collect();
            let expected: Vec<u32> = order.iter().map(|&i| items[i as usize]).collect();
            let mut got = items.clone();
            super::permute(&mut got, &mut order.clone());
            assert_eq!(got, expected, "order {order:?}");
        }
    }
}
