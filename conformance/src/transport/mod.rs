//! BOLT 8 encrypted and authenticated transport.
//!
//! The core is sans-IO: [`handshake`] (three acts as typed state machines that
//! take ephemeral keys as inputs) and [`cipher`] (framing with key rotation).
//! [`io`] is a thin blocking edge over any `Read + Write`.

pub mod cipher;
pub mod crypto;
pub mod error;
pub mod handshake;
pub mod io;
pub mod keys;

pub use cipher::{Decryptor, Encryptor, FRAME_HEADER_LEN, MAX_MESSAGE_LEN};
pub use error::{Act, FrameError, HandshakeError};
pub use handshake::{Established, Initiator, Responder, ResponderAwaitingActThree};
pub use io::{accept, connect, Transport, TransportError};
pub use keys::PrivateKey;
