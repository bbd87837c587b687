//! Responses: IUT → runner, one per request, echoing its `id`:
//! `{"id": N, "ok": {...}}` or `{"id": N|null, "error": {"code": ..., "message": ...}}`.
//!
//! The `ok` object's shape depends on the method, so it is not self-describing:
//! [`Response::from_ok`] decodes it knowing the method it answers.

use super::values;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sidepool_reference::units::PublicKey;
use std::fmt;

/// The `ok` payload of a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    Hello(HelloResult),
    Identity(IdentityResult),
    /// `{}`: every other method.
    Done,
}

impl Response {
    /// The JSON `ok` object.
    pub fn to_ok(&self) -> Value {
        let value = match self {
            Response::Hello(h) => serde_json::to_value(h),
            Response::Identity(i) => serde_json::to_value(i),
            Response::Done => Ok(Value::Object(serde_json::Map::new())),
        };
        // Serialising these plain structs cannot fail; an empty object is the safe fallback.
        value.unwrap_or_else(|_| Value::Object(serde_json::Map::new()))
    }

    /// Decodes the `ok` object of a response to `method`.
    pub fn from_ok(method: &str, ok: Value) -> Result<Response, String> {
        match method {
            "hello" => serde_json::from_value(ok)
                .map(Response::Hello)
                .map_err(|e| e.to_string()),
            "identity" => serde_json::from_value(ok)
                .map(Response::Identity)
                .map_err(|e| e.to_string()),
            _ if ok.is_object() => Ok(Response::Done),
            _ => Err(format!("`ok` of a {method} response must be an object")),
        }
    }
}

/// The IUT's answer to `hello`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelloResult {
    /// The protocol major version the IUT speaks.
    pub protocol_version: u32,
    /// Implementation name, e.g. "cln-sidepool".
    pub name: String,
    /// Implementation version, free text.
    pub version: String,
    /// The methods the IUT implements (others it answers `unsupported`);
    /// lets the runner skip whole case families up front.
    pub methods: Vec<String>,
    /// Optional capabilities the IUT declares (`forwarding`, `restart`, ...):
    /// cases needing one it does not list are `unsupported`, and one it lists is
    /// held to its MUSTs. Absent in older IUTs: none declared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
}

/// The IUT's answer to `identity`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityResult {
    #[serde(with = "values::node_id")]
    pub node_id: PublicKey,
    /// Where the IUT accepts BOLT 8 connections, `HOST:PORT`.
    pub listen: String,
}

/// Machine names of adapter errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The IUT cannot do this; the runner reports the case `unsupported`.
    Unsupported,
    /// Well-formed JSON, but not a valid request (missing or ill-typed fields).
    InvalidRequest,
    /// A method this protocol version does not define.
    UnknownMethod,
    /// The line is not JSON (or not UTF-8, or longer than the line cap).
    BadJson,
    /// `hello` named a protocol major version the IUT does not speak.
    VersionMismatch,
    /// The IUT failed while doing something it supports.
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unsupported => "unsupported",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::UnknownMethod => "unknown_method",
            ErrorCode::BadJson => "bad_json",
            ErrorCode::VersionMismatch => "version_mismatch",
            ErrorCode::Internal => "internal",
        }
    }
}

/// An error answer: the body of `"error"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterError {
    pub code: ErrorCode,
    pub message: String,
}

impl AdapterError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> AdapterError {
        AdapterError {
            code,
            message: message.into(),
        }
    }
    pub fn unsupported(message: impl Into<String>) -> AdapterError {
        AdapterError::new(ErrorCode::Unsupported, message)
    }
    pub fn invalid_request(message: impl Into<String>) -> AdapterError {
        AdapterError::new(ErrorCode::InvalidRequest, message)
    }
    pub fn internal(message: impl Into<String>) -> AdapterError {
        AdapterError::new(ErrorCode::Internal, message)
    }
}

impl fmt::Display for AdapterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for AdapterError {}
