//! What applies to one file once the configuration is read: each rule's level and options, and
//! the Kubernetes version. Rules read it; `config` computes it.

use std::collections::HashMap;

use crate::diagnostic::Severity;

/// The settings of one file: for each rule (in the registry's order), its severity or `None` when
/// it is off, and the options the configuration sets for it.
#[derive(Debug)]
pub struct Effective {
    pub levels: Vec<(&'static str, Option<Severity>)>,
    pub options: Vec<HashMap<&'static str, i64>>,
    pub kube_version: KubeVersion,
}

impl Effective {
    pub fn severity(&self, rule: &str) -> Option<Severity> {
        self.levels.iter().find(|(id, _)| *id == rule).and_then(|(_, level)| *level)
    }

    /// An option the configuration sets for a rule; `None` leaves the rule's default.
    pub fn option(&self, rule: &str, name: &str) -> Option<i64> {
        let i = self.levels.iter().position(|(id, _)| *id == rule)?;
        self.options.get(i)?.get(name).copied()
    }
}

/// A Kubernetes minor release, `1.33`: which API versions the cluster serves, which validation
/// applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct KubeVersion {
    pub major: u32,
    pub minor: u32,
}

impl KubeVersion {
    /// The target when neither the command line nor the config names one.
    pub const DEFAULT: KubeVersion = KubeVersion { major: 1, minor: 33 };

    /// `1.33`, `v1.33` or `1.33.2` (the patch release does not matter).
    pub fn parse(text: &str) -> Option<KubeVersion> {
        let text = text.trim();
        let text = text.strip_prefix('v').unwrap_or(text);
        let mut parts = text.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        match parts.next() {
            Some(patch) if patch.parse::<u32>().is_err() => return None,
            _ => {}
        }
        if parts.next().is_some() {
            return None;
        }
        Some(KubeVersion { major, minor })
    }
}

impl std::fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}
