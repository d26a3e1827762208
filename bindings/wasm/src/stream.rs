//! `NotificationStream`: the client layer's notification streams (a [`Subscription`]'s, or
//! [`workboard_client::Client::notifications`]) as a JavaScript async iterator — type
//! conversion only: `next()` is the stream's next item, `return()` closes it (and cancels a
//! subscription through its canceller), `ended` is a subscription's end call as a promise.
//! `[Symbol.asyncIterator]` is set on the class by the package's entry points (index.js,
//! node.js), which wasm-bindgen cannot declare.

use std::cell::RefCell;
use std::rc::Rc;
use std::task::Waker;

use futures_channel::mpsc::UnboundedReceiver;
use futures_util::StreamExt;
use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use workboard_client::{Canceller, Notification, Subscription};

use crate::error::to_js;
use crate::host::{handled, OnAbort};
use crate::types::notification_to_js;

/// Notifications of a subscription (`subscribe`) or of the client (`notifications()`), in
/// order: `for await (const n of stream)`. Ends when the subscription ends (the server closed
/// it, `return()`/`close()`, its `signal`, `client.close()`) or, for `notifications()`, when
/// the client is closed; a subscription that failed makes the iteration throw its
/// `WorkboardError`. Freeing it (`free()`, `using`, garbage collection) closes it too.
#[wasm_bindgen]
pub struct NotificationStream {
    rx: Rc<RefCell<UnboundedReceiver<Notification>>>,
    /// The task waiting in `next()`, woken when the stream is closed here.
    waiting: Rc<RefCell<Option<Waker>>>,
    /// The last `next()`: each waits for the one before (one reader at a time).
    last: RefCell<Promise>,
    /// A subscription's end: its call as a promise (rejections handled here too).
    end: Option<Promise>,
    canceller: Option<Canceller>,
    _on_abort: Option<OnAbort>,
}

impl NotificationStream {
    /// A subscription's stream; `signal` (an `AbortSignal`) closes it.
    pub(crate) fn subscription(s: Subscription, signal: Option<JsValue>) -> NotificationStream {
        let canceller = s.end.canceller();
        let on_abort = signal
            .zip(canceller.clone())
            .map(|(s, c)| OnAbort::new(s, c));
        let call = s.end;
        let end = crate::promise(async move { Ok(JsValue::from(call.await.map_err(to_js)?)) });
        // Handled: an app that never looks at `ended` gets no unhandled rejection.
        handled(&end);
        NotificationStream::new(s.notifications, Some(end), canceller, on_abort)
    }

    /// The stream of a receiver (a subscription's, with its end and canceller).
    pub(crate) fn new(
        rx: UnboundedReceiver<Notification>,
        end: Option<Promise>,
        canceller: Option<Canceller>,
        on_abort: Option<OnAbort>,
    ) -> NotificationStream {
        NotificationStream {
            rx: Rc::new(RefCell::new(rx)),
            waiting: Rc::default(),
            last: RefCell::new(Promise::resolve(&JsValue::UNDEFINED)),
            end,
            canceller,
            _on_abort: on_abort,
        }
    }
}

/// `{ value, done }`.
fn iter_result(value: &JsValue, done: bool) -> Result<JsValue, JsValue> {
    let r = Object::new();
    Reflect::set(&r, &"value".into(), value)?;
    Reflect::set(&r, &"done".into(), &done.into())?;
    Ok(r.into())
}

#[wasm_bindgen]
impl NotificationStream {
    /// The next notification (`{ value: McpNotification, done: false }`), or `{ done: true }`
    /// once the stream has ended; rejects with the subscription's `WorkboardError` if it
    /// failed (not when it was closed or cancelled).
    #[wasm_bindgen(unchecked_return_type = "Promise<IteratorResult<McpNotification, undefined>>")]
    pub fn next(&self) -> Promise {
        let (rx, waiting, end) = (self.rx.clone(), self.waiting.clone(), self.end.clone());
        let before = self.last.borrow().clone();
        let next = crate::promise(async move {
            let _ = JsFuture::from(before).await;
            let item = futures_util::future::poll_fn(|cx| {
                *waiting.borrow_mut() = Some(cx.waker().clone());
                rx.borrow_mut().poll_next_unpin(cx)
            })
            .await;
            if let Some(n) = item {
                return iter_result(&notification_to_js(&n)?, false);
            }
            if let Some(end) = end {
                if let Err(e) = JsFuture::from(end).await {
                    let code = Reflect::get(&e, &"code".into())
                        .ok()
                        .and_then(|c| c.as_string());
                    if code.as_deref() != Some("cancelled") {
                        return Err(e);
                    }
                }
            }
            iter_result(&JsValue::UNDEFINED, true)
        });
        *self.last.borrow_mut() = next.clone();
        next
    }

    /// Closes the stream (`break` in `for await` calls it): a subscription is cancelled (its
    /// stream closed at the server); notifications already received are still read by
    /// `next()`, then it is done.
    #[wasm_bindgen(
        js_name = "return",
        unchecked_return_type = "Promise<IteratorResult<McpNotification, undefined>>"
    )]
    pub fn return_(&self) -> Promise {
        self.close();
        Promise::resolve(&iter_result(&JsValue::UNDEFINED, true).unwrap_or(JsValue::UNDEFINED))
    }

    /// Closes the stream, as `return()`.
    pub fn close(&self) {
        if let Some(c) = &self.canceller {
            c.cancel();
        }
        self.rx.borrow_mut().close();
        if let Some(w) = self.waiting.borrow_mut().take() {
            w.wake();
        }
    }

    /// A subscription's end: resolves to `true` when the server closed it with a result,
    /// `false` when its stream dropped; rejects with a `WorkboardError` when it failed
    /// (`cancelled` after `return()`, `close()`, its signal or `client.close()`). `undefined`
    /// for `client.notifications()`.
    #[wasm_bindgen(getter, unchecked_return_type = "Promise<boolean> | undefined")]
    pub fn ended(&self) -> JsValue {
        self.end.clone().map_or(JsValue::UNDEFINED, JsValue::from)
    }
}

impl Drop for NotificationStream {
    fn drop(&mut self) {
        if let Some(c) = &self.canceller {
            c.cancel();
        }
    }
}
