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

(cd "$root" && cargo run --quiet -p sidepool-conformance -- vectors export-json "$export_dir" >/dev/null)

python3 - "$export_dir" "$fuzz_dir/corpus" "$root/vectors" <<'PY'
import hashlib, json, pathlib, sys

export, corpus, vectors = (pathlib.Path(a) for a in sys.argv[1:4])
SIDEPOOL = bytes.fromhex("d169")
# sub-id -> the per-message target (fuzz/fuzz_targets/decode_<name>.rs)
SUB_IDS = {101: "my_sidepool_features", 400: "swap_party_begin", 1000: "peerswap_init",
           1002: "peerswap_accept", 1004: "peerswap_lightning", 1010: "peerswap_success",
           1098: "peerswap_reject"}
counts = {}

def seed(target, data):
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

for path in sorted(export.rglob("*.json")):
    if path.parent.name == "schema":
        continue
    doc = json.loads(path.read_text())
    kind = doc.get("kind")
    for group in doc.get("testGroups", []):
        for test in group.get("tests", []):
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

# vector_yaml reads whole vector files.
for path in sorted(vectors.rglob("*.yaml")):
    seed("vector_yaml", path.read_bytes())

for target in sorted(counts):
    print(f"{target}: {counts[target]} seeds ({len(list((corpus / target).iterdir()))} distinct)")
PY
