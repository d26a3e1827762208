//! [`NotificationStream`]: a subscription's notifications and its end, or the client's
//! notifications ([`Client::notifications`]), as one stream pulled with `next()`, for hosts
//! whose apps pull (UniFFI: Kotlin `Flow`, Swift `AsyncSequence`, Python `async for`), with a
//! [`StreamStopper`] that ends it from any thread while a `next()` waits.

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Poll;

use futures_channel::mpsc::UnboundedReceiver;
use futures_util::task::AtomicWaker;
use futures_util::StreamExt;
use workboard_core::Error;

use crate::client::{Call, Canceller, Client, Notification, Subscription};
use crate::host::Host;

/// Notifications in order, then the end: `Ok(None)` once the stream has ended (the server
/// ended the subscription, [`StreamStopper::stop`], the client is gone), or the
/// subscription's error (refused by the server or the connection, broken).
#[derive(Debug)]
pub struct NotificationStream {
    rx: UnboundedReceiver<Notification>,
    end: Option<Call<bool>>,
    stop: Arc<Stop>,
}

#[derive(Debug)]
struct Stop {
    stopped: AtomicBool,
    waker: AtomicWaker,
    canceller: Option<Canceller>,
}

/// Ends a [`NotificationStream`] (cheap to clone; `Send + Sync`): a subscription is
/// cancelled (its stream closed, the server told) and a waiting `next()` returns `Ok(None)`.
#[derive(Clone, Debug)]
pub struct StreamStopper(Arc<Stop>);

impl StreamStopper {
    /// Ends the stream; stopping again does nothing.
    pub fn stop(&self) {
        self.0.stopped.store(true, Ordering::SeqCst);
        if let Some(c) = &self.0.canceller {
            c.cancel();
        }
        self.0.waker.wake();
    }
}

impl<H: Host> Client<H> {
    /// [`Client::subscribe`] as one stream.
    pub fn subscribe_stream(
        &self,
        filter: workboard_core::connection::SubscriptionFilter,
    ) -> NotificationStream {
        let Subscription { notifications, end } = self.subscribe(filter);
        let canceller = end.canceller();
        NotificationStream::new(notifications, Some(end), canceller)
    }

    /// [`Client::notifications`] as a stream with a stopper.
    pub fn notification_stream(&self) -> NotificationStream {
        NotificationStream::new(self.notifications(), None, None)
    }
}

impl NotificationStream {
    fn new(
        rx: UnboundedReceiver<Notification>,
        end: Option<Call<bool>>,
        canceller: Option<Canceller>,
    ) -> Self {
        let stop = Arc::new(Stop {
            stopped: AtomicBool::new(false),
            waker: AtomicWaker::new(),
            canceller,
        });
        NotificationStream { rx, end, stop }
    }

    /// What ends this stream from elsewhere.
    pub fn stopper(&self) -> StreamStopper {
        StreamStopper(self.stop.clone())
    }

    /// The next notification; `Ok(None)` once the stream has ended; the subscription's error
    /// when it failed. A stopped stream ends quietly (its `cancelled` is not an error).
    pub async fn next(&mut self) -> Result<Option<Notification>, Error> {
        let stop = self.stop.clone();
        let stopped = || stop.stopped.load(Ordering::SeqCst);
        let rx = &mut self.rx;
        let next = poll_fn(|cx| {
            stop.waker.register(cx.waker());
            if stopped() {
                return Poll::Ready(None);
            }
            rx.poll_next_unpin(cx)
        })
        .await;
        if let Some(n) = next {
            return Ok(Some(n));
        }
        match self.end.take() {
            Some(end) if !stopped() => end.await.map(|_| None),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use futures_util::task::LocalSpawnExt;
    use workboard_core::connection::SubscriptionFilter;
    use workboard_core::testing::{FakeMcpServer, ScriptedTransport, SimClock, MCP_URL, T0};
    use workboard_core::Credentials;

    use crate::{Client, ClientConfig, Host};

    struct TestHost {
        transport: ScriptedTransport,
        clock: SimClock,
    }
    impl Host for TestHost {
        type Transport = ScriptedTransport;
        type Clock = SimClock;
        fn transport(&self) -> &ScriptedTransport {
            &self.transport
        }
        fn clock(&self) -> &SimClock {
            &self.clock
        }
        fn fill_random(&self, buf: &mut [u8]) {
            buf.fill(7)
        }
    }

    fn client() -> (Client<TestHost>, futures_executor::LocalPool) {
        let server = FakeMcpServer::new();
        let host = TestHost {
            transport: server.transport(),
            clock: SimClock::at(T0),
        };
        let config =
            ClientConfig::for_server(MCP_URL).credentials(Credentials::personal("personal-token"));
        let (client, driver) = Client::new(config, host).unwrap();
        let pool = futures_executor::LocalPool::new();
        pool.spawner().spawn_local(driver.run()).unwrap();
        (client, pool)
    }

    #[test]
    fn a_refused_subscription_fails_next_with_its_error() {
        let (client, mut pool) = client();
        let mut s = client.subscribe_stream(SubscriptionFilter::default());
        let e = pool.run_until(s.next()).unwrap_err();
        assert_eq!(e.code(), "invalid_input");
        // Then it has ended.
        assert_eq!(pool.run_until(s.next()).unwrap(), None);
    }

    #[test]
    fn stopping_ends_a_waiting_next_quietly() {
        let (client, mut pool) = client();
        let mut s = client.notification_stream();
        let stopper = s.stopper();
        let (tx, waiting) = futures_channel::oneshot::channel();
        pool.spawner()
            .spawn_local(async move {
                let _ = tx.send(s.next().await);
            })
            .unwrap();
        let mut waiting = waiting;
        pool.run_until_stalled();
        assert_eq!(waiting.try_recv().unwrap(), None, "next() waits");
        stopper.stop();
        // Woken by the stop (no hang: the pool only runs what is ready).
        pool.run_until_stalled();
        assert_eq!(waiting.try_recv().unwrap().unwrap().unwrap(), None);
        // A stopped subscription ends without its `cancelled`.
        let mut sub = client.subscribe_stream(SubscriptionFilter {
            tools_list_changed: true,
            ..Default::default()
        });
        sub.stopper().stop();
        assert_eq!(pool.run_until(sub.next()).unwrap(), None);
    }

    #[test]
    fn queued_notifications_come_first_then_the_end() {
        let (client, mut pool) = client();
        let mut s = client.notification_stream();
        client.shared.state().listeners.iter().for_each(|tx| {
            let n = crate::Notification {
                method: "notifications/message".into(),
                params: serde_json::json!({"level": "info"}),
            };
            tx.unbounded_send(n).unwrap();
        });
        let n = pool.run_until(s.next()).unwrap().unwrap();
        assert_eq!(n.method, "notifications/message");
        // The client (every handle) gone: the stream ends.
        drop(client);
        assert_eq!(pool.run_until(s.next()).unwrap(), None);
    }
}
