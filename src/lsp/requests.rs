//! Requests: hover, go to definition and code actions.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, GotoDefinitionParams, GotoDefinitionResponse,
    Hover, HoverContents, HoverParams, Location, MarkupContent, MarkupKind, TextEdit, Uri, WorkspaceEdit,
};

use super::position::{offset, path_from_uri, range, uri_from_path};
use super::{Server, position};
use crate::diagnostic::Diagnostic;
use crate::index::{Index, Object};
use crate::refs::Reference;
use crate::rules;
use crate::source::FileId;

impl Server {
    /// The object of an open file and the reference under a position, if any.
    pub(super) fn reference_at<'i>(
        &self,
        index: &'i Index,
        uri: &Uri,
        pos: lsp_types::Position,
    ) -> Option<(&'i Object, &'i Reference)> {
        let path = path_from_uri(uri)?;
        let doc = self.docs.get(&path)?;
        let at = offset(doc.loaded.source.text(), pos) as u32;
        index.objects.iter().filter(|o| o.file == doc.id).find_map(|obj| {
            let span = obj.root().span();
            if at < span.start || at > span.end {
                return None;
            }
            index
                .references_of(obj)
                .iter()
                .find(|r| {
                    let s = obj.doc.node(r.at).span();
                    s.start <= at && at <= s.end
                })
                .map(|r| (obj, r))
        })
    }

    pub(super) fn hover(&self, p: HoverParams) -> Option<Hover> {
        let tdp = p.text_document_position_params;
        let files = self.files();
        let (index, _) = Index::build(&files, &self.options.namespace);
        let markdown = match self.reference_at(&index, &tdp.text_document.uri, tdp.position) {
            Some((obj, r)) => Some(describe_reference(&index, obj, r, &self.paths)),
            None => self.finding_at(&tdp.text_document.uri, tdp.position).map(|d| describe_rule(d.rule)),
        }?;
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: markdown }),
            range: None,
        })
    }

    pub(super) fn finding_at(&self, uri: &Uri, pos: lsp_types::Position) -> Option<&Diagnostic> {
        let path = path_from_uri(uri)?;
        let doc = self.docs.get(&path)?;
        let at = offset(doc.loaded.source.text(), pos) as u32;
        self.findings.get(&path)?.iter().find(|d| d.span.start <= at && at <= d.span.end)
    }

    pub(super) fn definition(&self, p: GotoDefinitionParams) -> Option<GotoDefinitionResponse> {
        let tdp = p.text_document_position_params;
        let files = self.files();
        let (index, _) = Index::build(&files, &self.options.namespace);
        let (obj, r) = self.reference_at(&index, &tdp.text_document.uri, tdp.position)?;
        let target = index.resolve(obj, r)?;
        let path = self.paths.get(&target.file)?;
        let source = &self.docs.get(path)?.loaded.source;
        Some(GotoDefinitionResponse::Scalar(Location::new(
            uri_from_path(path)?,
            range(source, target.name_node().span()),
        )))
    }

    pub(super) fn code_actions(&self, p: CodeActionParams) -> Vec<CodeActionOrCommand> {
        let Some(path) = path_from_uri(&p.text_document.uri) else { return Vec::new() };
        let (Some(doc), Some(found)) = (self.docs.get(&path), self.findings.get(&path)) else { return Vec::new() };
        let source = &doc.loaded.source;
        let start = offset(source.text(), p.range.start) as u32;
        let end = offset(source.text(), p.range.end) as u32;
        let mut actions = Vec::new();
        let mut suppressed = HashSet::new();
        for d in found.iter().filter(|d| d.span.start <= end && start <= d.span.end.max(d.span.start)) {
            let lsp = self.to_lsp_plain(d, source);
            if let Some(replacement) = &d.suggestion {
                actions.push(action(
                    format!("Replace with `{replacement}`"),
                    &p.text_document.uri,
                    TextEdit::new(range(source, d.span), replacement.clone()),
                    lsp.clone(),
                    true,
                ));
            }
            let line = source.line_col(d.span.start).line - 1;
            if suppressed.insert((line, d.rule)) {
                let line_start = source.line_start(line);
                let indent: String = source.text()[line_start..].chars().take_while(|c| *c == ' ').collect();
                let at = position::position(source, line_start as u32);
                let comment = format!("{indent}# rollcheck-ignore: {} -- reason\n", d.rule);
                actions.push(action(
                    format!("Suppress `{}` on this line", d.rule),
                    &p.text_document.uri,
                    TextEdit::new(lsp_types::Range::new(at, at), comment),
                    lsp,
                    false,
                ));
            }
        }
        actions
    }
}

pub(super) fn action(
    title: String,
    uri: &Uri,
    edit: TextEdit,
    diagnostic: lsp_types::Diagnostic,
    preferred: bool,
) -> CodeActionOrCommand {
    CodeActionOrCommand::CodeAction(CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diagnostic]),
        edit: Some(WorkspaceEdit::new(HashMap::from([(uri.clone(), vec![edit])]))),
        is_preferred: Some(preferred),
        ..Default::default()
    })
}

pub(super) fn describe_reference(
    index: &Index,
    obj: &Object,
    r: &Reference,
    paths: &HashMap<FileId, PathBuf>,
) -> String {
    let namespace = index.target_namespace(obj, r);
    let ns = namespace.map(|n| format!(" in namespace `{n}`")).unwrap_or_default();
    let Some(target) = index.resolve(obj, r) else {
        return format!(
            "**{} `{}`**{ns}: not defined in the workspace\n\n(`{}` of {})",
            r.kind,
            r.name,
            r.role,
            obj.label()
        );
    };
    let mut text = format!("**{} `{}`**{ns}, the `{}` of {}", target.kind, target.name, r.role, obj.label());
    if let Some(path) = paths.get(&target.file) {
        let line = target.name_node().span().start;
        let line = index.objects.iter().find(|o| o.id == target.id).map(|o| line_of(o, line)).unwrap_or(0);
        text.push_str(&format!("\n\nDefined in `{}:{line}`", path.display()));
    }
    match target.kind.as_str() {
        "Service" => {
            let spec = target.spec();
            if let Some(selector) = spec.and_then(|s| s.get("selector")) {
                let pairs: Vec<String> = selector
                    .entries()
                    .map(|(k, v)| format!("{}={}", k.key_text().unwrap_or_default(), v.display()))
                    .collect();
                text.push_str(&format!("\n\nselector: `{}`", pairs.join(",")));
            }
            let ports: Vec<String> = spec
                .and_then(|s| s.get("ports"))
                .into_iter()
                .flat_map(|p| p.items())
                .map(|p| {
                    let port = p.get("port").map(|v| v.display()).unwrap_or_default();
                    match p.get("targetPort") {
                        Some(t) => format!("{port}→{}", t.display()),
                        None => port,
                    }
                })
                .collect();
            if !ports.is_empty() {
                text.push_str(&format!("\n\nports: {}", ports.join(", ")));
            }
        }
        "AnalysisTemplate" | "ClusterAnalysisTemplate" => {
            let args: Vec<String> = target
                .spec()
                .and_then(|s| s.get("args"))
                .into_iter()
                .flat_map(|a| a.items())
                .filter_map(|a| {
                    let name = a.get_str("name")?;
                    let required = a.get_set("value").is_none() && a.get_set("valueFrom").is_none();
                    Some(if required { format!("`{name}` (required)") } else { format!("`{name}`") })
                })
                .collect();
            if !args.is_empty() {
                text.push_str(&format!("\n\nargs: {}", args.join(", ")));
            }
        }
        _ => {}
    }
    text
}

/// The line of an offset in the object's file (the server keeps whole files, from offset 0).
pub(super) fn line_of(obj: &Object, offset: u32) -> usize {
    let text = &obj.doc.text;
    text[..(offset.saturating_sub(obj.doc.origin) as usize).min(text.len())].matches('\n').count() + 1
}

/// A rule's summary and its "Why it matters" section, for hovers on findings.
pub(super) fn describe_rule(id: &str) -> String {
    let Some(rule) = rules::find(id) else { return format!("`{id}`") };
    let why = rule
        .doc
        .split("## Why it matters")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .map(str::trim)
        .unwrap_or_default();
    format!(
        "**{}** ({}): {}\n\n{why}\n\n[Documentation]({})",
        rule.id,
        rule.severity.as_str(),
        rule.summary,
        rules::doc_url(rule.id)
    )
}
