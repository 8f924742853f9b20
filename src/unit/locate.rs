//! Where a place in rendered output is in the repository: the same key path in the template,
//! origin file or patch it came from. Templates are not YAML, so files are read line by line,
//! with Go template actions masked, by indentation.

use std::path::PathBuf;

use super::{Unit, UnitKind};
use crate::source::Span;
use crate::yaml::{NodeRef, Stream};

/// One step from an object's root to a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    /// A list item, with its `name` when it has one (strategic merges and templates may put
    /// items in another order).
    Item {
        index: usize,
        name: Option<String>,
    },
}

/// The steps from `root` to the deepest node holding `span`, and whether `span` is on the
/// last step's key rather than in its value.
pub fn path_to(root: NodeRef<'_>, span: Span) -> (Vec<Step>, bool) {
    let inside = |n: NodeRef<'_>| n.span().start <= span.start && span.start < n.span().end.max(n.span().start + 1);
    let mut steps = Vec::new();
    let mut node = root;
    'down: loop {
        if node.is_map() {
            for (k, v) in node.entries() {
                if inside(k) {
                    steps.push(Step::Key(k.key_text().unwrap_or_default().into_owned()));
                    return (steps, true);
                }
                if inside(v) {
                    steps.push(Step::Key(k.key_text().unwrap_or_default().into_owned()));
                    node = v;
                    continue 'down;
                }
            }
        } else if node.is_seq() {
            for (index, item) in node.items().enumerate() {
                if inside(item) {
                    steps.push(Step::Item { index, name: item.get_str("name").map(str::to_string) });
                    node = item;
                    continue 'down;
                }
            }
        }
        return (steps, false);
    }
}

/// A line of a file as indentation sees it: `- key: v` gives an item line and a key line.
#[derive(Debug)]
struct Entry {
    indent: usize,
    item: bool,
    /// Byte offset of the text in the file.
    at: usize,
    text_len: usize,
}

/// Replaces Go template actions (`{{ ... }}`, across lines too) by spaces, keeping offsets.
fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let close = rest[open..].find("}}").map_or(rest.len(), |c| open + c + 2);
        for c in rest[open..close].chars() {
            // Same byte length: offsets in the masked text are offsets in the file.
            out.extend(std::iter::repeat_n(
                if c == '\n' { '\n' } else { ' ' },
                if c == '\n' { 1 } else { c.len_utf8() },
            ));
        }
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

fn entries(masked: &str, from: usize, to: usize) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut offset = from;
    for line in masked[from..to].split_inclusive('\n') {
        let at = offset;
        offset += line.len();
        let content = line.trim_end();
        let trimmed = content.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut indent = content.len() - trimmed.len();
        let mut text = trimmed;
        // `- - x`, `- key: v`: each dash is an item one level in.
        while text == "-" || text.starts_with("- ") {
            out.push(Entry { indent, item: true, at: at + indent, text_len: text.len() });
            let rest = text[1..].trim_start();
            indent += text.len() - rest.len();
            text = rest;
        }
        if !text.is_empty() {
            out.push(Entry { indent, item: false, at: at + indent, text_len: text.len() });
        }
    }
    out
}

fn is_key(text: &str, key: &str) -> bool {
    let text = text.strip_prefix(['"', '\'']).map_or(text, |t| t);
    text.strip_prefix(key).is_some_and(|r| {
        let r = r.strip_prefix(['"', '\'']).unwrap_or(r);
        r == ":" || r.starts_with(": ") || r.starts_with(":\t")
    })
}

/// The segment (document) of `masked` between `---` lines that defines `kind` named like
/// `name` (the rendered name contains the source's: prefixes and suffixes are added).
fn segment(text: &str, masked: &str, kind: &str, name: &str) -> Option<(usize, usize)> {
    let mut bounds = vec![0];
    let mut offset = 0;
    for line in masked.split_inclusive('\n') {
        if line.trim_end() == "---" || line.starts_with("--- ") {
            bounds.push(offset);
        }
        offset += line.len();
    }
    bounds.push(masked.len());
    let segments: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).filter(|(a, b)| a < b).collect();
    let value_of = |seg: &(usize, usize), key: &str, indent: Option<usize>| -> Vec<String> {
        masked[seg.0..seg.1]
            .lines()
            .filter(|l| indent.is_none_or(|i| l.len() - l.trim_start().len() == i))
            .filter_map(|l| l.trim_start().strip_prefix(key))
            .map(|v| v.trim().trim_matches(['"', '\'']).to_string())
            .collect()
    };
    let with_kind: Vec<&(usize, usize)> =
        segments.iter().filter(|s| value_of(s, "kind:", Some(0)).iter().any(|k| k == kind)).collect();
    // The object's own name: the first `name:` two spaces in; templated (`{{ }}`) is unknown.
    let literal = |s: &(usize, usize)| {
        let line = text[s.0..s.1].lines().find(|l| l.starts_with("  name:") && !l.starts_with("   "))?;
        let value = line["  name:".len()..].trim().trim_matches(['"', '\'']);
        (!value.is_empty() && !value.contains("{{")).then(|| value.to_string())
    };
    let named = with_kind.iter().find(|s| literal(s).is_some_and(|n| name.contains(n.as_str())));
    // A templated name (`{{ include ... }}`) may be anything; a literal one must match.
    let unnamed = with_kind.iter().find(|s| literal(s).is_none());
    named.or(unnamed).map(|s| **s).or_else(|| {
        // One document whose kind is templated.
        let content: Vec<&(usize, usize)> = segments.iter().filter(|s| !masked[s.0..s.1].trim().is_empty()).collect();
        (content.len() == 1 && value_of(content[0], "kind:", Some(0)).iter().all(|k| k.is_empty())).then(|| *content[0])
    })
}

/// Finds `steps` in one document of a template or manifest. `Ok` with the span of the last
/// key (or its value) when the whole path is there, `Err` with the span of `kind:` otherwise.
fn find(text: &str, kind: &str, name: &str, steps: &[Step], on_key: bool) -> Option<Result<Span, Span>> {
    let masked = mask(text);
    let (from, to) = segment(text, &masked, kind, name)?;
    let all = entries(&masked, from, to);
    let kind_span = all
        .iter()
        .find(|e| e.indent == 0 && !e.item && is_key(&masked[e.at..e.at + e.text_len], "kind"))
        .map(|e| Span::new(e.at, e.at + e.text_len))
        .unwrap_or_else(|| Span::new(from, from + masked[from..to].find('\n').unwrap_or(to - from)));
    let mut range: &[Entry] = &all;
    let mut parent: Option<usize> = None;
    let mut found: Option<&Entry> = None;
    for step in steps {
        // Children of the parent: deeper lines, and items at its own indentation.
        let children: &[Entry] = match parent {
            None => range,
            Some(p) => {
                let end = range.iter().position(|e| e.indent < p || (e.indent == p && !e.item)).unwrap_or(range.len());
                &range[..end]
            }
        };
        match step {
            Step::Key(key) => {
                let indent = children.iter().filter(|e| !e.item).map(|e| e.indent).min();
                let Some(i) = children
                    .iter()
                    .position(|e| Some(e.indent) == indent && !e.item && is_key(&masked[e.at..e.at + e.text_len], key))
                else {
                    // `canary: {canaryService: web, ...}`: a flow mapping on the parent's line.
                    if let Some(span) = found.and_then(|e| in_flow(&masked, e, key, on_key)) {
                        return Some(Ok(span));
                    }
                    return Some(Err(kind_span));
                };
                found = Some(&children[i]);
                parent = Some(children[i].indent);
                range = &children[i + 1..];
            }
            Step::Item { index, name } => {
                let Some(indent) = children.iter().filter(|e| e.item).map(|e| e.indent).min() else {
                    return Some(Err(kind_span));
                };
                let items: Vec<usize> =
                    (0..children.len()).filter(|&i| children[i].item && children[i].indent == indent).collect();
                let item_end = |n: usize| items.get(n + 1).copied().unwrap_or(children.len());
                let by_name = name.as_ref().and_then(|name| {
                    (0..items.len()).find(|&n| {
                        children[items[n] + 1..item_end(n)].iter().any(|e| {
                            let t = &masked[e.at..e.at + e.text_len];
                            is_key(t, "name")
                                && t.split_once(':').is_some_and(|(_, v)| v.trim().trim_matches(['"', '\'']) == name)
                        })
                    })
                });
                let Some(n) = by_name.or_else(|| (*index < items.len()).then_some(*index)) else {
                    return Some(Err(kind_span));
                };
                found = Some(&children[items[n]]);
                // The item's own keys are one step in from its dash.
                parent = None;
                range = &children[items[n] + 1..item_end(n)];
            }
        }
    }
    let Some(entry) = found else { return Some(Err(kind_span)) };
    let line = &text[entry.at..entry.at + entry.text_len];
    if entry.item {
        return Some(Ok(Span::new(entry.at, entry.at + entry.text_len)));
    }
    let colon = line.find(':').unwrap_or(line.len());
    let key = Span::new(entry.at, entry.at + colon);
    if on_key {
        return Some(Ok(key));
    }
    // The value on the key's line (a literal, or the template action that makes it).
    let value = line[colon + 1..].trim();
    let value = match value.find(" #") {
        Some(c) if !value.starts_with(['"', '\'']) => value[..c].trim_end(),
        _ => value,
    };
    if value.is_empty() || value == "|" || value == ">" || value.starts_with("|") || value.starts_with('>') {
        return Some(Ok(key));
    }
    let start = entry.at + colon + 1 + line[colon + 1..].find(value).unwrap_or(0);
    Some(Ok(Span::new(start, start + value.len())))
}

/// `key` inside a flow mapping on `entry`'s line: its key, or its value up to `,` or `}`.
fn in_flow(masked: &str, entry: &Entry, key: &str, on_key: bool) -> Option<Span> {
    let line = &masked[entry.at..entry.at + entry.text_len];
    let open = line.find('{')?;
    let mut from = open + 1;
    while let Some(pos) = line[from..].find(key) {
        let at = from + pos;
        let before = line[..at].trim_end();
        let after = &line[at + key.len()..];
        if (before.ends_with('{') || before.ends_with(',')) && after.starts_with(':') {
            if on_key {
                return Some(Span::new(entry.at + at, entry.at + at + key.len()));
            }
            let value_start = at + key.len() + 1 + (after.len() - 1 - after[1..].trim_start().len());
            let value = &line[value_start..];
            let len =
                if value.starts_with(['{', '[']) { value.len() } else { value.find([',', '}']).unwrap_or(value.len()) };
            let value = value[..len].trim_end();
            return Some(Span::new(entry.at + value_start, entry.at + value_start + value.len()));
        }
        from = at + key.len();
    }
    None
}

/// A place in a repository file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: PathBuf,
    pub span: Span,
    /// Whether the file has the node itself, not only its object.
    pub exact: bool,
}

/// The place of `steps` of the object `kind`/`name` in the first of `files` that has the whole
/// path; else the object's `kind:` in the last of them (the file the object came from); else
/// the first line of that file.
pub fn place(files: &[PathBuf], kind: &str, name: &str, steps: &[Step], on_key: bool) -> Option<Place> {
    let mut fallback = None;
    for (i, file) in files.iter().enumerate() {
        let Ok(text) = std::fs::read_to_string(file) else { continue };
        let last = i + 1 == files.len();
        match find(&text, kind, name, steps, on_key) {
            Some(Ok(span)) => return Some(Place { file: file.clone(), span, exact: true }),
            Some(Err(span)) if last => fallback = Some(Place { file: file.clone(), span, exact: false }),
            None if last => fallback = Some(Place { file: file.clone(), span: first_line(&text), exact: false }),
            _ => {}
        }
    }
    fallback
}

fn first_line(text: &str) -> Span {
    Span::new(0, text.find('\n').unwrap_or(text.len()))
}

/// Where a span of a unit's rendered output (`stream`) is in the repository; at worst, the
/// first line of the file that defines the unit.
pub fn in_repository(unit: &Unit, origins: &[Option<PathBuf>], stream: &Stream, span: Span) -> Place {
    let fallback = || {
        let text = std::fs::read_to_string(&unit.anchor).unwrap_or_default();
        Place { file: unit.anchor.clone(), span: first_line(&text), exact: false }
    };
    let Some((index, doc)) =
        stream.documents.iter().enumerate().find(|(_, d)| d.span.start <= span.start && span.start <= d.span.end)
    else {
        return fallback();
    };
    let Some(root) = doc.root() else { return fallback() };
    let (steps, on_key) = path_to(root, span);
    let kind = root.get_str("kind").unwrap_or_default();
    let name = root.path(&["metadata", "name"]).and_then(|n| n.as_str()).unwrap_or_default();
    let files: Vec<PathBuf> = match &unit.kind {
        UnitKind::Helm(_) => {
            doc.helm_source.as_deref().and_then(|s| super::helm::template_file(&unit.root, s)).into_iter().collect()
        }
        // A patch sets what it has (the root's patches are applied last); the rest is the origin's.
        UnitKind::Kustomize(k) => k
            .patches()
            .filter(|p| p.is_file())
            .cloned()
            .chain(origins.get(index).cloned().flatten().filter(|o| o.is_file()))
            .collect(),
        UnitKind::Directory { .. } => Vec::new(),
    };
    place(&files, kind, name, &steps, on_key).unwrap_or_else(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_stream;

    fn find_text<'t>(text: &'t str, kind: &str, steps: &[Step], on_key: bool) -> Result<&'t str, &'t str> {
        match find(text, kind, "release-name-web", steps, on_key).unwrap() {
            Ok(s) => Ok(&text[s.start as usize..s.end as usize]),
            Err(s) => Err(&text[s.start as usize..s.end as usize]),
        }
    }

    fn key(k: &str) -> Step {
        Step::Key(k.into())
    }

    #[test]
    fn finds_keys_and_items_in_a_helm_template() {
        let template = "{{- if .Values.enabled }}\napiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}-svc\n---\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: {{ include \"web.fullname\" . }}\n  labels:\n    {{- include \"web.labels\" . | nindent 4 }}\nspec:\n  strategy:\n    canary:\n      canaryService: {{ .Values.canary }}  # the preview\n      steps:\n      - setWeight: 20\n      - pause: {}\n  template:\n    spec:\n      containers:\n        - name: sidecar\n          image: envoy\n        - name: web\n          image: \"{{ .Values.image }}\"\n{{- end }}\n";
        let canary = [key("spec"), key("strategy"), key("canary"), key("canaryService")];
        assert_eq!(find_text(template, "Rollout", &canary, false), Ok("{{ .Values.canary }}"));
        assert_eq!(find_text(template, "Rollout", &canary, true), Ok("canaryService"));
        let step = [key("spec"), key("strategy"), key("canary"), key("steps"), Step::Item { index: 1, name: None }];
        assert_eq!(find_text(template, "Rollout", &step, false), Ok("- pause: {}"));
        let image = [
            key("spec"),
            key("template"),
            key("spec"),
            key("containers"),
            Step::Item { index: 0, name: Some("web".into()) },
            key("image"),
        ];
        assert_eq!(find_text(template, "Rollout", &image, false), Ok("\"{{ .Values.image }}\""));
        let missing = [key("spec"), key("replicas")];
        assert_eq!(find_text(template, "Rollout", &missing, false), Err("kind: Rollout"));
        assert_eq!(find_text(template, "Service", &[key("metadata"), key("name")], true), Ok("name"));
        let flow = "kind: Rollout\nspec:\n  strategy:\n    canary: {canaryService: web-canary, stableService: web}\n";
        let stable = [key("spec"), key("strategy"), key("canary"), key("stableService")];
        assert_eq!(find_text(flow, "Rollout", &stable, false), Ok("web"));
        assert_eq!(find_text(flow, "Rollout", &stable, true), Ok("stableService"));
    }

    #[test]
    fn the_path_of_a_rendered_node() {
        let text = "kind: Rollout\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n      - name: web\n        image: x\n";
        let stream = parse_stream(std::sync::Arc::from(text));
        let root = stream.documents[0].root().unwrap();
        let at = text.find("x\n").unwrap();
        let (steps, on_key) = path_to(root, Span::new(at, at + 1));
        assert!(!on_key);
        assert_eq!(steps[4], Step::Item { index: 1, name: Some("web".into()) });
        assert_eq!(steps.last(), Some(&key("image")));
        let at = text.find("image").unwrap();
        assert!(path_to(root, Span::new(at, at + 5)).1);
    }
}
