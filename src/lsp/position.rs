//! LSP positions (0-based lines, UTF-16 columns) and `file://` URIs.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types::{Position, Range, Uri};

use crate::source::{SourceFile, Span};

pub fn position(source: &SourceFile, offset: u32) -> Position {
    let offset = (offset as usize).min(source.text().len());
    let line = source.line_col(offset as u32).line - 1;
    let start = source.line_start(line);
    let character = source.text().get(start..offset).map_or(0, |s| s.encode_utf16().count());
    Position::new(line as u32, character as u32)
}

pub fn range(source: &SourceFile, span: Span) -> Range {
    Range::new(position(source, span.start), position(source, span.end))
}

/// The byte offset of an LSP position in `text`; positions past a line's end clamp to it.
pub fn offset(text: &str, pos: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..pos.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line_end = text[line_start..].find('\n').map_or(text.len(), |i| line_start + i);
    let mut units = 0;
    for (i, c) in text[line_start..line_end].char_indices() {
        if units >= pos.character as usize {
            return line_start + i;
        }
        units += c.len_utf16();
    }
    line_end
}

pub fn uri_from_path(path: &Path) -> Option<Uri> {
    let absolute = std::path::absolute(path).ok()?;
    let mut text = String::from("file://");
    for b in absolute.to_string_lossy().replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:".contains(&b) {
            text.push(b as char);
        } else {
            text.push_str(&format!("%{b:02X}"));
        }
    }
    Uri::from_str(&text).ok()
}

pub fn path_from_uri(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    // `file://host/path` is not a local file; `file:///path` has an empty host.
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    if !path.starts_with('/') {
        return None;
    }
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = path.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    Some(PathBuf::from(String::from_utf8(out).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn utf16_columns_both_ways() {
        let text = "a: é😀x\nb: c\n";
        let f = SourceFile::new("f".into(), Arc::from(text));
        let x = text.find('x').unwrap();
        // `é` is one UTF-16 unit, the emoji two.
        assert_eq!(position(&f, x as u32), Position::new(0, 6));
        assert_eq!(offset(text, Position::new(0, 6)), x);
        assert_eq!(offset(text, Position::new(1, 99)), text.len() - 1);
        assert_eq!(offset(text, Position::new(9, 0)), text.len());
    }

    #[test]
    fn file_uris_round_trip() {
        let p = PathBuf::from("/tmp/a b/r%1.yaml");
        let uri = uri_from_path(&p).unwrap();
        assert_eq!(uri.as_str(), "file:///tmp/a%20b/r%251.yaml");
        assert_eq!(path_from_uri(&uri), Some(p));
        assert_eq!(path_from_uri(&Uri::from_str("untitled:1").unwrap()), None);
    }
}
