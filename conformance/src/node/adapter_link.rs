//! The reference node's side of the adapter protocol: a handler for the
//! JSON-lines server (`node --adapter-listen`), and an in-process link the
//! runner uses against the embedded node.

use super::net::Shared;
use crate::adapter::event::Event as AdapterEvent;
use crate::adapter::request::Request;
use crate::adapter::response::{AdapterError as WireError, ErrorCode, Response};
use crate::adapter::server::AdapterHandler;
use crate::runner::exec::{AdapterError, AdapterLink};
use serde_json::{json, Value};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::Instant;

/// Serves adapter requests against a running node.
pub struct NodeAdapter {
    pub shared: Arc<Shared>,
}

impl AdapterHandler for NodeAdapter {
    fn handle(&mut self, req: Request) -> Result<Response, WireError> {
        self.shared.adapter(req)
    }
}

/// A fresh handler and event queue for one adapter connection.
pub fn handler_for(shared: &Arc<Shared>) -> (NodeAdapter, Receiver<AdapterEvent>) {
    let (tx, rx) = mpsc::channel();
    shared.set_event_sink(tx);
    (NodeAdapter { shared: Arc::clone(shared) }, rx)
}

/// The runner's link to an in-process node: requests as JSON, events flattened
/// to `{"event": name, ...params}` so case matchers read `peer`, `amount_msat`, ...
pub struct EmbeddedLink {
    shared: Arc<Shared>,
    events: Receiver<AdapterEvent>,
}

impl EmbeddedLink {
    pub fn new(shared: &Arc<Shared>) -> EmbeddedLink {
        let (tx, rx) = mpsc::channel();
        shared.set_event_sink(tx);
        EmbeddedLink { shared: Arc::clone(shared), events: rx }
    }
}

/// `{"event": name, "params": {...}}` -> `{"event": name, ...}`.
pub fn flatten_event(e: &AdapterEvent) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
    let params = v.get_mut("params").map(Value::take).unwrap_or(Value::Null);
    let mut out = json!({"event": e.name()});
    if let (Some(o), Value::Object(p)) = (out.as_object_mut(), params) {
        o.extend(p);
    }
    out
}

impl AdapterLink for EmbeddedLink {
    fn call(&mut self, method: &str, params: &Value) -> Result<Value, AdapterError> {
        let params = if params.is_null() { json!({}) } else { params.clone() };
        let req: Request = serde_json::from_value(json!({"method": method, "params": params}))
            .map_err(|e| AdapterError::Failed(format!("{method}: invalid request: {e}")))?;
        match self.shared.adapter(req) {
            Ok(r) => Ok(r.to_ok()),
            Err(e) if e.code == ErrorCode::Unsupported => Err(AdapterError::Unsupported(e.message)),
            Err(e) => Err(AdapterError::Failed(format!("{}: {}", e.code.as_str(), e.message))),
        }
    }

    fn next_event(&mut self, deadline: Instant) -> Option<Value> {
        let wait = deadline.saturating_duration_since(Instant::now());
        self.events.recv_timeout(wait).ok().map(|e| flatten_event(&e))
    }
}
