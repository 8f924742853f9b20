//! A checker for the expr-lang expressions (github.com/expr-lang/expr) that AnalysisTemplates use
//! as `successCondition` and `failureCondition`: the grammar, operator precedences and builtins
//! of expr, and the environment Argo Rollouts compiles them with (`utils/evaluate`). It finds what
//! `expr.Compile(condition, expr.Env(env))` rejects without running anything.

use std::ops::Range;

/// Names the Argo Rollouts environment defines.
pub const ENV: &[&str] = &["result", "asInt", "asFloat", "isNaN", "isInf", "isNil", "default"];

/// expr's builtin functions (expr-lang/expr `builtin/builtin.go`).
const BUILTINS: &[&str] = &[
    "all",
    "none",
    "any",
    "one",
    "filter",
    "map",
    "find",
    "findIndex",
    "findLast",
    "findLastIndex",
    "count",
    "sum",
    "groupBy",
    "sortBy",
    "reduce",
    "len",
    "type",
    "abs",
    "ceil",
    "floor",
    "round",
    "int",
    "float",
    "string",
    "trim",
    "trimPrefix",
    "trimSuffix",
    "upper",
    "lower",
    "split",
    "splitAfter",
    "replace",
    "repeat",
    "indexOf",
    "lastIndexOf",
    "hasPrefix",
    "hasSuffix",
    "max",
    "min",
    "mean",
    "median",
    "toJSON",
    "fromJSON",
    "toBase64",
    "fromBase64",
    "now",
    "duration",
    "date",
    "timezone",
    "first",
    "last",
    "get",
    "take",
    "keys",
    "values",
    "toPairs",
    "fromPairs",
    "sort",
    "concat",
    "flatten",
    "uniq",
    "join",
    "reverse",
    "bitand",
    "bitor",
    "bitxor",
    "bitnand",
    "bitnot",
    "bitshl",
    "bitshr",
    "bitushr",
    "$env",
];

/// What a check of one expression found.
#[derive(Debug, Default)]
pub struct Analysis {
    /// The first syntax error: where, and what.
    pub syntax_error: Option<(Range<usize>, String)>,
    /// Names read from the environment that it does not define (typos such as `results`).
    pub unknown_names: Vec<(Range<usize>, String)>,
    pub reads_result: bool,
    /// The whole expression is a number, string, list or map, never a boolean.
    pub not_boolean: Option<&'static str>,
}

pub fn analyse(source: &str) -> Analysis {
    let mut analysis = Analysis::default();
    let tokens = match lex(source) {
        Ok(tokens) => tokens,
        Err(error) => {
            analysis.syntax_error = Some(error);
            return analysis;
        }
    };
    let mut parser = Parser { tokens, pos: 0, end: source.len(), scopes: Vec::new(), names: Vec::new(), depth: 0 };
    match parser.program() {
        Ok(ty) => {
            analysis.not_boolean = match ty {
                Ty::Num => Some("a number"),
                Ty::Str => Some("a string"),
                Ty::List => Some("a list"),
                Ty::Map => Some("a map"),
                Ty::Bool | Ty::Unknown => None,
            };
        }
        Err(error) => analysis.syntax_error = Some(error),
    }
    for (range, name) in parser.names {
        if name == "result" {
            analysis.reads_result = true;
        } else if !ENV.contains(&name.as_str()) && !BUILTINS.contains(&name.as_str()) {
            analysis.unknown_names.push((range, name));
        }
    }
    analysis
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num,
    Str,
    Ident(String),
    /// `#`, `#index`, `#acc`: the element of a predicate.
    Pointer,
    Op(&'static str),
    Eof,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    range: Range<usize>,
}

type Error = (Range<usize>, String);

const OPERATORS: &[&str] = &[
    "**", "..", "?.", "??", "==", "!=", "<=", ">=", "&&", "||", "!", "<", ">", "+", "-", "*", "/", "%", "^", "?", ":",
    ".", ",", "(", ")", "[", "]", "{", "}", "|", ";", "=",
];

fn lex(src: &str) -> Result<Vec<Token>, Error> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'/' && bytes.get(i + 1) == Some(&b'/') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && bytes.get(i + 1) == Some(&b'*') {
            let close = src[i + 2..].find("*/").ok_or((i..src.len(), "unclosed comment".to_string()))?;
            i += close + 4;
            continue;
        }
        let tok = if c.is_ascii_digit() || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            i = lex_number(bytes, i);
            Tok::Num
        } else if c == b'"' || c == b'\'' || c == b'`' {
            i += 1;
            loop {
                match bytes.get(i) {
                    None => return Err((start..src.len(), "literal not terminated".into())),
                    Some(b'\\') if c != b'`' => i += 2,
                    Some(&b) if b == c => break,
                    Some(b'\n') if c != b'`' => return Err((start..i, "literal not terminated".into())),
                    Some(_) => i += 1,
                }
            }
            i += 1;
            Tok::Str
        } else if c == b'#' {
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            Tok::Pointer
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'$' || c >= 0x80 {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'$') || bytes[i] >= 0x80)
            {
                i += 1;
            }
            Tok::Ident(src[start..i].to_string())
        } else if let Some(op) = OPERATORS.iter().find(|op| src[i..].starts_with(**op)) {
            i += op.len();
            Tok::Op(op)
        } else {
            let ch = src[i..].chars().next().unwrap_or('?');
            return Err((i..i + ch.len_utf8(), format!("unrecognized character: {ch:?}")));
        };
        out.push(Token { tok, range: start..i.min(src.len()) });
    }
    out.push(Token { tok: Tok::Eof, range: src.len()..src.len() });
    Ok(out)
}

fn lex_number(b: &[u8], mut i: usize) -> usize {
    if b[i] == b'0' && matches!(b.get(i + 1), Some(b'x' | b'X' | b'o' | b'O' | b'b' | b'B')) {
        i += 2;
        while i < b.len() && (b[i].is_ascii_hexdigit() || b[i] == b'_') {
            i += 1;
        }
        return i;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    // `1..5` is a range, not a fraction.
    if b.get(i) == Some(&b'.') && b.get(i + 1) != Some(&b'.') {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if b.get(j).is_some_and(u8::is_ascii_digit) {
            i = j;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    i
}

/// The static type of a sub-expression, as far as syntax alone tells.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Ty {
    Bool,
    Num,
    Str,
    List,
    Map,
    Unknown,
}

/// Binary operators: precedence, right-associative, result type (expr `parser/operator`).
fn binary(op: &str) -> Option<(u16, bool, Ty)> {
    Some(match op {
        "or" | "||" => (10, false, Ty::Bool),
        "and" | "&&" => (15, false, Ty::Bool),
        "==" | "!=" | "<" | ">" | ">=" | "<=" | "in" | "matches" | "contains" | "startsWith" | "endsWith" => {
            (20, false, Ty::Bool)
        }
        ".." => (25, false, Ty::List),
        "+" | "-" | "*" | "/" | "%" => (if matches!(op, "+" | "-") { 30 } else { 60 }, false, Ty::Num),
        "**" | "^" => (100, true, Ty::Num),
        "??" => (500, false, Ty::Unknown),
        _ => return None,
    })
}

const MAX_DEPTH: u32 = 200;

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    end: usize,
    /// Names bound by `let`.
    scopes: Vec<String>,
    names: Vec<(Range<usize>, String)>,
    depth: u32,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(&self.peek().tok, Tok::Op(o) if *o == op)
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(w) if w == word)
    }

    fn expect(&mut self, op: &str) -> Result<Token, Error> {
        if self.is_op(op) { Ok(self.next()) } else { Err(self.unexpected(&format!("expected `{op}`"))) }
    }

    fn unexpected(&self, context: &str) -> Error {
        let t = self.peek();
        match t.tok {
            Tok::Eof => (self.end.saturating_sub(1)..self.end, format!("unexpected end of expression ({context})")),
            _ => (t.range.clone(), format!("unexpected token ({context})")),
        }
    }

    fn program(&mut self) -> Result<Ty, Error> {
        if matches!(self.peek().tok, Tok::Eof) {
            return Err((0..self.end, "empty expression".into()));
        }
        let ty = self.expression(0)?;
        if !matches!(self.peek().tok, Tok::Eof) {
            return Err(self.unexpected("expected an operator or the end"));
        }
        Ok(ty)
    }

    fn expression(&mut self, min_precedence: u16) -> Result<Ty, Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err((self.peek().range.clone(), "expression nests too deeply".into()));
        }
        let result = self.expression_inner(min_precedence);
        self.depth -= 1;
        result
    }

    fn expression_inner(&mut self, min_precedence: u16) -> Result<Ty, Error> {
        if self.is_word("let") && min_precedence == 0 {
            self.next();
            let name = match self.next() {
                Token { tok: Tok::Ident(name), .. } => name,
                _ => return Err(self.unexpected("expected a variable name after `let`")),
            };
            self.expect("=")?;
            self.expression(0)?;
            self.expect(";")?;
            self.scopes.push(name);
            let ty = self.expression(0);
            self.scopes.pop();
            return ty;
        }
        let mut left = self.unary()?;
        loop {
            let (op, negated) = match &self.peek().tok {
                Tok::Ident(w) if w == "not" => {
                    let after = self.tokens.get(self.pos + 1).map(|t| &t.tok);
                    match after {
                        Some(Tok::Ident(w)) if binary(w).is_some() => (w.clone(), true),
                        _ => return Err(self.unexpected("`not` here must be followed by `in`, `matches`...")),
                    }
                }
                Tok::Ident(w) if binary(w).is_some() => (w.clone(), false),
                Tok::Op(o) if binary(o).is_some() => ((*o).to_string(), false),
                Tok::Op("|") if min_precedence == 0 => {
                    self.next();
                    left = self.pipe_call()?;
                    continue;
                }
                Tok::Op("?") if min_precedence == 0 => {
                    self.next();
                    self.expression(0)?;
                    self.expect(":")?;
                    let other = self.expression(0)?;
                    left = if other == left { left } else { Ty::Unknown };
                    continue;
                }
                _ => break,
            };
            let (precedence, right_assoc, ty) = binary(&op).expect("checked above");
            if precedence < min_precedence || (precedence == min_precedence && !right_assoc) {
                break;
            }
            if negated {
                self.next();
            }
            self.next();
            self.expression(if right_assoc { precedence } else { precedence + 1 })?;
            left = if op == "+" && left == Ty::Str { Ty::Str } else { ty };
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Ty, Error> {
        match &self.peek().tok {
            Tok::Op("!") => {
                self.next();
                self.expression(50)?;
                Ok(Ty::Bool)
            }
            Tok::Ident(w) if w == "not" => {
                self.next();
                self.expression(50)?;
                Ok(Ty::Bool)
            }
            Tok::Op("-" | "+") => {
                self.next();
                self.expression(90)?;
                Ok(Ty::Num)
            }
            _ => self.postfix(),
        }
    }

    fn postfix(&mut self) -> Result<Ty, Error> {
        let mut ty = self.primary()?;
        loop {
            if self.is_op(".") || self.is_op("?.") {
                self.next();
                match self.next().tok {
                    Tok::Ident(_) => {}
                    _ => return Err(self.previous_unexpected("expected a field name after `.`")),
                }
                if self.is_op("(") {
                    self.call_arguments()?;
                }
                ty = Ty::Unknown;
            } else if self.is_op("[") {
                self.next();
                if self.is_op(":") {
                    self.next();
                    if !self.is_op("]") {
                        self.expression(0)?;
                    }
                } else {
                    self.expression(0)?;
                    if self.is_op(":") {
                        self.next();
                        if !self.is_op("]") {
                            self.expression(0)?;
                        }
                    }
                }
                self.expect("]")?;
                ty = Ty::Unknown;
            } else {
                return Ok(ty);
            }
        }
    }

    fn previous_unexpected(&self, context: &str) -> Error {
        let t = &self.tokens[self.pos.saturating_sub(1)];
        (t.range.clone(), format!("unexpected token ({context})"))
    }

    fn primary(&mut self) -> Result<Ty, Error> {
        let token = self.next();
        match token.tok {
            Tok::Num => Ok(Ty::Num),
            Tok::Str => Ok(Ty::Str),
            Tok::Pointer => Ok(Ty::Unknown),
            Tok::Ident(name) => match name.as_str() {
                "true" | "false" => Ok(Ty::Bool),
                "nil" => Ok(Ty::Unknown),
                "if" => {
                    self.expression(0)?;
                    self.block()?;
                    if !self.is_word("else") {
                        return Err(self.unexpected("expected `else`"));
                    }
                    self.next();
                    if self.is_word("if") { self.primary() } else { self.block() }
                }
                _ => {
                    if !self.scopes.contains(&name) {
                        self.names.push((token.range.clone(), name.clone()));
                    }
                    if self.is_op("(") {
                        self.call_arguments()?;
                        return Ok(builtin_type(&name));
                    }
                    Ok(Ty::Unknown)
                }
            },
            Tok::Op("(") => {
                let ty = self.expression(0)?;
                self.expect(")")?;
                Ok(ty)
            }
            Tok::Op("[") => {
                while !self.is_op("]") {
                    self.expression(0)?;
                    if !self.is_op(",") {
                        break;
                    }
                    self.next();
                }
                self.expect("]")?;
                Ok(Ty::List)
            }
            Tok::Op("{") => {
                self.map_body()?;
                Ok(Ty::Map)
            }
            // A predicate's member shorthand: `all(items, .ready)`.
            Tok::Op(".") => match self.next().tok {
                Tok::Ident(_) => Ok(Ty::Unknown),
                _ => Err(self.previous_unexpected("expected a field name after `.`")),
            },
            Tok::Eof => Err((self.end.saturating_sub(1)..self.end, "unexpected end of expression".into())),
            _ => Err((token.range, "unexpected token".into())),
        }
    }

    fn block(&mut self) -> Result<Ty, Error> {
        self.expect("{")?;
        let ty = self.expression(0)?;
        self.expect("}")?;
        Ok(ty)
    }

    fn map_body(&mut self) -> Result<(), Error> {
        while !self.is_op("}") {
            match self.next().tok {
                Tok::Ident(_) | Tok::Str | Tok::Num => {}
                Tok::Op("(") => {
                    self.expression(0)?;
                    self.expect(")")?;
                }
                _ => return Err(self.previous_unexpected("expected a map key")),
            }
            self.expect(":")?;
            self.expression(0)?;
            if !self.is_op(",") {
                break;
            }
            self.next();
        }
        self.expect("}")?;
        Ok(())
    }

    fn call_arguments(&mut self) -> Result<(), Error> {
        self.expect("(")?;
        while !self.is_op(")") {
            self.argument()?;
            if !self.is_op(",") {
                break;
            }
            self.next();
        }
        self.expect(")")?;
        Ok(())
    }

    /// An argument: an expression, or a predicate closure `{ # > 0 }`.
    fn argument(&mut self) -> Result<(), Error> {
        let is_map = self.is_op("{")
            && matches!(
                (self.tokens.get(self.pos + 1).map(|t| &t.tok), self.tokens.get(self.pos + 2).map(|t| &t.tok)),
                (Some(Tok::Op("}")), _) | (Some(Tok::Ident(_) | Tok::Str | Tok::Num), Some(Tok::Op(":")))
            );
        if self.is_op("{") && !is_map {
            self.block()?;
            Ok(())
        } else {
            self.expression(0).map(|_| ())
        }
    }

    /// `x | f(args)`: the left side becomes the first argument.
    fn pipe_call(&mut self) -> Result<Ty, Error> {
        let token = self.next();
        let Tok::Ident(name) = token.tok else {
            return Err((token.range, "unexpected token (expected a function after `|`)".into()));
        };
        if !self.scopes.contains(&name) {
            self.names.push((token.range.clone(), name.clone()));
        }
        if self.is_op("(") {
            self.call_arguments()?;
        }
        Ok(builtin_type(&name))
    }
}

fn builtin_type(name: &str) -> Ty {
    match name {
        "all" | "none" | "any" | "one" | "isNaN" | "isInf" | "isNil" | "hasPrefix" | "hasSuffix" => Ty::Bool,
        "len" | "count" | "abs" | "ceil" | "floor" | "round" | "int" | "float" | "sum" | "mean" | "median"
        | "asInt" | "asFloat" | "indexOf" | "lastIndexOf" | "findIndex" | "findLastIndex" => Ty::Num,
        "string" | "trim" | "trimPrefix" | "trimSuffix" | "upper" | "lower" | "replace" | "repeat" | "toJSON"
        | "toBase64" | "fromBase64" | "join" | "type" => Ty::Str,
        "filter" | "map" | "split" | "splitAfter" | "keys" | "values" | "sort" | "sortBy" | "concat" | "flatten"
        | "uniq" | "reverse" | "take" | "toPairs" => Ty::List,
        _ => Ty::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(src: &str) -> Analysis {
        let a = analyse(src);
        assert!(a.syntax_error.is_none(), "{src}: {:?}", a.syntax_error);
        a
    }

    #[test]
    fn accepts_the_conditions_people_write() {
        for src in [
            "result[0] >= 0.95",
            "result >= 0.95",
            "len(result) == 0 || result[0] >= 0.95",
            "isNaN(result) || result >= 0.95",
            "result.successful == true",
            "result == 'true'",
            "asInt(result) > 5",
            "default(result, 0) < 10",
            "all(result, {# > 0.9})",
            "all(result, # > 0.9)",
            "result[0] in [200, 201]",
            "result.code not in [500, 503]",
            "result matches '^ok'",
            "result[0] > 1e3 and result[0] < 1_000_000",
            "result?.data ?? 0 > 1",
            "result != nil && result[0] >= 0.9",
            "len(result) > 0 ? result[0] > 0.5 : true",
            "let r = result[0]; r > 0.5 && r < 2",
            "result | all(# > 0)",
            "result[1:3] == [1, 2]",
            "{\"a\": 1}.a == result",
            "not (result < 0.5)",
            "result ** 2 > 4",
            "result[0] >= 0.95 // percent",
        ] {
            ok(src);
        }
    }

    #[test]
    fn rejects_syntax_errors_at_their_place() {
        let cases = [
            ("result[0] >= ", "unexpected end"),
            ("result[0 >= 0.9", "expected `]`"),
            ("result => 0.9", "unexpected token"),
            ("result[0] >= 0.9)", "unexpected token"),
            ("result == \"ok", "literal not terminated"),
            ("(result > 1", "expected `)`"),
            ("result >= 0.95 && ", "unexpected end"),
            ("result = 1", "unexpected token"),
            ("", "empty"),
        ];
        for (src, message) in cases {
            let a = analyse(src);
            let (range, got) = a.syntax_error.unwrap_or_else(|| panic!("{src} parsed"));
            assert!(got.contains(message), "{src}: {got}");
            assert!(range.end <= src.len().max(1), "{src}: {range:?}");
        }
        assert_eq!(analyse("result => 0.9").syntax_error.unwrap().0, 7..8);
    }

    #[test]
    fn finds_unknown_names_and_missing_result() {
        let a = ok("results[0] >= 0.9");
        assert_eq!(a.unknown_names, vec![(0..7, "results".to_string())]);
        assert!(!a.reads_result);
        let a = ok("all(result, {# > threshold})");
        assert_eq!(a.unknown_names[0].1, "threshold");
        assert!(ok("let x = result; x > 1").unknown_names.is_empty());
        assert!(!ok("1 > 0").reads_result);
    }

    #[test]
    fn knows_when_a_condition_cannot_be_boolean() {
        assert_eq!(ok("result[0] * 100").not_boolean, Some("a number"));
        assert_eq!(ok("len(result)").not_boolean, Some("a number"));
        assert_eq!(ok("'ok'").not_boolean, Some("a string"));
        assert_eq!(ok("result[0]").not_boolean, None);
        assert_eq!(ok("result > 1").not_boolean, None);
    }

    #[test]
    fn survives_deep_nesting() {
        let deep = "(".repeat(10_000) + "result" + &")".repeat(10_000);
        assert!(analyse(&deep).syntax_error.is_some());
    }
}
