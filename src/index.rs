//! Every object of the run, indexed by kind, namespace and name, and every pod template by
//! its labels, so cross-object rules look things up instead of comparing all pairs.

use std::sync::Arc;

use rayon::prelude::*;

use crate::diagnostic::{Diagnostic, ObjectName};
use crate::intern::Shared;
use crate::load::{DocRef, LoadedFile, Scope};
use crate::refs::{Reference, references};
use crate::selector::{Selector, labels_of};
use crate::source::{FileId, Span};
use crate::yaml::{Document, NodeId, NodeRef};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(pub u32);

/// One Kubernetes object: a document, or an item of a `kind: List`.
#[derive(Debug)]
pub struct Object {
    pub id: ObjectId,
    pub file: FileId,
    pub doc: Arc<Document>,
    pub node: NodeId,
    pub api_version: Shared,
    pub kind: Shared,
    pub name: String,
    /// `None` for cluster-scoped kinds.
    pub namespace: Option<Shared>,
    pub helm_source: Option<Arc<str>>,
    /// A stub for an object that exists only in the cluster (config `external:`): it resolves
    /// references, but its content is unknown.
    pub external: bool,
    /// Whether references can name it (a `generateName` alone, or spaces around the name, cannot).
    pub addressable: bool,
}

impl Object {
    pub fn root(&self) -> NodeRef<'_> {
        self.doc.node(self.node)
    }

    pub fn get(&self, path: &[&str]) -> Option<NodeRef<'_>> {
        self.root().path(path)
    }

    pub fn spec(&self) -> Option<NodeRef<'_>> {
        self.root().get("spec")
    }

    /// The `metadata.name` value, the best place to point at the object as a whole.
    pub fn name_node(&self) -> NodeRef<'_> {
        self.get(&["metadata", "name"]).or_else(|| self.root().entry("kind").map(|(k, _)| k)).unwrap_or(self.root())
    }

    pub fn display_name(&self) -> ObjectName {
        ObjectName { kind: self.kind.clone(), name: self.name.clone(), namespace: self.namespace.clone() }
    }

    /// `Kind/name` for messages.
    pub fn label(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

/// Kinds that have no namespace.
pub const CLUSTER_SCOPED: &[&str] = &[
    "ClusterAnalysisTemplate",
    "Namespace",
    "Node",
    "PersistentVolume",
    "StorageClass",
    "IngressClass",
    "PriorityClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "APIService",
    "GatewayClass",
    "RuntimeClass",
];

/// Kinds whose objects rollcheck understands well enough to call them malformed.
pub const KNOWN_KINDS: &[&str] = &[
    "Rollout",
    "AnalysisTemplate",
    "ClusterAnalysisTemplate",
    "AnalysisRun",
    "Experiment",
    "Service",
    "Ingress",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "VirtualService",
    "DestinationRule",
    "TrafficSplit",
    "HTTPRoute",
    "GRPCRoute",
    "TCPRoute",
    "TLSRoute",
    "Gateway",
];

/// A pod template: the labels its pods get, and who creates them.
#[derive(Debug)]
pub struct PodTemplate {
    pub owner: ObjectId,
    /// The template node (with `metadata` and `spec`) in the owner's document.
    pub node: NodeId,
    pub labels: Vec<(String, String)>,
    /// The `labels` mapping (or the template, when it has none).
    pub labels_span: Span,
}

/// The hash of a lookup key (kind, namespace, name; or namespace, label key, value). Maps are
/// keyed by it rather than by owned strings (memory, and no allocation per lookup); every
/// lookup checks the candidates' real fields, so a collision costs nothing but time.
fn key(parts: [Option<&str>; 3]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    parts.hash(&mut h);
    h.finish()
}

/// Values by a hashed key, in one sorted array: no allocation per key, and values of one key
/// stay in the order they were added.
struct KeyIndex<V> {
    entries: Vec<(u64, V)>,
}

impl<V> Default for KeyIndex<V> {
    fn default() -> Self {
        KeyIndex { entries: Vec::new() }
    }
}

impl<V> KeyIndex<V> {
    fn push(&mut self, key: u64, value: V) {
        self.entries.push((key, value));
    }

    /// Sorts by key (stably); call once every value is in.
    fn seal(&mut self) {
        self.entries.sort_by_key(|(k, _)| *k);
        self.entries.shrink_to_fit();
    }

    fn get(&self, key: u64) -> impl Iterator<Item = &V> + '_ {
        let start = self.entries.partition_point(|(k, _)| *k < key);
        self.entries[start..].iter().take_while(move |(k, _)| *k == key).map(|(_, v)| v)
    }

    fn count(&self, key: u64) -> usize {
        self.get(key).count()
    }
}

#[derive(Default)]
pub struct Index {
    pub objects: Vec<Object>,
    /// (kind, namespace, name) → objects.
    by_name: KeyIndex<ObjectId>,
    /// (kind, namespace) → objects.
    by_kind: KeyIndex<ObjectId>,
    pub templates: Vec<PodTemplate>,
    /// (namespace, label key, label value) → pod templates.
    templates_by_label: KeyIndex<u32>,
    /// namespace → pod templates.
    templates_by_namespace: KeyIndex<u32>,
    /// The pod template each workload creates pods from (a Rollout's `workloadRef` resolved).
    template_of: Vec<Option<u32>>,
    references: Vec<Vec<Reference>>,
    /// The (kind, namespace, name) a reference names → (referrer, index of the reference).
    referrers: KeyIndex<(ObjectId, u32)>,
    /// The controller's ConfigMap (`argo-rollouts-config`), in whatever namespace.
    controller_config: Option<ObjectId>,
    /// Objects whose (kind, namespace, name) key another object has too.
    namesakes: Vec<bool>,
    shared: rustc_hash::FxHashSet<Shared>,
    /// Each file's scope, by file id.
    scopes: Vec<(FileId, Scope)>,
}

/// The distance of definitions in context files and external objects: they join every unit,
/// after everything nearer.
const FAR: u32 = 1 << 16;

/// The name of the Argo Rollouts controller's ConfigMap (plugins, defaults).
pub const CONTROLLER_CONFIG: &str = "argo-rollouts-config";

impl Index {
    /// Indexes every object of the loaded files. Documents that are not Kubernetes objects are
    /// skipped; objects of known kinds without a usable name are reported (`invalid-object`).
    pub fn build(files: &[LoadedFile], default_namespace: &str) -> (Index, Vec<Diagnostic>) {
        let mut index = Index::default();
        let documents = files.iter().map(|f| f.documents.len()).sum();
        index.objects.reserve_exact(documents);
        index.by_name.entries.reserve_exact(documents);
        index.by_kind.entries.reserve_exact(documents);
        let mut diagnostics = Vec::new();
        index.scopes = files.iter().map(|f| (f.id, f.scope.clone())).collect();
        index.scopes.sort_by_key(|(id, _)| *id);
        // Objects are read in parallel, a block of documents at a time, and added in order.
        let documents: Vec<(&LoadedFile, &DocRef)> =
            files.iter().flat_map(|f| f.documents.iter().map(move |d| (f, d))).collect();
        for block in documents.chunks(1024) {
            let read: Vec<(Vec<Object>, Vec<Diagnostic>)> = block
                .par_iter()
                .map(|&(file, doc)| {
                    let namespace = file.namespace.as_deref().unwrap_or(default_namespace);
                    let mut found = Vec::new();
                    let objects = objects_of(file.id, doc, namespace, &mut found);
                    (objects, found)
                })
                .collect();
            for ((file, _), (objects, found)) in block.iter().zip(read) {
                diagnostics.extend(found);
                for mut obj in objects {
                    obj.external = file.role == crate::load::Role::External;
                    obj.api_version = index.share(&obj.api_version);
                    obj.kind = index.share(&obj.kind);
                    obj.namespace = obj.namespace.map(|n| index.share(&n));
                    index.add(obj);
                }
            }
        }
        index.controller_config =
            index.objects.iter().find(|o| o.kind == "ConfigMap" && o.name == CONTROLLER_CONFIG).map(|o| o.id);
        index.by_name.seal();
        index.namesakes = vec![false; index.objects.len()];
        for run in index.by_name.entries.chunk_by(|a, b| a.0 == b.0).filter(|run| run.len() > 1) {
            for (_, id) in run {
                index.namesakes[id.0 as usize] = true;
            }
        }
        index.by_kind.seal();
        index.index_templates();
        index.index_references();
        (index, diagnostics)
    }

    fn add(&mut self, mut obj: Object) {
        let id = ObjectId(self.objects.len() as u32);
        obj.id = id;
        let (kind, namespace) = (Some(obj.kind.as_str()), obj.namespace.as_deref());
        if obj.addressable {
            self.by_name.push(key([kind, namespace, Some(&obj.name)]), id);
        }
        self.by_kind.push(key([kind, namespace, None]), id);
        self.objects.push(obj);
    }
}

/// The objects of one document (the document, or the items of a `kind: List`), with the
/// problems that keep an object of a known kind from being one (`invalid-object`). Ids are 0
/// until an index takes them, which keeps one copy of the strings many objects have.
pub fn objects_of(
    file: FileId,
    doc: &DocRef,
    default_namespace: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Object> {
    let mut out = Vec::new();
    let Some(root) = doc.root.map(|r| doc.tree.node(r)) else { return out };
    let helm_source = &doc.helm_source;
    let at = |node| (&doc.tree, node, helm_source);
    if root.get_str("kind") == Some("List") && root.get("items").is_some_and(|i| i.is_seq()) {
        for item in root.get("items").into_iter().flat_map(|i| i.items()) {
            out.extend(object_at(file, at(item), default_namespace, diagnostics));
        }
    } else {
        out.extend(object_at(file, at(root), default_namespace, diagnostics));
    }
    out
}

fn object_at(
    file: FileId,
    (doc, node, helm_source): (&Arc<Document>, NodeRef<'_>, &Option<Arc<str>>),
    default_namespace: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Object> {
    let (Some(api_version), Some(kind)) = (node.get("apiVersion"), node.get("kind")) else { return None };
    let invalid = |at: NodeRef<'_>, message: String, help: &'static str| {
        let mut d = Diagnostic::unrated("invalid-object", file, at.span(), message);
        d.help(help);
        d.helm_source = helm_source.clone();
        d
    };
    let (Some(api_version), Some(kind)) = (api_version.as_str(), kind.as_str()) else {
        let bad = if api_version.as_str().is_none() { api_version } else { kind };
        diagnostics.push(invalid(
            bad,
            format!("`{}` is not a string", bad.display()),
            "`apiVersion` and `kind` must be strings, e.g. `kind: Rollout`",
        ));
        return None;
    };
    let known = KNOWN_KINDS.contains(&kind);
    let metadata = node.get("metadata");
    let name = metadata.and_then(|m| m.get_str("name")).filter(|n| !n.is_empty());
    let generate_name = metadata.and_then(|m| m.get_str("generateName")).filter(|n| !n.is_empty());
    if known {
        let problem = match metadata {
            None => Some((node.entry("kind").map_or(node, |(k, _)| k), format!("{kind} has no `metadata`"))),
            Some(m) if !m.is_map() => Some((m, "`metadata` must be a mapping".to_string())),
            Some(m) if name.is_none() && generate_name.is_none() => {
                Some((m.entry("name").map_or(m, |(_, v)| v), format!("{kind} has no `metadata.name`")))
            }
            _ => None,
        };
        if let Some((at, message)) = problem {
            diagnostics.push(invalid(at, message, "give the object a name under `metadata: {name: ...}`"));
            return None;
        }
        if let Some(spec) = node.get_set("spec").filter(|s| !s.is_map()) {
            diagnostics.push(invalid(
                spec,
                format!("`spec` of a {kind} must be a mapping, not `{}`", spec.display()),
                "indent the fields of `spec` under it",
            ));
            return None;
        }
    }
    let name = name.or(generate_name)?;
    let namespace = if CLUSTER_SCOPED.contains(&kind) {
        None
    } else {
        Some(Shared::recent(
            // A placeholder (`${NAMESPACE}` for envsubst) names whatever namespace the files are
            // applied to, as an unset one does.
            metadata
                .and_then(|m| m.get_str("namespace"))
                .filter(|n| !n.is_empty() && !n.contains("${"))
                .unwrap_or(default_namespace),
        ))
    };
    let addressable = name.len() == name.trim().len()
        && generate_name.is_none_or(|_| metadata.and_then(|m| m.get_str("name")).is_some());
    Some(Object {
        id: ObjectId(0),
        file,
        doc: doc.clone(),
        node: node.id,
        api_version: Shared::recent(api_version),
        kind: Shared::recent(kind),
        name: name.to_string(),
        namespace,
        helm_source: helm_source.clone(),
        external: false,
        addressable,
    })
}

impl Index {
    fn share(&mut self, s: &str) -> Shared {
        match self.shared.get(s) {
            Some(known) => known.clone(),
            None => {
                let new = Shared::new(s);
                self.shared.insert(new.clone());
                new
            }
        }
    }

    fn index_templates(&mut self) {
        // Each object's templates, read in parallel: its own pod template first, if it has one.
        let found: Vec<(bool, Vec<PodTemplate>)> = self
            .objects
            .par_iter()
            .map(|obj| {
                let root = obj.root();
                let template = match obj.kind.as_str() {
                    "Rollout" | "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" => {
                        root.path(&["spec", "template"])
                    }
                    "CronJob" => root.path(&["spec", "jobTemplate", "spec", "template"]),
                    "PodTemplate" => root.get("template"),
                    "Pod" => Some(root),
                    _ => None,
                };
                let mut templates: Vec<PodTemplate> = template.map(|t| pod_template(obj.id, t)).into_iter().collect();
                if obj.kind == "Experiment" {
                    for t in root.path(&["spec", "templates"]).into_iter().flat_map(|t| t.items()) {
                        if let Some(t) = t.get("template") {
                            templates.push(pod_template(obj.id, t));
                        }
                    }
                }
                (template.is_some(), templates)
            })
            .collect();
        let mut templates = Vec::new();
        self.template_of = vec![None; self.objects.len()];
        for (i, (own, found)) in found.into_iter().enumerate() {
            if own {
                self.template_of[i] = Some(templates.len() as u32);
            }
            templates.extend(found);
        }
        for (i, t) in templates.iter().enumerate() {
            let ns = self.objects[t.owner.0 as usize].namespace.as_deref();
            for (k, v) in &t.labels {
                self.templates_by_label.push(key([ns, Some(k), Some(v)]), i as u32);
            }
            self.templates_by_namespace.push(key([ns, None, None]), i as u32);
        }
        self.templates_by_label.seal();
        self.templates_by_namespace.seal();
        self.templates = templates;
    }

    fn index_references(&mut self) {
        self.references = self.objects.par_iter().map(|o| references(&o.kind, o.root())).collect();
        let keys: Vec<Vec<u64>> = self
            .objects
            .par_iter()
            .zip(&self.references)
            .map(|(obj, refs)| {
                refs.iter().map(|r| key([Some(r.kind), self.target_namespace(obj, r), Some(&r.name)])).collect()
            })
            .collect();
        self.referrers.entries.reserve_exact(self.references.iter().map(Vec::len).sum());
        for (obj, keys) in self.objects.iter().zip(keys) {
            for (j, k) in keys.into_iter().enumerate() {
                self.referrers.push(k, (obj.id, j as u32));
            }
        }
        self.referrers.seal();
        // A Rollout with a `workloadRef` runs the referenced workload's pod template.
        for i in 0..self.objects.len() {
            let id = ObjectId(i as u32);
            if self.objects[i].kind != "Rollout" {
                continue;
            }
            let target = self.references[i]
                .iter()
                .find(|r| r.role == "workloadRef")
                .and_then(|r| self.resolve(&self.objects[i], r));
            if let Some(t) = target.and_then(|t| self.template_of[t.id.0 as usize]) {
                self.template_of[id.0 as usize] = Some(t);
            }
        }
    }

    fn scope(&self, file: FileId) -> &Scope {
        match self.scopes.binary_search_by_key(&file, |(id, _)| *id) {
            Ok(i) => &self.scopes[i].1,
            Err(_) => &Scope::Everywhere,
        }
    }

    /// How near a definition in file `to` is to a referrer in file `from`: 0 in the same file,
    /// 1 in the same unit or folder, more for folders further in or out; `None` when the two are
    /// not applied together (other units, sibling folders).
    pub fn distance(&self, from: FileId, to: FileId) -> Option<u32> {
        if from == to {
            return Some(0);
        }
        match (self.scope(from), self.scope(to)) {
            (Scope::Everywhere, _) | (_, Scope::Everywhere) => Some(FAR),
            (Scope::Unit(a), Scope::Unit(b)) => (a == b).then_some(1),
            (Scope::Folder(a), Scope::Folder(b)) => {
                let (inner, outer) = if a.starts_with(b) { (a, b) } else { (b, a) };
                inner.starts_with(outer).then(|| 1 + (inner.components().count() - outer.components().count()) as u32)
            }
            _ => None,
        }
    }

    /// Whether an object comes from a context file or the config's `external:` list.
    pub fn joins_every_unit(&self, o: &Object) -> bool {
        *self.scope(o.file) == Scope::Everywhere
    }

    /// Whether two objects are certainly applied in one go: one stream, or one unit. (Plain files
    /// side by side are often alternative versions of one manifest, applied one at a time.)
    pub fn applied_as_one(&self, a: &Object, b: &Object) -> bool {
        a.file == b.file
            || matches!((self.scope(a.file), self.scope(b.file)), (Scope::Unit(x), Scope::Unit(y)) if x == y)
    }

    /// Whether two objects are applied together.
    pub fn together(&self, a: &Object, b: &Object) -> bool {
        self.distance(a.file, b.file).is_some()
    }

    /// What `obj` names by reference.
    pub fn references_of(&self, obj: &Object) -> &[Reference] {
        &self.references[obj.id.0 as usize]
    }

    /// Objects that name `obj` (and find it, not a nearer namesake), with the reference they use.
    pub fn referrers_of<'a>(&'a self, obj: &'a Object) -> impl Iterator<Item = (&'a Object, &'a Reference)> + 'a {
        let list = self.referrers.get(key([Some(&obj.kind), obj.namespace.as_deref(), Some(&obj.name)]));
        list.map(|&(o, r)| (self.object(o), &self.references[o.0 as usize][r as usize])).filter(move |(from, r)| {
            r.kind == obj.kind.as_str()
                && *r.name == *obj.name
                && self.target_namespace(from, r) == obj.namespace.as_deref()
                && self.resolve(from, r).is_some_and(|found| found.id == obj.id)
        })
    }

    /// The namespace a reference resolves in.
    pub fn target_namespace<'a>(&self, from: &'a Object, r: &'a Reference) -> Option<&'a str> {
        if CLUSTER_SCOPED.contains(&r.kind) { None } else { r.namespace.as_deref().or(from.namespace.as_deref()) }
    }

    pub fn resolve(&self, from: &Object, r: &Reference) -> Option<&Object> {
        self.get_near(from, r.kind, self.target_namespace(from, r), &r.name)
    }

    /// The definition of a name that `from` sees: among those applied with it, the nearest (the
    /// same file, then the same unit or folder, then the nearest folder in or out).
    pub fn get_near(&self, from: &Object, kind: &str, namespace: Option<&str>, name: &str) -> Option<&Object> {
        let mut best: Option<(u32, &Object)> = None;
        for o in self.all(kind, namespace, name) {
            if let Some(d) = self.distance(from.file, o.file)
                && best.is_none_or(|(b, _)| d < b)
            {
                best = Some((d, o));
            }
        }
        best.map(|(_, o)| o)
    }

    /// Every definition of a name at the nearest distance from `from` (more than one when the
    /// files do not say which is meant).
    pub fn nearest(&self, from: &Object, kind: &str, namespace: Option<&str>, name: &str) -> Vec<&Object> {
        let mut best: Vec<&Object> = Vec::new();
        let mut best_distance = u32::MAX;
        for o in self.all(kind, namespace, name) {
            let Some(d) = self.distance(from.file, o.file) else { continue };
            if d < best_distance {
                best_distance = d;
                best.clear();
            }
            if d == best_distance {
                best.push(o);
            }
        }
        best
    }

    /// The pod template a workload runs (for a Rollout, through its `workloadRef`).
    pub fn template_of(&self, obj: &Object) -> Option<&PodTemplate> {
        self.template_of.get(obj.id.0 as usize).copied().flatten().map(|i| &self.templates[i as usize])
    }

    pub fn controller_config(&self) -> Option<&Object> {
        self.controller_config.map(|id| self.object(id))
    }

    /// The plugin names listed under `data.<key>` of the controller's ConfigMap: YAML inside a
    /// string (comments, quoting and flow style allowed), read with the YAML reader as the
    /// controller reads it.
    pub fn controller_plugins(&self, key: &str) -> Vec<String> {
        let Some(text) = self.controller_config().and_then(|c| c.get(&["data", key])).and_then(|v| v.text()) else {
            return Vec::new();
        };
        let stream = crate::yaml::parse_stream(std::sync::Arc::from(text));
        stream
            .documents
            .iter()
            .filter_map(|d| d.root())
            .flat_map(|root| root.items().filter_map(|p| p.get_str("name").map(str::to_string)).collect::<Vec<_>>())
            .collect()
    }

    pub fn object(&self, id: ObjectId) -> &Object {
        &self.objects[id.0 as usize]
    }

    /// Whether another object may have the kind, namespace and name of `obj` (most have none:
    /// no lookup is needed to know it).
    pub fn may_have_namesake(&self, obj: &Object) -> bool {
        self.namesakes.get(obj.id.0 as usize).copied().unwrap_or(true)
    }

    /// The object of this kind and name in the namespace (the first, if it is defined twice).
    pub fn get(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<&Object> {
        self.all(kind, namespace, name).next()
    }

    pub fn all<'a, 'k>(
        &'a self,
        kind: &'k str,
        namespace: Option<&'k str>,
        name: &'k str,
    ) -> impl Iterator<Item = &'a Object> {
        let list = self.by_name.get(key([Some(kind), namespace, Some(name)]));
        list.map(|id| self.object(*id))
            .filter(move |o| o.kind == kind && o.name == name && o.namespace.as_deref() == namespace)
    }

    /// Every object of a kind in a namespace applied with `from`.
    pub fn of_kind<'a, 'k>(
        &'a self,
        from: &'a Object,
        kind: &'k str,
        namespace: Option<&'k str>,
    ) -> impl Iterator<Item = &'a Object> + use<'a, 'k> {
        let list = self.by_kind.get(key([Some(kind), namespace, None]));
        list.map(|id| self.object(*id))
            .filter(move |o| o.kind == kind && o.namespace.as_deref() == namespace && self.together(from, o))
    }

    /// Pod templates applied with `from`, in a namespace, whose labels the selector matches.
    /// Uses the rarest `matchLabels` pair to narrow the candidates.
    pub fn templates_matching<'a>(
        &'a self,
        from: &'a Object,
        namespace: Option<&str>,
        selector: &'a Selector,
    ) -> impl Iterator<Item = &'a PodTemplate> + 'a {
        let rarest = selector
            .match_labels
            .iter()
            .map(|(k, v)| key([namespace, Some(k), Some(v)]))
            .min_by_key(|&k| self.templates_by_label.count(k));
        let candidates: Box<dyn Iterator<Item = &u32>> = match rarest {
            Some(k) => Box::new(self.templates_by_label.get(k)),
            None => Box::new(self.templates_by_namespace.get(key([namespace, None, None]))),
        };
        let namespace = namespace.map(Shared::new);
        candidates.map(|&i| &self.templates[i as usize]).filter(move |t| {
            let owner = &self.objects[t.owner.0 as usize];
            owner.namespace == namespace && self.together(from, owner) && selector.matches(&t.labels)
        })
    }

    /// Pod templates applied with `from` in a namespace, for "closest match" explanations.
    pub fn templates_in<'a>(
        &'a self,
        from: &'a Object,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = &'a PodTemplate> + 'a {
        self.templates_by_namespace.get(key([namespace, None, None])).map(|&i| &self.templates[i as usize]).filter(
            move |t| {
                let owner = &self.objects[t.owner.0 as usize];
                owner.namespace.as_deref() == namespace && self.together(from, owner)
            },
        )
    }
}

fn pod_template(owner: ObjectId, template: NodeRef<'_>) -> PodTemplate {
    let labels_node = template.path(&["metadata", "labels"]);
    PodTemplate {
        owner,
        node: template.id,
        labels: labels_of(labels_node),
        labels_span: labels_node.unwrap_or(template).span(),
    }
}
