#!/usr/bin/env bash
# Regenerates fuzz/corpus/<target>/ (git-ignored) from the vector files: every
# hex input of vectors/ becomes one seed file of the target that reads it.
#
#   fuzz/seed_corpora.sh            # from anywhere in the repository
#
# The vectors are YAML; the conformance binary exports them as JSON
# (`vectors export-json`), which python3's standard library can read.
set -euo pipefail

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$fuzz_dir")"
export_dir="$(mktemp -d)"
trap 'rm -rf "$export_dir"' EXIT

if [ "${FUZZ_SEED_PYYAML:-0}" = 1 ]; then
    # Without a built conformance binary: PyYAML reads the vectors (YAML 1.1, so
    # an unquoted all-digit hex string may come out as a number; such seeds are skipped).
    python3 - "$root/vectors" "$export_dir" <<'PY'
import json, pathlib, sys, yaml
src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for p in src.rglob("*.yaml"):
    out = dst / p.relative_to(src).with_suffix(".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(yaml.safe_load(p.read_text()), default=str))
PY
else
    (cd "$root" && cargo run --quiet -p sidepool-conformance -- vectors export-json "$export_dir" >/dev/null)
fi

python3 - "$export_dir" "$fuzz_dir/corpus" "$root/vectors" "$root" <<'PY'
import hashlib, json, pathlib, sys

export, corpus, vectors, root = (pathlib.Path(a) for a in sys.argv[1:5])
SIDEPOOL = bytes.fromhex("d169")
# sub-id -> the per-message target (fuzz/fuzz_targets/decode_<name>.rs)
SUB_IDS = {101: "my_sidepool_features", 400: "swap_party_begin", 1000: "peerswap_init",
           1002: "peerswap_accept", 1004: "peerswap_lightning", 1010: "peerswap_success",
           1098: "peerswap_reject"}
counts = {}

def seed(target, data):
    if not isinstance(data, (bytes, bytearray)):
        return
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    # Content-addressed, like libFuzzer's own corpus files: reruns are idempotent.
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)
    counts[target] = counts.get(target, 0) + 1

def whole_message(data):
    """A whole BOLT 8 message: seeds message_decode, envelope, decode_cli and,
    when it carries a known sub-id, that message's decode_<name> target."""
    seed("message_decode", data)
    seed("envelope", data)
    seed("decode_cli", data.hex().encode())
    if data[:2] == SIDEPOOL and len(data) >= 4:
        name = SUB_IDS.get(int.from_bytes(data[2:4], "big"))
        if name:
            seed("decode_" + name, data[4:])

def bolt8_responder(exchange):
    """Mode 0 of the target: length selector + act one, length selector + act
    three, as received. The appendix's keys are the target's, so the valid
    exchange completes; then a few frames (op 0: a real frame, op 5: a run of
    frames across the key rotation)."""
    acts = [bytes.fromhex(step["receive"]) for step in exchange if "receive" in step]
    data = bytearray([0])
    for act, right in zip(acts[:2], (50, 66)):
        data += bytes([0 if len(act) == right else 0x80 | min(len(act), 0x7f)]) + act
    seed("bolt8_responder", bytes(data))
    if len(acts) >= 2:
        seed("bolt8_responder", bytes(data) + bytes([0, 0, 5]) + b"hello" + bytes([5, 0x02, 0x58]))

for path in sorted(export.rglob("*.json")):
    if path.parent.name == "schema":
        continue
    doc = json.loads(path.read_text())
    kind = doc.get("kind")
    for group in doc.get("testGroups", []):
        for test in group.get("tests", []):
            try:
                if kind == "bigsize":
                    seed("bigsize", bytes.fromhex(test["encoded"]))
                elif kind == "feature_set":
                    seed("feature_set", bytes.fromhex(test["encoded"]))
                elif kind == "tlv_stream":
                    # The target's first byte picks its classifier; seed a few.
                    for selector in (0x00, 0x01, 0x80):
                        seed("tlv_stream", bytes([selector]) + bytes.fromhex(test["stream"]))
                elif kind == "envelope":
                    whole_message(bytes.fromhex(test["message"]))
                elif kind == "message":
                    whole_message(bytes.fromhex(test["hex"]))
                elif kind == "bolt8_transport" and group.get("role") == "responder":
                    bolt8_responder(test.get("exchange", []))
            except (TypeError, ValueError, KeyError):
                pass  # a value PyYAML read as a number (FUZZ_SEED_PYYAML only)

# vector_yaml reads whole vector files.
for path in sorted(vectors.rglob("*.yaml")):
    seed("vector_yaml", path.read_bytes())

# Mode 1 of bolt8_responder (a real initiator): plain, corrupted acts, frames.
for data in (b"\x01", b"\x03\x10\xff\x00\x00\x00", b"\x05\x30\x01\x00\x00\x00",
             b"\x01\x00\x00\x05hello\x01\x00\x05abcde\x03\x00\x03abc\x00\x07",
             b"\x01\x04\x00\x04abcd\x00\x20\x02\x80\x00\x10", b"\x01\x05\x02\x58\x00\x00\x01z"):
    seed("bolt8_responder", data)

# case_yaml reads whole case files.
for path in sorted((root / "conformance" / "cases").glob("*.yaml")):
    seed("case_yaml", path.read_bytes())

# adapter_json: every example line of ADAPTER.md alone, and all of them as one stream.
lines = [l.strip() for l in (root / "conformance" / "ADAPTER.md").read_text().splitlines()
         if l.strip().startswith(('{"id"', '{"event"'))]
for line in lines:
    seed("adapter_json", line.encode())
seed("adapter_json", "\n".join(lines).encode())

# Committed hand-written seeds (fuzz/seeds/<target>/, e.g. the session_engine
# scripts that reach a completed swap in each role).
for target_dir in sorted((root / "fuzz" / "seeds").glob("*/")):
    for path in sorted(target_dir.iterdir()):
        seed(target_dir.name, path.read_bytes())

for target in sorted(counts):
    print(f"{target}: {counts[target]} seeds ({len(list((corpus / target).iterdir()))} distinct)")
PY
