//! The blocking edge that joins a [`Transport`] to a [`Session`]: it performs
//! the session's `Send` actions on the wire and hands every other action back.

use super::machine::{Action, Event, Session, SessionConfig};
use crate::transport::{Transport, TransportError};
use sidepool_reference::units::PublicKey;
use sidepool_reference::Message;
use std::io::{Read, Write};

#[derive(Debug)]
pub struct Connection<S> {
    transport: Transport<S>,
    session: Session,
}

impl<S: Read + Write> Connection<S> {
    /// Starts the BOLT 1 session on an established transport (sends our `init`).
    pub fn start(
        transport: Transport<S>,
        config: SessionConfig,
    ) -> Result<(Connection<S>, Vec<Action>), TransportError> {
        let mut connection = Connection { transport, session: Session::new(config) };
        let actions = connection.feed(Event::Connected)?;
        Ok((connection, actions))
    }

    pub fn remote_node_id(&self) -> PublicKey {
        self.transport.remote_node_id()
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Receives one Lightning message and returns what the application must
    /// see (deliveries, notices, logs, a disconnect); replies are already sent.
    pub fn poll(&mut self) -> Result<Vec<Action>, TransportError> {
        let message = self.transport.recv()?;
        self.feed(Event::Received(message))
    }

    /// Sends a sidepool message if the session allows it; a refusal comes back as `Action::Refused`.
    pub fn send_sidepool(&mut self, message: Message) -> Result<Vec<Action>, TransportError> {
        self.feed(Event::SendSidepool(Box::new(message)))
    }

    fn feed(&mut self, event: Event) -> Result<Vec<Action>, TransportError> {
        let mut rest = Vec::new();
        for action in self.session.handle(event) {
            match action {
                Action::Send(bytes) => self.transport.send(&bytes)?,
                other => rest.push(other),
            }
        }
        Ok(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{accept, connect, PrivateKey};
    use sidepool_reference::messages::SwapPartyBegin;
    use sidepool_reference::units::PoolId;
    use sidepool_reference::wire::features::FeatureSet;
    use std::net::{TcpListener, TcpStream};
    use std::thread;

    /// Only so that a broken build fails instead of hanging; no assertion depends on time.
    const HANG_GUARD: std::time::Duration = std::time::Duration::from_secs(30);

    fn key(byte: u8) -> PrivateKey {
        PrivateKey::from_bytes([byte; 32]).unwrap()
    }

    /// Polls until the session reports sidepool ready; returns everything seen.
    fn until_ready<S: Read + Write>(c: &mut Connection<S>) -> Vec<Action> {
        let mut seen = Vec::new();
        while !seen.iter().any(|a| matches!(a, Action::SidepoolReady { .. })) {
            seen.extend(c.poll().unwrap());
        }
        seen
    }

    #[test]
    fn two_reference_sessions_handshake_and_exchange_a_sidepool_message_over_tcp() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let begin = Message::SwapPartyBegin(SwapPartyBegin {
            id: PoolId([9; 16]),
            irregular_authorization: None,
            unknown: Vec::new(),
        });
        let expected = begin.clone();
        let server = thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            stream.set_read_timeout(Some(HANG_GUARD)).unwrap();
            let (transport, _) = accept(stream, key(0x21)).unwrap();
            let (mut c, _) = Connection::start(transport, SessionConfig::default()).unwrap();
            until_ready(&mut c);
            // The peer's swap_party_begin arrives as a delivery.
            let got = c.poll().unwrap();
            assert_eq!(got, vec![Action::Deliver(expected)]);
        });
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(HANG_GUARD)).unwrap();
        let transport = connect(stream, key(0x11), key(0x21).public_key()).unwrap();
        let (mut c, actions) = Connection::start(transport, SessionConfig::default()).unwrap();
        assert!(actions.is_empty());
        let seen = until_ready(&mut c);
        assert!(seen.contains(&Action::SidepoolReady { peer_features: FeatureSet::from_bits([1]) }));
        assert!(c.send_sidepool(begin).unwrap().is_empty(), "sent, nothing refused");
        server.join().unwrap();
    }
}
