//! The closed set of decode error classes.
//!
//! Vectors, the `decode` command and conformance reports print the class name;
//! the detail is for humans and carries no contract.

use core::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorClass {
    /// The input ended inside a field, a BigSize, or a TLV value.
    Truncated,
    /// A BigSize (TLV type, TLV length, feature-set run) was not minimally encoded.
    NonMinimalEncoding,
    /// A TLV type was lower than the one before it.
    TlvOutOfOrder,
    /// A TLV type was equal to the one before it.
    TlvDuplicate,
    /// A TLV type this message does not define, and even.
    UnknownEvenType,
    /// A known TLV whose length is not the one its definition gives.
    BadLength,
    /// A required TLV is absent.
    MissingRequired,
    /// A known TLV of the right length whose value breaks its definition.
    InvalidValue,
    /// A sidepool sub-id this implementation does not know, and even.
    UnknownEvenMessage,
    /// The BOLT 8 message type is not `sidepool_message_id` (53609).
    NotSidepool,
}

impl ErrorClass {
    pub const ALL: [ErrorClass; 10] = [
        ErrorClass::Truncated,
        ErrorClass::NonMinimalEncoding,
        ErrorClass::TlvOutOfOrder,
        ErrorClass::TlvDuplicate,
        ErrorClass::UnknownEvenType,
        ErrorClass::BadLength,
        ErrorClass::MissingRequired,
        ErrorClass::InvalidValue,
        ErrorClass::UnknownEvenMessage,
        ErrorClass::NotSidepool,
    ];

    /// The stable machine name used in vectors and reports.
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::Truncated => "truncated",
            ErrorClass::NonMinimalEncoding => "non_minimal_encoding",
            ErrorClass::TlvOutOfOrder => "tlv_out_of_order",
            ErrorClass::TlvDuplicate => "tlv_duplicate",
            ErrorClass::UnknownEvenType => "unknown_even_type",
            ErrorClass::BadLength => "bad_length",
            ErrorClass::MissingRequired => "missing_required",
            ErrorClass::InvalidValue => "invalid_value",
            ErrorClass::UnknownEvenMessage => "unknown_even_message",
            ErrorClass::NotSidepool => "not_sidepool",
        }
    }

    pub fn from_name(name: &str) -> Option<ErrorClass> {
        ErrorClass::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A decode failure: its class, and a human-readable detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub class: ErrorClass,
    pub detail: String,
}

impl DecodeError {
    pub fn new(class: ErrorClass, detail: impl Into<String>) -> DecodeError {
        DecodeError { class, detail: detail.into() }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.class, self.detail)
    }
}

impl std::error::Error for DecodeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_round_trips_through_its_name() {
        for class in ErrorClass::ALL {
            assert_eq!(ErrorClass::from_name(class.name()), Some(class));
        }
        assert_eq!(ErrorClass::from_name("Truncated"), None);
        assert_eq!(ErrorClass::from_name(""), None);
    }
}
