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

/// Keywords before a parenthesised list of label names, not of expressions.
pub const GROUPING: &[&str] = &["by", "without", "on", "ignoring", "group_left", "group_right"];

/// What encloses a token: the functions (and aggregations) whose parentheses it is in,
/// innermost last, and whether it is a label name of a grouping list.
#[derive(Debug, Default)]
pub struct Context<'a> {
    pub functions: Vec<&'a str>,
    pub in_labels: bool,
}

/// The [`Context`] of each token. `sum by (le) (x)` encloses `x` in `sum`.
pub fn contexts<'a>(toks: &[Token<'a>]) -> Vec<Context<'a>> {
    // (function or "", grouping list, the aggregation before a grouping list)
    let mut stack: Vec<(&'a str, bool, Option<&'a str>)> = Vec::new();
    let mut pending: Option<&'a str> = None;
    let mut out = Vec::with_capacity(toks.len());
    for (i, t) in toks.iter().enumerate() {
        out.push(Context {
            functions: stack.iter().filter(|f| !f.1 && !f.0.is_empty()).map(|f| f.0).collect(),
            in_labels: stack.last().is_some_and(|f| f.1),
        });
        match t.tok {
            Tok::Op("(") => {
                let ident = |at: Option<usize>| match at.map(|p| &toks[p].tok) {
                    Some(Tok::Ident(name)) if !name.is_empty() => Some(*name),
                    _ => None,
                };
                let frame = match (i.checked_sub(1).map(|p| &toks[p].tok), ident(i.checked_sub(1))) {
                    (_, Some(g)) if GROUPING.contains(&g) => (g, true, ident(i.checked_sub(2))),
                    (_, Some(f)) => (f, false, None),
                    (Some(Tok::Op(")")), None) => (pending.unwrap_or(""), false, None),
                    _ => ("", false, None),
                };
                stack.push(frame);
                pending = None;
            }
            Tok::Op(")") => {
                pending = match stack.pop() {
                    Some((_, true, agg)) => agg,
                    _ => None,
                };
            }
            _ => pending = None,
        }
    }
    out
}

/// What series a query returns, as far as its shape tells: one (aggregated without grouping,
/// or a number), one per value of grouping labels, one per series of a selector, or unknown.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    One,
    /// `by (labels)`: the labels, and the index of the `by` token.
    Grouped(Vec<String>, usize),
    /// Not aggregated: the index of the selector's token.
    PerSeries(usize),
    Unknown,
}

const AGGREGATIONS: &[&str] = &[
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "stddev",
    "stdvar",
    "group",
    "quantile",
    "count_values",
    "topk",
    "bottomk",
    "limitk",
    "limit_ratio",
];
const BINARY: &[&str] =
    &["+", "-", "*", "/", "%", "^", "==", "!=", ">", "<", ">=", "<=", "and", "or", "unless", "atan2"];

/// The [`Shape`] of a whole query.
pub fn shape(query: &str) -> Shape {
    let toks = tokens(query);
    shape_of(&toks, 0, toks.len(), 0)
}

fn shape_of(toks: &[Token<'_>], lo: usize, hi: usize, depth: u32) -> Shape {
    if depth > 64 || lo >= hi {
        return Shape::Unknown;
    }
    let mut acc: Option<Shape> = None;
    let mut op = "";
    let mut i = lo;
    while i < hi {
        let (s, next) = operand(toks, i, hi, depth);
        acc = Some(match acc {
            None => s,
            Some(a) => combine(a, s, op),
        });
        i = next;
        if i >= hi {
            break;
        }
        match toks[i].tok {
            Tok::Op(o) | Tok::Ident(o) if BINARY.contains(&o) => op = o,
            _ => return Shape::Unknown,
        }
        i += 1;
        // A comparison without `bool` filters: what it returns depends on the values.
        if matches!(op, "==" | "!=" | ">" | "<" | ">=" | "<=")
            && toks.get(i).map(|t| &t.tok) != Some(&Tok::Ident("bool"))
        {
            return Shape::Unknown;
        }
        // Modifiers of the operator: `bool`, `on (...)`, `group_left (...)`...
        while let Some(Tok::Ident(m)) = toks.get(i).map(|t| &t.tok) {
            if *m == "bool" {
                i += 1;
            } else if GROUPING.contains(m) {
                i += 1;
                if toks.get(i).map(|t| &t.tok) == Some(&Tok::Op("(")) {
                    i = close_of(toks, i, hi) + 1;
                }
            } else {
                break;
            }
        }
    }
    acc.unwrap_or(Shape::Unknown)
}

fn combine(a: Shape, b: Shape, op: &str) -> Shape {
    match (a, b) {
        (Shape::Unknown, _) | (_, Shape::Unknown) => Shape::Unknown,
        (a, _) if matches!(op, "and" | "unless") => a,
        (Shape::One, b) => b,
        (a, Shape::One) => a,
        (a @ Shape::PerSeries(_), _) | (_, a @ Shape::PerSeries(_)) if op == "or" => a,
        (a, _) => a,
    }
}

/// The index of the `)` that closes the `(` at `open`, or `hi`.
fn close_of(toks: &[Token<'_>], open: usize, hi: usize) -> usize {
    let mut depth = 0;
    for (i, t) in toks.iter().enumerate().take(hi).skip(open) {
        match t.tok {
            Tok::Op("(") => depth += 1,
            Tok::Op(")") => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    hi
}

/// The shape of one operand starting at `i`, and the index after it (and its modifiers).
fn operand(toks: &[Token<'_>], i: usize, hi: usize, depth: u32) -> (Shape, usize) {
    let (shape, mut next) = match &toks[i].tok {
        Tok::Op("-" | "+") if i + 1 < hi => return operand(toks, i + 1, hi, depth),
        Tok::Number => (Shape::One, i + 1),
        // A placeholder is most often a threshold, or a whole query that is not seen here.
        Tok::Placeholder => (Shape::One, i + 1),
        Tok::Op("(") => {
            let close = close_of(toks, i, hi);
            (shape_of(toks, i + 1, close, depth + 1), close + 1)
        }
        Tok::Matchers => (Shape::PerSeries(i), i + 1),
        Tok::Ident(name) if !name.is_empty() => {
            let name = *name;
            let after = toks.get(i + 1).map(|t| &t.tok);
            if AGGREGATIONS.contains(&name) {
                aggregation(toks, i, hi, depth)
            } else if after == Some(&Tok::Op("(")) {
                let close = close_of(toks, i + 1, hi);
                (function(toks, name, i + 2, close, depth), close + 1)
            } else if name.contains(':') {
                // A recording rule: usually aggregated already.
                (Shape::Unknown, i + 1)
            } else {
                (Shape::PerSeries(i), i + 1)
            }
        }
        _ => (Shape::Unknown, i + 1),
    };
    // Matchers, ranges, `offset 5m`, `@ t` after the operand.
    loop {
        match toks.get(next).map(|t| &t.tok) {
            Some(Tok::Matchers | Tok::Range(_)) if next < hi => next += 1,
            Some(Tok::Ident("offset")) | Some(Tok::Op("@")) if next < hi => next += 2,
            _ => break,
        }
    }
    (shape, next)
}

/// `sum by (l) (x)`, `sum (x) by (l)`, `sum (x)`.
fn aggregation(toks: &[Token<'_>], i: usize, hi: usize, depth: u32) -> (Shape, usize) {
    let name = match toks[i].tok {
        Tok::Ident(n) => n,
        _ => "",
    };
    let mut j = i + 1;
    let mut grouping: Option<(&str, usize, Vec<String>)> = None;
    let mut read_grouping = |j: &mut usize| {
        if let Some(Tok::Ident(g @ ("by" | "without"))) = toks.get(*j).map(|t| &t.tok) {
            let at = *j;
            *j += 1;
            if toks.get(*j).map(|t| &t.tok) == Some(&Tok::Op("(")) {
                let close = close_of(toks, *j, hi);
                let labels = toks[*j + 1..close.min(toks.len())]
                    .iter()
                    .filter_map(|t| match t.tok {
                        Tok::Ident(l) if !l.is_empty() => Some(l.to_string()),
                        _ => None,
                    })
                    .collect();
                grouping = Some((g, at, labels));
                *j = close + 1;
            }
        }
    };
    read_grouping(&mut j);
    if toks.get(j).map(|t| &t.tok) != Some(&Tok::Op("(")) {
        return (Shape::Unknown, j.max(i + 1));
    }
    let close = close_of(toks, j, hi);
    let inner = shape_of(toks, j + 1, close, depth + 1);
    j = close + 1;
    read_grouping(&mut j);
    let shape = match (name, grouping) {
        (_, _) if inner == Shape::Unknown => Shape::Unknown,
        ("topk" | "bottomk" | "limitk" | "limit_ratio" | "count_values", _) => Shape::Unknown,
        (_, None) => Shape::One,
        (_, Some(("without", _, _))) => Shape::Unknown,
        (_, Some((_, _, labels))) if labels.is_empty() => Shape::One,
        (_, Some((_, at, labels))) => Shape::Grouped(labels, at),
    };
    (shape, j)
}

fn function(toks: &[Token<'_>], name: &str, lo: usize, hi: usize, depth: u32) -> Shape {
    // The arguments, split at commas outside parentheses.
    let mut args = Vec::new();
    let (mut start, mut level) = (lo, 0);
    for (k, t) in toks.iter().enumerate().take(hi).skip(lo) {
        match t.tok {
            Tok::Op("(") => level += 1,
            Tok::Op(")") => level -= 1,
            Tok::Op(",") if level == 0 => {
                args.push((start, k));
                start = k + 1;
            }
            _ => {}
        }
    }
    args.push((start, hi));
    let arg = |n: usize| args.get(n).map_or(Shape::Unknown, |&(a, b)| shape_of(toks, a, b, depth + 1));
    match name {
        "vector" | "scalar" | "time" | "absent" | "absent_over_time" | "pi" => Shape::One,
        "histogram_quantile" => match arg(1) {
            Shape::Grouped(labels, at) => {
                let rest: Vec<String> = labels.into_iter().filter(|l| l != "le").collect();
                if rest.is_empty() { Shape::One } else { Shape::Grouped(rest, at) }
            }
            // Per-series buckets give one quantile per series but `le`.
            other => other,
        },
        "label_replace" | "label_join" | "sort_by_label" | "sort_by_label_desc" => Shape::Unknown,
        _ if lo >= hi => Shape::One,
        _ => {
            let mut acc = Shape::One;
            for n in 0..args.len() {
                let s = arg(n);
                acc = match (acc, s) {
                    (_, Shape::Unknown) | (Shape::Unknown, _) => Shape::Unknown,
                    (Shape::One, s) => s,
                    (a, _) => a,
                };
            }
            acc
        }
    }
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
    fn shapes() {
        assert_eq!(shape("sum(rate(a[5m])) / sum(rate(b[5m]))"), Shape::One);
        assert_eq!(shape("histogram_quantile(0.9, sum(rate(a_bucket[5m])) by (le))"), Shape::One);
        assert_eq!(shape("histogram_quantile(0.9, sum by (le) (rate(a_bucket[5m])))"), Shape::One);
        assert!(matches!(shape("sum by (pod) (rate(a[5m]))"), Shape::Grouped(l, 1) if l == ["pod"]));
        assert!(matches!(shape("rate(a{x=\"y\"}[5m]) + 5 or on() vector(0)"), Shape::PerSeries(2)));
        assert_eq!(shape("rate(a{x=\"y\"}[5m]) > 5 or on() vector(0)"), Shape::Unknown);
        assert!(matches!(shape("rate(a[5m]) > bool 5"), Shape::PerSeries(2)));
        assert!(matches!(shape("a_total"), Shape::PerSeries(0)));
        assert_eq!(shape("job:errors:ratio5m{svc=\"a\"}"), Shape::Unknown);
        assert_eq!(shape("{{args.query}}"), Shape::One);
        assert_eq!(shape("sum(a) without (pod)"), Shape::Unknown);
        assert_eq!(shape("(sum(a) + 1) / (sum(b) + 1) * 100"), Shape::One);
        assert_eq!(shape("topk(3, a)"), Shape::Unknown);
        for q in ["sum(", "sum by (", "(((", "rate(a[5m]", ")", "a +", "- -", "sum by (a) b"] {
            shape(q);
        }
    }

    #[test]
    fn contexts_know_enclosing_functions_and_label_lists() {
        let toks = tokens("sum by (le) (rate(a_bucket[5m])) + count(b_total) by (pod_total)");
        let ctx = contexts(&toks);
        let at = |name: &str| toks.iter().position(|t| t.tok == Tok::Ident(name)).unwrap();
        assert_eq!(ctx[at("a_bucket")].functions, vec!["sum", "rate"]);
        assert_eq!(ctx[at("b_total")].functions, vec!["count"]);
        assert!(ctx[at("pod_total")].in_labels && ctx[at("le")].in_labels);
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
