#!/usr/bin/env bash
# CI's fuzz smoke run, from a clean clone: installs cargo-fuzz if missing,
# seeds the corpora from the vectors, builds every target once on stable
# (--sanitizer none), then runs every target for FUZZ_SMOKE_SECONDS (default
# 30) with the dictionary, FUZZ_JOBS (default 2) targets at a time. Prints a
# table (target, execs, exec/s, result) and exits 1 on any crash, timeout or
# OOM, naming the input that caused it (fuzz/artifacts/ci/<target>/).
#
#   fuzz/ci_smoke.sh                        # what .ci/run calls
#   FUZZ_SMOKE_SECONDS=5 fuzz/ci_smoke.sh   # quicker
#   fuzz/ci_smoke.sh bigsize envelope       # some targets only
set -euo pipefail

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$fuzz_dir"
seconds="${FUZZ_SMOKE_SECONDS:-30}"
jobs="${FUZZ_JOBS:-2}"
t0=$(date +%s)
stamp() { echo "[ci_smoke +$(( $(date +%s) - t0 ))s] $*"; }

if ! cargo fuzz --version >/dev/null 2>&1; then
    stamp "installing cargo-fuzz 0.13.2"
    cargo install cargo-fuzz --locked --version 0.13.2
fi

stamp "seeding fuzz/corpus/ from the vectors"
./seed_corpora.sh

stamp "building every target (cargo fuzz build --sanitizer none)"
cargo fuzz build --sanitizer none

if [ "$#" -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(./list_targets); fi
bin_dir="${CARGO_TARGET_DIR:-$fuzz_dir/target}/x86_64-unknown-linux-gnu/release"
out="artifacts/ci"
rm -rf "$out"
mkdir -p "$out"

run_one() {
    local t="$1" dir="$out/$1" status=0
    mkdir -p "$dir" "corpus/$t"
    "$bin_dir/$t" "corpus/$t" \
        -dict=dict/sidepool.dict \
        -max_total_time="$seconds" \
        -print_final_stats=1 \
        -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$dir/" >"$dir/log" 2>&1 || status=$?
    echo "$status" >"$dir/status"
}

stamp "running ${#targets[@]} targets, ${seconds}s each, $jobs at a time"
for t in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    run_one "$t" &
done
wait

failed=0
printf '\n%-30s %14s %10s  %s\n' target execs exec/s result
for t in "${targets[@]}"; do
    dir="$out/$t"
    execs="$(awk '/^stat::number_of_executed_units:/ {print $2}' "$dir/log" | tail -1)"
    rate="$(awk '/^stat::average_exec_per_sec:/ {print $2}' "$dir/log" | tail -1)"
    status="$(cat "$dir/status" 2>/dev/null || echo missing)"
    if [ "$status" = 0 ]; then
        result=ok
    else
        failed=$(( failed + 1 ))
        inputs="$(find "$dir" -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' | tr '\n' ' ')"
        result="FAILED (exit $status) ${inputs:-no artifact}; log $dir/log"
    fi
    printf '%-30s %14s %10s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$result"
done
echo
stamp "done: ${#targets[@]} targets, $failed failed"
if [ "$failed" -gt 0 ]; then
    for t in "${targets[@]}"; do
        [ "$(cat "$out/$t/status")" = 0 ] || { echo "== $t"; tail -30 "$out/$t/log"; }
    done
    echo "ci_smoke: reproduce with fuzz/target/x86_64-unknown-linux-gnu/release/<target> <input>;" \
        "keep the input in fuzz/regressions/<target>/ once fixed" >&2
    exit 1
fi
