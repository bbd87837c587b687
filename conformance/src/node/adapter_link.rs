//! Both ends of the adapter protocol as the runner and the reference node use
//! them: the node's handler for the JSON-lines server (`node --adapter-listen`),
//! the runner's in-process link to the embedded node, and its link to any IUT's
//! adapter over TCP or a command's stdio.

use super::net::Shared;
use crate::adapter::client::{AdapterClient, ClientError};
use crate::adapter::event::Event as AdapterEvent;
use crate::adapter::request::Request;
use crate::adapter::response::{AdapterError as WireError, ErrorCode, Response};
use crate::adapter::server::AdapterHandler;
use crate::runner::exec::{AdapterError, AdapterLink};
use serde_json::{json, Value};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    capabilities: Vec<String>,
}

impl EmbeddedLink {
    pub fn new(shared: &Arc<Shared>) -> EmbeddedLink {
        let (tx, rx) = mpsc::channel();
        shared.set_event_sink(tx);
        let hello = Request::Hello(crate::adapter::request::Hello { protocol_version: crate::adapter::PROTOCOL_VERSION, runner: "embedded".into() });
        let capabilities = match shared.adapter(hello) {
            Ok(Response::Hello(h)) => h.capabilities,
            _ => Vec::new(),
        };
        EmbeddedLink { shared: Arc::clone(shared), events: rx, capabilities }
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

/// A typed request from a case's method name and JSON params.
fn request(method: &str, params: &Value) -> Result<Request, AdapterError> {
    let params = if params.is_null() { json!({}) } else { params.clone() };
    serde_json::from_value(json!({"method": method, "params": params}))
        .map_err(|e| AdapterError::Failed(format!("{method}: invalid request: {e}")))
}

impl AdapterLink for EmbeddedLink {
    fn call(&mut self, method: &str, params: &Value) -> Result<Value, AdapterError> {
        match self.shared.adapter(request(method, params)?) {
            Ok(r) => Ok(r.to_ok()),
            Err(e) if e.code == ErrorCode::Unsupported => Err(AdapterError::Unsupported(e.message)),
            Err(e) => Err(AdapterError::Failed(format!("{}: {}", e.code.as_str(), e.message))),
        }
    }

    fn next_event(&mut self, deadline: Instant) -> Option<Value> {
        let wait = deadline.saturating_duration_since(Instant::now());
        self.events.recv_timeout(wait).ok().map(|e| flatten_event(&e))
    }

    fn settles(&self) -> bool {
        true
    }

    /// The node emits an event before it carries out what the event describes,
    /// in the same thread, so every event written before now is in the channel.
    fn sync(&mut self, _deadline: Instant) -> bool {
        true
    }

    fn capabilities(&self) -> Vec<String> {
        self.capabilities.clone()
    }

    /// The in-process node can tell when it is idle: no real-time timer runs in
    /// it, so once it is settled nothing more happens until the runner acts.
    fn settle(&mut self, open_connections: usize, deadline: Instant) -> bool {
        loop {
            if self.shared.settled(open_connections) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_micros(100));
        }
    }
}

/// The runner's link to an IUT's adapter: `tcp://HOST:PORT`, or a command whose
/// stdio speaks the protocol.
pub struct RemoteLink {
    client: AdapterClient,
    capabilities: Vec<String>,
}

impl RemoteLink {
    /// Connects (or starts the command) and says `hello`; returns the link and the IUT's hello.
    pub fn open(spec: &str, timeout: Duration) -> Result<(RemoteLink, crate::adapter::response::HelloResult), String> {
        let mut client = if spec.starts_with("tcp://") {
            AdapterClient::connect_tcp(spec).map_err(|e| format!("adapter {spec}: {e:?}"))?
        } else {
            AdapterClient::spawn_shell(spec).map_err(|e| format!("adapter command {spec:?}: {e:?}"))?
        };
        client.set_timeout(timeout);
        let hello = client.hello("sidepool-conformance").map_err(|e| format!("adapter hello: {e:?}"))?;
        let mut capabilities = hello.capabilities.clone();
        // `restart` is a method of protocol version 1: an IUT that lists it can restart.
        if hello.methods.iter().any(|m| m == "restart") && !capabilities.iter().any(|c| c == "restart") {
            capabilities.push("restart".into());
        }
        Ok((RemoteLink { client, capabilities }, hello))
    }

    /// The IUT's node id and BOLT 8 address, from `identity`.
    pub fn identity(&mut self) -> Result<crate::adapter::response::IdentityResult, String> {
        match self.client.call(&Request::Identity(crate::adapter::request::NoParams {})) {
            Ok(Response::Identity(i)) => Ok(i),
            Ok(other) => Err(format!("identity: unexpected answer {other:?}")),
            Err(e) => Err(format!("identity: {e:?}")),
        }
    }
}

impl AdapterLink for RemoteLink {
    fn call(&mut self, method: &str, params: &Value) -> Result<Value, AdapterError> {
        match self.client.call(&request(method, params)?) {
            Ok(r) => Ok(r.to_ok()),
            Err(ClientError::Remote(e)) if e.code == ErrorCode::Unsupported => Err(AdapterError::Unsupported(e.message)),
            Err(e) => Err(AdapterError::Failed(format!("{e:?}"))),
        }
    }

    fn next_event(&mut self, deadline: Instant) -> Option<Value> {
        let wait = deadline.saturating_duration_since(Instant::now());
        self.client.next_event(wait).map(|e| flatten_event(&e))
    }

    /// A request round trip: the IUT writes every event it emitted before it
    /// answers (ADAPTER.md), so once `identity` is answered they are all queued.
    fn sync(&mut self, _deadline: Instant) -> bool {
        self.client.call(&Request::Identity(crate::adapter::request::NoParams {})).is_ok()
    }

    fn capabilities(&self) -> Vec<String> {
        self.capabilities.clone()
    }
}
