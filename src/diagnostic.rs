//! What rules produce: a finding at a span, with help and related places. No rendering here.

use std::borrow::Cow;
use std::sync::Arc;

use crate::intern::Shared;
use crate::source::{FileId, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// The object a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectName {
    pub kind: Shared,
    pub name: String,
    pub namespace: Option<Shared>,
}

/// Another place that explains a finding (the Service a Rollout names, the pod labels...).
#[derive(Clone, Debug)]
pub struct Related {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Text of the label under the primary span.
    pub label: Option<Cow<'static, str>>,
    /// Most helps are fixed texts: borrowed, not copied into every finding.
    pub help: Option<Cow<'static, str>>,
    pub file: FileId,
    pub span: Span,
    pub object: Option<ObjectName>,
    pub helm_source: Option<Arc<str>>,
    pub related: Vec<Related>,
    /// Text that can replace the primary span to fix the finding (a "did you mean" name);
    /// editors offer it as a quick fix.
    pub suggestion: Option<String>,
    /// For a finding on rendered output, reported at the repository file it came from: where it
    /// was in the output of the render.
    pub rendered: Option<(FileId, Span)>,
}

impl Diagnostic {
    /// A finding of the loader or the indexer. They sit below the rule registry and do not know
    /// rule levels: the lint gives every finding its configured level, these included.
    pub fn unrated(rule: &'static str, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(rule, Severity::Error, file, span, message)
    }

    pub fn new(
        rule: &'static str,
        severity: Severity,
        file: FileId,
        span: Span,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            rule,
            severity,
            message: message.into(),
            label: None,
            help: None,
            file,
            span,
            object: None,
            helm_source: None,
            related: Vec::new(),
            suggestion: None,
            rendered: None,
        }
    }

    pub fn help(&mut self, help: impl Into<Cow<'static, str>>) -> &mut Self {
        self.help = Some(help.into());
        self
    }

    pub fn suggest(&mut self, replacement: impl Into<String>) -> &mut Self {
        self.suggestion = Some(replacement.into());
        self
    }

    pub fn label(&mut self, label: impl Into<Cow<'static, str>>) -> &mut Self {
        self.label = Some(label.into());
        self
    }

    pub fn related(&mut self, file: FileId, span: Span, message: impl Into<String>) -> &mut Self {
        self.related.push(Related { file, span, message: message.into() });
        self
    }
}

/// The closest candidate to a misspelt name, if one is close enough to be a likely typo.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, c)| *d <= (name.len().max(c.len()) / 3).max(1))
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_only_close_names() {
        let names = ["app-canary", "app-stable", "other"];
        assert_eq!(did_you_mean("app-canry", names), Some("app-canary"));
        assert_eq!(did_you_mean("zzz", names), None);
    }
}
