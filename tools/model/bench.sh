#!/usr/bin/env bash
# The model-checking figures of BENCHMARKS.md ("Model checking"): each configuration checked by
# the release binary, one process each (so "peak memory" is that check's), as a markdown table.
#   tools/model/bench.sh            # every SIDEPOOL-10 configuration (about 4 minutes on the 2-core machine)
#   tools/model/bench.sh quick      # without the largest one
#   tools/model/bench.sh loop       # section 5.1; also `lightningrod` (5.2) and `blobswap` (5.3)
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q --release -p sidepool-conformance
bin=target/release/sidepool-conformance

system=${1:-sidepool}
[ "$system" = quick ] && system=sidepool
case $system in
  sidepool|loop|lightningrod|blobswap) ;;
  *) echo "usage: $0 [quick|loop|lightningrod|blobswap]" >&2; exit 2 ;;
esac

loop_configs=(
  "Loop Out, defaults (any adversary, 1 crash)|"
  "Loop Out, reveal_delta=0|--set reveal_delta=0"
  "Loop Out, confirm_blocks=21 (threshold)|--set confirm_blocks=21"
  "Loop Out, confirm_blocks=22|--set confirm_blocks=22"
  "Loop In, defaults|--set swap=in"
  "Loop In, Loop's key push on a final invoice|--set swap=in --set mutant=key_on_final_invoice"
  "Loop In, confirm_blocks=10 (server margin 10)|--set swap=in --set confirm_blocks=10"
  "Loop In, confirm_blocks=11|--set swap=in --set confirm_blocks=11"
  "Loop In, no expiry window or publish deadline, expiry 12|--set swap=in --set in_min_expiry_delta=0 --set in_publish_delta=0 --set in_expiry_delta=12"
)
lightningrod_configs=(
  "lightningrod profile, 2 parts|--set profile=lightningrod --set parts=2"
  "ldk profile, 2 parts|--set profile=ldk --set parts=2"
  "release without a valid unblock (lightningrod)|--set profile=lightningrod --set mutant=release_without_valid_unblock"
  "release without a valid unblock (ldk)|--set profile=ldk --set mutant=release_without_valid_unblock"
  "no fail-back (ldk, no forgeries)|--set profile=ldk --set mutant=no_fail_back --set forgeries=0"
)
blobswap_configs=(
  "as specified (any adversary, reorg depth 1)|"
  "T1 removed (refund margin)|--set remove=refund_margin --set adversary=user"
  "T2 removed (reveal deadline)|--set remove=reveal_deadline --set adversary=ssp"
  "reading U3 (cancel when the window runs out)|--set remove=cancel_after_refund --set adversary=user"
  "blob.timing.4 removed (funding deadline)|--set remove=funding_deadline --set adversary=user"
  "T0 removed (confirmation period 0)|--set confirmation_period=0 --set reorg_depth=0 --set adversary=ssp"
  "confirmation period 1 against reorg depth 1|--set confirmation_period=1 --set reorg_depth=1 --set adversary=ssp"
  "confirmation period 3 against reorg depth 2|--set confirmation_period=3 --set reorg_depth=2"
  "blob.timing.7 removed (payout margin)|--set remove=payout_margin"
)

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
if [ "${1:-}" = "" ]; then
  configs+=("fixed, 2 forwarders, 1 crash, 1 disconnect, E-97 fix|--set script=fixed --set forwarders=2 --set crashes=1 --set disconnects=1 --set offerrer_restart=fulfil")
fi

case $system in
  loop) configs=("${loop_configs[@]}") ;;
  lightningrod) configs=("${lightningrod_configs[@]}") ;;
  blobswap) configs=("${blobswap_configs[@]}") ;;
esac

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
echo "| configuration | result | states explored | unique | depth | search s | with traces s | peak memory MiB |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for c in "${configs[@]}"; do
  name=${c%%|*}
  args=${c#*|}
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  $bin model check --system "$system" $args --json > "$tmp" || true
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
