#!/usr/bin/env bash
# The model-checking figures of BENCHMARKS.md ("Model checking"): each configuration checked by
# the release binary, one process each (so "peak memory" is that check's), as a markdown table.
#   tools/model/bench.sh            # every configuration (about 4 minutes on the 2-core machine)
#   tools/model/bench.sh quick      # without the largest one
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q --release -p sidepool-conformance
bin=target/release/sidepool-conformance

configs=(
  "as written, 0 forwarders, silent acceptor|--set forwarders=0 --set adversary=acceptor"
  "as written (default: 1 forwarder, any adversary)|"
  "fixed, 0 forwarders|--set script=fixed --set forwarders=0"
  "fixed, 1 forwarder|--set script=fixed"
  "fixed, 1 forwarder, 1 disconnect|--set script=fixed --set disconnects=1"
  "fixed, 1 forwarder, 2 HTLCs per hop|--set script=fixed --set ln_parts=2"
  "fixed, 2 forwarders|--set script=fixed --set forwarders=2"
  "fixed, 2 forwarders, 1 disconnect|--set script=fixed --set forwarders=2 --set disconnects=1"
  "fixed, 2 forwarders, gap 0|--set script=fixed --set forwarders=2 --set forward_timelock_gap=0"
  "fixed, margin 2165, 0 forwarders|--set script=fixed --set forwarders=0 --set sidepool_timeout_margin=2165"
  "fixed, margin 2166, 0 forwarders|--set script=fixed --set forwarders=0 --set sidepool_timeout_margin=2166"
  "fixed, literal contraction reading (E-98)|--set script=fixed --set forwarders=0 --set adversary=offerrer --set acceptor_contraction=after_fulfilled --set adversary_final_cltv_delta=2016"
  "fixed, 1 forwarder, 1 crash (E-97)|--set script=fixed --set crashes=1"
  "fixed, 1 forwarder, 1 crash, E-97 fix|--set script=fixed --set crashes=1 --set offerrer_restart=fulfil"
)
if [ "${1:-}" != quick ]; then
  configs+=("fixed, 2 forwarders, 1 crash, 1 disconnect, E-97 fix|--set script=fixed --set forwarders=2 --set crashes=1 --set disconnects=1 --set offerrer_restart=fulfil")
fi

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
echo "| configuration | result | states explored | unique | depth | search s | with traces s | peak memory MiB |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for c in "${configs[@]}"; do
  name=${c%%|*}
  args=${c#*|}
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  $bin model check $args --json > "$tmp" || true
  end=$(date +%s.%N)
  python3 - "$name" "$start" "$end" "$tmp" <<'PY'
import json, sys
name, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
r = json.load(open(sys.argv[4]))
bad = [p["name"] for p in r["properties"] if p["kind"] == "safety" and p["verdict"] == "violated"]
result = "violated: " + ", ".join(bad) if bad else ("holds" if r["complete"] else "not established")
mem = r["peak_memory_kib"] / 1024 if r["peak_memory_kib"] else float("nan")
print(f"| {name} | {result} | {r['states_explored']} | {r['unique_states']} | {r['max_depth']} | {r['seconds']:.2f} | {end - start:.2f} | {mem:.0f} |")
PY
done
