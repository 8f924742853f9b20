//! A PromQL scanner for the query rules: enough of the lexical grammar (strings, label matchers,
//! range selectors, comments, `{{args.x}}` placeholders) to find divisions, guards and rate
//! windows without mistaking a `/` in a label value for an operator.

use std::ops::Range;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok<'a> {
    /// A metric name, function, keyword or modifier (`sum`, `or`, `by`, `bool`...).
    Ident(&'a str),
    Number,
    /// `{...}` label matchers, skipped whole.
    Matchers,
    /// `[5m]` or `[5m:1m]`: the range text, without brackets.
    Range(&'a str),
    /// A `{{ ... }}` placeholder, substituted before the query runs.
    Placeholder,
    Op(&'a str),
}

#[derive(Clone, Debug)]
pub struct Token<'a> {
    pub tok: Tok<'a>,
    pub range: Range<usize>,
}

pub fn tokens(query: &str) -> Vec<Token<'_>> {
    let b = query.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let c = b[i];
        let tok = if c.is_ascii_whitespace() {
            i += 1;
            continue;
        } else if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        } else if query[i..].starts_with("{{") {
            i = query[i..].find("}}").map_or(b.len(), |end| i + end + 2);
            Tok::Placeholder
        } else if c == b'{' {
            i = skip_until(query, i + 1, b'}');
            Tok::Matchers
        } else if c == b'[' {
            i = skip_until(query, i + 1, b']');
            Tok::Range(query[start + 1..i.saturating_sub(1).max(start + 1)].trim())
        } else if c == b'"' || c == b'\'' || c == b'`' {
            i = skip_string(b, i);
            Tok::Ident("")
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'.' | b'_')) {
                i += 1;
            }
            Tok::Number
        } else if c.is_ascii_alphabetic()
            || c == b'_'
            || c == b':' && b.get(i + 1).is_some_and(|n| n.is_ascii_alphabetic())
        {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b':')) {
                i += 1;
            }
            Tok::Ident(&query[start..i])
        } else {
            let len = [">=", "<=", "==", "!=", "=~", "!~"]
                .iter()
                .find(|op| query[i..].starts_with(**op))
                .map_or(1, |op| op.len());
            i += len;
            match query.get(start..i) {
                Some(op) => Tok::Op(op),
                None => {
                    // A multi-byte character: step over it whole.
                    i = start + query[start..].chars().next().map_or(1, char::len_utf8);
                    Tok::Op("?")
                }
            }
        };
        out.push(Token { tok, range: start..i });
    }
    out
}

/// The index after the `close` that ends a bracket opened before `i`, skipping strings and
/// placeholders.
fn skip_until(query: &str, mut i: usize, close: u8) -> usize {
    let b = query.as_bytes();
    while i < b.len() {
        match b[i] {
            c if c == close => return i + 1,
            b'"' | b'\'' | b'`' => i = skip_string(b, i),
            b'{' if query[i..].starts_with("{{") => i = query[i..].find("}}").map_or(b.len(), |end| i + end + 2),
            _ => i += 1,
        }
    }
    b.len()
}

fn skip_string(b: &[u8], start: usize) -> usize {
    let quote = b[start];
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' if quote != b'`' => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// Seconds in a PromQL duration (`1h30m`, `5m`, `90s`, `500ms`, `1d`, `1w`, `1y`).
pub fn parse_duration(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let (mut i, mut total) = (0, 0.0);
    if b.is_empty() {
        return None;
    }
    while i < b.len() {
        let digits = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let n: f64 = s[digits..i].parse().ok()?;
        let unit = if s[i..].starts_with("ms") { "ms" } else { s.get(i..i + 1)? };
        i += unit.len();
        total += n * match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            "w" => 604_800.0,
            "y" => 31_536_000.0,
            _ => return None,
        };
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(q: &str) -> Vec<Tok<'_>> {
        tokens(q).into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn scans_selectors_ranges_and_operators() {
        let q =
            r#"sum(rate(http_requests_total{path="/a/b",code=~"5.."}[5m])) / sum(rate(http_requests_total[5m:1m]))"#;
        let t = kinds(q);
        assert_eq!(t.iter().filter(|t| **t == Tok::Op("/")).count(), 1, "{t:?}");
        assert!(t.contains(&Tok::Range("5m")));
        assert!(t.contains(&Tok::Range("5m:1m")));
    }

    #[test]
    fn placeholders_and_comments_are_opaque() {
        let t = kinds("rate(x{app=\"{{args.app}}\"}[{{args.window}}]) # a / b\n");
        assert!(!t.contains(&Tok::Op("/")));
        assert!(t.contains(&Tok::Range("{{args.window}}")));
        let t = kinds("{{ args.query }} / 2");
        assert_eq!(t[0], Tok::Placeholder);
    }

    #[test]
    fn never_panics_on_odd_text() {
        for q in ["[", "{", "\"", "rate(", "é / ü", "{{", "x[5m", "a{b=\"c}"] {
            tokens(q);
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5m"), Some(300.0));
        assert_eq!(parse_duration("1h30m"), Some(5400.0));
        assert_eq!(parse_duration("500ms"), Some(0.5));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("{{args.w}}"), None);
    }
}
