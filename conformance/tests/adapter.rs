//! The adapter protocol: the examples in ADAPTER.md against the JSON Schemas
//! and the Rust types, typed errors for bad input, and the server and client
//! over in-memory pipes, TCP and a child's stdio.

use proptest::prelude::*;
use serde_json::{json, Value};
use sidepool_conformance::adapter::codec::{self, Incoming};
use sidepool_conformance::adapter::event::{Event, Log, LogLevel, Persisted, PersistedWhat};
use sidepool_conformance::adapter::request::{NoParams, Request, SetBlockHeight};
use sidepool_conformance::adapter::{
    serve_lines, serve_tcp, AdapterClient, AdapterError, AdapterHandler, ClientError, ErrorCode, HelloResult,
    IdentityResult, Response, ServeEnd, MAX_LINE_BYTES, PROTOCOL_VERSION,
};
use sidepool_reference::units::{BlockHeight, PaymentHash, PoolId, PublicKey};
use std::collections::BTreeMap;
use std::io::{Cursor, Write};
use std::path::PathBuf;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn schema(kind: &str, name: &str) -> Value {
    let path = crate_dir()
        .join("adapter-schema")
        .join(kind)
        .join(format!("{name}.schema.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn assert_valid(kind: &str, name: &str, instance: &Value) {
    let validator = jsonschema::validator_for(&schema(kind, name)).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{kind}/{name} rejects {instance}: {errors:?}");
}

fn assert_invalid(kind: &str, name: &str, instance: &Value) {
    let validator = jsonschema::validator_for(&schema(kind, name)).unwrap();
    assert!(!validator.is_valid(instance), "{kind}/{name} should reject {instance}");
}

/// The ```json blocks of ADAPTER.md, each as its lines.
fn doc_blocks() -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(crate_dir().join("ADAPTER.md")).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in text.lines() {
        match (&mut current, line.trim()) {
            (None, "```json") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(lines), l) if !l.is_empty() => lines.push(l.to_string()),
            _ => {}
        }
    }
    blocks
}

fn response_schema_for(method: &str, response: &Value) -> &'static str {
    if response.get("error").is_some() {
        "error"
    } else {
        match method {
            "hello" => "hello",
            "identity" => "identity",
            _ => "done",
        }
    }
}

/// A request as the Rust types write it: `params` always present.
fn normalised_request(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(map) = v.as_object_mut() {
        if map.get("params").is_none_or(Value::is_null) {
            map.insert("params".into(), json!({}));
        }
    }
    v
}

#[test]
fn every_doc_example_validates_and_round_trips() {
    let mut methods_seen = BTreeMap::new();
    let mut events_seen = BTreeMap::new();
    for block in doc_blocks() {
        let first: Value = serde_json::from_str(&block[0]).unwrap_or_else(|e| panic!("{}: {e}", block[0]));
        if let Some(name) = first.get("event").and_then(Value::as_str) {
            assert_eq!(block.len(), 1, "an event block holds one line");
            assert_valid("events", name, &first);
            let Incoming::Event(event) = codec::decode_incoming(block[0].as_bytes()).unwrap() else {
                panic!("{} is not an event", block[0]);
            };
            assert_eq!(event.name(), name);
            let back: Value = serde_json::from_str(&codec::encode_event(&event)).unwrap();
            assert_eq!(back, first, "event round trip");
            *events_seen.entry(name.to_string()).or_insert(0) += 1;
            continue;
        }
        assert_eq!(
            block.len(),
            2,
            "a request block is a request and its response: {block:?}"
        );
        let method = first["method"].as_str().unwrap().to_string();
        let response: Value = serde_json::from_str(&block[1]).unwrap();
        assert_eq!(response["id"], first["id"], "the response echoes the id");
        assert_valid("responses", response_schema_for(&method, &response), &response);
        let error_code = response.pointer("/error/code").and_then(Value::as_str);
        let decoded = codec::decode_request(block[0].as_bytes());
        match error_code {
            Some(code @ ("invalid_request" | "unknown_method" | "bad_json")) => {
                let rejection = decoded.expect_err("the example request must be rejected");
                assert_eq!(rejection.error.code.as_str(), code);
                assert_eq!(rejection.error.message, response["error"]["message"].as_str().unwrap());
            }
            _ => {
                let (id, request) = decoded.unwrap_or_else(|r| panic!("{}: {:?}", block[0], r));
                assert_eq!(Some(id), first["id"].as_u64());
                assert_eq!(request.method(), method);
                assert_valid("requests", &method, &first);
                let back: Value = serde_json::from_str(&codec::encode_request(id, &request)).unwrap();
                assert_eq!(back, normalised_request(&first), "request round trip");
                *methods_seen.entry(method.clone()).or_insert(0) += 1;
            }
        }
        // The response round-trips through the typed layer too.
        let Incoming::Response { id, result } = codec::decode_incoming(block[1].as_bytes()).unwrap() else {
            panic!("{} is not a response", block[1]);
        };
        let typed = result.and_then(|ok| Response::from_ok(&method, ok).map_err(AdapterError::internal));
        let back: Value = serde_json::from_str(&codec::encode_response(id, &typed)).unwrap();
        assert_eq!(back, response, "response round trip");
    }
    for m in Request::METHODS {
        assert!(
            methods_seen.contains_key(*m),
            "ADAPTER.md has no accepted example of `{m}`"
        );
    }
    for e in Event::NAMES {
        assert!(events_seen.contains_key(*e), "ADAPTER.md has no example of event `{e}`");
    }
    assert_eq!(methods_seen["htlc_event"], 5, "one example per htlc_event kind");
}

fn schema_files(kind: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(crate_dir().join("adapter-schema").join(kind))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".schema.json").map(str::to_owned))
        .collect();
    names.sort();
    names
}

#[test]
fn one_schema_per_method_and_event_and_shared_defs_agree() {
    let mut methods: Vec<String> = Request::METHODS.iter().map(|s| s.to_string()).collect();
    methods.sort();
    assert_eq!(schema_files("requests"), methods);
    let mut events: Vec<String> = Event::NAMES.iter().map(|s| s.to_string()).collect();
    events.sort();
    assert_eq!(schema_files("events"), events);
    assert_eq!(schema_files("responses"), ["done", "error", "hello", "identity"]);
    // The schemas are self-contained, so shared definitions are repeated: they must not drift.
    let mut defs: BTreeMap<String, (String, Value)> = BTreeMap::new();
    for kind in ["requests", "responses", "events"] {
        for name in schema_files(kind) {
            let s = schema(kind, &name);
            assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
            jsonschema::validator_for(&s).unwrap_or_else(|e| panic!("{kind}/{name}: {e}"));
            for (def, body) in s.get("$defs").and_then(Value::as_object).into_iter().flatten() {
                let here = format!("{kind}/{name}");
                match defs.get(def) {
                    Some((first, seen)) => assert_eq!(seen, body, "$defs/{def} differs in {here} and {first}"),
                    None => {
                        defs.insert(def.clone(), (here, body.clone()));
                    }
                }
            }
        }
    }
}

#[test]
fn schemas_reject_what_the_decoder_rejects() {
    let base = json!({"id": 1, "method": "set_block_height", "params": {"height": 800000}});
    assert_valid("requests", "set_block_height", &base);
    assert_invalid(
        "requests",
        "set_block_height",
        &json!({"id": 1, "method": "set_block_height", "params": {}}),
    );
    assert_invalid(
        "requests",
        "set_block_height",
        &json!({"id": 1, "method": "set_block_height", "params": {"height": -1}}),
    );
    assert_invalid(
        "requests",
        "set_block_height",
        &json!({"id": 1, "method": "reset", "params": {"height": 1}}),
    );
    let channel = json!({"capacity_sat": 1, "ours_msat": 1, "theirs_msat": 0, "pending_htlcs_msat": 0,
        "reserve_msat": 0, "htlc_maximum_msat": 1, "state": "normal"});
    let peer = "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5";
    let no_id = json!({"id": 1, "method": "set_channels", "params": {"peer": peer, "channels": [channel]}});
    assert_invalid("requests", "set_channels", &no_id);
    assert_eq!(
        codec::decode_request(no_id.to_string().as_bytes())
            .unwrap_err()
            .error
            .code,
        ErrorCode::InvalidRequest
    );
    let counter = json!({"id": 1, "method": "set_pool", "params": {"pool_id": "000102030405060708090a0b0c0d0e0f",
        "participants": [peer], "leader": peer, "update_counter": 2048, "own_funds_sat": 0, "swap_party_begun": false}});
    assert_invalid("requests", "set_pool", &counter);
    let r = codec::decode_request(counter.to_string().as_bytes()).unwrap_err();
    assert!(r.error.message.contains("11 bits"), "{}", r.error.message);
}

fn rejection(line: &str) -> (Option<u64>, ErrorCode, String) {
    let r = codec::decode_request(line.as_bytes()).expect_err(line);
    (r.id, r.error.code, r.error.message)
}

#[test]
fn bad_lines_get_typed_errors() {
    let peer = "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5";
    let cases: &[(&str, Option<u64>, ErrorCode, &str)] = &[
        ("{not json", None, ErrorCode::BadJson, "not JSON"),
        ("", None, ErrorCode::BadJson, "not JSON"),
        ("[1,2]", None, ErrorCode::InvalidRequest, "an array"),
        (
            r#"{"method":"reset"}"#,
            None,
            ErrorCode::InvalidRequest,
            "missing field `id`",
        ),
        (
            r#"{"id":"1","method":"reset"}"#,
            None,
            ErrorCode::InvalidRequest,
            "`id`",
        ),
        (
            r#"{"id":4}"#,
            Some(4),
            ErrorCode::InvalidRequest,
            "missing field `method`",
        ),
        (
            r#"{"id":4,"method":7}"#,
            Some(4),
            ErrorCode::InvalidRequest,
            "`method` must be a string",
        ),
        (
            r#"{"id":5,"method":"launch_rockets"}"#,
            Some(5),
            ErrorCode::UnknownMethod,
            "launch_rockets",
        ),
        (
            r#"{"id":5,"method":"Reset"}"#,
            Some(5),
            ErrorCode::UnknownMethod,
            "Reset",
        ),
        (
            r#"{"id":6,"method":"set_block_height","params":[]}"#,
            Some(6),
            ErrorCode::InvalidRequest,
            "an array",
        ),
        (
            r#"{"id":6,"method":"set_block_height","params":{}}"#,
            Some(6),
            ErrorCode::InvalidRequest,
            "missing field `height`",
        ),
        (
            r#"{"id":6,"method":"set_block_height","params":{"height":4294967296}}"#,
            Some(6),
            ErrorCode::InvalidRequest,
            "u32",
        ),
        (
            r#"{"id":6,"method":"advance_clock","params":{"seconds":-5}}"#,
            Some(6),
            ErrorCode::InvalidRequest,
            "u64",
        ),
        (
            r#"{"id":6,"method":"start_swap_party","params":{"pool_id":"0001"}}"#,
            Some(6),
            ErrorCode::InvalidRequest,
            "expected 16 bytes",
        ),
        (
            r#"{"id":6,"method":"start_swap_party","params":{"pool_id":"zz0102030405060708090a0b0c0d0e0f"}}"#,
            Some(6),
            ErrorCode::InvalidRequest,
            "not hex",
        ),
    ];
    for (line, id, code, needle) in cases {
        let (got_id, got_code, message) = rejection(line);
        assert_eq!((got_id, got_code), (*id, *code), "{line}: {message}");
        assert!(message.contains(needle), "{line}: {message:?} lacks {needle:?}");
    }
    // A node id that is 33 bytes of hex but not a curve point.
    let off_curve = format!("02{}", "00".repeat(32));
    let line = json!({"id": 9, "method": "set_channels", "params": {"peer": off_curve, "channels": []}}).to_string();
    let (_, code, message) = rejection(&line);
    assert_eq!(code, ErrorCode::InvalidRequest);
    assert!(message.contains("not a compressed secp256k1 point"), "{message}");
    // The leader must be a participant.
    let other = "02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9";
    let line = json!({"id": 9, "method": "set_pool", "params": {"pool_id": "000102030405060708090a0b0c0d0e0f",
        "participants": [peer], "leader": other, "update_counter": 1, "own_funds_sat": 0, "swap_party_begun": false}})
    .to_string();
    assert!(rejection(&line).2.contains("leader"));
    // Invalid UTF-8.
    let r = codec::decode_request(b"{\"id\":1,\"method\":\"re\xffset\"}").unwrap_err();
    assert_eq!((r.id, r.error.code), (None, ErrorCode::BadJson));
    // Unknown members are ignored (how version 1 grows).
    let (_, req) =
        codec::decode_request(br#"{"id":1,"method":"set_block_height","params":{"height":5,"new":true},"x":1}"#)
            .unwrap();
    assert_eq!(req, Request::SetBlockHeight(SetBlockHeight { height: BlockHeight(5) }));
}

/// A writer whose bytes the test can read afterwards.
#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);
impl Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
impl SharedBuf {
    fn lines(&self) -> Vec<Value> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// The generator point G, a valid node id.
fn node_g() -> PublicKey {
    let bytes = hex::decode("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798").unwrap();
    PublicKey::from_bytes(bytes.try_into().unwrap()).unwrap()
}

/// A dummy IUT: records requests, emits a `persisted` event while handling
/// `start_swap_party`, supports neither `restart` nor `expansion_outcome`.
struct Dummy {
    seen: Vec<&'static str>,
    events: Sender<Event>,
}

impl AdapterHandler for Dummy {
    fn handle(&mut self, req: Request) -> Result<Response, AdapterError> {
        self.seen.push(req.method());
        match req {
            Request::Hello(_) => Ok(Response::Hello(HelloResult::new(
                "dummy",
                "0",
                &["hello", "identity", "reset"],
            ))),
            Request::Identity(_) => Ok(Response::Identity(IdentityResult {
                node_id: node_g(),
                listen: "127.0.0.1:9735".into(),
            })),
            Request::StartSwapParty(s) => {
                let event = Event::Persisted(Persisted {
                    what: PersistedWhat::SentInit,
                    pool_id: s.pool_id,
                    payment_hash: PaymentHash([7; 32]),
                });
                self.events
                    .send(event)
                    .map_err(|e| AdapterError::internal(e.to_string()))?;
                Ok(Response::Done)
            }
            Request::Restart(_) | Request::ExpansionOutcome(_) => Err(AdapterError::unsupported("not here")),
            _ => Ok(Response::Done),
        }
    }
}

fn dummy() -> (Dummy, mpsc::Receiver<Event>) {
    let (tx, rx) = mpsc::channel();
    (
        Dummy {
            seen: Vec::new(),
            events: tx,
        },
        rx,
    )
}

#[test]
fn serve_lines_answers_every_line_in_order() {
    let oversized = format!(
        "{{\"id\":99,\"method\":\"reset\",\"params\":{{\"pad\":\"{}\"}}}}",
        "x".repeat(MAX_LINE_BYTES)
    );
    let input = [
        r#"{"id":1,"method":"hello","params":{"protocol_version":1,"runner":"t"}}"#.to_string(),
        r#"{"id":2,"method":"hello","params":{"protocol_version":2,"runner":"t"}}"#.to_string(),
        String::new(),
        "garbage".to_string(),
        oversized,
        r#"{"id":3,"method":"start_swap_party","params":{"pool_id":"000102030405060708090a0b0c0d0e0f"}}"#.to_string(),
        r#"{"id":4,"method":"restart"}"#.to_string(),
        r#"{"id":5,"method":"shutdown"}"#.to_string(),
        r#"{"id":6,"method":"reset"}"#.to_string(),
    ]
    .join("\n");
    let out = SharedBuf::default();
    let (mut handler, events) = dummy();
    let end = serve_lines(Cursor::new(input.into_bytes()), out.clone(), &mut handler, events).unwrap();
    assert_eq!(end, ServeEnd::Shutdown);
    assert_eq!(
        handler.seen,
        ["hello", "start_swap_party", "restart", "shutdown"],
        "nothing after shutdown"
    );
    let lines = out.lines();
    assert_eq!(lines[0]["ok"]["protocol_version"], PROTOCOL_VERSION);
    assert_eq!(
        (&lines[1]["id"], &lines[1]["error"]["code"]),
        (&json!(2), &json!("version_mismatch"))
    );
    assert_eq!(
        (&lines[2]["id"], &lines[2]["error"]["code"]),
        (&Value::Null, &json!("bad_json"))
    );
    assert_eq!(
        (&lines[3]["id"], &lines[3]["error"]["code"]),
        (&Value::Null, &json!("bad_json"))
    );
    assert!(lines[3]["error"]["message"].as_str().unwrap().contains("longer than"));
    // The event emitted while handling request 3 comes before its response.
    assert_eq!(lines[4]["event"], "persisted");
    assert_eq!(lines[4]["params"]["what"], "sent_init");
    assert_eq!(lines[5], json!({"id": 3, "ok": {}}));
    assert_eq!(lines[6]["error"]["code"], "unsupported");
    assert_eq!(lines[7], json!({"id": 5, "ok": {}}));
    assert_eq!(lines.len(), 8);
    for line in &lines {
        if line.get("error").is_some() {
            assert_valid("responses", "error", line);
        }
    }
}

#[test]
fn serve_lines_ends_at_eof_and_forwards_idle_events() {
    let (tx, rx) = mpsc::channel();
    let (mut handler, _unused) = dummy();
    tx.send(Event::Log(Log {
        level: LogLevel::Info,
        message: "idle".into(),
    }))
    .unwrap();
    drop(tx);
    let out = SharedBuf::default();
    let end = serve_lines(
        Cursor::new(br#"{"id":1,"method":"reset"}"#.to_vec()),
        out.clone(),
        &mut handler,
        rx,
    )
    .unwrap();
    assert_eq!(end, ServeEnd::Eof);
    let lines = out.lines();
    assert!(lines.contains(&json!({"event": "log", "params": {"level": "info", "message": "idle"}})));
    assert!(lines.contains(&json!({"id": 1, "ok": {}})));
}

#[test]
fn client_and_server_over_loopback_tcp() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("tcp://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || serve_tcp(&listener, dummy));
    let mut client = AdapterClient::connect_tcp(&addr).unwrap();
    client.set_timeout(Duration::from_secs(60));
    let hello = client.hello("test").unwrap();
    assert_eq!(hello.name, "dummy");
    let Response::Identity(id) = client.call(&Request::Identity(NoParams {})).unwrap() else {
        panic!()
    };
    assert_eq!(id.node_id, node_g());
    let pool = PoolId([0x42; 16]);
    let start = Request::StartSwapParty(sidepool_conformance::adapter::request::StartSwapParty { pool_id: pool });
    assert_eq!(client.call(&start).unwrap(), Response::Done);
    // The event arrived before the response, was queued, and is still there.
    let Some(Event::Persisted(p)) = client.next_event(Duration::from_secs(60)) else {
        panic!("event lost")
    };
    assert_eq!(p.pool_id, pool);
    match client.call(&Request::Restart(NoParams {})) {
        Err(ClientError::Remote(e)) => assert_eq!(e.code, ErrorCode::Unsupported),
        other => panic!("{other:?}"),
    }
    assert_eq!(client.call(&Request::Shutdown(NoParams {})).unwrap(), Response::Done);
    server.join().unwrap().unwrap();
    assert!(client.take_violations().is_empty());
    assert!(matches!(
        client.call(&Request::Reset(NoParams {})),
        Err(ClientError::Closed | ClientError::Io(_))
    ));
}

#[test]
fn client_rejects_other_major_versions_and_bad_addresses() {
    assert!(matches!(
        AdapterClient::connect_tcp("http://x"),
        Err(ClientError::BadAddress(_))
    ));
    // A canned IUT over in-memory streams that claims version 2.
    let reply = b"{\"event\":\"log\",\"params\":{\"level\":\"warn\",\"message\":\"early\"}}\n{\"event\":\"future_thing\",\"params\":{}}\n{\"id\":1,\"ok\":{\"protocol_version\":2,\"name\":\"x\",\"version\":\"0\",\"methods\":[]}}\n";
    let mut client = AdapterClient::from_streams(Cursor::new(reply.to_vec()), std::io::sink());
    match client.hello("t") {
        Err(ClientError::VersionMismatch { runner, iut }) => assert_eq!((runner, iut), (1, 2)),
        other => panic!("{other:?}"),
    }
    let Some(Event::Log(log)) = client.next_event(Duration::from_secs(60)) else {
        panic!("log lost")
    };
    assert_eq!(log.message, "early");
    assert_eq!(client.take_violations(), ["unknown event `future_thing` skipped"]);
    assert_eq!(client.next_event(Duration::from_secs(60)), None, "stream closed");
    assert!(client.is_closed());
}

#[test]
fn client_files_stray_lines_as_violations_and_takes_null_id_errors_as_answers() {
    let reply = concat!(
        "{\"id\":7,\"ok\":{}}\n",
        "this is not json\n",
        "{\"id\":1,\"ok\":{}}\n",
        "{\"id\":null,\"error\":{\"code\":\"bad_json\",\"message\":\"not JSON\"}}\n",
        "{\"id\":3,\"ok\":[]}\n",
    );
    let mut client = AdapterClient::from_streams(Cursor::new(reply.as_bytes().to_vec()), std::io::sink());
    assert_eq!(client.call(&Request::Reset(NoParams {})).unwrap(), Response::Done);
    match client.call(&Request::Reset(NoParams {})) {
        Err(ClientError::Remote(e)) => assert_eq!(e.code, ErrorCode::BadJson),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        client.call(&Request::Reset(NoParams {})),
        Err(ClientError::BadResponse(_))
    ));
    let violations = client.take_violations();
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert!(violations[0].contains("no pending request"));
    assert!(violations[1].contains("malformed line"));
    assert!(matches!(
        client.call(&Request::Reset(NoParams {})),
        Err(ClientError::Closed)
    ));
}

#[test]
fn client_over_a_child_process_stdio() {
    // A one-line IUT in sh: reads the hello, answers it, then answers the next request unsupported.
    let script = r#"read l; echo '{"id":1,"ok":{"protocol_version":1,"name":"sh","version":"0","methods":["hello"]}}'; read l; echo '{"id":2,"error":{"code":"unsupported","message":"no"}}'; read l"#;
    let mut client = AdapterClient::spawn_shell(script).unwrap();
    client.set_timeout(Duration::from_secs(60));
    assert_eq!(client.hello("t").unwrap().name, "sh");
    match client.call(&Request::Reset(NoParams {})) {
        Err(ClientError::Remote(e)) => assert_eq!(e, AdapterError::unsupported("no")),
        other => panic!("{other:?}"),
    }
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics_the_decoders(s in ".{0,300}") {
        if let Err(r) = codec::decode_request(s.as_bytes()) {
            prop_assert!(!r.error.message.is_empty());
        }
        let _ = codec::decode_incoming(s.as_bytes());
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoders(b in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = codec::decode_request(&b);
        let _ = codec::decode_incoming(&b);
        let mut r = Cursor::new(b);
        for _ in 0..400 {
            if codec::read_line(&mut r, 16).unwrap() == codec::Line::Eof { break; }
        }
    }

    #[test]
    fn json_shaped_lines_get_typed_errors(
        id in prop_oneof![Just(json!(null)), any::<i64>().prop_map(|n| json!(n)), Just(json!("x"))],
        method in prop_oneof![Just("set_pool".to_string()), Just("htlc_event".to_string()), "[a-z_]{0,12}"],
        params in prop_oneof![Just(json!({})), Just(json!([])), Just(json!({"height": "x"})), Just(json!({"kind": "added"}))],
    ) {
        let line = json!({"id": id, "method": method, "params": params}).to_string();
        match codec::decode_request(line.as_bytes()) {
            Ok((_, req)) => prop_assert_eq!(req.method(), method.as_str()),
            Err(r) => {
                prop_assert!(matches!(r.error.code, ErrorCode::InvalidRequest | ErrorCode::UnknownMethod));
                if r.error.code == ErrorCode::UnknownMethod {
                    prop_assert!(!Request::METHODS.contains(&method.as_str()));
                }
            }
        }
    }

    #[test]
    fn set_block_height_round_trips(height in any::<u32>(), id in any::<u64>()) {
        let req = Request::SetBlockHeight(SetBlockHeight { height: BlockHeight(height) });
        let line = codec::encode_request(id, &req);
        prop_assert_eq!(codec::decode_request(line.trim_end().as_bytes()).unwrap(), (id, req));
        assert_valid("requests", "set_block_height", &serde_json::from_str(&line).unwrap());
    }
}

/// Typed values with every optional field both present and absent: what the
/// Rust side writes must satisfy the schemas and read back equal.
mod typed_round_trips {
    use super::*;
    use sidepool_conformance::adapter::event::{
        ExpansionOutputRequested, HtlcAdd, HtlcFail, HtlcFulfil, PeerswapForgotten,
    };
    use sidepool_conformance::adapter::request::{
        AdvanceClock, Channel, ChannelState, Direction, EndSwapParty, ExpansionOutcome, ExpansionOutput, FeeInputs,
        HtlcAdded, HtlcEvent, HtlcFulfilled, HtlcRef, OnionPayload, SetChannels, SetNodeSettings, SetPool,
        SwapPartyOutcome,
    };
    use sidepool_conformance::adapter::values::{ChannelId, HexBytes, Preimage, ShortChannelId, XOnlyKey};
    use sidepool_reference::units::{BlockDelta, Msat, PaymentSecret, Sat, UpdateCounter};

    const KEYS: [&str; 3] = [
        "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
        "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5",
        "02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9",
    ];

    fn node() -> impl Strategy<Value = PublicKey> {
        (0usize..3).prop_map(|i| PublicKey::from_bytes(hex::decode(KEYS[i]).unwrap().try_into().unwrap()).unwrap())
    }
    fn msat() -> impl Strategy<Value = Msat> {
        any::<u64>().prop_map(Msat)
    }
    fn sat() -> impl Strategy<Value = Sat> {
        any::<u64>().prop_map(Sat)
    }
    fn height() -> impl Strategy<Value = BlockHeight> {
        any::<u32>().prop_map(BlockHeight)
    }
    fn bytes32() -> impl Strategy<Value = [u8; 32]> {
        any::<[u8; 32]>()
    }
    fn scid() -> impl Strategy<Value = ShortChannelId> {
        (0u32..(1 << 24), 0u32..(1 << 24), any::<u16>()).prop_map(|(b, t, o)| ShortChannelId::new(b, t, o).unwrap())
    }
    fn direction() -> impl Strategy<Value = Direction> {
        prop_oneof![Just(Direction::Incoming), Just(Direction::Outgoing)]
    }
    fn onion() -> impl Strategy<Value = OnionPayload> {
        (
            msat(),
            height(),
            proptest::option::of(msat()),
            proptest::option::of(bytes32()),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 1..40)),
            proptest::option::of(scid()),
        )
            .prop_map(|(a, c, t, s, m, i)| OnionPayload {
                amt_to_forward_msat: a,
                outgoing_cltv_value: c,
                total_msat: t,
                payment_secret: s.map(PaymentSecret),
                payment_metadata: m.map(HexBytes),
                short_channel_id: i,
            })
    }
    fn channel() -> impl Strategy<Value = Channel> {
        let state = prop_oneof![
            Just(ChannelState::AwaitingChannelReady),
            Just(ChannelState::Normal),
            Just(ChannelState::ShuttingDown),
            Just(ChannelState::Errored),
            Just(ChannelState::UnilateralClose),
        ];
        let ids = prop_oneof![
            scid().prop_map(|s| (Some(s), None)),
            bytes32().prop_map(|c| (None, Some(ChannelId(c)))),
            (scid(), bytes32()).prop_map(|(s, c)| (Some(s), Some(ChannelId(c)))),
        ];
        (
            ids,
            sat(),
            msat(),
            msat(),
            msat(),
            msat(),
            msat(),
            proptest::option::of(msat()),
            state,
        )
            .prop_map(
                |((s, c), cap, ours, theirs, pending, reserve, max, local, state)| Channel {
                    short_channel_id: s,
                    channel_id: c,
                    capacity_sat: cap,
                    ours_msat: ours,
                    theirs_msat: theirs,
                    pending_htlcs_msat: pending,
                    reserve_msat: reserve,
                    htlc_maximum_msat: max,
                    local_htlc_maximum_msat: local,
                    state,
                },
            )
    }
    fn htlc_ref() -> impl Strategy<Value = HtlcRef> {
        (any::<u64>(), node(), direction()).prop_map(|(htlc_id, peer, direction)| HtlcRef {
            htlc_id,
            peer,
            direction,
        })
    }

    fn request() -> impl Strategy<Value = Request> {
        let htlc = prop_oneof![
            (any::<u64>(), node(), direction(), msat(), bytes32(), height(), onion()).prop_map(
                |(htlc_id, peer, direction, amount_msat, h, cltv_expiry, onion)| {
                    HtlcEvent::Added(HtlcAdded {
                        htlc_id,
                        peer,
                        direction,
                        amount_msat,
                        payment_hash: PaymentHash(h),
                        cltv_expiry,
                        onion,
                    })
                }
            ),
            htlc_ref().prop_map(HtlcEvent::IrrevocablyCommitted),
            (htlc_ref(), proptest::option::of(bytes32())).prop_map(|(r, p)| HtlcEvent::Fulfilled(HtlcFulfilled {
                htlc_id: r.htlc_id,
                peer: r.peer,
                direction: r.direction,
                preimage: p.map(Preimage),
            })),
            htlc_ref().prop_map(HtlcEvent::Failed),
            htlc_ref().prop_map(HtlcEvent::RemovalCommitted),
        ];
        prop_oneof![
            (node(), proptest::collection::vec(channel(), 0..3))
                .prop_map(|(peer, channels)| Request::SetChannels(SetChannels { peer, channels })),
            (any::<[u8; 16]>(), 0u16..=2047, sat(), any::<bool>()).prop_map(|(id, c, funds, begun)| {
                let keys: Vec<PublicKey> = KEYS
                    .iter()
                    .map(|k| PublicKey::from_bytes(hex::decode(k).unwrap().try_into().unwrap()).unwrap())
                    .collect();
                Request::SetPool(SetPool {
                    pool_id: PoolId(id),
                    leader: keys[1],
                    participants: keys,
                    update_counter: UpdateCounter::new(c).unwrap(),
                    own_funds_sat: funds,
                    swap_party_begun: begun,
                })
            }),
            (any::<u32>(), any::<u32>()).prop_map(|(a, b)| Request::SetNodeSettings(SetNodeSettings {
                cltv_delta: BlockDelta(a),
                final_cltv_delta: BlockDelta(b)
            })),
            (
                any::<[u8; 16]>(),
                proptest::collection::vec((bytes32(), sat()), 0..3),
                sat(),
                any::<u32>()
            )
                .prop_map(|(id, outs, fees, count)| Request::ExpansionOutcome(ExpansionOutcome {
                    pool_id: PoolId(id),
                    outputs: outs
                        .into_iter()
                        .map(|(k, a)| ExpansionOutput {
                            output_key: XOnlyKey(k),
                            amount_sat: a
                        })
                        .collect(),
                    fee_inputs: FeeInputs {
                        total_offchain_fees_sat: fees,
                        output_count: count
                    },
                })),
            (any::<[u8; 16]>(), any::<bool>()).prop_map(|(id, done)| Request::EndSwapParty(EndSwapParty {
                pool_id: PoolId(id),
                outcome: if done {
                    SwapPartyOutcome::Completed
                } else {
                    SwapPartyOutcome::PoolAborted
                },
            })),
            htlc.prop_map(Request::HtlcEvent),
            any::<u64>().prop_map(|seconds| Request::AdvanceClock(AdvanceClock { seconds })),
        ]
    }

    fn event() -> impl Strategy<Value = Event> {
        let what = prop_oneof![
            Just(PersistedWhat::ForwardRecord),
            Just(PersistedWhat::ForwardRecordDeleted),
            Just(PersistedWhat::SentInit),
            Just(PersistedWhat::HtlcDetails),
            Just(PersistedWhat::LightningPaymentDetails),
        ];
        prop_oneof![
            (any::<u64>(), node(), msat(), bytes32(), height(), onion()).prop_map(|(htlc_id, peer, a, h, c, onion)| {
                Event::HtlcAdd(HtlcAdd {
                    htlc_id,
                    peer,
                    amount_msat: a,
                    payment_hash: PaymentHash(h),
                    cltv_expiry: c,
                    onion,
                })
            }),
            (any::<u64>(), node(), bytes32()).prop_map(|(htlc_id, peer, p)| Event::HtlcFulfil(HtlcFulfil {
                htlc_id,
                peer,
                preimage: Preimage(p)
            })),
            (any::<u64>(), node(), proptest::option::of(".{0,20}"))
                .prop_map(|(htlc_id, peer, reason)| Event::HtlcFail(HtlcFail { htlc_id, peer, reason })),
            (any::<[u8; 16]>(), bytes32(), sat()).prop_map(|(id, k, a)| {
                Event::ExpansionOutputRequested(ExpansionOutputRequested {
                    pool_id: PoolId(id),
                    output_key: XOnlyKey(k),
                    amount_sat: a,
                })
            }),
            (any::<[u8; 16]>(), bytes32(), node(), ".{0,20}").prop_map(|(id, h, peer, reason)| {
                Event::PeerswapForgotten(PeerswapForgotten {
                    pool_id: PoolId(id),
                    payment_hash: PaymentHash(h),
                    peer,
                    reason,
                })
            }),
            (what, any::<[u8; 16]>(), bytes32()).prop_map(|(what, id, h)| Event::Persisted(Persisted {
                what,
                pool_id: PoolId(id),
                payment_hash: PaymentHash(h)
            })),
            ".{0,40}".prop_map(|message| Event::Log(Log {
                level: LogLevel::Debug,
                message
            })),
        ]
    }

    proptest! {
        #[test]
        fn requests_satisfy_their_schema_and_read_back(req in request(), id in any::<u64>()) {
            let line = codec::encode_request(id, &req);
            prop_assert!(line.ends_with('\n') && !line.trim_end().contains('\n'));
            assert_valid("requests", req.method(), &serde_json::from_str(&line).unwrap());
            prop_assert_eq!(codec::decode_request(line.trim_end().as_bytes()).unwrap(), (id, req));
        }

        #[test]
        fn events_satisfy_their_schema_and_read_back(event in event()) {
            let line = codec::encode_event(&event);
            assert_valid("events", event.name(), &serde_json::from_str(&line).unwrap());
            prop_assert_eq!(codec::decode_incoming(line.as_bytes()).unwrap(), Incoming::Event(event));
        }
    }
}
