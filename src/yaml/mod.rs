//! YAML with positions: the parser adapter, Kubernetes scalar resolution and the tree.

mod block;
mod json;
mod kubectl;
mod parse;
pub mod resolve;
mod tree;

pub use json::to_json;
pub use parse::{
    MAX_DEPTH, Reading, Stream, SyntaxError, block_reader_share, count_events, count_nodes, last_cut_point,
    parse_stream, parse_stream_map, parse_stream_reference,
};
pub use resolve::Resolved;
pub use tree::{Document, Keep, NodeId, NodeKind, NodeRef, Retained, Scalar, SharedStrings, Style};
