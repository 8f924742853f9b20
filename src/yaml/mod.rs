//! YAML with positions: the parser adapter, Kubernetes scalar resolution and the tree.

mod json;
mod kubectl;
mod parse;
pub mod resolve;
mod tree;

pub use json::to_json;
pub use parse::{
    MAX_DEPTH, Reading, Stream, SyntaxError, count_events, last_cut_point, parse_stream, parse_stream_map,
};
pub use resolve::Resolved;
pub use tree::{Document, Keep, NodeId, NodeKind, NodeRef, Scalar, SharedStrings, Style};
