//! Host capabilities for the client layer ([`WasmHost`]): a `fetch` transport (bodies capped
//! at the core's [`MAX_BODY_BYTES`], read incrementally; event streams handed over as they
//! arrive; a request the loop abandons is aborted), a JS clock (`Date.now` and `setTimeout`,
//! or injected functions), entropy from `crypto.getRandomValues`, an optional synchronous JS
//! store, the `onCredentialsChanged` listeners and the app's input handlers
//! (`inputHandlers`: elicitation, sampling, roots).

use std::cell::RefCell;

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use workboard_core::http::MAX_BODY_BYTES;
use workboard_core::{
    BodyPart, BodySink, Clock, Credentials, Entropy, Error, HttpRequest, HttpResponse,
    SeededEntropy, Transport, TransportError,
};

use wasm_bindgen::closure::Closure;
use workboard_client::Canceller;

use crate::error::{describe_js, invalid_input, js_error_name};
use crate::types::ClientOptions;

/// Default time limit of one request.
pub const DEFAULT_TIMEOUT_MS: u32 = 30_000;

fn global() -> JsValue {
    js_sys::global().into()
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Sends requests with `fetch` (the injected one, or `globalThis.fetch`).
pub(crate) struct FetchTransport {
    fetch: Function,
    timeout_ms: u32,
}

impl FetchTransport {
    /// `fetch` may be `undefined`/`null` (use the global one).
    pub(crate) fn new(fetch: &JsValue, timeout_ms: Option<u32>) -> Result<FetchTransport, JsValue> {
        let f = if fetch.is_undefined() || fetch.is_null() {
            get(&global(), "fetch")
        } else {
            fetch.clone()
        };
        let Some(fetch) = f.dyn_ref::<Function>() else {
            return Err(invalid_input(
                "fetch",
                "no fetch function (pass `fetch` in the options on runtimes without globalThis.fetch)",
            ));
        };
        Ok(FetchTransport {
            fetch: fetch.clone(),
            timeout_ms: timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS),
        })
    }

    fn init(&self, request: &HttpRequest, abort: &Abort) -> Object {
        let init = Object::new();
        let set = |k: &str, v: &JsValue| {
            let _ = Reflect::set(&init, &JsValue::from_str(k), v);
        };
        set("method", &JsValue::from_str(request.method.as_str()));
        // An array of pairs keeps the order the core chose.
        let headers = Array::new();
        for (name, value) in &request.headers {
            headers.push(&Array::of2(
                &JsValue::from_str(name),
                &JsValue::from_str(value),
            ));
        }
        set("headers", &headers);
        if !request.body.is_empty() {
            set("body", &Uint8Array::from(request.body.as_slice()));
        }
        // Never send cookies or reuse a cached answer for OAuth/MCP traffic.
        set("credentials", &JsValue::from_str("omit"));
        set("cache", &JsValue::from_str("no-store"));
        if let Some(c) = &abort.controller {
            set("signal", &get(c, "signal"));
        }
        init
    }

    /// Sends `request`; with `parts`, an event stream's head and chunks also go there as they
    /// arrive (and the time limit stops at its head: the stream lasts as long as the call).
    async fn fetch(
        &self,
        request: HttpRequest,
        parts: Option<&dyn BodySink>,
    ) -> Result<HttpResponse, TransportError> {
        let mut abort = Abort::new(self.timeout_ms);
        let init = self.init(&request, &abort);
        let promise = self
            .fetch
            .call2(&JsValue::UNDEFINED, &JsValue::from_str(&request.url), &init)
            .map_err(|e| transport_error(&e))?;
        let resp = JsFuture::from(Promise::resolve(&promise))
            .await
            .map_err(|e| transport_error(&e))?;
        let resp: web_sys::Response = resp
            .dyn_into()
            .map_err(|_| TransportError::Other("fetch did not return a Response".into()))?;
        let mut headers = Vec::new();
        if let Ok(Some(iter)) = js_sys::try_iter(&resp.headers()) {
            for entry in iter.flatten() {
                let pair: Array = entry.unchecked_into();
                if let (Some(n), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                    headers.push((n, v));
                }
            }
        }
        let status = resp.status();
        let sse = parts.filter(|_| {
            headers.iter().any(|(n, v)| {
                n.eq_ignore_ascii_case("content-type")
                    && v.trim_start().starts_with("text/event-stream")
            })
        });
        if let Some(p) = sse {
            abort.stop_timer();
            p.part(BodyPart::Head {
                status,
                headers: headers.clone(),
            });
        }
        let body = read_body(&resp, &headers, sse).await?;
        abort.done = true;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// A request's `AbortController`: aborted with a `TimeoutError` after the time limit (a
/// `setTimeout` of the controller's bound `abort`, no closure), and aborted when dropped
/// unfinished (the loop abandoned the request: a cancelled call, a closed subscription), so
/// the connection closes rather than stays open in the background.
struct Abort {
    controller: Option<JsValue>,
    timer: Option<JsValue>,
    done: bool,
}

impl Abort {
    fn new(timeout_ms: u32) -> Abort {
        let controller = get(&global(), "AbortController")
            .dyn_into::<Function>()
            .and_then(|c| Reflect::construct(&c, &Array::new()))
            .ok();
        let timer = controller.as_ref().and_then(|c| {
            let reason = get(&global(), "DOMException")
                .dyn_into::<Function>()
                .and_then(|d| {
                    let args = Array::of2(&"the request timed out".into(), &"TimeoutError".into());
                    Reflect::construct(&d, &args)
                })
                .ok()?;
            let abort = get(c, "abort").dyn_into::<Function>().ok()?;
            let set_timeout = get(&global(), "setTimeout").dyn_into::<Function>().ok()?;
            let ms = JsValue::from(timeout_ms);
            set_timeout
                .call2(&JsValue::UNDEFINED, &abort.bind1(c, &reason), &ms)
                .ok()
        });
        Abort {
            controller,
            timer,
            done: false,
        }
    }

    fn stop_timer(&mut self) {
        if let Some(id) = self.timer.take() {
            if let Ok(clear) = get(&global(), "clearTimeout").dyn_into::<Function>() {
                let _ = clear.call1(&JsValue::UNDEFINED, &id);
            }
        }
    }
}

impl Drop for Abort {
    fn drop(&mut self) {
        self.stop_timer();
        if let (Some(c), false) = (&self.controller, self.done) {
            let _ = call(c, "abort");
        }
    }
}

fn transport_error(e: &JsValue) -> TransportError {
    match js_error_name(e).as_deref() {
        Some("TimeoutError") => TransportError::Timeout,
        Some("AbortError") => TransportError::Cancelled,
        _ => TransportError::Connect(describe_js(e)),
    }
}

impl Transport for FetchTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.fetch(request, None).await
    }

    async fn send_streaming(
        &self,
        request: HttpRequest,
        parts: &dyn BodySink,
    ) -> Result<HttpResponse, TransportError> {
        self.fetch(request, Some(parts)).await
    }
}

/// Calls `target[method]()`.
fn call(target: &JsValue, method: &str) -> Result<JsValue, JsValue> {
    get(target, method)
        .dyn_into::<Function>()
        .and_then(|f| f.call0(target))
}

/// Cancels a body stream (or its reader) without waiting; a rejection of its promise is
/// handled (never an unhandled rejection) by the built-in `Boolean`, a function without
/// effects (no closure, no code from a string).
fn cancel(stream: &JsValue) {
    if let Ok(p) = call(stream, "cancel") {
        handled(&p);
    }
}

/// Marks a promise's rejection as handled (by the built-in `Boolean`, as above).
pub(crate) fn handled(p: &JsValue) {
    if let Ok(catch) = get(p, "catch").dyn_into::<Function>() {
        let _ = catch.call1(p, &get(&global(), "Boolean"));
    }
}

/// Reads a response body of at most [`MAX_BODY_BYTES`]: refused at once when its
/// `Content-Length` says more, otherwise read chunk by chunk from `response.body` and
/// cancelled as soon as it goes over ([`TransportError::BodyTooLarge`]). Needs
/// `Response.body` (a `ReadableStream`: every current browser, Node 18+); `null` is an empty
/// body. Each chunk also goes to `parts` (an event stream read while it arrives).
async fn read_body(
    resp: &web_sys::Response,
    headers: &[(String, String)],
    parts: Option<&dyn BodySink>,
) -> Result<Vec<u8>, TransportError> {
    let too_large = TransportError::BodyTooLarge {
        limit: MAX_BODY_BYTES as u64,
    };
    let interrupted = |e: JsValue| match transport_error(&e) {
        TransportError::Connect(m) => TransportError::Interrupted(m),
        other => other,
    };
    let stream = get(resp, "body");
    let announced = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        cancel(&stream);
        return Err(too_large);
    }
    let mut body = Vec::new();
    if stream.is_null() {
        return Ok(body);
    }
    let reader = call(&stream, "getReader")
        .map_err(|_| TransportError::Other("the Response has no body stream".into()))?;
    loop {
        let read = call(&reader, "read").map_err(interrupted)?;
        let chunk = JsFuture::from(Promise::resolve(&read))
            .await
            .map_err(interrupted)?;
        if get(&chunk, "done").is_truthy() {
            return Ok(body);
        }
        let Ok(bytes) = get(&chunk, "value").dyn_into::<Uint8Array>() else {
            cancel(&reader);
            return Err(TransportError::Interrupted(
                "the body stream gave a chunk that is not bytes".into(),
            ));
        };
        let start = body.len();
        let end = start.saturating_add(bytes.length() as usize);
        if end > MAX_BODY_BYTES {
            cancel(&reader);
            return Err(too_large);
        }
        body.resize(end, 0);
        bytes.copy_to(&mut body[start..]);
        if let Some(p) = parts {
            p.part(BodyPart::Chunk(body[start..].to_vec()));
        }
    }
}

/// Time from `Date.now()` and `setTimeout`, or from injected `now`/`sleep` functions.
pub(crate) struct JsClock {
    now: Option<Function>,
    sleep: Option<Function>,
    simulated: bool,
}

impl JsClock {
    pub(crate) fn new(now: &JsValue, sleep: &JsValue, simulated: bool) -> JsClock {
        JsClock {
            now: now.dyn_ref::<Function>().cloned(),
            sleep: sleep.dyn_ref::<Function>().cloned(),
            simulated,
        }
    }
}

fn to_ms(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        v as u64
    } else {
        0
    }
}

impl Clock for JsClock {
    fn is_simulated(&self) -> bool {
        self.simulated
    }

    fn now_ms(&self) -> u64 {
        match &self.now {
            Some(f) => to_ms(
                f.call0(&JsValue::UNDEFINED)
                    .ok()
                    .and_then(|v| v.as_f64())
                    .unwrap_or(0.0),
            ),
            None => to_ms(js_sys::Date::now()),
        }
    }

    async fn sleep_ms(&self, ms: u64) {
        // setTimeout takes at most 2^31 - 1 ms; a larger delay fires at once (a spin).
        let ms = JsValue::from(ms.min(MAX_TIMEOUT_MS) as f64);
        let mut timer = TimerGuard(None);
        let promise = match &self.sleep {
            Some(f) => f
                .call1(&JsValue::UNDEFINED, &ms)
                .map(|p| Promise::resolve(&p)),
            None => {
                let set_timeout = get(&global(), "setTimeout");
                let mut out = Err(JsValue::UNDEFINED);
                if let Some(st) = set_timeout.dyn_ref::<Function>() {
                    let mut cb = |resolve: Function, _reject: Function| {
                        out = st.call2(&JsValue::UNDEFINED, &resolve, &ms);
                    };
                    let p = Promise::new(&mut cb);
                    out.map(|id| {
                        timer.0 = Some(id);
                        p
                    })
                } else {
                    out.map(|_| Promise::resolve(&JsValue::UNDEFINED))
                }
            }
        };
        if let Ok(p) = promise {
            let _ = JsFuture::from(p).await;
        }
        drop(timer);
    }
}

/// The longest delay `setTimeout` honours.
const MAX_TIMEOUT_MS: u64 = 0x7FFF_FFFF;

/// Clears its `setTimeout` timer when dropped. The run loop drops a sleep whose deadline moved
/// or went away (every call has a whole-call deadline): left running, each such timer would
/// keep a Node process alive for minutes after its last call.
struct TimerGuard(Option<JsValue>);

impl Drop for TimerGuard {
    fn drop(&mut self) {
        if let Some(id) = self.0.take() {
            if let Some(clear) = get(&global(), "clearTimeout").dyn_ref::<Function>() {
                let _ = clear.call1(&JsValue::UNDEFINED, &id);
            }
        }
    }
}

/// Entropy: a [`SeededEntropy`] seeded with 32 bytes from `crypto.getRandomValues`
/// (or with a given seed of 64 hex characters, for deterministic tests and transcript replay).
fn entropy(seed_hex: Option<&str>) -> Result<SeededEntropy, JsValue> {
    let mut seed = [0u8; 32];
    if let Some(hex) = seed_hex.map(str::trim) {
        let bad = || invalid_input("entropySeedHex", "must be 64 hex characters");
        if hex.len() != 64 || !hex.is_ascii() {
            return Err(bad());
        }
        for (i, b) in seed.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        return Ok(SeededEntropy::new(seed));
    }
    let crypto = get(&global(), "crypto");
    let no_rng = || invalid_input("random source", "crypto.getRandomValues is not available");
    let grv = get(&crypto, "getRandomValues");
    let grv = grv.dyn_ref::<Function>().ok_or_else(no_rng)?;
    let buf = Uint8Array::new_with_length(32);
    grv.call1(&crypto, &buf).map_err(|_| no_rng())?;
    buf.copy_to(&mut seed);
    if seed == [0u8; 32] {
        return Err(no_rng());
    }
    Ok(SeededEntropy::new(seed))
}

/// The input handlers an app may give, by the names of `InputHandlers` in the `.d.ts`.
const HANDLERS: [&str; 4] = ["elicitation", "elicitationUrl", "sampling", "roots"];

/// A handler's failure as the client layer's error: an `AbortError` or a `WorkboardError`
/// with code `cancelled` is `cancelled` (the user dismissed the form); anything else is the
/// app's `invalid_input`, without the thrown message (a legacy server is told the error: the
/// app's own text stays in the app).
fn handler_error(e: &JsValue) -> Error {
    if js_error_name(e).as_deref() == Some("AbortError")
        || (e.is_object() && get(e, "code").as_string().as_deref() == Some("cancelled"))
    {
        return Error::Cancelled;
    }
    Error::InvalidInput {
        what: "input handler".into(),
        reason: "the app's handler threw or rejected".into(),
    }
}

/// What a [`workboard_client::Client`] runs on in JavaScript. Not `Send`: it holds JS objects.
pub(crate) struct WasmHost {
    pub(crate) transport: FetchTransport,
    pub(crate) clock: JsClock,
    pub(crate) entropy: RefCell<SeededEntropy>,
    /// `{ load, save, remove }` (synchronous), or `undefined`: no store.
    pub(crate) store: JsValue,
    pub(crate) listeners: RefCell<Vec<Function>>,
    /// `inputHandlers`: `{ elicitation?, elicitationUrl?, sampling?, roots? }` (async
    /// functions), or `undefined`.
    pub(crate) input: JsValue,
}

impl WasmHost {
    /// The host capabilities `options` ask for.
    pub(crate) fn new(o: &ClientOptions) -> Result<WasmHost, JsValue> {
        let input_ok = o.input_handlers.is_undefined()
            || o.input_handlers.is_null()
            || (o.input_handlers.is_object()
                && HANDLERS
                    .iter()
                    .all(|h| matches!(get(&o.input_handlers, h), f if f.is_undefined() || f.is_null() || f.is_function())));
        if !input_ok {
            return Err(invalid_input(
                "inputHandlers",
                "expected an object whose elicitation, elicitationUrl, sampling and roots are functions (or absent)",
            ));
        }
        let store_ok = o.store.is_undefined()
            || o.store.is_null()
            || ["load", "save", "remove"]
                .iter()
                .all(|m| get(&o.store, m).is_instance_of::<Function>());
        if !store_ok {
            return Err(invalid_input(
                "store",
                "expected an object with load, save and remove functions",
            ));
        }
        Ok(WasmHost {
            transport: FetchTransport::new(&o.fetch, o.timeout_ms)?,
            clock: JsClock::new(&o.now, &o.sleep, o.simulated_clock == Some(true)),
            entropy: RefCell::new(entropy(o.entropy_seed_hex.as_deref())?),
            store: o.store.clone(),
            listeners: RefCell::default(),
            input: o.input_handlers.clone(),
        })
    }

    /// The app's handler `name` of [`HANDLERS`], if it gave one.
    fn handler(&self, name: &str) -> Option<Function> {
        if self.input.is_undefined() || self.input.is_null() {
            return None;
        }
        get(&self.input, name).dyn_into::<Function>().ok()
    }

    /// Calls `store[method](...args)`; a throw is the store's failure (its message).
    fn store_call(&self, method: &str, args: &Array) -> Result<JsValue, String> {
        if self.store.is_undefined() || self.store.is_null() {
            return Ok(JsValue::UNDEFINED);
        }
        get(&self.store, method)
            .dyn_into::<Function>()
            .and_then(|f| f.apply(&self.store, args))
            .map_err(|e| describe_js(&e))
    }
}

impl workboard_client::Host for WasmHost {
    type Transport = FetchTransport;
    type Clock = JsClock;

    fn transport(&self) -> &FetchTransport {
        &self.transport
    }

    fn clock(&self) -> &JsClock {
        &self.clock
    }

    fn fill_random(&self, buf: &mut [u8]) {
        self.entropy.borrow_mut().fill_bytes(buf)
    }

    fn load(&self, key: &str) -> Result<Option<String>, String> {
        let v = self.store_call("load", &Array::of1(&key.into()))?;
        match v.as_string() {
            Some(s) => Ok(Some(s)),
            None if v.is_undefined() || v.is_null() => Ok(None),
            None => Err("store.load returned neither a string nor null".into()),
        }
    }

    fn save(&self, key: &str, value: &str) -> Result<(), String> {
        self.store_call("save", &Array::of2(&key.into(), &value.into()))
            .map(drop)
    }

    fn remove(&self, key: &str) -> Result<(), String> {
        self.store_call("remove", &Array::of1(&key.into()))
            .map(drop)
    }

    /// Declared from the handlers the app gave (`inputHandlers`).
    fn input_capabilities(&self) -> workboard_client::ClientCapabilities {
        workboard_client::ClientCapabilities {
            elicitation_form: self.handler(HANDLERS[0]).is_some(),
            elicitation_url: self.handler(HANDLERS[1]).is_some(),
            sampling: self.handler(HANDLERS[2]).is_some(),
            roots: self.handler(HANDLERS[3]).is_some(),
        }
    }

    /// Calls the app's handler with the request's params and awaits its answer (a value or
    /// a promise of one): an object, converted through JSON.
    fn answer_input(
        &self,
        request: workboard_client::InputRequest,
    ) -> workboard_client::InputAnswer {
        let url = request
            .params
            .get("mode")
            .and_then(serde_json::Value::as_str)
            == Some("url");
        let name = match request.method.as_str() {
            "elicitation/create" if url => HANDLERS[1],
            "elicitation/create" => HANDLERS[0],
            "sampling/createMessage" => HANDLERS[2],
            _ => HANDLERS[3],
        };
        let handler = self.handler(name);
        Box::pin(async move {
            let handler = handler.ok_or_else(|| Error::Protocol {
                reason: "this client has no handler for this input request".into(),
            })?;
            let params =
                crate::types::to_js_value(&request.params).map_err(|e| handler_error(&e))?;
            let answer = handler
                .call1(&JsValue::UNDEFINED, &params)
                .map_err(|e| handler_error(&e))?;
            let answer = JsFuture::from(Promise::resolve(&answer))
                .await
                .map_err(|e| handler_error(&e))?;
            crate::types::input_answer(&answer)
        })
    }

    fn credentials_changed(&self, credentials: Option<&Credentials>) {
        let arg = credentials.map_or(JsValue::NULL, |c| c.to_json().into());
        // A copy: a listener may add or remove listeners.
        let listeners = self.listeners.borrow().clone();
        for l in listeners {
            // A throwing listener must not break the client.
            let _ = l.call1(&JsValue::UNDEFINED, &arg);
        }
    }
}

/// Cancels a call when its `AbortSignal`'s `abort` event fires; stops listening when dropped
/// (the call finished).
pub(crate) struct OnAbort(JsValue, Closure<dyn FnMut()>);

impl OnAbort {
    pub(crate) fn new(signal: JsValue, canceller: Canceller) -> OnAbort {
        let listener = Closure::<dyn FnMut()>::new(move || canceller.cancel());
        listen(&signal, "addEventListener", &listener);
        OnAbort(signal, listener)
    }
}

fn listen(signal: &JsValue, method: &str, listener: &Closure<dyn FnMut()>) {
    if let Ok(f) = get(signal, method).dyn_into::<Function>() {
        let _ = f.call2(signal, &"abort".into(), listener.as_ref());
    }
}

impl Drop for OnAbort {
    fn drop(&mut self) {
        listen(&self.0, "removeEventListener", &self.1);
    }
}
