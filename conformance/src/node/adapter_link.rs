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
use crate::runner::arrival::Arrival;
use crate::runner::exec::{AdapterError, AdapterLink};
use crate::runner::link::{Stall, StallKind};
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
            Err(e) => Err(wire_error(e)),
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
    fn flush_events(&mut self, _deadline: Instant) -> bool {
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

/// An IUT's error answer as the runner takes it. ADAPTER.md: `unknown_method`
/// is treated like `unsupported` (a method this IUT does not know).
fn wire_error(e: WireError) -> AdapterError {
    let text = format!("{}: {}", e.code.as_str(), e.message);
    match e.code {
        ErrorCode::Unsupported | ErrorCode::UnknownMethod => AdapterError::Unsupported(text),
        _ => AdapterError::Failed(text),
    }
}

/// The runner's link to an IUT's adapter: `tcp://HOST:PORT`, or a command whose
/// stdio speaks the protocol.
pub struct RemoteLink {
    client: AdapterClient,
    capabilities: Vec<String>,
    /// No call waits past this (the current case's limit); see [`AdapterLink::begin_case`].
    case_deadline: Option<Instant>,
    /// A call that timed out (or found the adapter gone) since the last `take_stall`.
    stall: Option<Stall>,
}

impl RemoteLink {
    /// Connects (or starts the command) and says `hello`; returns the link and the IUT's hello.
    pub fn open(spec: &str, timeout: Duration) -> Result<(RemoteLink, crate::adapter::response::HelloResult), String> {
        let mut client = if spec.starts_with("tcp://") {
            AdapterClient::connect_tcp(spec).map_err(|e| format!("adapter {spec}: {e}"))?
        } else {
            AdapterClient::spawn_shell(spec).map_err(|e| format!("adapter command {spec:?}: {e}"))?
        };
        client.set_timeout(timeout);
        let hello = client.hello("sidepool-conformance").map_err(|e| match e {
            ClientError::Timeout { .. } => {
                Stall { kind: StallKind::Timeout, detail: format!("no answer to hello within {} ms", timeout.as_millis()) }.to_string()
            }
            ClientError::Closed => Stall { kind: StallKind::Closed, detail: "before answering hello".into() }.to_string(),
            other => format!("adapter hello: {other}"),
        })?;
        let mut capabilities = hello.capabilities.clone();
        // `restart` is a method of protocol version 1: an IUT that lists it can restart.
        if hello.methods.iter().any(|m| m == "restart") && !capabilities.iter().any(|c| c == "restart") {
            capabilities.push("restart".into());
        }
        Ok((RemoteLink { client, capabilities, case_deadline: None, stall: None }, hello))
    }

    /// The IUT's node id and BOLT 8 address, from `identity`.
    pub fn identity(&mut self) -> Result<crate::adapter::response::IdentityResult, String> {
        match self.client.call(&Request::Identity(crate::adapter::request::NoParams {})) {
            Ok(Response::Identity(i)) => Ok(i),
            Ok(other) => Err(format!("identity: unexpected answer {other:?}")),
            Err(e) => Err(format!("identity: {e}")),
        }
    }

    /// Events queued now (none is waited for), each with when it arrived.
    pub fn drain_events(&mut self) -> Vec<(Arrival, Value)> {
        self.client.drain_events().into_iter().map(|(at, e)| (at, flatten_event(&e))).collect()
    }
}

impl AdapterLink for RemoteLink {
    fn call(&mut self, method: &str, params: &Value) -> Result<Value, AdapterError> {
        let request = request(method, params)?;
        let mut timeout = self.client.timeout();
        if let Some(deadline) = self.case_deadline {
            timeout = timeout.min(deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1)));
        }
        match self.client.call_with_timeout(&request, timeout) {
            Ok(r) => Ok(r.to_ok()),
            Err(ClientError::Remote(e)) => Err(wire_error(e)),
            Err(ClientError::Timeout { .. }) => {
                let detail = format!("no answer to {method} within {} ms", timeout.as_millis());
                self.stall.get_or_insert(Stall { kind: StallKind::Timeout, detail: detail.clone() });
                Err(AdapterError::Failed(format!("the IUT's adapter is not responding: {detail}")))
            }
            Err(ClientError::Closed) => {
                let stall = Stall { kind: StallKind::Closed, detail: format!("{method} could not be sent or answered") };
                let why = stall.to_string();
                self.stall = Some(stall);
                Err(AdapterError::Failed(why))
            }
            Err(e) => Err(AdapterError::Failed(e.to_string())),
        }
    }

    fn next_event(&mut self, deadline: Instant) -> Option<Value> {
        self.next_event_stamped(deadline).map(|(_, v)| v)
    }

    fn next_event_stamped(&mut self, deadline: Instant) -> Option<(Arrival, Value)> {
        let wait = deadline.saturating_duration_since(Instant::now());
        self.client.next_event_stamped(wait).map(|(at, e)| (at, flatten_event(&e)))
    }

    fn begin_case(&mut self, deadline: Instant) {
        self.case_deadline = Some(deadline);
    }

    fn take_violations(&mut self) -> Vec<String> {
        self.client.take_violations()
    }

    fn take_stall(&mut self) -> Option<Stall> {
        if self.stall.is_none() && self.client.is_closed() {
            self.stall = Some(Stall { kind: StallKind::Closed, detail: "its connection ended".into() });
        }
        self.stall.take()
    }

    /// A request round trip: the IUT writes every event it emitted before it
    /// answers (ADAPTER.md), so once `identity` is answered they are all queued.
    fn flush_events(&mut self, deadline: Instant) -> bool {
        let timeout = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1)).min(self.client.timeout());
        self.client.call_with_timeout(&Request::Identity(crate::adapter::request::NoParams {}), timeout).is_ok()
    }

    fn capabilities(&self) -> Vec<String> {
        self.capabilities.clone()
    }

    /// An IUT that declares `sync` (ADAPTER.md) can tell when it is idle.
    fn settles(&self) -> bool {
        self.capabilities.iter().any(|c| c == "sync")
    }

    /// `sync`, bounded by `deadline` (the step's window), the case's limit and
    /// the call timeout. The IUT cannot know how many connections the runner
    /// holds open: `sync` covers the closes that reached it before the request
    /// did. An error or a timeout only makes this step wait out its window; it
    /// is not recorded as a stall (a `sync` may fairly take longer than a short
    /// window), and an adapter that has really stopped answering fails the next
    /// ordinary call, which is.
    fn settle(&mut self, open_connections: usize, deadline: Instant) -> bool {
        let _ = open_connections;
        let mut timeout = deadline.saturating_duration_since(Instant::now()).min(self.client.timeout());
        if let Some(case) = self.case_deadline {
            timeout = timeout.min(case.saturating_duration_since(Instant::now()));
        }
        !timeout.is_zero() && self.client.sync(timeout).is_ok()
    }
}
