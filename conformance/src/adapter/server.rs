//! The IUT side: read request lines, hand them to an [`AdapterHandler`],
//! write responses, and interleave the events the IUT emits.
//!
//! Blocking and thread-based on purpose: a node wraps it as it likes.

use super::codec::{self, Line, MAX_LINE_BYTES};
use super::event::Event;
use super::request::Request;
use super::response::{AdapterError, ErrorCode, HelloResult, Response};
use super::PROTOCOL_VERSION;
use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::time::Duration;

/// What an implementation under test provides: one answer per request.
///
/// Return [`AdapterError::unsupported`] for what the IUT cannot do. `hello`
/// reaches the handler only when its major version matches
/// [`PROTOCOL_VERSION`] (the server answers `version_mismatch` otherwise).
pub trait AdapterHandler {
    fn handle(&mut self, req: Request) -> Result<Response, AdapterError>;
}

impl HelloResult {
    /// A `hello` answer for this protocol version.
    pub fn new(name: impl Into<String>, version: impl Into<String>, methods: &[&str]) -> HelloResult {
        HelloResult {
            protocol_version: PROTOCOL_VERSION,
            name: name.into(),
            version: version.into(),
            methods: methods.iter().map(|m| (*m).to_string()).collect(),
            capabilities: Vec::new(),
        }
    }

    /// The same answer, declaring optional capabilities.
    pub fn with_capabilities(mut self, capabilities: &[&str]) -> HelloResult {
        self.capabilities = capabilities.iter().map(|c| (*c).to_string()).collect();
        self
    }
}

/// Why [`serve_lines`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServeEnd {
    /// The runner closed its side.
    Eof,
    /// `shutdown` was answered `ok`.
    Shutdown,
}

/// How long the event writer waits for an event with the queue locked. A
/// response waits for the queue (events go before it), so this bounds the
/// latency every request pays: short, or a `sync` barrier per step adds up.
const EVENT_POLL: Duration = Duration::from_millis(1);

/// Serves one runner connection until end of input or `shutdown`.
///
/// Events sent on `events` are written as they come; those the handler
/// queued before returning from a request are written before its response.
pub fn serve_lines<R, W, H>(mut reader: R, writer: W, handler: &mut H, events: Receiver<Event>) -> io::Result<ServeEnd>
where
    R: BufRead,
    W: Write + Send,
    H: AdapterHandler + ?Sized,
{
    let writer = Mutex::new(writer);
    let events = Mutex::new(events);
    let done = AtomicBool::new(false);
    let responding = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let event_writer = scope.spawn(|| forward_events(&events, &writer, &done, &responding));
        let queue = EventQueue {
            events: &events,
            responding: &responding,
        };
        let result = serve_requests(&mut reader, &writer, handler, &queue);
        done.store(true, Ordering::SeqCst);
        // The event writer only stops early on a write error, which the request loop also sees.
        let _ = event_writer.join();
        result
    })
}

/// The event queue as the request loop sees it.
struct EventQueue<'a> {
    events: &'a Mutex<Receiver<Event>>,
    /// Set while the request loop wants the queue: the event writer stands aside.
    responding: &'a AtomicBool,
}

fn forward_events<W: Write>(
    events: &Mutex<Receiver<Event>>,
    writer: &Mutex<W>,
    done: &AtomicBool,
    responding: &AtomicBool,
) {
    while !done.load(Ordering::SeqCst) {
        if responding.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        // The queue stays locked while its event is written, so `drain_events`
        // cannot slip a response in between receiving and writing.
        let Ok(rx) = events.lock() else { return };
        match rx.recv_timeout(EVENT_POLL) {
            Ok(event) => {
                if write_line(writer, &codec::encode_event(&event)).is_err() {
                    return;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        drop(rx);
    }
}

fn serve_requests<R, W, H>(
    reader: &mut R,
    writer: &Mutex<W>,
    handler: &mut H,
    events: &EventQueue<'_>,
) -> io::Result<ServeEnd>
where
    R: BufRead,
    W: Write,
    H: AdapterHandler + ?Sized,
{
    loop {
        let line = match codec::read_line(reader, MAX_LINE_BYTES)? {
            Line::Eof => return Ok(ServeEnd::Eof),
            Line::TooLong => {
                let r = codec::too_long_rejection();
                write_line(writer, &codec::encode_response(r.id, &Err(r.error)))?;
                continue;
            }
            Line::Text(t) => t,
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue; // blank lines are keep-alives, not requests
        }
        let (id, request) = match codec::decode_request(&line) {
            Ok(ok) => ok,
            Err(r) => {
                write_line(writer, &codec::encode_response(r.id, &Err(r.error)))?;
                continue;
            }
        };
        let is_shutdown = matches!(request, Request::Shutdown(_));
        let result = match &request {
            Request::Hello(h) if h.protocol_version != PROTOCOL_VERSION => Err(AdapterError::new(
                ErrorCode::VersionMismatch,
                format!(
                    "runner speaks protocol {}, this IUT speaks {PROTOCOL_VERSION}",
                    h.protocol_version
                ),
            )),
            _ => handler.handle(request),
        };
        drain_events(events, writer)?;
        write_line(writer, &codec::encode_response(Some(id), &result))?;
        if is_shutdown && result.is_ok() {
            return Ok(ServeEnd::Shutdown);
        }
    }
}

/// Writes the events already queued, so they precede the next response.
fn drain_events<W: Write>(queue: &EventQueue<'_>, writer: &Mutex<W>) -> io::Result<()> {
    queue.responding.store(true, Ordering::SeqCst);
    let drained = (|| {
        let rx = queue
            .events
            .lock()
            .map_err(|_| io::Error::other("event queue lock poisoned"))?;
        while let Ok(event) = rx.try_recv() {
            write_line(writer, &codec::encode_event(&event))?;
        }
        Ok(())
    })();
    queue.responding.store(false, Ordering::SeqCst);
    drained
}

fn write_line<W: Write>(writer: &Mutex<W>, line: &str) -> io::Result<()> {
    let mut w = writer.lock().map_err(|_| io::Error::other("writer lock poisoned"))?;
    w.write_all(line.as_bytes())?;
    w.flush()
}

/// Serves runners on `listener`, one connection at a time, each with a fresh
/// handler and event queue from `factory`, until a `shutdown` is answered.
pub fn serve_tcp<F, H>(listener: &TcpListener, mut factory: F) -> io::Result<()>
where
    F: FnMut() -> (H, Receiver<Event>),
    H: AdapterHandler,
{
    loop {
        let (stream, _peer) = listener.accept()?;
        // Events and the response are separate small writes: without this, Nagle
        // holds each back until the runner acknowledges the previous one (a
        // delayed ACK is 40 ms on Linux), which a `sync` barrier pays per step.
        stream.set_nodelay(true)?;
        let reader = BufReader::new(stream.try_clone()?);
        let (mut handler, events) = factory();
        if serve_lines(reader, stream, &mut handler, events)? == ServeEnd::Shutdown {
            return Ok(());
        }
    }
}

/// Serves the runner over this process's stdin/stdout (the `--adapter CMD` transport).
pub fn serve_stdio<H: AdapterHandler + ?Sized>(handler: &mut H, events: Receiver<Event>) -> io::Result<ServeEnd> {
    serve_lines(io::stdin().lock(), io::stdout(), handler, events)
}
