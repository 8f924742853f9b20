//! Reporters turn an [`Outcome`](crate::lint::Outcome) into text; they never decide anything.

mod human;
mod json;

pub use human::render_human;
pub use json::render_json;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Compiler-style reports with source snippets.
    Human,
    /// One JSON object (`version: 1`), documented in the README.
    Json,
}
