//! Framing: one JSON object per line, UTF-8, `\n`-terminated (a trailing
//! `\r` is tolerated), at most [`MAX_LINE_BYTES`] bytes. Decoding never
//! panics: every failure is a typed [`AdapterError`].

use super::event::Event;
use super::request::Request;
use super::response::{AdapterError, ErrorCode, Response};
use serde_json::{Map, Value};
use std::io::{self, BufRead};

/// The longest line either side must accept (1 MiB, newline excluded).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// What one read from a line-framed stream gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// A complete line, without its terminator.
    Text(Vec<u8>),
    /// A line over the cap; its bytes were read and dropped up to its end.
    TooLong,
    /// The stream ended (a final unterminated line is returned as `Text` first).
    Eof,
}

/// Reads one line of at most `max` bytes, never buffering more than `max`.
pub fn read_line(reader: &mut impl BufRead, max: usize) -> io::Result<Line> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(match (too_long, line.is_empty()) {
                (true, _) => Line::TooLong,
                (false, true) => Line::Eof,
                (false, false) => Line::Text(trim_cr(line)),
            });
        }
        let newline = available.iter().position(|&b| b == b'\n');
        let take = newline.unwrap_or(available.len());
        if !too_long {
            let chunk = available.get(..take).unwrap_or_default();
            if line.len().saturating_add(chunk.len()) > max {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let consumed = newline.map_or(take, |n| n.saturating_add(1));
        reader.consume(consumed);
        if newline.is_some() {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Text(trim_cr(line))
            });
        }
    }
}

fn trim_cr(mut line: Vec<u8>) -> Vec<u8> {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    line
}

/// A request line that could not be taken: the error to answer with, and the
/// `id` to echo when one could be read (`null` otherwise).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub id: Option<u64>,
    pub error: AdapterError,
}

impl Rejection {
    fn new(id: Option<u64>, code: ErrorCode, message: impl Into<String>) -> Rejection {
        Rejection {
            id,
            error: AdapterError::new(code, message),
        }
    }
}

/// The rejection for a line over the cap.
pub fn too_long_rejection() -> Rejection {
    Rejection::new(
        None,
        ErrorCode::BadJson,
        format!("line longer than {MAX_LINE_BYTES} bytes"),
    )
}

/// Parses the bytes of a line as a JSON object.
fn parse_object(line: &[u8]) -> Result<Map<String, Value>, Rejection> {
    if line.len() > MAX_LINE_BYTES {
        return Err(too_long_rejection());
    }
    let text =
        std::str::from_utf8(line).map_err(|e| Rejection::new(None, ErrorCode::BadJson, format!("not UTF-8: {e}")))?;
    let value: Value =
        serde_json::from_str(text).map_err(|e| Rejection::new(None, ErrorCode::BadJson, format!("not JSON: {e}")))?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(Rejection::new(
            None,
            ErrorCode::InvalidRequest,
            format!("a line must be a JSON object, got {}", json_kind(&other)),
        )),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Decodes a request line into its `id` and [`Request`].
pub fn decode_request(line: &[u8]) -> Result<(u64, Request), Rejection> {
    let mut map = parse_object(line)?;
    let id = match map.get("id") {
        Some(v) => v
            .as_u64()
            .ok_or_else(|| Rejection::new(None, ErrorCode::InvalidRequest, "`id` must be a non-negative integer"))?,
        None => return Err(Rejection::new(None, ErrorCode::InvalidRequest, "missing field `id`")),
    };
    let method = match map.remove("method") {
        Some(Value::String(m)) => m,
        Some(_) => {
            return Err(Rejection::new(
                Some(id),
                ErrorCode::InvalidRequest,
                "`method` must be a string",
            ))
        }
        None => {
            return Err(Rejection::new(
                Some(id),
                ErrorCode::InvalidRequest,
                "missing field `method`",
            ))
        }
    };
    if !Request::METHODS.contains(&method.as_str()) {
        return Err(Rejection::new(
            Some(id),
            ErrorCode::UnknownMethod,
            format!("unknown method `{method}`"),
        ));
    }
    let params = match map.remove("params") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(p @ Value::Object(_)) => p,
        Some(other) => {
            return Err(Rejection::new(
                Some(id),
                ErrorCode::InvalidRequest,
                format!("`params` must be an object, got {}", json_kind(&other)),
            ))
        }
    };
    let mut tagged = Map::new();
    tagged.insert("method".into(), Value::String(method.clone()));
    tagged.insert("params".into(), params);
    let request: Request = serde_json::from_value(Value::Object(tagged))
        .map_err(|e| Rejection::new(Some(id), ErrorCode::InvalidRequest, format!("{method}: {e}")))?;
    request
        .validate()
        .map_err(|e| Rejection::new(Some(id), ErrorCode::InvalidRequest, format!("{method}: {e}")))?;
    Ok((id, request))
}

/// Serialises a value that is built from our own types; falls back to an
/// `internal` error line rather than panicking.
fn to_line(value: &impl serde::Serialize) -> String {
    match serde_json::to_string(value) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        Err(e) => {
            let fallback =
                serde_json::json!({"id": null, "error": {"code": "internal", "message": format!("serialise: {e}")}});
            format!("{fallback}\n")
        }
    }
}

/// `{"id": N, "method": ..., "params": {...}}\n`.
pub fn encode_request(id: u64, request: &Request) -> String {
    let mut map = match serde_json::to_value(request) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    map.insert("id".into(), Value::from(id));
    to_line(&Value::Object(map))
}

/// `{"id": N, "ok": {...}}\n` or `{"id": N|null, "error": {...}}\n`.
pub fn encode_response(id: Option<u64>, result: &Result<Response, AdapterError>) -> String {
    let mut map = Map::new();
    map.insert("id".into(), id.map_or(Value::Null, Value::from));
    match result {
        Ok(response) => map.insert("ok".into(), response.to_ok()),
        Err(error) => map.insert(
            "error".into(),
            serde_json::to_value(error).unwrap_or_else(|_| Value::Object(Map::new())),
        ),
    };
    to_line(&Value::Object(map))
}

/// `{"event": ..., "params": {...}}\n`.
pub fn encode_event(event: &Event) -> String {
    to_line(event)
}

/// A line the runner read from the IUT.
#[derive(Clone, Debug, PartialEq)]
pub enum Incoming {
    /// An answer; `ok` is decoded later, knowing the method ([`Response::from_ok`]).
    Response {
        id: Option<u64>,
        result: Result<Value, AdapterError>,
    },
    Event(Event),
    /// An event this runner does not know (a later protocol addition): skipped.
    UnknownEvent(String),
}

/// Decodes a line from the IUT; `Err` says why it is not a valid line.
pub fn decode_incoming(line: &[u8]) -> Result<Incoming, String> {
    let mut map = parse_object(line).map_err(|r| r.error.message)?;
    if let Some(name) = map.get("event") {
        let Some(name) = name.as_str().map(str::to_owned) else {
            return Err("`event` must be a string".into());
        };
        if !Event::NAMES.contains(&name.as_str()) {
            return Ok(Incoming::UnknownEvent(name));
        }
        if !map.contains_key("params") {
            map.insert("params".into(), Value::Object(Map::new()));
        }
        return serde_json::from_value(Value::Object(map))
            .map(Incoming::Event)
            .map_err(|e| format!("event {name}: {e}"));
    }
    let id = match map.get("id") {
        Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or("`id` must be a non-negative integer or null")?),
        None => return Err("a line must have `event` or `id`".into()),
    };
    match (map.remove("ok"), map.remove("error")) {
        (Some(ok), None) => Ok(Incoming::Response { id, result: Ok(ok) }),
        (None, Some(error)) => serde_json::from_value::<AdapterError>(error)
            .map(|e| Incoming::Response { id, result: Err(e) })
            .map_err(|e| format!("error body: {e}")),
        _ => Err("a response must have exactly one of `ok` and `error`".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn lines(input: &[u8], max: usize) -> Vec<Line> {
        let mut r = Cursor::new(input.to_vec());
        let mut out = Vec::new();
        loop {
            let l = read_line(&mut r, max).unwrap();
            let end = l == Line::Eof;
            out.push(l);
            if end {
                return out;
            }
        }
    }

    #[test]
    fn read_line_caps_and_resynchronises() {
        let got = lines(b"abc\nabcdefgh\nxy\r\nlast", 4);
        assert_eq!(
            got,
            vec![
                Line::Text(b"abc".to_vec()),
                Line::TooLong,
                Line::Text(b"xy".to_vec()),
                Line::Text(b"last".to_vec()),
                Line::Eof
            ]
        );
    }

    #[test]
    fn read_line_across_small_buffers() {
        let data = b"0123456789\nshort\n".to_vec();
        let mut r = io::BufReader::with_capacity(3, Cursor::new(data));
        assert_eq!(read_line(&mut r, 10).unwrap(), Line::Text(b"0123456789".to_vec()));
        assert_eq!(read_line(&mut r, 10).unwrap(), Line::Text(b"short".to_vec()));
        assert_eq!(read_line(&mut r, 10).unwrap(), Line::Eof);
        let mut r = io::BufReader::with_capacity(3, Cursor::new(b"0123456789A\nok\n".to_vec()));
        assert_eq!(read_line(&mut r, 10).unwrap(), Line::TooLong);
        assert_eq!(read_line(&mut r, 10).unwrap(), Line::Text(b"ok".to_vec()));
    }

    #[test]
    fn id_is_echoed_once_known() {
        let r = decode_request(br#"{"id": 7, "method": "nope"}"#).unwrap_err();
        assert_eq!((r.id, r.error.code), (Some(7), ErrorCode::UnknownMethod));
        let r = decode_request(br#"{"id": -1, "method": "reset"}"#).unwrap_err();
        assert_eq!((r.id, r.error.code), (None, ErrorCode::InvalidRequest));
        let r = decode_request(br#"{"id": 1.5, "method": "reset"}"#).unwrap_err();
        assert_eq!((r.id, r.error.code), (None, ErrorCode::InvalidRequest));
    }

    #[test]
    fn params_may_be_omitted_for_methods_without_any() {
        assert_eq!(
            decode_request(br#"{"id":1,"method":"reset"}"#).unwrap().1.method(),
            "reset"
        );
        assert_eq!(
            decode_request(br#"{"id":1,"method":"reset","params":null}"#)
                .unwrap()
                .1
                .method(),
            "reset"
        );
        let r = decode_request(br#"{"id":1,"method":"set_block_height"}"#).unwrap_err();
        assert_eq!(r.error.code, ErrorCode::InvalidRequest);
        assert!(r.error.message.contains("height"), "{}", r.error.message);
    }
}
