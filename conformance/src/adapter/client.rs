//! The runner side: connect to an IUT's adapter, send requests, wait for
//! their responses, and collect events. Events that arrive while a response
//! is awaited are queued for [`AdapterClient::next_event`].
//!
//! Bounded whatever the IUT writes: the reader thread hands over at most
//! [`READER_QUEUE`] lines at a time (each at most 1 MiB), the event queue keeps
//! at most [`MAX_QUEUED_EVENTS`] events and [`MAX_QUEUED_EVENT_BYTES`] bytes
//! (the oldest are dropped, and the drop is reported as a violation), and at
//! most [`MAX_VIOLATIONS`] violations are kept between two
//! [`AdapterClient::take_violations`] (the rest are counted).

use super::codec::{self, Incoming, Line, MAX_LINE_BYTES};
use super::event::Event;
use super::request::{Hello, Request};
use super::response::{AdapterError, HelloResult, Response};
use super::PROTOCOL_VERSION;
use crate::runner::arrival::Arrival;
use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::io::{self, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

/// How long [`AdapterClient::call`] waits for a response unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Lines the reader thread may have read ahead of the client (it then waits).
pub const READER_QUEUE: usize = 16;
/// Events kept until taken; beyond this the oldest is dropped.
pub const MAX_QUEUED_EVENTS: usize = 1024;
/// Bytes (as received) of the events kept until taken; beyond this the oldest is dropped.
pub const MAX_QUEUED_EVENT_BYTES: usize = 16 << 20;
/// Violations kept between two [`AdapterClient::take_violations`]; later ones are counted.
pub const MAX_VIOLATIONS: usize = 32;

/// Why a call did not give a response.
#[derive(Debug)]
pub enum ClientError {
    /// Reading or writing the transport failed, or the command did not start.
    Io(io::Error),
    /// No response within the timeout.
    Timeout { method: &'static str },
    /// The IUT closed the connection (or exited).
    Closed,
    /// The IUT answered with an error.
    Remote(AdapterError),
    /// The IUT's answer did not decode as a response to this method.
    BadResponse(String),
    /// `hello` showed different protocol major versions.
    VersionMismatch { runner: u32, iut: u32 },
    /// The address is not `tcp://HOST:PORT` (or `HOST:PORT`).
    BadAddress(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Io(e) => write!(f, "adapter I/O ({:?}): {e}", e.kind()),
            ClientError::Timeout { method } => write!(f, "adapter: no response to {method} in time"),
            ClientError::Closed => f.write_str("adapter: the IUT closed the connection"),
            ClientError::Remote(e) => write!(f, "adapter: IUT answered {e}"),
            ClientError::BadResponse(m) => write!(f, "adapter: bad response: {m}"),
            ClientError::VersionMismatch { runner, iut } => {
                write!(f, "adapter: runner speaks protocol {runner}, IUT speaks {iut}")
            }
            ClientError::BadAddress(a) => write!(f, "adapter: bad address {a:?} (want tcp://HOST:PORT)"),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<io::Error> for ClientError {
    fn from(e: io::Error) -> Self {
        ClientError::Io(e)
    }
}

/// What the reader thread passes on: a line (decoded, with when it arrived and
/// its length on the wire), or the end of the stream.
enum FromIut {
    Line(Box<Result<Incoming, String>>, Arrival, usize),
    Closed,
}

/// What to release when the client goes.
enum Transport {
    Tcp(TcpStream),
    Child(Child),
    Streams,
}

/// A connection to one IUT's adapter.
pub struct AdapterClient {
    writer: Box<dyn Write + Send>,
    incoming: Receiver<FromIut>,
    /// Queued events, when each arrived and its size on the wire.
    events: VecDeque<(Arrival, Event, usize)>,
    event_bytes: usize,
    next_id: u64,
    timeout: Duration,
    /// Ids whose call timed out: their late responses are dropped quietly.
    abandoned: HashSet<u64>,
    violations: Vec<String>,
    /// Violations beyond [`MAX_VIOLATIONS`] since the last take, counted.
    violations_elided: u64,
    /// Events dropped from a full queue since the last take.
    events_dropped: u64,
    closed: bool,
    transport: Transport,
}

impl AdapterClient {
    /// Connects to an IUT listening on `tcp://HOST:PORT` (the scheme may be omitted).
    pub fn connect_tcp(addr: &str) -> Result<AdapterClient, ClientError> {
        let hostport = addr.strip_prefix("tcp://").unwrap_or(addr);
        if hostport.is_empty() || !hostport.contains(':') || hostport.contains('/') {
            return Err(ClientError::BadAddress(addr.to_string()));
        }
        let stream = TcpStream::connect(hostport)?;
        stream.set_nodelay(true)?;
        let reader = stream.try_clone()?;
        let writer = stream.try_clone()?;
        let mut client = AdapterClient::from_streams(reader, writer);
        client.transport = Transport::Tcp(stream);
        Ok(client)
    }

    /// Starts `command` with piped stdin/stdout (stderr is left as the caller
    /// set it: it is the IUT's log) and speaks the protocol over them.
    ///
    /// On Unix the command runs in its own process group, and the whole group
    /// is ended when the client goes: a compound command (`a | b`, `x & y`)
    /// leaves nothing behind.
    pub fn spawn_command(mut command: Command) -> Result<AdapterClient, ClientError> {
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
        }
        let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            end_process_group(&mut child);
            return Err(ClientError::Io(io::Error::other("child has no piped stdin/stdout")));
        };
        let mut client = AdapterClient::from_streams(stdout, stdin);
        client.transport = Transport::Child(child);
        Ok(client)
    }

    /// Starts `sh -c CMDLINE` (the `--adapter CMD` option); its stderr goes to ours.
    pub fn spawn_shell(cmdline: &str) -> Result<AdapterClient, ClientError> {
        let mut command = Command::new("sh");
        command.arg("-c").arg(cmdline).stderr(Stdio::inherit());
        AdapterClient::spawn_command(command)
    }

    /// Speaks the protocol over any pair of byte streams (tests, in-process IUTs).
    pub fn from_streams<R, W>(reader: R, writer: W) -> AdapterClient
    where
        R: Read + Send + 'static,
        W: Write + Send + 'static,
    {
        let (tx, rx) = mpsc::sync_channel(READER_QUEUE);
        std::thread::spawn(move || read_from_iut(BufReader::new(reader), tx));
        AdapterClient {
            writer: Box::new(writer),
            incoming: rx,
            events: VecDeque::new(),
            event_bytes: 0,
            next_id: 1,
            timeout: DEFAULT_TIMEOUT,
            abandoned: HashSet::new(),
            violations: Vec::new(),
            violations_elided: 0,
            events_dropped: 0,
            closed: false,
            transport: Transport::Streams,
        }
    }

    /// How long [`call`](Self::call) waits for each response.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
        // An IUT that stops reading must not hold a request's write forever either.
        if let Transport::Tcp(stream) = &self.transport {
            let _ = stream.set_write_timeout(Some(timeout.max(Duration::from_millis(1))));
        }
    }

    /// The timeout [`call`](Self::call) uses.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends `request` and waits for its response (at most the client's timeout).
    pub fn call(&mut self, request: &Request) -> Result<Response, ClientError> {
        self.call_with_timeout(request, self.timeout)
    }

    /// Sends `request` and waits at most `timeout` for its response. A response
    /// that comes later is dropped quietly.
    pub fn call_with_timeout(&mut self, request: &Request, timeout: Duration) -> Result<Response, ClientError> {
        let method = request.method();
        let ok = self.call_raw(request, timeout)?;
        Response::from_ok(method, ok).map_err(|e| ClientError::BadResponse(format!("{method}: {e}")))
    }

    /// `sync` (ADAPTER.md): `Ok` once the IUT says it is settled; an error
    /// answer or a timeout means it could not tell in time.
    pub fn sync(&mut self, timeout: Duration) -> Result<(), ClientError> {
        self.call_with_timeout(&Request::Sync(super::request::NoParams {}), timeout).map(|_| ())
    }

    /// The first exchange: checks the protocol major version and returns the IUT's self-description.
    pub fn hello(&mut self, runner: &str) -> Result<HelloResult, ClientError> {
        let request = Request::Hello(Hello {
            protocol_version: PROTOCOL_VERSION,
            runner: runner.to_string(),
        });
        match self.call(&request) {
            Ok(Response::Hello(h)) if h.protocol_version == PROTOCOL_VERSION => Ok(h),
            Ok(Response::Hello(h)) => Err(ClientError::VersionMismatch {
                runner: PROTOCOL_VERSION,
                iut: h.protocol_version,
            }),
            Ok(other) => Err(ClientError::BadResponse(format!("hello answered with {other:?}"))),
            Err(e) => Err(e),
        }
    }

    /// Sends `request` and returns the raw `ok` object.
    fn call_raw(&mut self, request: &Request, timeout: Duration) -> Result<serde_json::Value, ClientError> {
        if self.closed {
            return Err(ClientError::Closed);
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let line = codec::encode_request(id, request);
        if let Err(e) = self
            .writer
            .write_all(line.as_bytes())
            .and_then(|()| self.writer.flush())
        {
            return Err(match e.kind() {
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => {
                    self.closed = true;
                    ClientError::Closed
                }
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ClientError::Timeout { method: request.method() },
                _ => ClientError::Io(e),
            });
        }
        let deadline = Instant::now() + timeout;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(remaining) {
                Ok(FromIut::Line(line, at, len)) => match *line {
                    Ok(Incoming::Response { id: Some(got), result }) if got == id => {
                        return result.map_err(ClientError::Remote);
                    }
                    Ok(Incoming::Response {
                        id: None,
                        result: Err(e),
                    }) => {
                        // The IUT could not read our line at all: that answers this call.
                        return Err(ClientError::Remote(e));
                    }
                    other => self.take_line(other, at, len),
                },
                Ok(FromIut::Closed) => self.closed = true,
                Err(RecvTimeoutError::Timeout) => {
                    self.abandoned.insert(id);
                    return Err(ClientError::Timeout {
                        method: request.method(),
                    });
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.closed = true;
                    return Err(ClientError::Closed);
                }
            }
        }
    }

    /// Files a line that is not the awaited response.
    fn take_line(&mut self, line: Result<Incoming, String>, at: Arrival, len: usize) {
        match line {
            Ok(Incoming::Event(e)) => self.queue_event(at, e, len),
            Ok(Incoming::UnknownEvent(name)) => {
                self.violation(format!("unknown event `{}` skipped", crate::runner::report::sanitize(&name)));
            }
            Ok(Incoming::Response { id: Some(id), .. }) if self.abandoned.remove(&id) => {}
            Ok(Incoming::Response { id: Some(id), .. }) => self.violation(format!("a response with id {id}, which no pending request has")),
            Ok(Incoming::Response { id: None, result }) => self.violation(match result {
                Err(e) => format!("an error response with id null, while no request was pending: {e}"),
                Ok(_) => "a response with id null".to_string(),
            }),
            Err(e) => self.violation(format!("malformed line: {}", crate::runner::report::sanitize(&e))),
        }
    }

    fn violation(&mut self, v: String) {
        if self.violations.len() < MAX_VIOLATIONS {
            self.violations.push(v);
        } else {
            self.violations_elided += 1;
        }
    }

    fn queue_event(&mut self, at: Arrival, e: Event, len: usize) {
        self.events.push_back((at, e, len));
        self.event_bytes += len;
        while self.events.len() > MAX_QUEUED_EVENTS || (self.event_bytes > MAX_QUEUED_EVENT_BYTES && self.events.len() > 1) {
            if let Some((_, _, n)) = self.events.pop_front() {
                self.event_bytes -= n;
                self.events_dropped += 1;
            }
        }
    }

    fn pop_event(&mut self) -> Option<(Arrival, Event)> {
        let (at, e, n) = self.events.pop_front()?;
        self.event_bytes -= n;
        Some((at, e))
    }

    /// The next event: a queued one, or one that arrives within `timeout`.
    pub fn next_event(&mut self, timeout: Duration) -> Option<Event> {
        self.next_event_stamped(timeout).map(|(_, e)| e)
    }

    /// [`AdapterClient::next_event`] with when the line arrived (stamped by the reader thread).
    pub fn next_event_stamped(&mut self, timeout: Duration) -> Option<(Arrival, Event)> {
        if let Some(e) = self.pop_event() {
            return Some(e);
        }
        let deadline = Instant::now() + timeout;
        while !self.closed {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(remaining) {
                Ok(FromIut::Line(line, at, len)) => {
                    self.take_line(*line, at, len);
                    if let Some(e) = self.pop_event() {
                        return Some(e);
                    }
                }
                Ok(FromIut::Closed) => self.closed = true,
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => self.closed = true,
            }
        }
        None
    }

    /// Protocol violations seen since the last call (malformed lines, stray
    /// responses, unknown events, events dropped from a full queue), for the report.
    pub fn take_violations(&mut self) -> Vec<String> {
        let mut out = std::mem::take(&mut self.violations);
        if self.violations_elided > 0 {
            out.push(format!("... and {} more violations", std::mem::take(&mut self.violations_elided)));
        }
        if self.events_dropped > 0 {
            out.push(format!(
                "{} events dropped: more than {MAX_QUEUED_EVENTS} events (or {} MiB) were queued at once",
                std::mem::take(&mut self.events_dropped),
                MAX_QUEUED_EVENT_BYTES >> 20
            ));
        }
        out
    }

    /// Events queued now, without waiting for more: each with when it arrived.
    pub fn drain_events(&mut self) -> Vec<(Arrival, Event)> {
        while let Ok(msg) = self.incoming.try_recv() {
            match msg {
                FromIut::Line(line, at, len) => self.take_line(*line, at, len),
                FromIut::Closed => self.closed = true,
            }
        }
        std::iter::from_fn(|| self.pop_event()).collect()
    }

    /// Whether the IUT side has closed.
    pub fn is_closed(&self) -> bool {
        self.closed
    }
}

impl Drop for AdapterClient {
    fn drop(&mut self) {
        match &mut self.transport {
            Transport::Tcp(stream) => {
                let _ = stream.shutdown(Shutdown::Both);
            }
            Transport::Child(child) => {
                // Closing its stdin is the polite way to ask it to stop (ADAPTER.md).
                self.writer = Box::new(io::sink());
                end_process_group(child);
            }
            Transport::Streams => {}
        }
    }
}

/// Ends a command the client started, and everything it started: it gets a
/// moment to exit on its own (its stdin is closed), then its process group gets
/// SIGTERM, then SIGKILL. The group is the command's own (see `spawn_command`).
fn end_process_group(child: &mut Child) {
    let exited = |child: &mut Child, within: Duration| {
        let until = Instant::now() + within;
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => return true,
                Ok(None) if Instant::now() >= until => return false,
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    };
    let leader_gone = exited(child, Duration::from_millis(200));
    #[cfg(unix)]
    {
        // The group outlives its leader while any member lives: signal it either way.
        signal_group(child.id(), "TERM");
        if !leader_gone {
            exited(child, Duration::from_millis(500));
        }
        signal_group(child.id(), "KILL");
    }
    let _ = leader_gone;
    let _ = child.kill();
    let _ = child.wait();
}

/// `kill -SIGNAL -PGID` through the shell (POSIX sh: no `--`) (no libc binding in this crate).
#[cfg(unix)]
fn signal_group(pgid: u32, signal: &str) {
    let _ = Command::new("sh")
        .arg("-c")
        .arg(format!("kill -{signal} -{pgid} 2>/dev/null"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn read_from_iut<R: io::BufRead>(mut reader: R, tx: SyncSender<FromIut>) {
    loop {
        let read = codec::read_line(&mut reader, MAX_LINE_BYTES);
        let at = Arrival::now();
        let msg = match read {
            Ok(Line::Text(t)) if t.iter().all(u8::is_ascii_whitespace) => continue,
            Ok(Line::Text(t)) => FromIut::Line(Box::new(codec::decode_incoming(&t)), at, t.len()),
            Ok(Line::TooLong) => FromIut::Line(Box::new(Err(format!("a line longer than {MAX_LINE_BYTES} bytes (dropped)"))), at, 0),
            Ok(Line::Eof) | Err(_) => {
                let _ = tx.send(FromIut::Closed);
                return;
            }
        };
        if tx.send(msg).is_err() {
            return;
        }
    }
}
