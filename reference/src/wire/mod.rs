//! SIDEPOOL-01 wire conventions: BigSize, TLV streams, the 53609 envelope and
//! the SIDEPOOL feature set. Pure functions over bytes.

pub mod bigsize;
pub mod envelope;
pub mod error;
pub mod features;
pub mod reader;
pub mod tlv;

pub use error::{DecodeError, ErrorClass};
