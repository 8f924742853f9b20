//! YAML as kubectl reads it: syntax, duplicate keys, ambiguous scalars, and suppression comments.

pub mod unused_suppression;
pub(super) mod yaml_ambiguous_scalar;
pub(super) mod yaml_duplicate_key;
pub(super) mod yaml_syntax;
