//! JSON schemas of the kinds rollcheck knows, embedded and compiled lazily per kind, plus those
//! of CRDs given at run time (`--crd`). Validation walks the YAML tree itself, so every finding
//! has the exact span of its key or value and YAML 1.1 types are judged as Kubernetes reads them.

pub mod convert;
mod embedded;
pub mod generate;
mod validate;

pub use embedded::KEYS;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

use regex::Regex;
use serde_json::{Map, Value};

pub use embedded::FILES;
pub use validate::{Finding, FindingKind, validate, validate_both};

/// A compiled schema: nodes in an arena, `$ref`s resolved to indices.
#[derive(Debug)]
pub struct Schema {
    nodes: Vec<Node>,
    root: u32,
}

#[derive(Debug, Default)]
struct Node {
    /// Bit set of `TYPE_*`; 0 allows any type.
    types: u8,
    int_or_string: bool,
    preserve_unknown: bool,
    embedded_resource: bool,
    /// Sorted by length, then name: most keys are told apart by their length alone.
    properties: Vec<(Box<str>, u32)>,
    additional: Additional,
    items: Option<u32>,
    required: Vec<Box<str>>,
    enumeration: Vec<Value>,
    one_of: Vec<u32>,
    any_of: Vec<u32>,
    all_of: Vec<u32>,
    not: Option<u32>,
    pattern: Option<Regex>,
    minimum: Option<(f64, bool)>,
    maximum: Option<(f64, bool)>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    min_properties: Option<u64>,
    max_properties: Option<u64>,
    format: Option<Box<str>>,
    reference: Option<u32>,
    /// Whether a scalar has anything to be checked against here (enum, pattern, bounds...).
    scalar_checks: bool,
}

impl Node {
    fn property(&self, name: &str) -> Option<u32> {
        let i = self.properties.binary_search_by(|(p, _)| by_length(p, name)).ok()?;
        Some(self.properties[i].1)
    }
}

fn by_length(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
enum Additional {
    #[default]
    Open,
    Closed,
    Schema(u32),
}

const TYPE_OBJECT: u8 = 1;
const TYPE_ARRAY: u8 = 2;
const TYPE_STRING: u8 = 4;
const TYPE_INTEGER: u8 = 8;
const TYPE_NUMBER: u8 = 16;
const TYPE_BOOLEAN: u8 = 32;

fn type_bit(name: &str) -> u8 {
    match name {
        "object" => TYPE_OBJECT,
        "array" => TYPE_ARRAY,
        "string" => TYPE_STRING,
        "integer" => TYPE_INTEGER,
        "number" => TYPE_NUMBER,
        "boolean" => TYPE_BOOLEAN,
        _ => 0,
    }
}

/// Regexes bigger than this (compiled) are not checked rather than slowing everything.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

impl Schema {
    /// Compiles a schema document with its `definitions`.
    pub fn compile(doc: &Value) -> Schema {
        let definitions = doc.get("definitions").and_then(Value::as_object);
        let mut c = Compiler { nodes: Vec::new(), definitions, defined: HashMap::new() };
        let root = c.node(doc, 0);
        Schema { nodes: c.nodes, root }
    }

    /// Property names allowed at the schema node `at` (for "did you mean").
    fn known_properties<'a>(&'a self, at: u32, out: &mut BTreeSet<&'a str>, depth: u32) {
        if depth > 16 {
            return;
        }
        let node = self.resolve(at);
        out.extend(node.properties.iter().map(|(k, _)| &**k));
        for &b in node.all_of.iter().chain(&node.one_of).chain(&node.any_of) {
            self.known_properties(b, out, depth + 1);
        }
    }

    fn resolve(&self, mut at: u32) -> &Node {
        for _ in 0..32 {
            match self.nodes[at as usize].reference {
                Some(r) => at = r,
                None => break,
            }
        }
        &self.nodes[at as usize]
    }
}

struct Compiler<'a> {
    nodes: Vec<Node>,
    definitions: Option<&'a Map<String, Value>>,
    defined: HashMap<String, u32>,
}

impl Compiler<'_> {
    fn node(&mut self, v: &Value, depth: u32) -> u32 {
        let index = self.nodes.len() as u32;
        self.nodes.push(Node::default());
        if depth > 64 {
            return index;
        }
        let Some(m) = v.as_object() else { return index };
        let mut n = Node::default();
        if let Some(r) = m.get("$ref").and_then(Value::as_str) {
            n.reference = r.strip_prefix("#/definitions/").map(|name| self.definition(name, depth));
        }
        n.types = match m.get("type") {
            Some(Value::String(t)) => type_bit(t),
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).map(type_bit).fold(0, |a, b| a | b),
            _ => 0,
        };
        let flag = |k: &str| m.get(k) == Some(&Value::Bool(true));
        n.int_or_string = flag("x-kubernetes-int-or-string");
        n.preserve_unknown = flag("x-kubernetes-preserve-unknown-fields");
        n.embedded_resource = flag("x-kubernetes-embedded-resource");
        if let Some(props) = m.get("properties").and_then(Value::as_object) {
            let mut list: Vec<(Box<str>, u32)> =
                props.iter().map(|(k, s)| (Box::from(k.as_str()), self.node(s, depth + 1))).collect();
            list.sort_by(|a, b| by_length(&a.0, &b.0));
            n.properties = list;
        }
        n.additional = match m.get("additionalProperties") {
            Some(Value::Bool(false)) => Additional::Closed,
            Some(s @ Value::Object(_)) => Additional::Schema(self.node(s, depth + 1)),
            _ => Additional::Open,
        };
        n.items = m.get("items").filter(|i| i.is_object()).map(|i| self.node(i, depth + 1));
        n.required = m
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).map(Box::from).collect())
            .unwrap_or_default();
        n.enumeration = m.get("enum").and_then(Value::as_array).cloned().unwrap_or_default();
        for (key, list) in [("oneOf", &mut n.one_of), ("anyOf", &mut n.any_of), ("allOf", &mut n.all_of)] {
            if let Some(branches) = m.get(key).and_then(Value::as_array) {
                *list = branches.iter().map(|b| self.node(b, depth + 1)).collect();
            }
        }
        n.not = m.get("not").map(|s| self.node(s, depth + 1));
        n.pattern = m
            .get("pattern")
            .and_then(Value::as_str)
            .and_then(|p| regex::RegexBuilder::new(p).size_limit(REGEX_SIZE_LIMIT).build().ok());
        let number = |k: &str| m.get(k).and_then(Value::as_f64);
        let count = |k: &str| m.get(k).and_then(Value::as_u64);
        n.minimum = number("minimum").map(|x| (x, flag("exclusiveMinimum")));
        n.maximum = number("maximum").map(|x| (x, flag("exclusiveMaximum")));
        n.min_length = count("minLength");
        n.max_length = count("maxLength");
        n.min_items = count("minItems");
        n.max_items = count("maxItems");
        n.min_properties = count("minProperties");
        n.max_properties = count("maxProperties");
        n.format = m.get("format").and_then(Value::as_str).map(Box::from);
        n.scalar_checks = !n.enumeration.is_empty()
            || n.pattern.is_some()
            || n.minimum.is_some()
            || n.maximum.is_some()
            || n.min_length.is_some()
            || n.max_length.is_some()
            || n.format.as_deref() == Some("int32");
        self.nodes[index as usize] = n;
        index
    }

    fn definition(&mut self, name: &str, depth: u32) -> u32 {
        if let Some(&i) = self.defined.get(name) {
            return i;
        }
        // Reserve the slot first: definitions may refer to themselves.
        let slot = self.nodes.len() as u32;
        self.nodes.push(Node::default());
        self.defined.insert(name.to_string(), slot);
        let def = self.definitions.and_then(|d| d.get(name)).cloned().unwrap_or(Value::Null);
        let compiled = self.node(&def, depth + 1);
        self.nodes[slot as usize].reference = Some(compiled);
        slot
    }
}

/// The schemas for a run: embedded ones by apiVersion and kind, and CRDs given at run time.
#[derive(Default)]
pub struct Registry {
    custom: HashMap<(String, String), Arc<Schema>>,
}

/// Compiled embedded schemas, one slot per file of [`FILES`].
fn compiled(index: usize) -> &'static Schema {
    static SLOTS: OnceLock<Vec<OnceLock<Schema>>> = OnceLock::new();
    let slots = SLOTS.get_or_init(|| FILES.iter().map(|_| OnceLock::new()).collect());
    slots[index].get_or_init(|| {
        let doc: Value = serde_json::from_str(FILES[index].text).expect("embedded schemas are valid JSON");
        Schema::compile(&doc)
    })
}

impl Registry {
    pub fn get(&self, api_version: &str, kind: &str) -> Option<&Schema> {
        if let Some(s) = self.custom.get(&(api_version.to_string(), kind.to_string())) {
            return Some(s);
        }
        let i = FILES.iter().position(|f| f.kind == kind && f.api_versions.contains(&api_version))?;
        Some(compiled(i))
    }

    /// Adds the schemas of every CustomResourceDefinition in a CRD file's text; returns the
    /// kinds added, or why the file is not a usable CRD.
    pub fn add_crds(&mut self, text: &str) -> Result<Vec<String>, String> {
        let stream = crate::yaml::parse_stream(Arc::from(text));
        if let Some(e) = stream.errors.first() {
            return Err(format!("invalid YAML: {}", e.message));
        }
        let meta: Value = serde_json::from_str(embedded::OBJECT_META).expect("embedded JSON");
        let meta_definitions = meta.get("definitions").and_then(Value::as_object).cloned().unwrap_or_default();
        let mut added = Vec::new();
        for doc in &stream.documents {
            let Some(root) = doc.root() else { continue };
            let crd = crate::yaml::to_json(root, 512);
            if crd.get("kind").and_then(Value::as_str) != Some("CustomResourceDefinition") {
                continue;
            }
            let group = crd.pointer("/spec/group").and_then(Value::as_str).unwrap_or_default();
            let kind = crd.pointer("/spec/names/kind").and_then(Value::as_str).unwrap_or_default();
            let shared = crd.pointer("/spec/validation/openAPIV3Schema");
            for v in crd.pointer("/spec/versions").and_then(Value::as_array).into_iter().flatten() {
                let Some(schema) = v.pointer("/schema/openAPIV3Schema").or(shared) else { continue };
                let mut refs = BTreeSet::new();
                let mut converted = convert::convert(schema, &mut refs);
                convert::object_root(&mut converted, &mut refs);
                if let Value::Object(m) = &mut converted {
                    m.insert("definitions".into(), Value::Object(meta_definitions.clone()));
                }
                let version = v.get("name").and_then(Value::as_str).unwrap_or_default();
                self.custom
                    .insert((format!("{group}/{version}"), kind.to_string()), Arc::new(Schema::compile(&converted)));
                added.push(format!("{kind} ({group}/{version})"));
            }
        }
        if added.is_empty() {
            return Err("no CustomResourceDefinition with an openAPIV3Schema".into());
        }
        Ok(added)
    }
}
