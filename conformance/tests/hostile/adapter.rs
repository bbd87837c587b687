//! The hostile IUT's adapter: a TCP JSON-lines server written by hand (not the
//! crate's server), so it can break the protocol: stay silent, answer with the
//! wrong id, write junk or over-long lines, flood events, leave mid-run.

use serde_json::{json, Value};
use sidepool_reference::units::PublicKey;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdapterBehaviour {
    /// Answers `ok` to everything and does nothing: a world it never sets up.
    Inert,
    /// Never answers anything, `hello` included.
    Silent,
    /// Answers `hello` and `identity`, then nothing more.
    StallAfterIdentity,
    /// After `hello` and `identity`, answers with another id.
    WrongIds,
    /// Writes junk lines (not JSON, not an object, an unknown event) before every answer.
    Junk,
    /// Writes a 2 MiB line before every answer after `identity`.
    OverLong,
    /// Answers `unknown_method` to everything but `hello`, `identity` and `reset`.
    UnknownMethod,
    /// Closes its connection (and so leaves the run) at the `n`th `reset`.
    ExitAtReset(u32),
    /// After every `reset` answer, writes `total` bytes of `log` events of `line` bytes each.
    EventFlood { line: usize, total: usize },
    /// Writes a `log` event just before every `reset` answer (left over from "the previous case").
    EventBeforeResetAnswer,
    /// Writes a `log` event this long after every `reset` answer.
    EventAfterReset(Duration),
}

pub struct AdapterIut {
    pub url: String,
    /// Runner connections that have ended (the runner hung up, or every process holding it died).
    pub ended: Arc<AtomicU32>,
}

const METHODS: &[&str] = &[
    "hello", "reset", "identity", "set_block_height", "set_node_settings", "set_pool", "set_channels", "start_swap_party",
    "expansion_outcome", "end_swap_party", "htlc_event", "advance_clock", "restart", "shutdown",
];

impl AdapterIut {
    /// Serves one runner connection at a time; `node_id` and `listen` are what `identity` says.
    pub fn start(behaviour: AdapterBehaviour, node_id: PublicKey, listen: SocketAddr) -> AdapterIut {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("tcp://{}", listener.local_addr().expect("addr"));
        let ended = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&ended);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = serve(stream, &behaviour, node_id, listen);
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        AdapterIut { url, ended }
    }
}

type Writer = Arc<Mutex<TcpStream>>;

fn write_line(w: &Writer, line: &str) -> bool {
    let Ok(mut s) = w.lock() else { return false };
    s.write_all(line.as_bytes()).and_then(|()| s.write_all(b"\n")).is_ok()
}

fn log_event(message: &str) -> String {
    json!({"event": "log", "params": {"level": "info", "message": message}}).to_string()
}

fn serve(stream: TcpStream, b: &AdapterBehaviour, node_id: PublicKey, listen: SocketAddr) -> Option<()> {
    let writer: Writer = Arc::new(Mutex::new(stream.try_clone().ok()?));
    let mut reader = BufReader::new(stream);
    let mut resets = 0u32;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return Some(());
        }
        let Ok(request) = serde_json::from_str::<Value>(&line) else { continue };
        let id = request.get("id").cloned().unwrap_or(Value::Null);
        let method = request.get("method").and_then(Value::as_str).unwrap_or_default().to_owned();
        let ok = match method.as_str() {
            "hello" => json!({"protocol_version": 1, "name": "hostile-iut", "version": "0", "methods": METHODS}),
            "identity" => json!({"node_id": hex::encode(node_id.as_bytes()), "listen": listen.to_string()}),
            _ => json!({}),
        };
        let setup = matches!(method.as_str(), "hello" | "identity");
        let mut answer = json!({"id": id, "ok": ok});
        match b {
            AdapterBehaviour::Silent => continue,
            AdapterBehaviour::StallAfterIdentity if !setup => continue,
            AdapterBehaviour::WrongIds if !setup => answer["id"] = json!(id.as_u64().unwrap_or(0) + 1000),
            AdapterBehaviour::Junk => {
                for junk in ["this is not json", "[1, 2, 3]", "{\"id\": \"seven\", \"ok\": {}}", &json!({"event": "bogus_event", "params": {}}).to_string()] {
                    write_line(&writer, junk);
                }
            }
            AdapterBehaviour::OverLong if !setup => {
                write_line(&writer, &"x".repeat(2 << 20));
            }
            AdapterBehaviour::UnknownMethod if !setup && method != "reset" => {
                answer = json!({"id": id, "error": {"code": "unknown_method", "message": format!("{method}? never heard of it")}});
            }
            AdapterBehaviour::ExitAtReset(n) if method == "reset" => {
                resets += 1;
                if resets >= *n {
                    if let Ok(s) = writer.lock() {
                        let _ = s.shutdown(Shutdown::Both);
                    }
                    return Some(());
                }
            }
            AdapterBehaviour::EventBeforeResetAnswer if method == "reset" => {
                write_line(&writer, &log_event("left over from an earlier case"));
            }
            _ => {}
        }
        if !write_line(&writer, &answer.to_string()) {
            return Some(());
        }
        if method == "reset" {
            match b {
                AdapterBehaviour::EventFlood { line, total } => {
                    let (w, line, total) = (Arc::clone(&writer), *line, *total);
                    thread::spawn(move || {
                        let event = log_event(&"y".repeat(line.saturating_sub(60)));
                        let mut sent = 0;
                        while sent < total && write_line(&w, &event) {
                            sent += event.len();
                        }
                    });
                }
                AdapterBehaviour::EventAfterReset(after) => {
                    let (w, after) = (Arc::clone(&writer), *after);
                    thread::spawn(move || {
                        thread::sleep(after);
                        write_line(&w, &log_event("late"));
                    });
                }
                _ => {}
            }
        }
    }
}
