//! Names that must resolve to exactly one object applied together.

pub(super) mod ambiguous_reference;
pub(super) mod duplicate_object;
pub(super) mod unresolved_reference;
