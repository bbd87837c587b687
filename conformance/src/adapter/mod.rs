//! The adapter: a JSON-lines control protocol through which the runner sets
//! up and observes the simulated world of an implementation under test (IUT):
//! its pool, channels, chain tip, clock and in-Lightning HTLCs. The peer
//! protocol itself stays real (BOLT 8, BOLT 1 `init`, message 53609).
//!
//! `conformance/ADAPTER.md` is the language-neutral description and
//! `conformance/adapter-schema/` holds a JSON Schema per request, response
//! and event. This module is the Rust side: typed messages ([`request`],
//! [`response`], [`event`]), the line codec ([`codec`]), the IUT-side server
//! ([`server`]) and the runner-side client ([`client`]).

pub mod client;
pub mod codec;
pub mod event;
pub mod request;
pub mod response;
pub mod server;
pub mod values;

/// The protocol major version. Compatible additions (new optional fields,
/// new methods an IUT may answer `unsupported`) do not change it.
pub const PROTOCOL_VERSION: u32 = 1;

pub use client::{AdapterClient, ClientError};
pub use codec::{decode_incoming, decode_request, encode_event, encode_request, encode_response, MAX_LINE_BYTES};
pub use event::Event;
pub use request::Request;
pub use response::{AdapterError, ErrorCode, HelloResult, IdentityResult, Response};
pub use server::{serve_lines, serve_stdio, serve_tcp, AdapterHandler, ServeEnd};
