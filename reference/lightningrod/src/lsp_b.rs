//! `LSP_b`, the payee's LSP: a mailbox for onion messages to an offline `B`
//! (LNROD-01 "The payee's LSP, LSP_b"). `LSP_b` forwards `B`'s HTLCs like any
//! node; only its onion-message rules are its own.

use crate::profile::Misuse;
use crate::units::MessageRef;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LspBConfig {
    /// The most messages kept for an offline `B` (`mailbox_limit`).
    pub mailbox_limit: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LspBEvent {
    /// An onion message whose next hop is `B`.
    OnionMessageForB { msg: MessageRef },
    /// `B` connected (`true`) or disconnected.
    BPeer { online: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LspBAction {
    ForwardToB { msg: MessageRef },
    Keep { msg: MessageRef },
    NotifyB,
    Drop { msg: MessageRef },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LspB {
    config: LspBConfig,
    b_online: bool,
    mailbox: Vec<MessageRef>,
}

impl LspB {
    pub fn new(config: LspBConfig, b_online: bool) -> LspB {
        LspB { config, b_online, mailbox: Vec::new() }
    }

    /// The messages kept for `B`, oldest first.
    pub fn kept(&self) -> &[MessageRef] {
        &self.mailbox
    }

    /// Applies one event. On `Err` the state is unchanged (no event is one today).
    pub fn handle(&mut self, event: LspBEvent) -> Result<Vec<LspBAction>, Misuse> {
        Ok(match event {
            LspBEvent::OnionMessageForB { msg } => {
                if self.b_online {
                    // LNROD-01: "LSP_b MUST forward an onion message for B at once while B is online."
                    vec![LspBAction::ForwardToB { msg }]
                } else if u32::try_from(self.mailbox.len()).map_or(true, |n| n >= self.config.mailbox_limit) {
                    // LNROD-01: "LSP_b MAY drop an onion message for B instead of keeping it when it already keeps `mailbox_limit` messages for B."
                    vec![LspBAction::Drop { msg }]
                } else {
                    // LNROD-01: "LSP_b MUST keep an onion message for B that arrives while B is offline and forward it once B is online."
                    self.mailbox.push(msg);
                    // LNROD-01: "LSP_b MUST notify B when it keeps an onion message for B."
                    vec![LspBAction::Keep { msg }, LspBAction::NotifyB]
                }
            }
            LspBEvent::BPeer { online } => {
                self.b_online = online;
                if online {
                    self.mailbox.drain(..).map(|msg| LspBAction::ForwardToB { msg }).collect()
                } else {
                    Vec::new()
                }
            }
        })
    }
}
