//! Reporters turn an [`Outcome`](crate::lint::Outcome) into text; they never decide anything.

mod compact;
mod github;
mod human;
mod json;
mod junit;
mod sarif;

pub use compact::render_compact;
pub use github::{render_github, write_github};
pub use human::{render_human, write_human};
pub use json::{render_json, write_json};
pub use junit::{render_junit, write_junit};
pub use sarif::{render_sarif, write_sarif};

use crate::lint::Outcome;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Compiler-style reports with source snippets.
    Human,
    /// One JSON object (`version: 1`), documented in the README.
    Json,
    /// `file:line:col: severity[rule] message`, one line per finding.
    Compact,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions annotations (`::error file=...`).
    Github,
    /// JUnit XML, for CI test reports.
    Junit,
}

impl Format {
    pub fn render(self, outcome: &Outcome, color: bool) -> String {
        match self {
            Format::Human => render_human(outcome, color),
            Format::Json => render_json(outcome),
            Format::Compact => render_compact(outcome),
            Format::Sarif => render_sarif(outcome),
            Format::Github => render_github(outcome),
            Format::Junit => render_junit(outcome),
        }
    }

    /// Writes the report as it is made (a large report is never held in memory whole).
    pub fn write(self, outcome: &Outcome, color: bool, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        match self {
            Format::Json => write_json(outcome, out)?,
            Format::Human => write_human(outcome, color, out)?,
            Format::Sarif => write_sarif(outcome, out)?,
            Format::Github => write_github(outcome, out)?,
            Format::Junit => write_junit(outcome, out)?,
            _ => out.write_all(self.render(outcome, color).as_bytes())?,
        }
        out.flush()
    }
}
