#!/usr/bin/env bash
# Smoke run: builds every fuzz target, runs each for FUZZ_SECONDS (default 30)
# on its seeded corpus with the dictionary, one target at a time, and fails if
# any target crashes. Prints total execs and exec/s per target.
#
#   fuzz/smoke.sh                    # all targets, 30 s each
#   FUZZ_SECONDS=5 fuzz/smoke.sh bigsize envelope
#
# Environment: FUZZ_SECONDS, FUZZ_SANITIZER (default none: builds on stable;
# `address` needs nightly or RUSTC_BOOTSTRAP=1), FUZZ_SKIP_BUILD=1.
# Crash inputs land in fuzz/artifacts/<target>/.
set -euo pipefail

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$fuzz_dir"
seconds="${FUZZ_SECONDS:-30}"
sanitizer="${FUZZ_SANITIZER:-none}"

if [ "$#" -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(./list_targets); fi

if [ "${FUZZ_SKIP_BUILD:-0}" != 1 ]; then
    cargo fuzz build --sanitizer "$sanitizer"
fi
if [ ! -d corpus ]; then
    ./seed_corpora.sh
fi

bin_dir="${CARGO_TARGET_DIR:-$fuzz_dir/target}/x86_64-unknown-linux-gnu/release"
failed=()
summary=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    log="artifacts/$t/smoke.log"
    echo "== $t (${seconds}s)"
    status=0
    "$bin_dir/$t" "corpus/$t" \
        -dict=dict/sidepool.dict \
        -max_total_time="$seconds" \
        -print_final_stats=1 \
        -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="artifacts/$t/" >"$log" 2>&1 || status=$?
    execs="$(awk '/^stat::number_of_executed_units:/ {print $2}' "$log" | tail -1)"
    rate="$(awk '/^stat::average_exec_per_sec:/ {print $2}' "$log" | tail -1)"
    if [ "$status" -ne 0 ]; then
        failed+=("$t")
        tail -40 "$log"
        summary+=("$(printf '%-30s FAILED (exit %s), see %s' "$t" "$status" "$log")")
    else
        summary+=("$(printf '%-30s %12s execs %10s exec/s' "$t" "${execs:-?}" "${rate:-?}")")
    fi
done

echo
echo "smoke: ${seconds}s per target, sanitizer ${sanitizer}"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "smoke: ${#failed[@]} target(s) crashed: ${failed[*]}" >&2
    exit 1
fi
