//! Incremental decoder for `text/event-stream` bodies, following the WHATWG HTML
//! "server-sent events" parsing rules.
//!
//! Bytes may be split anywhere across [`SseDecoder::push`] calls — inside a UTF-8 character,
//! between the `\r` and `\n` of a CRLF pair, inside a field name — and the decoded events are
//! the same. Lines end with CRLF, LF or CR. A leading UTF-8 BOM is skipped. Lines starting
//! with `:` are comments. `id` values containing NUL are ignored; `retry` takes ASCII digits
//! only. An event is dispatched at a blank line when it has at least one `data` line (it may
//! be empty: MCP "priming" events are `id: x` + empty `data`, which callers skip; an `id`
//! alone updates [`SseDecoder::last_event_id`] without an event).
//! At end of stream an unterminated event is discarded, as the standard says.
//!
//! Memory is bounded: a line or event larger than the limit fails with
//! [`Error::SseEventTooLarge`] instead of growing without end; the decoder then stays failed.
//!
//! ```
//! use workboard_core::fuzzing::SseDecoder; // internal: reached through the fuzzing module
//! let mut d = SseDecoder::new(1024);
//! let mut events = d.push(b"id: 7\ndata: {\"a\"").unwrap();
//! events.extend(d.push(b":1}\r\n\r\n").unwrap());
//! assert_eq!(events[0].data, "{\"a\":1}");
//! assert_eq!(events[0].id.as_deref(), Some("7"));
//! ```

use crate::error::Error;

/// Default limit for one event (data plus the line being read): 8 MiB.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 8 * 1024 * 1024;

/// One dispatched event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event` field, `message` when absent.
    pub event: String,
    /// The data lines joined by `\n`.
    pub data: String,
    /// The last event ID at dispatch time (it persists across events), if any.
    pub id: Option<String>,
}

/// The incremental decoder. See the module docs.
#[derive(Clone, Debug)]
pub struct SseDecoder {
    max: usize,
    line: Vec<u8>,
    after_cr: bool,
    at_start: bool,
    data: String,
    data_seen: bool,
    event: String,
    id_buffer: String,
    last_id: String,
    retry_ms: Option<u64>,
    failed: bool,
}

impl SseDecoder {
    /// A decoder that refuses events (or lines) larger than `max_event_bytes`.
    pub fn new(max_event_bytes: usize) -> Self {
        SseDecoder {
            max: max_event_bytes.max(1),
            line: Vec::new(),
            after_cr: false,
            at_start: true,
            data: String::new(),
            data_seen: false,
            event: String::new(),
            id_buffer: String::new(),
            last_id: String::new(),
            retry_ms: None,
            failed: false,
        }
    }

    /// Feeds bytes; returns the events completed by them.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, Error> {
        let mut out = Vec::new();
        self.push_into(bytes, &mut out)?;
        Ok(out)
    }

    /// Like [`SseDecoder::push`], appending to `out` (no allocation per call).
    pub fn push_into(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), Error> {
        if self.failed {
            return Err(Error::SseEventTooLarge { limit: self.max });
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            if self.after_cr {
                self.after_cr = false;
                if rest[0] == b'\n' {
                    rest = &rest[1..];
                    continue;
                }
            }
            match rest.iter().position(|b| *b == b'\n' || *b == b'\r') {
                Some(pos) => {
                    self.append_line(&rest[..pos])?;
                    if rest[pos] == b'\r' {
                        self.after_cr = true;
                    }
                    rest = &rest[pos + 1..];
                    self.end_line(out);
                }
                None => {
                    self.append_line(rest)?;
                    rest = &[];
                }
            }
        }
        Ok(())
    }

    /// End of stream: discards an unterminated event (WHATWG). Returns whether one (or a
    /// partial line) was discarded. The decoder is ready for a new stream afterwards; the
    /// last event ID and retry delay are kept (they drive reconnection).
    pub fn finish(&mut self) -> bool {
        let discarded = !self.line.is_empty()
            || self.data_seen
            || !self.event.is_empty()
            || self.id_buffer != self.last_id;
        self.line.clear();
        self.data.clear();
        self.data_seen = false;
        self.event.clear();
        self.after_cr = false;
        self.at_start = true;
        self.id_buffer.clone_from(&self.last_id);
        discarded
    }

    /// The last event ID: the `id` of the last completed event (including priming events,
    /// which carry an id and no data). An `id` inside an unfinished event does not count.
    pub fn last_event_id(&self) -> Option<&str> {
        (!self.last_id.is_empty()).then_some(self.last_id.as_str())
    }

    /// The reconnection delay from the last valid `retry` field, in milliseconds.
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry_ms
    }

    fn append_line(&mut self, part: &[u8]) -> Result<(), Error> {
        if self.line.len() + part.len() + self.data.len() > self.max {
            self.failed = true;
            self.line.clear();
            self.data.clear();
            return Err(Error::SseEventTooLarge { limit: self.max });
        }
        self.line.extend_from_slice(part);
        Ok(())
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) {
        let mut line = std::mem::take(&mut self.line);
        let mut body: &[u8] = &line;
        if self.at_start {
            self.at_start = false;
            body = body.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(body);
        }
        if let Some(ev) = self.process_line(body) {
            out.push(ev);
        }
        line.clear();
        if line.capacity() > 64 * 1024 {
            line.shrink_to(1024);
        }
        self.line = line;
    }

    fn process_line(&mut self, line: &[u8]) -> Option<SseEvent> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line[0] == b':' {
            return None;
        }
        let (name, value) = match line.iter().position(|b| *b == b':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &[][..]),
        };
        match name {
            b"data" => {
                self.data.push_str(&String::from_utf8_lossy(value));
                self.data.push('\n');
                self.data_seen = true;
            }
            b"event" => self.event = String::from_utf8_lossy(value).into_owned(),
            b"id" if !value.contains(&0) => {
                self.id_buffer = String::from_utf8_lossy(value).into_owned();
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // All digits: only an overflow can fail, and then the field is ignored.
                if let Some(v) = std::str::from_utf8(value)
                    .ok()
                    .and_then(|s| s.parse::<u64>().ok())
                {
                    self.retry_ms = Some(v);
                }
            }
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        // The id becomes the last event ID only when its event completes (WHATWG), so an
        // id inside an event cut by the end of the stream is never used to resume.
        if self.last_id != self.id_buffer {
            self.last_id.clone_from(&self.id_buffer);
        }
        let event = std::mem::take(&mut self.event);
        if !self.data_seen {
            return None;
        }
        self.data_seen = false;
        let mut data = std::mem::take(&mut self.data);
        if data.ends_with('\n') {
            data.pop();
        }
        Some(SseEvent {
            event: if event.is_empty() {
                "message".to_string()
            } else {
                event
            },
            data,
            id: self.last_event_id().map(str::to_string),
        })
    }
}
