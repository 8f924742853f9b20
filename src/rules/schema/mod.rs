//! What the API server and the controller refuse in a single object.

pub mod apiserver;

pub(super) mod invalid_duration;
pub(super) mod invalid_object;
pub(super) mod removed_api_version;
pub(super) mod schema_unknown_field;
pub(super) mod schema_violation;
