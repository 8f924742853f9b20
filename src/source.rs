//! Source files: the text of one input with a line index, shared by every diagnostic on it.

use std::path::PathBuf;
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
    text: Text,
    lines: std::sync::OnceLock<Lines>,
}

#[derive(Debug)]
enum Text {
    Memory(Arc<str>),
    /// A file linted piece by piece, whose text was not kept: read again only to quote it.
    Disk {
        path: PathBuf,
        loaded: std::sync::OnceLock<String>,
        /// Kept open while reports quote the file.
        handle: std::sync::Mutex<Option<std::fs::File>>,
        /// A temporary copy of stdin, deleted with the source.
        _spool: Option<tempfile::TempPath>,
    },
}

/// Line start offsets in chunks, not one list (the index of a 100 MB file is 13 MB, made when
/// reporting): a file scanned in blocks keeps each block's list as it is, a text in memory gets
/// chunks of [`CHUNK`] starts.
#[derive(Debug, Default)]
struct Starts {
    chunks: Vec<Vec<u32>>,
    /// The number of starts before each chunk.
    before: Vec<usize>,
    len: usize,
}

const CHUNK: usize = 8192;

impl Starts {
    fn push(&mut self, start: u32) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => c.push(start),
            _ => {
                let mut c = Vec::with_capacity(CHUNK);
                c.push(start);
                self.before.push(self.len);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }

    /// Appends a list of starts as it is (no copy).
    fn append(&mut self, chunk: Vec<u32>) {
        if !chunk.is_empty() {
            self.before.push(self.len);
            self.len += chunk.len();
            self.chunks.push(chunk);
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, i: usize) -> Option<u32> {
        let c = self.before.partition_point(|&b| b <= i).checked_sub(1)?;
        self.chunks[c].get(i - self.before[c]).copied()
    }

    /// The number of starts for which `before` holds (they must come first).
    fn partition_point(&self, before: impl Fn(u32) -> bool) -> usize {
        let full = self.chunks.partition_point(|c| c.last().is_some_and(|&s| before(s)));
        match self.chunks.get(full) {
            Some(c) => self.before[full] + c.partition_point(|&s| before(s)),
            None => self.len,
        }
    }
}

impl FromIterator<u32> for Starts {
    fn from_iter<I: IntoIterator<Item = u32>>(iter: I) -> Starts {
        let mut starts = Starts::default();
        iter.into_iter().for_each(|s| starts.push(s));
        starts
    }
}

#[derive(Debug)]
struct Lines {
    starts: Starts,
    len: usize,
    /// Lines with non-ASCII characters (columns count characters, not bytes). Only for
    /// files on disk: in memory the text itself answers.
    wide: Vec<u32>,
}

impl SourceFile {
    pub fn new(name: String, text: Arc<str>) -> SourceFile {
        SourceFile { name, text: Text::Memory(text), lines: std::sync::OnceLock::new() }
    }

    /// A file whose text is not kept: line numbers come from one more read of the file,
    /// quoted lines from another, and only when a report asks for them.
    pub fn on_disk(name: String, path: PathBuf) -> SourceFile {
        SourceFile {
            name,
            text: Text::Disk { path, loaded: std::sync::OnceLock::new(), handle: Default::default(), _spool: None },
            lines: std::sync::OnceLock::new(),
        }
    }

    /// Stdin, copied to a temporary file that lives as long as this.
    pub fn spooled(name: String, spool: tempfile::TempPath) -> SourceFile {
        let path = spool.to_path_buf();
        let text =
            Text::Disk { path, loaded: std::sync::OnceLock::new(), handle: Default::default(), _spool: Some(spool) };
        SourceFile { name, text, lines: std::sync::OnceLock::new() }
    }

    /// The whole text; a file on disk is read again (empty if it is gone).
    pub fn text(&self) -> &str {
        match &self.text {
            Text::Memory(t) => t,
            // Read into one buffer, not copied: the file may be large.
            Text::Disk { path, loaded, .. } => loaded.get_or_init(|| match std::fs::read(path) {
                Ok(bytes) => {
                    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
                }
                Err(_) => String::new(),
            }),
        }
    }

    fn lines(&self) -> &Lines {
        self.lines.get_or_init(|| match &self.text {
            Text::Memory(t) => {
                let starts = std::iter::once(0).chain(memchr_newlines(t.as_bytes()).map(|i| i as u32 + 1)).collect();
                Lines { starts, len: t.len(), wide: Vec::new() }
            }
            Text::Disk { path, loaded, .. } => match loaded.get() {
                Some(t) => Lines {
                    starts: std::iter::once(0).chain(memchr_newlines(t.as_bytes()).map(|i| i as u32 + 1)).collect(),
                    len: t.len(),
                    wide: Vec::new(),
                },
                None => scan_lines(path),
            },
        })
    }

    /// Makes the line index now. Reporters that work in parallel call it first: made on
    /// demand by a pool thread, the index would be scanned by that thread alone while the
    /// others wait for it.
    pub fn index_lines(&self) {
        self.lines();
    }

    pub fn line_col(&self, offset: u32) -> LineCol {
        let lines = self.lines();
        let offset = (offset as usize).min(lines.len);
        let line = lines.starts.partition_point(|s| s as usize <= offset) - 1;
        let start = lines.starts.get(line).unwrap_or(0) as usize;
        let column = match &self.text {
            Text::Memory(t) => t.get(start..offset).map_or(offset - start, |s| s.chars().count()),
            Text::Disk { path, loaded, .. } if lines.wide.binary_search(&(line as u32)).is_ok() => match loaded.get() {
                Some(text) => text.get(start..offset).map_or(offset - start, |s| s.chars().count()),
                None => self
                    .read_at(start, offset - start)
                    .and_then(|b| String::from_utf8(b).ok())
                    .map_or(offset - start, |s| s.chars().count()),
            },
            Text::Disk { .. } => offset - start,
        } + 1;
        LineCol { line: line + 1, column }
    }

    /// The lines around `span` (`context` more on each side), the offset where they start and
    /// the 0-based number of the first: what a report quotes, read from disk if the text was
    /// not kept.
    pub fn excerpt(&self, span: Span, context: usize) -> (String, usize, usize) {
        let first = self.line_col(span.start).line - 1;
        let last = self.line_col(span.end.max(span.start + 1) - 1).line - 1;
        let from_line = first.saturating_sub(context);
        let to_line = (last + context).min(self.line_count() - 1);
        let (from, to) = (self.line_start(from_line), self.line_start(to_line + 1));
        let text = match &self.text {
            Text::Memory(t) => t.get(from..to).unwrap_or_default().to_string(),
            Text::Disk { loaded, .. } if loaded.get().is_some() => {
                self.text().get(from..to).unwrap_or_default().to_string()
            }
            Text::Disk { .. } => self
                .read_at(from, to - from)
                .map(|b| String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
                .unwrap_or_default(),
        };
        (text, from, from_line)
    }

    pub fn line_count(&self) -> usize {
        self.lines().starts.len()
    }

    pub fn line_start(&self, line: usize) -> usize {
        let lines = self.lines();
        lines.starts.get(line).map_or(lines.len, |s| s as usize)
    }
}

impl SourceFile {
    /// Bytes `start..start + len` of a file on disk, through one handle kept open.
    fn read_at(&self, start: usize, len: usize) -> Option<Vec<u8>> {
        use std::io::{Read, Seek};
        let Text::Disk { path, handle, .. } = &self.text else { return None };
        let mut handle = handle.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if handle.is_none() {
            *handle = Some(std::fs::File::open(path).ok()?);
        }
        let file = handle.as_mut()?;
        file.seek(std::io::SeekFrom::Start(start as u64)).ok()?;
        let mut bytes = vec![0; len];
        file.read_exact(&mut bytes).ok()?;
        Some(bytes)
    }
}

/// Line starts of a file on disk, read in blocks (its text is not kept), the blocks scanned in
/// parallel and joined in order.
fn scan_lines(path: &std::path::Path) -> Lines {
    scan_lines_in(path, 4 << 20)
}

fn scan_lines_in(path: &std::path::Path, block_size: u64) -> Lines {
    use rayon::prelude::*;
    use std::os::unix::fs::FileExt;
    let mut lines = Lines { starts: std::iter::once(0).collect(), len: 0, wide: Vec::new() };
    let Ok(file) = std::fs::File::open(path) else { return lines };
    let Ok(size) = file.metadata().map(|m| m.len()) else { return lines };
    /// One block: the offsets after its line breaks, whether the text before its first break
    /// has a non-ASCII byte, and which breaks (by their number in the block) start such text.
    struct Block {
        starts: Vec<u32>,
        first_wide: bool,
        wide_after: Vec<u32>,
        len: usize,
    }
    let read = |from: u64| -> Block {
        let mut buf = vec![0u8; block_size.min(size - from) as usize];
        let mut filled = 0;
        while filled < buf.len() {
            match file.read_at(&mut buf[filled..], from + filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        buf.truncate(filled);
        let ascii = buf.is_ascii();
        let mut block = Block { starts: Vec::new(), first_wide: false, wide_after: Vec::new(), len: filled };
        let mut previous = 0;
        for newline in memchr::memchr_iter(b'\n', &buf).chain(std::iter::once(filled)) {
            let wide = !ascii && !buf[previous..newline].is_ascii();
            match block.starts.len() {
                0 => block.first_wide = wide,
                n if wide => block.wide_after.push(n as u32 - 1),
                _ => {}
            }
            if newline == filled {
                break;
            }
            block.starts.push((from as usize + newline + 1) as u32);
            previous = newline + 1;
        }
        block
    };
    let offsets: Vec<u64> = (0..size).step_by(block_size as usize).collect();
    // A few blocks at a time: their offsets are joined before the next ones are read.
    for group in offsets.chunks(rayon::current_num_threads().max(1) * 2) {
        let blocks: Vec<Block> = group.par_iter().map(|&from| read(from)).collect();
        for block in blocks {
            // The line that is open when the block starts, and may go on in it.
            let open = lines.starts.len() as u32 - 1;
            if block.first_wide && lines.wide.last() != Some(&open) {
                lines.wide.push(open);
            }
            // The line after the block's n-th break is line `open + 1 + n`.
            lines.wide.extend(block.wide_after.iter().map(|&n| open + 1 + n));
            lines.starts.append(block.starts);
            lines.len += block.len;
        }
    }
    lines
}

fn memchr_newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    memchr::memchr_iter(b'\n', bytes)
}

impl SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text = self.text();
        let start = span.offset();
        let end = start + span.len();
        if end > text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let starts = &self.lines().starts;
        let first_line = starts.partition_point(|s| s as usize <= start) - 1;
        let last_line = starts.partition_point(|s| (s as usize) < end.max(start + 1)) - 1;
        let from_line = first_line.saturating_sub(context_lines_before);
        let to_line = (last_line + context_lines_after).min(starts.len() - 1);
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

    /// Blocks scanned apart and joined give the lines and wide lines of one pass over the text.
    #[test]
    fn blocks_join_into_the_lines_of_the_file() {
        let text = "ab\ncafé: x\n\nü\nlong line without breaks ü and more\nx\né";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.yaml");
        std::fs::write(&path, text).unwrap();
        let mut starts = vec![0u32];
        let mut wide = Vec::new();
        for (i, line) in text.split('\n').enumerate() {
            if !line.is_ascii() {
                wide.push(i as u32);
            }
            starts.push(starts[i] + line.len() as u32 + 1);
        }
        starts.pop();
        for block in [1, 2, 3, 5, 7, 64, 4 << 20] {
            let lines = scan_lines_in(&path, block);
            let got: Vec<u32> = (0..lines.starts.len()).map(|i| lines.starts.get(i).unwrap()).collect();
            assert_eq!((got, &lines.wide, lines.len), (starts.clone(), &wide, text.len()), "blocks of {block}");
        }
    }

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let f = SourceFile::new("x".into(), Arc::from("ab\ncafé: x\n"));
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(3), LineCol { line: 2, column: 1 });
        // 'é' is two bytes: the colon after it is the 5th character.
        assert_eq!(f.line_col(8), LineCol { line: 2, column: 5 });
        assert_eq!(f.line_col(1000), LineCol { line: 3, column: 1 });
    }

    #[test]
    fn a_file_on_disk_gives_the_same_places_without_keeping_its_text() {
        let text = "ab\ncafé: x\n# ünïcode\nlast: y";
        let path = std::env::temp_dir().join(format!("rollcheck-source-{}.yaml", std::process::id()));
        std::fs::write(&path, text).unwrap();
        let memory = SourceFile::new("x".into(), Arc::from(text));
        let disk = SourceFile::on_disk("x".into(), path.clone());
        for offset in 0..=text.len() as u32 + 2 {
            assert_eq!(disk.line_col(offset), memory.line_col(offset), "offset {offset}");
        }
        assert!(matches!(&disk.text, Text::Disk { loaded, .. } if loaded.get().is_none()), "the text is not kept");
        assert_eq!(disk.line_count(), 4);
        let many: Starts = (0..20_000).map(|i| i * 10).collect();
        for probe in [0, 5, 10, 81_920, 81_925, 199_990, 250_000] {
            assert_eq!(many.partition_point(|s| s <= probe), (probe / 10 + 1).min(20_000) as usize, "{probe}");
        }
        assert_eq!(disk.text(), text);
        std::fs::remove_file(path).unwrap();
    }
}
