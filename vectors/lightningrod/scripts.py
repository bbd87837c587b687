#!/usr/bin/env python3
"""Writes vectors/lightningrod/scripts.yaml: event scripts for LNROD-01's four machines.

The expected actions are written here by hand from the spec's requirements (this is not
a run of the Rust reference), so the vectors check the reference rather than echo it.
Stdlib only. `python3 scripts.py` writes the file; `--check` exits 1 when the committed
file differs from what it would write (conformance/lnrod-ldk/tests/generated.rs runs it).

Where a test's expected actions rest on one of our readings of LNROD-01 (a `Reading:`
line in the spec), the test is `acceptable` and a flag names the reading.
"""
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "scripts.yaml")
LIGHTNINGROD_COMMIT = "fdfa177a5944f198f62e67eb4b28b76616edf9ea"


def sha(hex_bytes):
    return hashlib.sha256(bytes.fromhex(hex_bytes)).hexdigest()


# Test secrets and the hashes they lock.
P1, P2, P3 = "01" * 32, "02" * 32, "03" * 32
H1, H2, H3 = sha(P1), sha(P2), sha(P3)
PID1, PID2, PID3 = "a1" * 32, "a2" * 32, "a3" * 32
WRONG_PREIMAGE = "ee" * 32
HOLD_FEATURES = "02" + "00" * 19          # bit 153 (htlc_hold, optional)
NO_HOLD_FEATURES = "88a000088aa2a2"       # usual bits, no htlc_hold

NOTES = {
    "Lightningrod": "The `lightningrod` profile (breez's README: block request, pid, payment_unblock).",
    "Ldk": "The `ldk` profile (LDK 0.2: hold_htlc, release paths, release_held_htlc).",
    "Release": "A valid unblock releases the held HTLC(s), which then settle.",
    "Mpp": "A payment in several HTLCs (parts).",
    "Expiry": "A held HTLC reaches its fail-back height and is failed back.",
    "InvalidUnblock": "An unblock that is not valid is ignored; the HTLCs stay held.",
    "DuplicateUnblock": "A second unblock for released HTLCs is ignored.",
    "Notify": "A notification to an offline user.",
    "Misuse": "A caller bug: the machine reports it and its state is unchanged.",
    "Parameter": "Behaviour under a non-default parameter (fail-back reference, margin, limits).",
    "ReadingBlockRequestFromA": "Our reading lnrod.lspa.2: a block request counts only when it comes directly from A.",
    "ReadingOneRequestPerHash": "Our reading lnrod.lspa.3: a payment hash is in at most one unreleased block request.",
    "ReadingIgnoreInvalidUnblock": "Our reading of lnrod.lspa.12 / .13 for the lightningrod profile: a wrong or repeated pid is ignored.",
    "ReadingLateMppPart": "Our reading lnrod.lspa.14: a part arriving after the unblock is forwarded as usual.",
    "ReadingExpiryInLightningrod": "Our reading of lnrod.lspa.16 for the lightningrod profile: the README is silent on expiry; LDK's fail-back rule applies.",
    "ReadingForgetFailedRequest": "Our reading lnrod.lspa.15: a block request whose held HTLCs all failed back is forgotten.",
    "ReadingExpiredOnArrival": "Our reading lnrod.lspa.17: an HTLC already past its fail-back height is failed back at once.",
    "ReadingBadCltv": "Our reading lnrod.lspa.18: an HTLC whose outgoing_cltv_value is not below its cltv_expiry is failed back.",
    "ReadingHoldLimit": "Our reading lnrod.lspa.19: LSP_a holds at most max_held HTLCs.",
    "ReadingUnblockForwardedToA": "Our reading lnrod.lspa.24: the onion message carrying payment_unblock goes on to A.",
    "ReadingPidAfterCommit": "Our reading lnrod.a.4: A sends pid to B once every HTLC is irrevocably committed.",
    "ReadingUnblockOnlyIfSettleable": "Our reading lnrod.b.1: B unblocks only payments it can settle.",
    "ReadingMailboxLimit": "Our reading lnrod.lspb.3: LSP_b drops a message beyond mailbox_limit.",
}

# ---- configs ---------------------------------------------------------------------------------


def lsp_a_config(profile, **kw):
    c = dict(profile=profile, fail_back_reference="outgoing_cltv", fail_back_margin=39, max_held=10,
             advertises_hold=(profile == "ldk"), height=100, a_online=True)
    c.update(kw)
    return c


LR, LDK = "lightningrod", "ldk"

# ---- events and actions ----------------------------------------------------------------------


def ev(type_, **fields):
    return dict(type=type_, **fields)


def act(action, **fields):
    return dict(action=action, **fields)


def htlc_added(htlc, payment_hash=H1, amount=500_000, cltv=300, outgoing=260, hold=False):
    # Fail-back height with LDK's rule: 260 - 39 = 221.
    return ev("htlc_added", htlc=htlc, payment_hash=payment_hash, amount_msat=amount, cltv_expiry=cltv,
              outgoing_cltv=outgoing, hold_htlc=hold)


def block_request(pid=PID1, hashes=(H1,), direct=True):
    return ev("block_request", pid=pid, hashes=list(hashes), direct_from_a=direct)


FWD_TO_A = act("forward_onion_message_to_a")

# ---- tests -----------------------------------------------------------------------------------

TESTS = []


def test(group, comment, role, config, steps, flags, covers, result="valid"):
    TESTS.append(dict(group=group, comment=comment, role=role, config=config, steps=steps, flags=flags,
                      covers=covers, result=result))


def s(event, *actions):
    return dict(event=event, expect=list(actions))


def err(event, name):
    return dict(event=event, expect_error=name)


G_LSPA_LR = "LSP_a, lightningrod profile: block requests, pid, payment_unblock"
G_LSPA_LDK = "LSP_a, ldk profile: hold_htlc, release paths, release_held_htlc"
G_A = "A, the payer"
G_B = "B, the payee"
G_LSPB = "LSP_b: the mailbox for an offline B"

# LSP_a, lightningrod profile.
test(G_LSPA_LR, "release: block request, HTLC held, A goes offline, valid unblock, preimage back and A notified", "lsp_a",
     lsp_a_config(LR), [
         s(block_request()),
         s(htlc_added(0), act("hold", htlc=0)),
         s(ev("a_peer", online=False)),
         s(ev("unblock", payment_unblock=PID1), act("release", htlc=0), FWD_TO_A, act("notify_a", reason="onion_message")),
         s(ev("downstream_fulfilled", htlc=0, preimage=P1), act("fulfil", htlc=0, preimage=P1),
           act("notify_a", reason="preimage")),
     ], ["Lightningrod", "Release", "Notify", "ReadingUnblockForwardedToA"],
     ["lnrod.lspa.1", "lnrod.lspa.8", "lnrod.lspa.9", "lnrod.lspa.11", "lnrod.lspa.20", "lnrod.lspa.22",
      "lnrod.lspa.23", "lnrod.lspa.24"], result="acceptable")
test(G_LSPA_LR, "MPP: two parts held under one request, one unblock releases both", "lsp_a", lsp_a_config(LR), [
    s(block_request()),
    s(htlc_added(0, amount=600_000), act("hold", htlc=0)),
    s(htlc_added(1, amount=400_000), act("hold", htlc=1)),
    s(ev("block", height=150)),
    s(ev("unblock", payment_unblock=PID1), act("release", htlc=0), act("release", htlc=1), FWD_TO_A),
    s(ev("downstream_fulfilled", htlc=1, preimage=P1), act("fulfil", htlc=1, preimage=P1)),
    s(ev("downstream_fulfilled", htlc=0, preimage=P1), act("fulfil", htlc=0, preimage=P1)),
], ["Lightningrod", "Mpp", "Release", "ReadingUnblockForwardedToA"],
    ["lnrod.lspa.1", "lnrod.lspa.11", "lnrod.lspa.20"], result="acceptable")
test(G_LSPA_LR, "MPP: a part arriving after the unblock is forwarded as usual", "lsp_a", lsp_a_config(LR), [
    s(block_request()),
    s(htlc_added(0, amount=600_000), act("hold", htlc=0)),
    s(ev("unblock", payment_unblock=PID1), act("release", htlc=0), FWD_TO_A),
    s(htlc_added(1, amount=400_000), act("forward", htlc=1)),
], ["Lightningrod", "Mpp", "ReadingLateMppPart", "ReadingUnblockForwardedToA"], ["lnrod.lspa.14"], result="acceptable")
test(G_LSPA_LR, "MPP: a block request listing two payment hashes holds both", "lsp_a", lsp_a_config(LR), [
    s(block_request(hashes=(H1, H2))),
    s(htlc_added(0, payment_hash=H1), act("hold", htlc=0)),
    s(htlc_added(1, payment_hash=H2), act("hold", htlc=1)),
    s(htlc_added(2, payment_hash=H3), act("forward", htlc=2)),
], ["Lightningrod", "Mpp"], ["lnrod.lspa.1", "lnrod.lspa.4"])
test(G_LSPA_LR, "expiry: held until the fail-back height (outgoing 260 - 39 = 221), then failed back", "lsp_a",
     lsp_a_config(LR), [
         s(block_request()),
         s(htlc_added(0), act("hold", htlc=0)),
         s(ev("block", height=220)),
         s(ev("block", height=221), act("fail_back", htlc=0, reason="expired")),
     ], ["Lightningrod", "Expiry", "ReadingExpiryInLightningrod"], ["lnrod.lspa.16"], result="acceptable")
test(G_LSPA_LR, "expiry: the failed request is forgotten, so A can retry the hash with a fresh pid", "lsp_a",
     lsp_a_config(LR), [
         s(block_request()),
         s(htlc_added(0), act("hold", htlc=0)),
         s(ev("block", height=230), act("fail_back", htlc=0, reason="expired")),
         s(ev("unblock", payment_unblock=PID1), act("unblock_ignored", reason="no_such_pid"), FWD_TO_A),
         s(block_request(pid=PID2)),
         s(htlc_added(1, cltv=400, outgoing=360), act("hold", htlc=1)),
     ], ["Lightningrod", "Expiry", "ReadingForgetFailedRequest", "ReadingIgnoreInvalidUnblock",
         "ReadingUnblockForwardedToA"], ["lnrod.lspa.15"], result="acceptable")
test(G_LSPA_LR, "invalid unblock: a wrong pid is ignored and the HTLC stays held until the right one", "lsp_a",
     lsp_a_config(LR), [
         s(block_request()),
         s(htlc_added(0), act("hold", htlc=0)),
         s(ev("unblock", payment_unblock=PID2), act("unblock_ignored", reason="no_such_pid"), FWD_TO_A),
         s(ev("block", height=200)),
         s(ev("unblock", payment_unblock=PID1), act("release", htlc=0), FWD_TO_A),
     ], ["Lightningrod", "InvalidUnblock", "ReadingIgnoreInvalidUnblock", "ReadingUnblockForwardedToA"],
     ["lnrod.lspa.8", "lnrod.lspa.9", "lnrod.lspa.12"], result="acceptable")
test(G_LSPA_LR, "duplicate unblock: the second payment_unblock releases nothing", "lsp_a", lsp_a_config(LR), [
    s(block_request()),
    s(htlc_added(0), act("hold", htlc=0)),
    s(ev("unblock", payment_unblock=PID1), act("release", htlc=0), FWD_TO_A),
    s(ev("unblock", payment_unblock=PID1), act("unblock_ignored", reason="no_such_pid"), FWD_TO_A),
], ["Lightningrod", "DuplicateUnblock", "ReadingIgnoreInvalidUnblock", "ReadingUnblockForwardedToA"],
    ["lnrod.lspa.13"], result="acceptable")
test(G_LSPA_LR, "a block request that did not come directly from A is ignored", "lsp_a", lsp_a_config(LR), [
    s(block_request(direct=False), act("block_request_ignored", reason="not_from_a")),
    s(htlc_added(0), act("forward", htlc=0)),
], ["Lightningrod", "ReadingBlockRequestFromA"], ["lnrod.lspa.2"], result="acceptable")
test(G_LSPA_LR, "a second block request for a listed hash is ignored; its pid unblocks nothing", "lsp_a",
     lsp_a_config(LR), [
         s(block_request()),
         s(block_request(pid=PID2, hashes=(H2, H1)), act("block_request_ignored", reason="hash_already_listed")),
         s(htlc_added(0), act("hold", htlc=0)),
         s(htlc_added(1, payment_hash=H2), act("forward", htlc=1)),
         s(ev("unblock", payment_unblock=PID2), act("unblock_ignored", reason="no_such_pid"), FWD_TO_A),
     ], ["Lightningrod", "ReadingOneRequestPerHash", "ReadingIgnoreInvalidUnblock", "ReadingUnblockForwardedToA"],
     ["lnrod.lspa.3"], result="acceptable")
test(G_LSPA_LR, "no block request: the HTLC is forwarded, not held", "lsp_a", lsp_a_config(LR), [
    s(htlc_added(0, hold=True), act("forward", htlc=0)),
], ["Lightningrod"], ["lnrod.lspa.4"])
test(G_LSPA_LR, "an HTLC already at its fail-back height is failed back at once", "lsp_a", lsp_a_config(LR, height=230), [
    s(block_request()),
    s(htlc_added(0), act("fail_back", htlc=0, reason="expired")),
], ["Lightningrod", "Expiry", "ReadingExpiredOnArrival"], ["lnrod.lspa.17"], result="acceptable")
test(G_LSPA_LR, "hold limit: with max_held 1 the second HTLC is failed back", "lsp_a", lsp_a_config(LR, max_held=1), [
    s(block_request()),
    s(htlc_added(0), act("hold", htlc=0)),
    s(htlc_added(1), act("fail_back", htlc=1, reason="hold_limit")),
], ["Lightningrod", "Parameter", "ReadingHoldLimit"], ["lnrod.lspa.19"], result="acceptable")
test(G_LSPA_LR, "an HTLC whose outgoing_cltv_value is not below its cltv_expiry is failed back", "lsp_a",
     lsp_a_config(LR), [
         s(block_request()),
         s(htlc_added(0, cltv=300, outgoing=300), act("fail_back", htlc=0, reason="bad_cltv")),
     ], ["Lightningrod", "ReadingBadCltv"], ["lnrod.lspa.18"], result="acceptable")
test(G_LSPA_LR, "a released HTLC that fails downstream is failed back to A", "lsp_a", lsp_a_config(LR), [
    s(block_request()),
    s(htlc_added(0), act("hold", htlc=0)),
    s(ev("unblock", payment_unblock=PID1), act("release", htlc=0), FWD_TO_A),
    s(ev("downstream_failed", htlc=0), act("fail_back", htlc=0, reason="downstream_failed")),
], ["Lightningrod", "ReadingUnblockForwardedToA"], ["lnrod.lspa.21"], result="acceptable")
test(G_LSPA_LR, "onion messages for A: forwarded, and A notified only while offline", "lsp_a", lsp_a_config(LR), [
    s(ev("onion_message_for_a"), FWD_TO_A),
    s(ev("a_peer", online=False)),
    s(ev("onion_message_for_a"), FWD_TO_A, act("notify_a", reason="onion_message")),
], ["Lightningrod", "Notify"], ["lnrod.lspa.23"])
test(G_LSPA_LR, "caller bugs: an ldk release, a downstream outcome for a held HTLC, a reused HTLC id", "lsp_a",
     lsp_a_config(LR), [
         err(ev("release_held_htlc", context=0, authenticated=True), "wrong_profile"),
         s(block_request()),
         s(htlc_added(0), act("hold", htlc=0)),
         err(ev("downstream_fulfilled", htlc=0, preimage=P1), "not_forwarded"),
         err(htlc_added(0), "duplicate_htlc"),
         err(ev("downstream_failed", htlc=9), "unknown_htlc"),
         s(ev("unblock", payment_unblock=PID1), act("release", htlc=0), FWD_TO_A),
     ], ["Lightningrod", "Misuse", "ReadingUnblockForwardedToA"], [], result="acceptable")

# LSP_a, ldk profile.
test(G_LSPA_LDK, "release: hold_htlc held with a release path, released by an authenticated release_held_htlc",
     "lsp_a", lsp_a_config(LDK), [
         s(htlc_added(5, hold=True), act("hold", htlc=5), act("give_release_path", htlc=5)),
         s(ev("a_peer", online=False)),
         s(ev("release_held_htlc", context=5, authenticated=True), act("release", htlc=5)),
         s(ev("downstream_fulfilled", htlc=5, preimage=P1), act("fulfil", htlc=5, preimage=P1),
           act("notify_a", reason="preimage")),
     ], ["Ldk", "Release", "Notify"],
     ["lnrod.lspa.5", "lnrod.lspa.7", "lnrod.lspa.8", "lnrod.lspa.10", "lnrod.lspa.11", "lnrod.lspa.20",
      "lnrod.lspa.22"])
test(G_LSPA_LDK, "MPP: each part has its own release path and is released on its own", "lsp_a", lsp_a_config(LDK), [
    s(htlc_added(0, amount=600_000, hold=True), act("hold", htlc=0), act("give_release_path", htlc=0)),
    s(htlc_added(1, amount=400_000, hold=True), act("hold", htlc=1), act("give_release_path", htlc=1)),
    s(ev("release_held_htlc", context=0, authenticated=True), act("release", htlc=0)),
    s(ev("block", height=150)),
    s(ev("release_held_htlc", context=1, authenticated=True), act("release", htlc=1)),
], ["Ldk", "Mpp", "Release"], ["lnrod.lspa.10", "lnrod.lspa.11"])
test(G_LSPA_LDK, "an unauthenticated or unknown context releases nothing", "lsp_a", lsp_a_config(LDK), [
    s(htlc_added(0, hold=True), act("hold", htlc=0), act("give_release_path", htlc=0)),
    s(ev("release_held_htlc", context=0, authenticated=False), act("unblock_ignored", reason="unauthenticated")),
    s(ev("release_held_htlc", context=3, authenticated=True), act("unblock_ignored", reason="not_held")),
    s(ev("release_held_htlc", context=0, authenticated=True), act("release", htlc=0)),
], ["Ldk", "InvalidUnblock"], ["lnrod.lspa.8", "lnrod.lspa.10", "lnrod.lspa.12"])
test(G_LSPA_LDK, "duplicate release: the second release_held_htlc finds nothing held", "lsp_a", lsp_a_config(LDK), [
    s(htlc_added(0, hold=True), act("hold", htlc=0), act("give_release_path", htlc=0)),
    s(ev("release_held_htlc", context=0, authenticated=True), act("release", htlc=0)),
    s(ev("release_held_htlc", context=0, authenticated=True), act("unblock_ignored", reason="not_held")),
], ["Ldk", "DuplicateUnblock"], ["lnrod.lspa.13"])
test(G_LSPA_LDK, "hold_htlc to a node that does not advertise htlc_hold is failed back", "lsp_a",
     lsp_a_config(LDK, advertises_hold=False), [
         s(htlc_added(0, hold=True), act("fail_back", htlc=0, reason="hold_unsupported")),
         s(htlc_added(1), act("forward", htlc=1)),
     ], ["Ldk"], ["lnrod.lspa.6", "lnrod.lspa.4"])
test(G_LSPA_LDK, "no hold_htlc: forwarded as usual", "lsp_a", lsp_a_config(LDK), [
    s(htlc_added(0), act("forward", htlc=0)),
    s(ev("downstream_failed", htlc=0), act("fail_back", htlc=0, reason="downstream_failed")),
], ["Ldk"], ["lnrod.lspa.4", "lnrod.lspa.21"])
test(G_LSPA_LDK, "expiry: LDK's 39 blocks before outgoing_cltv_value; a release after that finds nothing", "lsp_a",
     lsp_a_config(LDK), [
         s(htlc_added(0, hold=True), act("hold", htlc=0), act("give_release_path", htlc=0)),
         s(ev("block", height=220)),
         s(ev("block", height=221), act("fail_back", htlc=0, reason="expired")),
         s(ev("release_held_htlc", context=0, authenticated=True), act("unblock_ignored", reason="not_held")),
     ], ["Ldk", "Expiry"], ["lnrod.lspa.16"])
test(G_LSPA_LDK, "fail-back counted from cltv_expiry with a 10-block margin: 300 - 10 = 290", "lsp_a",
     lsp_a_config(LDK, fail_back_reference="incoming_expiry", fail_back_margin=10), [
         s(htlc_added(0, hold=True), act("hold", htlc=0), act("give_release_path", htlc=0)),
         s(ev("block", height=289)),
         s(ev("block", height=290), act("fail_back", htlc=0, reason="expired")),
     ], ["Ldk", "Expiry", "Parameter"], ["lnrod.lspa.16", "lnrod.lspa.18"])
test(G_LSPA_LDK, "caller bugs: block requests and payment_unblock belong to the lightningrod profile", "lsp_a",
     lsp_a_config(LDK), [
         err(block_request(), "wrong_profile"),
         err(ev("unblock", payment_unblock=PID1), "wrong_profile"),
     ], ["Ldk", "Misuse"], [])

# A, the payer.
test(G_A, "lightningrod: block request, parts, pid to B once committed, paid on the preimage", "a",
     dict(profile=LR), [
         s(ev("pay", payment_hash=H1, parts=[dict(htlc=0, amount_msat=600_000), dict(htlc=1, amount_msat=400_000)],
              pid=PID1),
           act("send_block_request", pid=PID1, hashes=[H1]),
           act("add_htlc", htlc=0, payment_hash=H1, amount_msat=600_000, hold_htlc=False),
           act("add_htlc", htlc=1, payment_hash=H1, amount_msat=400_000, hold_htlc=False)),
         s(ev("htlc_committed", htlc=0)),
         s(ev("htlc_committed", htlc=1), act("send_pid_to_b", payment_hash=H1, pid=PID1),
           act("may_go_offline", payment_hash=H1)),
         s(ev("htlc_fulfilled", htlc=0, preimage=P1), act("paid", payment_hash=H1, preimage=P1)),
         s(ev("htlc_fulfilled", htlc=1, preimage=P1)),
     ], ["Lightningrod", "Mpp", "Release", "ReadingPidAfterCommit"],
     ["lnrod.a.2", "lnrod.a.3", "lnrod.a.4", "lnrod.a.5", "lnrod.a.6", "lnrod.a.11", "lnrod.a.12"],
     result="acceptable")
test(G_A, "lightningrod: a reused pid, a missing pid, a repeated payment hash are caller bugs", "a", dict(profile=LR), [
    s(ev("pay", payment_hash=H1, parts=[dict(htlc=0, amount_msat=1_000)], pid=PID1),
      act("send_block_request", pid=PID1, hashes=[H1]),
      act("add_htlc", htlc=0, payment_hash=H1, amount_msat=1_000, hold_htlc=False)),
    err(ev("pay", payment_hash=H2, parts=[dict(htlc=1, amount_msat=1_000)], pid=PID1), "pid_reused"),
    err(ev("pay", payment_hash=H2, parts=[dict(htlc=1, amount_msat=1_000)]), "missing_pid"),
    err(ev("pay", payment_hash=H1, parts=[dict(htlc=1, amount_msat=1_000)], pid=PID2), "duplicate_payment"),
    err(ev("release_path", htlc=0, path=1), "wrong_profile"),
], ["Lightningrod", "Misuse"], ["lnrod.a.1"])
test(G_A, "a preimage that does not hash to the payment hash is not a payment; all parts failing is", "a",
     dict(profile=LR), [
         s(ev("pay", payment_hash=H1, parts=[dict(htlc=0, amount_msat=500), dict(htlc=1, amount_msat=500)], pid=PID1),
           act("send_block_request", pid=PID1, hashes=[H1]),
           act("add_htlc", htlc=0, payment_hash=H1, amount_msat=500, hold_htlc=False),
           act("add_htlc", htlc=1, payment_hash=H1, amount_msat=500, hold_htlc=False)),
         s(ev("htlc_fulfilled", htlc=0, preimage=WRONG_PREIMAGE), act("preimage_mismatch", htlc=0)),
         s(ev("htlc_failed", htlc=0)),
         s(ev("htlc_failed", htlc=1), act("payment_failed", payment_hash=H1)),
     ], ["Lightningrod"], ["lnrod.a.12", "lnrod.a.13"])
test(G_A, "ldk: hold_htlc on every part, one held_htlc_available per release path, paid on the preimage", "a",
     dict(profile=LDK), [
         s(ev("lsp_init", features=HOLD_FEATURES)),
         s(ev("pay", payment_hash=H1, parts=[dict(htlc=0, amount_msat=600_000), dict(htlc=1, amount_msat=400_000)]),
           act("add_htlc", htlc=0, payment_hash=H1, amount_msat=600_000, hold_htlc=True),
           act("add_htlc", htlc=1, payment_hash=H1, amount_msat=400_000, hold_htlc=True)),
         s(ev("htlc_committed", htlc=0)),
         s(ev("release_path", htlc=0, path=10), act("send_held_htlc_available", htlc=0, reply_path=10)),
         s(ev("release_path", htlc=1, path=11), act("send_held_htlc_available", htlc=1, reply_path=11),
           act("may_go_offline", payment_hash=H1)),
         s(ev("release_path", htlc=7, path=12), act("release_path_ignored", htlc=7)),
         s(ev("htlc_fulfilled", htlc=1, preimage=P1), act("paid", payment_hash=H1, preimage=P1)),
     ], ["Ldk", "Mpp", "Release"], ["lnrod.a.7", "lnrod.a.8", "lnrod.a.9", "lnrod.a.10", "lnrod.a.11", "lnrod.a.12"])
test(G_A, "ldk: an LSP without htlc_hold gets no held payment", "a", dict(profile=LDK), [
    s(ev("lsp_init", features=NO_HOLD_FEATURES)),
    s(ev("pay", payment_hash=H1, parts=[dict(htlc=0, amount_msat=1_000)]),
      act("payment_refused", payment_hash=H1, reason="lsp_cannot_hold")),
    err(ev("pay", payment_hash=H2, parts=[dict(htlc=0, amount_msat=1_000)], pid=PID1), "unexpected_pid"),
], ["Ldk", "Misuse"], ["lnrod.a.7"])

# B, the payee.
B_LR = dict(profile=LR, mpp_timeout=60, online=False)
B_LDK = dict(profile=LDK, mpp_timeout=60, online=True)
test(G_B, "lightningrod: online, B unblocks its invoice's payment and settles both parts with the preimage", "b", B_LR, [
    s(ev("invoice_created", amount_msat=1_000_000, preimage=P1)),
    err(ev("pid_received", payment_hash=H1, pid=PID1), "offline"),
    s(ev("online", online=True)),
    s(ev("pid_received", payment_hash=H1, pid=PID1), act("send_unblock", pid=PID1)),
    s(ev("htlc_arrived", htlc=0, payment_hash=H1, amount_msat=600_000, at=10)),
    s(ev("htlc_arrived", htlc=1, payment_hash=H1, amount_msat=400_000, at=12),
      act("fulfil", htlcs=[0, 1], preimage=P1), act("settled", payment_hash=H1)),
], ["Lightningrod", "Mpp", "Release"], ["lnrod.b.2", "lnrod.b.3", "lnrod.b.6", "lnrod.b.7"])
test(G_B, "lightningrod: no unblock for a payment hash B cannot settle", "b", dict(B_LR, online=True), [
    s(ev("pid_received", payment_hash=H2, pid=PID1), act("not_unblocked", reason="cannot_settle")),
], ["Lightningrod", "ReadingUnblockOnlyIfSettleable"], ["lnrod.b.1"], result="acceptable")
test(G_B, "an incomplete payment is failed back after mpp_timeout; an unknown hash at once", "b", dict(B_LR, online=True), [
    s(ev("invoice_created", amount_msat=1_000_000, preimage=P1)),
    s(ev("htlc_arrived", htlc=0, payment_hash=H1, amount_msat=600_000, at=10)),
    s(ev("tick", now=69)),
    s(ev("tick", now=70), act("fail", htlcs=[0], reason="mpp_timeout")),
    s(ev("htlc_arrived", htlc=1, payment_hash=H3, amount_msat=5_000, at=71),
      act("fail", htlcs=[1], reason="unknown_payment")),
], ["Lightningrod", "Mpp"], ["lnrod.b.6", "lnrod.b.8", "lnrod.b.9"])
test(G_B, "ldk: release over the reply path; not when unauthenticated or expired", "b", B_LDK, [
    s(ev("held_htlc_available", reply_path=7, authenticated=True, path_expiry=1000, now=1000),
      act("send_release", reply_path=7)),
    s(ev("held_htlc_available", reply_path=8, authenticated=False, path_expiry=1000, now=500),
      act("not_unblocked", reason="unauthenticated")),
    s(ev("held_htlc_available", reply_path=9, authenticated=True, path_expiry=1000, now=1001),
      act("not_unblocked", reason="path_expired")),
    err(ev("pid_received", payment_hash=H1, pid=PID1), "wrong_profile"),
], ["Ldk", "Release"], ["lnrod.b.4", "lnrod.b.5"])

# LSP_b.
test(G_LSPB, "B offline: messages kept and B notified, all forwarded when B comes online", "lsp_b",
     dict(mailbox_limit=10, b_online=False), [
         s(ev("onion_message_for_b", msg=1), act("keep", msg=1), act("notify_b")),
         s(ev("onion_message_for_b", msg=2), act("keep", msg=2), act("notify_b")),
         s(ev("b_peer", online=True), act("forward_to_b", msg=1), act("forward_to_b", msg=2)),
         s(ev("onion_message_for_b", msg=3), act("forward_to_b", msg=3)),
     ], ["Notify"], ["lnrod.lspb.1", "lnrod.lspb.2", "lnrod.lspb.4"])
test(G_LSPB, "mailbox_limit 1: the second message for an offline B is dropped", "lsp_b",
     dict(mailbox_limit=1, b_online=False), [
         s(ev("onion_message_for_b", msg=1), act("keep", msg=1), act("notify_b")),
         s(ev("onion_message_for_b", msg=2), act("drop", msg=2)),
         s(ev("b_peer", online=True), act("forward_to_b", msg=1)),
     ], ["Parameter", "ReadingMailboxLimit"], ["lnrod.lspb.3"], result="acceptable")

# ---- output ----------------------------------------------------------------------------------


def dump(v):
    return json.dumps(v, separators=(",", ":"))


def render():
    groups = []
    for t in TESTS:
        if not groups or groups[-1][0] != t["group"]:
            groups.append((t["group"], []))
        groups[-1][1].append(t)
    used = sorted({f for t in TESTS for f in t["flags"]})
    missing = [f for f in used if f not in NOTES]
    if missing:
        sys.exit(f"flags without notes: {missing}")
    lines = [
        "# Generated by vectors/lightningrod/scripts.py (expected actions written by hand from LNROD-01);",
        "# edit the script, then rerun it.",
        "formatVersion: 1",
        'kind: "lnrod_script"',
        'title: "LNROD-01 state machines (A, LSP_a, LSP_b, B): event scripts with the expected actions"',
        "spec:",
        '  document: "LNROD-01"',
        '  section: "Requirements"',
        f'  commit: "{LIGHTNINGROD_COMMIT}"',
        f"numberOfTests: {len(TESTS)}",
        "notes:",
    ]
    lines += [f"  {f}: {dump(NOTES[f])}" for f in used]
    lines.append("testGroups:")
    tc = 0
    for name, tests in groups:
        lines.append(f"  - comment: {dump(name)}")
        lines.append("    tests:")
        for t in tests:
            tc += 1
            lines.append(f"      - tcId: {tc}")
            lines.append(f"        comment: {dump(t['comment'])}")
            lines.append(f"        flags: {dump(t['flags'])}")
            if t["covers"]:
                lines.append(f"        covers: {dump(t['covers'])}")
            lines.append(f"        role: {dump(t['role'])}")
            lines.append(f"        config: {dump(t['config'])}")
            lines.append("        steps:")
            for step in t["steps"]:
                lines.append(f"          - {dump(step)}")
            lines.append(f"        result: {dump(t['result'])}")
    return "\n".join(lines) + "\n"


def main():
    text = render()
    if "--check" in sys.argv[1:]:
        with open(OUT, encoding="utf-8") as f:
            if f.read() != text:
                sys.exit(f"{OUT} differs from what {os.path.basename(__file__)} writes; rerun it")
        print(f"{OUT} is current")
        return
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {OUT} ({len(TESTS)} tests)")


if __name__ == "__main__":
    main()
