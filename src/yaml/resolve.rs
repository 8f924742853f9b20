//! Scalar resolution the way Kubernetes reads YAML: sigs.k8s.io/yaml runs go-yaml v2, which
//! implements YAML 1.1 (`yes`/`on` are booleans, `0755` is octal). See go-yaml v2 `resolve.go`.

/// The JSON type a plain scalar becomes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str,
}

/// Resolves an untagged plain scalar.
pub fn resolve_plain(s: &str) -> Resolved {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Resolved::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Resolved::Bool(false);
        }
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match s.as_bytes()[0] {
        b'.' => go_parse_float(s).map_or(Resolved::Str, Resolved::Float),
        b'0'..=b'9' | b'+' | b'-' => resolve_number(s),
        _ => Resolved::Str,
    }
}

fn resolve_number(s: &str) -> Resolved {
    let filtered;
    let plain: &str = if s.contains('_') {
        filtered = s.chars().filter(|&c| c != '_').collect::<String>();
        &filtered
    } else {
        s
    };
    if let Some(i) = go_parse_int(plain) {
        return Resolved::Int(i);
    }
    if let Some(u) = go_parse_uint(plain) {
        return Resolved::Float(u as f64);
    }
    if is_yaml_style_float(plain)
        && let Some(f) = go_parse_float(plain)
    {
        return Resolved::Float(f);
    }
    Resolved::Str
}

/// Go `strconv.ParseInt(s, 0, 64)`: sign, then `0x`, `0o`, `0b` or a leading `0` for octal.
fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = parse_unsigned_base0(body)?;
    if neg {
        if magnitude <= i64::MAX as u64 + 1 { Some((magnitude as i64).wrapping_neg()) } else { None }
    } else {
        i64::try_from(magnitude).ok()
    }
}

fn go_parse_uint(s: &str) -> Option<u64> {
    parse_unsigned_base0(s)
}

fn parse_unsigned_base0(body: &str) -> Option<u64> {
    if body.is_empty() {
        return None;
    }
    let lower = body.get(..2).map(|p| p.to_ascii_lowercase());
    let (digits, radix) = match lower.as_deref() {
        Some("0x") => (&body[2..], 16),
        Some("0o") => (&body[2..], 8),
        Some("0b") => (&body[2..], 2),
        _ if body.len() > 1 && body.starts_with('0') => (&body[1..], 8),
        _ => (body, 10),
    };
    if digits.is_empty() || !digits.bytes().all(|b| (b as char).is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

fn is_yaml_style_float(s: &str) -> bool {
    // ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'-' | b'+')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

fn go_parse_float(s: &str) -> Option<f64> {
    let t = s.strip_prefix('+').unwrap_or(s);
    if t.bytes().any(|b| b.is_ascii_alphabetic() && !matches!(b, b'e' | b'E')) {
        return None;
    }
    t.parse::<f64>().ok()
}

/// A resolved number or boolean printed the way `YAMLToJSON` prints it as a map key.
pub fn key_string(raw: &str, resolved: Resolved) -> Option<String> {
    match resolved {
        Resolved::Str => None,
        Resolved::Null => Some("null".into()),
        Resolved::Bool(b) => Some(b.to_string()),
        Resolved::Int(i) => Some(i.to_string()),
        Resolved::Float(_) => Some(raw.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::Resolved::*;
    use super::*;

    #[test]
    fn follows_go_yaml_v2() {
        let cases: &[(&str, Resolved)] = &[
            ("yes", Bool(true)),
            ("On", Bool(true)),
            ("y", Bool(true)),
            ("NO", Bool(false)),
            ("off", Bool(false)),
            ("~", Null),
            ("null", Null),
            ("0755", Int(493)),
            ("0o755", Int(493)),
            ("0x1F", Int(31)),
            ("0b101", Int(5)),
            ("1_000", Int(1000)),
            ("-12", Int(-12)),
            ("+7", Int(7)),
            ("1e3", Float(1000.0)),
            ("1.5", Float(1.5)),
            (".5", Float(0.5)),
            ("08", Float(8.0)),
            ("2024-01-01", Str),
            ("20%", Str),
            ("5m", Str),
            ("1.2.3", Str),
            ("v1", Str),
            ("-", Str),
            ("infinity", Str),
            ("+inf", Str),
        ];
        for (input, want) in cases {
            assert_eq!(resolve_plain(input), *want, "{input}");
        }
        assert!(matches!(resolve_plain(".nan"), Float(f) if f.is_nan()));
        assert_eq!(resolve_plain("18446744073709551615"), Float(18446744073709551615.0));
    }
}
