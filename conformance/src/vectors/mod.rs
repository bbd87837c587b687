//! Vector files: loading, schema lint, evaluation against the reference, JSON export.
pub mod kinds;
