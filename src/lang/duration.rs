//! Durations as the controller reads them.

/// Go `time.ParseDuration`, in seconds (fractional). `None` when Go would refuse it.
pub fn parse_go_duration(s: &str) -> Option<f64> {
    let (neg, mut rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0.0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number = &rest[..num_len];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return None;
        }
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number.parse::<f64>().ok()? * factor;
    }
    Some(if neg { -total } else { total })
}

/// Why a Go duration string is refused, for messages.
pub fn go_duration_problem(s: &str) -> Option<String> {
    if parse_go_duration(s).is_some() {
        return None;
    }
    Some(if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        format!("`{s}` has no unit (Go durations need one: `{s}s`, `{s}m`)")
    } else {
        format!("`{s}` is not a Go duration (units ns, us, ms, s, m, h: `30s`, `5m`, `1h30m`)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1h30m"), Some(5400.0));
        assert_eq!(parse_go_duration("500ms"), Some(0.5));
        assert_eq!(parse_go_duration("1.5s"), Some(1.5));
        assert_eq!(parse_go_duration("-1s"), Some(-1.0));
        assert_eq!(parse_go_duration("0"), Some(0.0));
        assert_eq!(parse_go_duration("30"), None);
        assert_eq!(parse_go_duration("5 minutes"), None);
        assert_eq!(parse_go_duration("5d"), None);
        assert_eq!(parse_go_duration(""), None);
        assert!(go_duration_problem("30").unwrap().contains("no unit"));
    }
}
