//! The BOLT 1 session over a BOLT 8 transport, with SIDEPOOL-01's feature bit
//! and `my_sidepool_features` exchange. Sans-IO: see [`machine::Session::handle`].

pub mod bolt1;
pub mod bolt9;
pub mod connection;
pub mod machine;

pub use bolt1::{Bolt1Message, BoltFeatures, Init, Notice};
pub use connection::Connection;
pub use machine::{Action, DisconnectReason, Event, LogLevel, Refusal, Session, SessionConfig, SidepoolState};
