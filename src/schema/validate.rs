//! Validation of a YAML tree against a compiled schema, the way the API server judges the JSON
//! that kubectl sends: YAML 1.1 scalar types, null treated as unset, unknown fields of closed
//! objects reported (the API server would prune them silently).

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Additional, Node, Schema, TYPE_ARRAY, TYPE_BOOLEAN, TYPE_INTEGER, TYPE_NUMBER, TYPE_OBJECT, TYPE_STRING};
use crate::diagnostic::did_you_mean;
use crate::source::Span;
use crate::yaml::{NodeKind, NodeRef, Resolved, Style};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindingKind {
    UnknownField,
    Violation,
}

#[derive(Debug)]
pub struct Finding {
    pub kind: FindingKind,
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
    /// A replacement for the span (the field or value the author probably meant).
    pub suggestion: Option<String>,
}

/// Checks `value` (an object's root) against `schema`. `want` limits the work to one kind of
/// finding.
pub fn validate<'a>(schema: &Schema, value: NodeRef<'a>, want: FindingKind) -> Vec<Finding> {
    let want = Want { unknown: want == FindingKind::UnknownField, violation: want == FindingKind::Violation };
    run(schema, value, want).0
}

/// Both kinds of finding in one walk, each kind in the order [`validate`] gives it.
pub fn validate_both<'a>(schema: &Schema, value: NodeRef<'a>) -> Vec<Finding> {
    let (out, budget) = run(schema, value, Want { unknown: true, violation: true });
    if budget > 0 {
        return out;
    }
    // The work bound was reached: where it stops depends on what is checked, so each kind is
    // checked alone, as `validate` does.
    let mut out = validate(schema, value, FindingKind::UnknownField);
    out.extend(validate(schema, value, FindingKind::Violation));
    out
}

fn run<'a>(schema: &Schema, value: NodeRef<'a>, want: Want) -> (Vec<Finding>, u32) {
    let mut v = Validator { schema, want, out: Vec::new(), path: Vec::new(), budget: 1_000_000 };
    v.check(schema.root, value, None, true);
    (v.out, v.budget)
}

/// The kinds of finding a walk reports.
#[derive(Clone, Copy)]
struct Want {
    unknown: bool,
    violation: bool,
}

/// A step of the path to the value under check; formatted only when a finding needs it.
#[derive(Clone)]
enum Seg<'a> {
    Key(std::borrow::Cow<'a, str>),
    Index(usize),
}

struct Validator<'s, 'a> {
    schema: &'s Schema,
    want: Want,
    out: Vec<Finding>,
    path: Vec<Seg<'a>>,
    /// Bounds the work on adversarial schemas and documents (combinators revisit subtrees).
    budget: u32,
}

fn type_names(bits: u8, int_or_string: bool) -> String {
    let mut names = Vec::new();
    if int_or_string {
        names.extend(["an integer", "a string"]);
    }
    for (bit, name) in [
        (TYPE_OBJECT, "a mapping"),
        (TYPE_ARRAY, "a list"),
        (TYPE_STRING, "a string"),
        (TYPE_INTEGER, "an integer"),
        (TYPE_NUMBER, "a number"),
        (TYPE_BOOLEAN, "a boolean"),
    ] {
        if bits & bit != 0 && !names.contains(&name) && !(bit == TYPE_INTEGER && bits & TYPE_NUMBER != 0) {
            names.push(name);
        }
    }
    match names.len() {
        0 => "anything".into(),
        1 => names[0].to_string(),
        _ => format!("{} or {}", names[..names.len() - 1].join(", "), names[names.len() - 1]),
    }
}

/// What a YAML value is, in JSON Schema types, and a name for messages.
fn value_types(kind: NodeKind) -> (u8, &'static str) {
    match kind {
        NodeKind::Map(_) => (TYPE_OBJECT, "a mapping"),
        NodeKind::Seq(_) => (TYPE_ARRAY, "a list"),
        NodeKind::Alias(_) => (0, "an alias"),
        NodeKind::Scalar(s) => match s.value {
            Resolved::Null => (0, "null"),
            Resolved::Bool(_) => (TYPE_BOOLEAN, "a boolean"),
            Resolved::Int(_) => (TYPE_INTEGER | TYPE_NUMBER, "an integer"),
            Resolved::Float(f) if f.is_finite() && f.fract() == 0.0 => (TYPE_INTEGER | TYPE_NUMBER, "a number"),
            Resolved::Float(_) => (TYPE_NUMBER, "a number"),
            Resolved::Str => (TYPE_STRING, "a string"),
        },
    }
}

impl<'a> Validator<'_, 'a> {
    fn path(&self) -> String {
        Self::join(&self.path)
    }

    fn report(&mut self, kind: FindingKind, span: Span, message: String, help: Option<String>) {
        let wanted = match kind {
            FindingKind::UnknownField => self.want.unknown,
            FindingKind::Violation => self.want.violation,
        };
        if wanted {
            self.out.push(Finding { kind, span, message, help, suggestion: None });
        }
    }

    /// Where to point for a finding about a whole value: the scalar itself, or the key of a
    /// mapping or list (a multi-line span would be unreadable).
    fn place(value: NodeRef<'_>, key: Option<Span>) -> Span {
        match (value.kind(), key) {
            (NodeKind::Scalar(_), _) | (_, None) => value.span(),
            (_, Some(k)) => k,
        }
    }

    fn check(&mut self, at: u32, value: NodeRef<'a>, key: Option<Span>, check_unknown: bool) {
        if self.budget == 0 {
            return;
        }
        self.budget -= 1;
        let schema = self.schema;
        let node = schema.resolve(at);
        if value.is_null() {
            return;
        }
        let kind = value.kind();
        let (have, have_name) = value_types(kind);
        let allowed = node.types | if node.int_or_string { TYPE_INTEGER | TYPE_STRING } else { 0 };
        if allowed != 0 && have & allowed == 0 {
            let expected = type_names(node.types, node.int_or_string);
            let field = match self.path.last() {
                Some(Seg::Key(k)) => k.to_string(),
                Some(Seg::Index(i)) => format!("[{i}]"),
                None => "the object".into(),
            };
            let help = type_help(value, allowed, &field);
            self.report(
                FindingKind::Violation,
                Self::place(value, key),
                format!("`{}` must be {expected}, not {have_name}", self.path_or_root()),
                help,
            );
            return;
        }
        if self.want.violation && node.scalar_checks {
            self.scalar_constraints(node, value, kind);
        }
        match kind {
            NodeKind::Map(_) => self.object(at, node, value, key, check_unknown),
            NodeKind::Seq(_) => {
                if let Some(items) = node.items {
                    for (i, item) in value.items().enumerate() {
                        self.path.push(Seg::Index(i));
                        self.check(items, item, None, true);
                        self.path.pop();
                    }
                }
                self.size_bounds(value, key, node.min_items, node.max_items, "item");
            }
            _ => {}
        }
        for &branch in &node.all_of {
            self.check(branch, value, key, false);
        }
        if self.want.violation {
            self.combinators(node, value, key);
        }
    }

    fn path_or_root(&self) -> String {
        let p = self.path();
        if p.is_empty() { "the object".into() } else { p }
    }

    fn scalar_constraints(&mut self, node: &Node, value: NodeRef<'_>, kind: NodeKind) {
        let NodeKind::Scalar(scalar) = kind else { return };
        // A scalar is pointed at itself (see `place`).
        let place = value.span();
        let text = value.text().unwrap_or_default();
        if !node.enumeration.is_empty() && !node.enumeration.iter().any(|e| equals(e, value)) {
            let options: Vec<String> = node
                .enumeration
                .iter()
                .map(|e| match e {
                    Value::String(s) => format!("`{s}`"),
                    other => format!("`{other}`"),
                })
                .collect();
            let strings: Vec<&str> = node.enumeration.iter().filter_map(Value::as_str).collect();
            let help = did_you_mean(text, strings.iter().copied()).map(|s| format!("did you mean `{s}`?"));
            self.report(
                FindingKind::Violation,
                place,
                format!("`{text}` is not a valid `{}`: expected {}", self.path_or_root(), options.join(", ")),
                help,
            );
            return;
        }
        if scalar.value == Resolved::Str {
            let chars =
                if node.min_length.is_some() || node.max_length.is_some() { text.chars().count() as u64 } else { 0 };
            if let Some(min) = node.min_length.filter(|m| chars < *m) {
                self.report(
                    FindingKind::Violation,
                    place,
                    format!("`{}` must be at least {min} character(s) long", self.path_or_root()),
                    None,
                );
            }
            if let Some(max) = node.max_length.filter(|m| chars > *m) {
                self.report(
                    FindingKind::Violation,
                    place,
                    format!("`{}` must be at most {max} characters long, it has {chars}", self.path_or_root()),
                    None,
                );
            }
            if let Some(re) = &node.pattern
                && !re.is_match(text)
            {
                self.report(
                    FindingKind::Violation,
                    place,
                    format!("`{text}` does not match the pattern of `{}`: {}", self.path_or_root(), re.as_str()),
                    None,
                );
            }
        }
        let number = match scalar.value {
            Resolved::Int(i) => Some(i as f64),
            Resolved::Float(f) => Some(f),
            _ => None,
        };
        if let Some(x) = number {
            if let Some((min, exclusive)) = node.minimum
                && (x < min || (exclusive && x == min))
            {
                let bound = if exclusive { "greater than" } else { "at least" };
                self.report(
                    FindingKind::Violation,
                    place,
                    format!("`{}` must be {bound} {min}, not {text}", self.path_or_root()),
                    None,
                );
            }
            if let Some((max, exclusive)) = node.maximum
                && (x > max || (exclusive && x == max))
            {
                let bound = if exclusive { "less than" } else { "at most" };
                self.report(
                    FindingKind::Violation,
                    place,
                    format!("`{}` must be {bound} {max}, not {text}", self.path_or_root()),
                    None,
                );
            }
            if node.format.as_deref() == Some("int32") && !(i32::MIN as f64..=i32::MAX as f64).contains(&x) {
                self.report(
                    FindingKind::Violation,
                    place,
                    format!("`{}` must fit in 32 bits, {text} does not", self.path_or_root()),
                    None,
                );
            }
        }
    }

    fn object(&mut self, at: u32, node: &Node, value: NodeRef<'a>, key: Option<Span>, check_unknown: bool) {
        let schema = self.schema;
        let mut known: Option<BTreeSet<&str>> = None;
        for (k, v) in value.entries() {
            let Some(name) = k.key_text() else { continue };
            if name == "<<" {
                continue;
            }
            let property = node.property(&name);
            self.path.push(Seg::Key(name.clone()));
            match (property, node.additional) {
                (Some(p), _) => self.check(p, v, Some(k.span()), true),
                (None, Additional::Schema(s)) => self.check(s, v, Some(k.span()), true),
                (None, Additional::Closed) if check_unknown && !node.preserve_unknown => {
                    let embedded = node.embedded_resource && matches!(&*name, "apiVersion" | "kind" | "metadata");
                    let known = known.get_or_insert_with(|| {
                        let mut set = BTreeSet::new();
                        schema.known_properties(at, &mut set, 0);
                        set
                    });
                    if !embedded && !known.contains(&*name) {
                        let parent = self.path[..self.path.len() - 1].to_vec();
                        let place = if parent.is_empty() {
                            "the object".to_string()
                        } else {
                            format!("`{}`", Self::join(&parent))
                        };
                        let suggestion = did_you_mean(&name, known.iter().copied())
                            .or_else(|| known.iter().copied().find(|c| c.eq_ignore_ascii_case(&name)));
                        let help = match suggestion {
                            Some(s) => format!(
                                "did you mean `{s}`? The API server drops unknown fields without a word, so this setting would have no effect"
                            ),
                            None => format!(
                                "{place} has no such field; the API server would drop it without a word. Known fields: {}",
                                preview(known)
                            ),
                        };
                        self.report(
                            FindingKind::UnknownField,
                            k.span(),
                            format!("unknown field `{name}` in {place}"),
                            Some(help),
                        );
                    }
                }
                _ => {}
            }
            self.path.pop();
        }
        if !self.want.violation {
            return;
        }
        let missing: Vec<&str> = node.required.iter().map(|r| &**r).filter(|r| value.get_set(r).is_none()).collect();
        if !missing.is_empty() {
            let list = missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ");
            let (word, it) = if missing.len() == 1 { ("field", "it") } else { ("fields", "them") };
            let place = Self::place(value, key);
            self.report(
                FindingKind::Violation,
                place,
                format!("`{}` is missing the required {word} {list}", self.path_or_root()),
                Some(format!("add {it}; the API server rejects the object without {it}")),
            );
        }
        self.size_bounds(value, key, node.min_properties, node.max_properties, "field");
    }

    /// `minItems`/`maxItems` or `minProperties`/`maxProperties`.
    fn size_bounds(&mut self, value: NodeRef<'_>, key: Option<Span>, min: Option<u64>, max: Option<u64>, what: &str) {
        if min.is_none() && max.is_none() {
            return;
        }
        let n = value.len() as u64;
        let bound = match (min, max) {
            (Some(min), _) if n < min => format!("needs at least {min} {what}(s)"),
            (_, Some(max)) if n > max => format!("allows at most {max} {what}(s)"),
            _ => return,
        };
        let message = format!("`{}` {bound}, it has {n}", self.path_or_root());
        self.report(FindingKind::Violation, Self::place(value, key), message, None);
    }

    fn join(path: &[Seg<'_>]) -> String {
        let mut s = String::new();
        for p in path {
            match p {
                Seg::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Seg::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        s
    }

    /// Whether `value` passes the schema node `at`, without reporting anything.
    fn passes(&mut self, at: u32, value: NodeRef<'a>) -> bool {
        let mut probe = Validator {
            schema: self.schema,
            want: Want { unknown: false, violation: true },
            out: Vec::new(),
            path: self.path.clone(),
            budget: self.budget,
        };
        probe.check(at, value, None, false);
        self.budget = probe.budget;
        probe.out.is_empty()
    }

    fn combinators(&mut self, node: &Node, value: NodeRef<'a>, key: Option<Span>) {
        if node.one_of.is_empty() && node.any_of.is_empty() && node.not.is_none() {
            return;
        }
        let place = Self::place(value, key);
        if !node.one_of.is_empty() {
            let passing = node.one_of.iter().filter(|&&b| self.passes(b, value)).count();
            if passing != 1 {
                let fields = self.required_fields(&node.one_of);
                let at_most = node.one_of.iter().any(|&b| self.schema.resolve(b).not.is_some());
                let message = match (fields.is_empty(), at_most) {
                    (false, true) => format!("`{}` may set only one of {}", self.path_or_root(), fields),
                    (false, false) => format!("`{}` must set exactly one of {}", self.path_or_root(), fields),
                    (true, _) => format!(
                        "`{}` matches {passing} of the {} allowed forms; it must match exactly one",
                        self.path_or_root(),
                        node.one_of.len()
                    ),
                };
                self.report(FindingKind::Violation, place, message, None);
            }
        }
        if !node.any_of.is_empty() && !node.any_of.iter().any(|&b| self.passes(b, value)) {
            let fields = self.required_fields(&node.any_of);
            let message = if fields.is_empty() {
                format!("`{}` matches none of the allowed forms", self.path_or_root())
            } else {
                format!("`{}` must set at least one of {}", self.path_or_root(), fields)
            };
            self.report(FindingKind::Violation, place, message, None);
        }
        if let Some(not) = node.not
            && self.passes(not, value)
        {
            let fields = self.required_fields(&[not]);
            let message = if fields.is_empty() {
                format!("`{}` has a form that is not allowed", self.path_or_root())
            } else {
                format!("`{}` may not set {}", self.path_or_root(), fields)
            };
            self.report(FindingKind::Violation, place, message, None);
        }
    }

    /// The fields that `required` lists in a set of branches (and their `not`/`anyOf`), for
    /// messages about "one of" constraints.
    fn required_fields(&self, branches: &[u32]) -> String {
        let mut fields = BTreeSet::new();
        let mut todo: Vec<u32> = branches.to_vec();
        let mut steps = 0;
        while let Some(b) = todo.pop() {
            steps += 1;
            if steps > 64 {
                break;
            }
            let n = self.schema.resolve(b);
            fields.extend(n.required.iter().map(|r| &**r));
            todo.extend(n.any_of.iter().chain(&n.one_of).chain(&n.all_of));
            todo.extend(n.not);
        }
        fields.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
    }
}

fn preview(known: &BTreeSet<&str>) -> String {
    let list: Vec<String> = known.iter().take(12).map(|k| format!("`{k}`")).collect();
    if known.len() > 12 { format!("{}...", list.join(", ")) } else { list.join(", ") }
}

/// A help line for a type mismatch: a quoted number, an unquoted string...
fn type_help(value: NodeRef<'_>, allowed: u8, field: &str) -> Option<String> {
    let scalar = value.scalar()?;
    let text = value.text().unwrap_or_default();
    if scalar.style == Style::Quoted && allowed & (TYPE_INTEGER | TYPE_NUMBER | TYPE_BOOLEAN) != 0 {
        let plain = crate::yaml::resolve::resolve_plain(text);
        if matches!(plain, Resolved::Int(_) | Resolved::Float(_) | Resolved::Bool(_)) {
            return Some(format!("remove the quotes: `{field}: {text}`"));
        }
    }
    if allowed & TYPE_STRING != 0 && scalar.style == Style::Plain {
        return Some(format!("quote it: `{field}: \"{text}\"`"));
    }
    None
}

fn equals(expected: &Value, value: NodeRef<'_>) -> bool {
    match (expected, value.scalar().map(|s| s.value)) {
        (Value::String(s), Some(Resolved::Str)) => value.text() == Some(s.as_str()),
        (Value::Bool(b), Some(Resolved::Bool(v))) => *b == v,
        (Value::Number(n), Some(_)) => n.as_f64().is_some_and(|n| value.as_f64() == Some(n)),
        _ => false,
    }
}
