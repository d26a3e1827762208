//! Ending the application's notification streams ([`Client::notifications`]) with the
//! client, for hosts whose streams end when the app closes the client (JavaScript's
//! `for await`, Kotlin's `Flow`).

use crate::client::Client;
use crate::host::Host;

impl<H: Host> Client<H> {
    /// Ends every stream [`Client::notifications`] returned: each ends once the notifications
    /// already queued in it are read. [`Client::close`] leaves them open (they end with the
    /// client); an adapter whose app expects them to end with `close` calls this once `close`
    /// completed. A stream asked for later ends only with the client.
    pub fn end_notifications(&self) {
        self.shared.state().listeners.clear();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use futures_channel::mpsc::TryRecvError;
    use workboard_core::testing::{FakeMcpServer, ScriptedTransport, SimClock, MCP_URL, T0};

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

    #[test]
    fn end_notifications_ends_every_stream_and_only_those_asked_for_before() {
        let server = FakeMcpServer::new();
        let host = TestHost {
            transport: server.transport(),
            clock: SimClock::at(T0),
        };
        let (client, _driver) = Client::new(ClientConfig::for_server(MCP_URL), host).unwrap();
        let (mut a, mut b) = (client.notifications(), client.notifications());
        client.end_notifications();
        let mut later = client.notifications();
        // Ended (not merely empty): no wait, so a regression fails instead of hanging.
        assert!(matches!(a.try_recv(), Err(TryRecvError::Closed)));
        assert!(matches!(b.try_recv(), Err(TryRecvError::Closed)));
        // Asked for after: still open (nothing queued, not ended).
        assert!(
            matches!(later.try_recv(), Err(TryRecvError::Empty)),
            "a later stream stays open"
        );
    }
}
