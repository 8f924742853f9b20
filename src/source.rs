//! Source files: the text of one input with a line index, shared by every diagnostic on it.

use std::sync::Arc;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// Index of a file in the run's file table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A byte range inside one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start: start as u32, end: end.max(start) as u32 }
    }
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }
    pub fn is_empty(self) -> bool {
        self.end == self.start
    }
    pub fn cover(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

/// A 1-based line and column (columns count characters, as editors show them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// One input: its name as the user gave it, its text and the start of every line.
#[derive(Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
    /// Built on first use: a run without findings never needs it.
    line_starts: std::sync::OnceLock<Vec<u32>>,
}

impl SourceFile {
    pub fn new(name: String, text: Arc<str>) -> SourceFile {
        SourceFile { name, text, line_starts: std::sync::OnceLock::new() }
    }

    fn line_starts(&self) -> &[u32] {
        self.line_starts.get_or_init(|| {
            let mut starts = Vec::with_capacity(self.text.len() / 32 + 1);
            starts.push(0);
            starts.extend(memchr_newlines(self.text.as_bytes()).map(|i| i as u32 + 1));
            starts
        })
    }

    /// Line and column of a byte offset; offsets past the end clamp to the end.
    pub fn line_col(&self, offset: u32) -> LineCol {
        let offset = (offset as usize).min(self.text.len());
        let line = self.line_starts().partition_point(|&s| s as usize <= offset) - 1;
        let start = self.line_starts()[line] as usize;
        let column = self.text.get(start..offset).map_or(offset - start, |s| s.chars().count()) + 1;
        LineCol { line: line + 1, column }
    }

    pub fn line_count(&self) -> usize {
        self.line_starts().len()
    }

    /// Byte offset of the start of a 0-based line (the end of the text past the last line).
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts().get(line).map_or(self.text.len(), |&s| s as usize)
    }
}

fn memchr_newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i)
}

/// miette reads snippets through the line index, so a label costs O(context), not O(file).
impl SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text = &*self.text;
        let start = span.offset();
        let end = start + span.len();
        if end > text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let first_line = self.line_starts().partition_point(|&s| s as usize <= start) - 1;
        let last_line = self.line_starts().partition_point(|&s| (s as usize) < end.max(start + 1)) - 1;
        let from_line = first_line.saturating_sub(context_lines_before);
        let to_line = (last_line + context_lines_after).min(self.line_starts().len() - 1);
        let from = self.line_start(from_line);
        let mut to = self.line_start(to_line + 1);
        // Drop the trailing line break so miette does not print an empty line.
        while to > from && matches!(text.as_bytes()[to - 1], b'\n' | b'\r') {
            to -= 1;
        }
        let to = to.max(end);
        let column = 0;
        let line_count = to_line - from_line + 1;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            &text.as_bytes()[from..to],
            SourceSpan::from(from..to),
            from_line,
            column,
            line_count,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let f = SourceFile::new("x".into(), Arc::from("ab\ncafé: x\n"));
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(3), LineCol { line: 2, column: 1 });
        // 'é' is two bytes: the colon after it is the 5th character.
        assert_eq!(f.line_col(8), LineCol { line: 2, column: 5 });
        assert_eq!(f.line_col(1000), LineCol { line: 3, column: 1 });
    }
}
