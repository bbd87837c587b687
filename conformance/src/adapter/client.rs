//! The runner side: connect to an IUT's adapter, send requests, wait for
//! their responses, and collect events. Events that arrive while a response
//! is awaited are queued for [`AdapterClient::next_event`], never dropped.

use super::codec::{self, Incoming, Line, MAX_LINE_BYTES};
use super::event::Event;
use super::request::{Hello, Request};
use super::response::{AdapterError, HelloResult, Response};
use super::PROTOCOL_VERSION;
use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::io::{self, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// How long [`AdapterClient::call`] waits for a response unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

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
            ClientError::Io(e) => write!(f, "adapter I/O: {e}"),
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

/// What the reader thread passes on.
enum FromIut {
    Line(Box<Result<Incoming, String>>),
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
    events: VecDeque<Event>,
    next_id: u64,
    timeout: Duration,
    /// Ids whose call timed out: their late responses are dropped quietly.
    abandoned: HashSet<u64>,
    violations: Vec<String>,
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
    pub fn spawn_command(mut command: Command) -> Result<AdapterClient, ClientError> {
        let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
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
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || read_from_iut(BufReader::new(reader), tx));
        AdapterClient {
            writer: Box::new(writer),
            incoming: rx,
            events: VecDeque::new(),
            next_id: 1,
            timeout: DEFAULT_TIMEOUT,
            abandoned: HashSet::new(),
            violations: Vec::new(),
            closed: false,
            transport: Transport::Streams,
        }
    }

    /// How long [`call`](Self::call) waits for each response.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
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
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => ClientError::Closed,
                _ => ClientError::Io(e),
            });
        }
        let deadline = Instant::now() + timeout;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(remaining) {
                Ok(FromIut::Line(line)) => match *line {
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
                    other => self.take_line(other),
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
    fn take_line(&mut self, line: Result<Incoming, String>) {
        match line {
            Ok(Incoming::Event(e)) => self.events.push_back(e),
            Ok(Incoming::UnknownEvent(name)) => {
                self.violations.push(format!("unknown event `{name}` skipped"));
            }
            Ok(Incoming::Response { id: Some(id), .. }) if self.abandoned.remove(&id) => {}
            Ok(Incoming::Response { id, .. }) => {
                self.violations
                    .push(format!("response to no pending request (id {id:?})"));
            }
            Err(e) => self.violations.push(format!("malformed line from IUT: {e}")),
        }
    }

    /// The next event: a queued one, or one that arrives within `timeout`.
    pub fn next_event(&mut self, timeout: Duration) -> Option<Event> {
        if let Some(e) = self.events.pop_front() {
            return Some(e);
        }
        let deadline = Instant::now() + timeout;
        while !self.closed {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(remaining) {
                Ok(FromIut::Line(line)) => {
                    self.take_line(*line);
                    if let Some(e) = self.events.pop_front() {
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

    /// Protocol violations seen so far (malformed lines, stray responses), for the report.
    pub fn take_violations(&mut self) -> Vec<String> {
        std::mem::take(&mut self.violations)
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
                // We started it, so we end it; `shutdown` first is the polite way.
                let _ = child.kill();
                let _ = child.wait();
            }
            Transport::Streams => {}
        }
    }
}

fn read_from_iut<R: io::BufRead>(mut reader: R, tx: Sender<FromIut>) {
    loop {
        let msg = match codec::read_line(&mut reader, MAX_LINE_BYTES) {
            Ok(Line::Text(t)) if t.iter().all(u8::is_ascii_whitespace) => continue,
            Ok(Line::Text(t)) => FromIut::Line(Box::new(codec::decode_incoming(&t))),
            Ok(Line::TooLong) => FromIut::Line(Box::new(Err(format!("line longer than {MAX_LINE_BYTES} bytes")))),
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
