//! Label selectors, evaluated exactly as Kubernetes evaluates them.

use crate::yaml::NodeRef;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

#[derive(Clone, Debug)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    pub values: Vec<String>,
}

/// A parsed `metav1.LabelSelector` (or a Service's plain `spec.selector`, as match labels).
#[derive(Clone, Debug, Default)]
pub struct Selector {
    pub match_labels: Vec<(String, String)>,
    pub expressions: Vec<Requirement>,
}

/// A problem that makes a selector invalid, at the node that causes it.
pub struct SelectorError<'a> {
    pub at: NodeRef<'a>,
    pub message: String,
}

/// A label map read from YAML: keys and the text of their values.
pub fn labels_of(node: Option<NodeRef<'_>>) -> Vec<(String, String)> {
    node.map(|n| {
        n.merged_entries()
            .into_iter()
            .filter_map(|(k, v)| Some((k.key_text()?.into_owned(), v.text()?.to_string())))
            .collect()
    })
    .unwrap_or_default()
}

pub fn label_value<'l>(labels: &'l [(String, String)], key: &str) -> Option<&'l str> {
    labels.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

impl Selector {
    /// A Service-style selector: a plain map of labels.
    pub fn from_map(node: NodeRef<'_>) -> Selector {
        Selector { match_labels: labels_of(Some(node)), expressions: Vec::new() }
    }

    /// The selector of a Service, as it matters for pods: `None` without one (hand-managed
    /// Endpoints). The controller adds `rollouts-pod-template-hash` itself, so it is ignored.
    pub fn of_service(service: NodeRef<'_>) -> Option<(NodeRef<'_>, Selector)> {
        let node = service.path(&["spec", "selector"]).filter(|s| s.is_map() && !s.is_empty())?;
        let mut selector = Selector::from_map(node);
        selector.match_labels.retain(|(k, _)| k != "rollouts-pod-template-hash");
        Some((node, selector))
    }

    /// Parses a `LabelSelector`, collecting every problem the API server would reject.
    pub fn parse<'a>(node: NodeRef<'a>, errors: &mut Vec<SelectorError<'a>>) -> Selector {
        let mut sel = Selector::default();
        if let Some(ml) = node.get_set("matchLabels") {
            if !ml.is_map() {
                errors.push(SelectorError {
                    at: ml,
                    message: "`matchLabels` must be a mapping of label keys to values".into(),
                });
            }
            for (k, v) in ml.merged_entries() {
                let key = k.key_text().map(|s| s.into_owned()).unwrap_or_default();
                if let Some(problem) = label_key_problem(&key) {
                    errors.push(SelectorError { at: k, message: format!("label key {key:?} is invalid: {problem}") });
                }
                match v.as_str() {
                    Some(value) => {
                        if let Some(problem) = label_value_problem(value) {
                            errors.push(SelectorError {
                                at: v,
                                message: format!("label value {value:?} is invalid: {problem}"),
                            });
                        }
                        sel.match_labels.push((key, value.to_string()));
                    }
                    None => errors.push(SelectorError {
                        at: v,
                        message: format!(
                            "label value `{}` is not a string (Kubernetes reads it as a {})",
                            v.display(),
                            type_word(v)
                        ),
                    }),
                }
            }
        }
        if let Some(exprs) = node.get_set("matchExpressions") {
            for expr in exprs.items() {
                let key = expr.get_str("key").unwrap_or_default().to_string();
                let Some(op_node) = expr.get("operator") else {
                    errors.push(SelectorError { at: expr, message: "a match expression needs an `operator`".into() });
                    continue;
                };
                let operator = match op_node.as_str() {
                    Some("In") => Operator::In,
                    Some("NotIn") => Operator::NotIn,
                    Some("Exists") => Operator::Exists,
                    Some("DoesNotExist") => Operator::DoesNotExist,
                    _ => {
                        errors.push(SelectorError {
                            at: op_node,
                            message: format!(
                                "operator `{}` is not one of In, NotIn, Exists, DoesNotExist",
                                op_node.display()
                            ),
                        });
                        continue;
                    }
                };
                if let Some(problem) = label_key_problem(&key) {
                    errors.push(SelectorError {
                        at: expr.get("key").unwrap_or(expr),
                        message: format!("label key {key:?} is invalid: {problem}"),
                    });
                }
                let values_node = expr.get_set("values");
                let values: Vec<String> = values_node
                    .map(|v| v.items().filter_map(|i| i.text().map(str::to_string)).collect())
                    .unwrap_or_default();
                match operator {
                    Operator::In | Operator::NotIn if values.is_empty() => errors.push(SelectorError {
                        at: values_node.unwrap_or(op_node),
                        message: format!("operator {operator:?} needs a non-empty `values` list"),
                    }),
                    Operator::Exists | Operator::DoesNotExist if !values.is_empty() => errors.push(SelectorError {
                        at: values_node.unwrap_or(op_node),
                        message: format!("operator {operator:?} must not have `values`"),
                    }),
                    _ => {}
                }
                sel.expressions.push(Requirement { key, operator, values });
            }
        }
        sel
    }

    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.expressions.is_empty()
    }

    /// `labels.Selector.Matches`: every requirement holds. An empty selector matches everything.
    pub fn matches(&self, labels: &[(String, String)]) -> bool {
        self.match_labels.iter().all(|(k, v)| label_value(labels, k) == Some(v.as_str()))
            && self.expressions.iter().all(|r| {
                let value = label_value(labels, &r.key);
                match r.operator {
                    Operator::In => value.is_some_and(|v| r.values.iter().any(|x| x == v)),
                    Operator::NotIn => value.is_none_or(|v| r.values.iter().all(|x| x != v)),
                    Operator::Exists => value.is_some(),
                    Operator::DoesNotExist => value.is_none(),
                }
            })
    }

    /// The first requirement that `labels` fail, described for a message.
    pub fn first_mismatch(&self, labels: &[(String, String)]) -> Option<String> {
        for (k, v) in &self.match_labels {
            match label_value(labels, k) {
                None => return Some(format!("label `{k}` is missing")),
                Some(have) if have != v => return Some(format!("`{k}` is `{have}`, not `{v}`")),
                _ => {}
            }
        }
        self.expressions
            .iter()
            .find(|r| !Selector { match_labels: vec![], expressions: vec![(*r).clone()] }.matches(labels))
            .map(|r| format!("`{}` fails `{:?} {:?}`", r.key, r.operator, r.values))
    }
}

fn type_word(node: NodeRef<'_>) -> &'static str {
    use crate::yaml::Resolved::*;
    match node.scalar().map(|s| s.value) {
        Some(Bool(_)) => "boolean",
        Some(Int(_)) | Some(Float(_)) => "number",
        Some(Null) => "null",
        Some(Str) => "string",
        None => "collection",
    }
}

fn name_part_problem(s: &str) -> Option<&'static str> {
    if s.is_empty() {
        return Some("the name part must not be empty");
    }
    if s.len() > 63 {
        return Some("must be 63 characters or less");
    }
    let b = s.as_bytes();
    let ok_inner = b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
    if !ok_inner || !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
        return Some("must consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric");
    }
    None
}

/// `validation.IsQualifiedName`.
pub fn label_key_problem(key: &str) -> Option<&'static str> {
    match key.split_once('/') {
        Some((prefix, name)) => {
            if prefix.is_empty() || prefix.len() > 253 || !is_dns_subdomain(prefix) {
                return Some("the prefix must be a DNS subdomain");
            }
            name_part_problem(name)
        }
        None => name_part_problem(key),
    }
}

/// `validation.IsValidLabelValue`.
pub fn label_value_problem(value: &str) -> Option<&'static str> {
    if value.is_empty() { None } else { name_part_problem(value) }
}

pub fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|part| {
            let b = part.as_bytes();
            !b.is_empty()
                && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
        })
}

/// A DNS-1123 label: at most 63 lower-case letters, digits and `-`, starting and ending with a
/// letter or digit (container names, ports, experiment templates...).
pub fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn operators_follow_kubernetes() {
        let req = |key: &str, operator, values: &[&str]| Selector {
            match_labels: vec![],
            expressions: vec![Requirement {
                key: key.into(),
                operator,
                values: values.iter().map(|s| s.to_string()).collect(),
            }],
        };
        let l = labels(&[("app", "web"), ("tier", "fe")]);
        assert!(req("app", Operator::In, &["web", "api"]).matches(&l));
        assert!(!req("app", Operator::NotIn, &["web"]).matches(&l));
        assert!(req("zone", Operator::NotIn, &["a"]).matches(&l), "NotIn matches a missing key");
        assert!(req("tier", Operator::Exists, &[]).matches(&l));
        assert!(!req("tier", Operator::DoesNotExist, &[]).matches(&l));
        assert!(Selector::default().matches(&l), "the empty selector matches everything");
    }

    #[test]
    fn label_keys_and_values() {
        assert!(label_key_problem("app.kubernetes.io/name").is_none());
        assert!(label_key_problem("-bad").is_some());
        assert!(label_key_problem("Bad_Prefix/x").is_some());
        assert!(label_value_problem("").is_none());
        assert!(label_value_problem("has space").is_some());
    }
}
