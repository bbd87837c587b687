#!/usr/bin/env bash
# A long fuzzing campaign: runs each target for DURATION (one target at a time),
# keeping what it finds:
# - new inputs grow fuzz/corpus/<target>/ (git-ignored; merged, i.e. minimised,
#   at the end of each target's run);
# - every crash, timeout or OOM is minimised and copied to
#   fuzz/regressions/<target>/ (committed), which conformance/tests/fuzz_regressions.rs
#   replays in the ordinary `cargo test`, AND appended as a `fuzz_regression`
#   case (flag FuzzFound) to vectors/fuzz/regressions.yaml, which
#   `sidepool-conformance vectors check` replays through the same checks.
#   After a crash the target restarts until its time is used up (at most
#   FUZZ_MAX_CRASHES crashes per target).
#
#   fuzz/campaign.sh 10m message_decode decode_peerswap_init feature_set
#   fuzz/campaign.sh 4h                 # every target, 4 hours each
#
# DURATION: seconds, or a number with s/m/h. Environment: FUZZ_SANITIZER
# (default none), FUZZ_SKIP_BUILD=1, FUZZ_MAX_CRASHES (default 10); for
# testing this script itself (fuzz/test_campaign.sh): FUZZ_BIN_DIR (the
# target binaries), FUZZ_CORPUS_DIR, FUZZ_ARTIFACTS_DIR, FUZZ_REGRESSIONS_DIR,
# FUZZ_REGRESSIONS_YAML.
set -euo pipefail

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$fuzz_dir"

usage() { echo "usage: $0 DURATION [TARGET...]   (DURATION: 600, 10m, 4h)" >&2; exit 2; }
[ "$#" -ge 1 ] || usage
case "$1" in
    *h) seconds=$(( ${1%h} * 3600 )) ;;
    *m) seconds=$(( ${1%m} * 60 )) ;;
    *s) seconds=$(( ${1%s} )) ;;
    *[!0-9]*|"") usage ;;
    *) seconds=$1 ;;
esac
shift
sanitizer="${FUZZ_SANITIZER:-none}"
max_crashes="${FUZZ_MAX_CRASHES:-10}"
if [ "$#" -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(./list_targets); fi

if [ "${FUZZ_SKIP_BUILD:-0}" != 1 ]; then
    cargo fuzz build --sanitizer "$sanitizer"
fi
corpus="${FUZZ_CORPUS_DIR:-corpus}"
[ -d "$corpus" ] || ./seed_corpora.sh

bin_dir="${FUZZ_BIN_DIR:-${CARGO_TARGET_DIR:-$fuzz_dir/target}/x86_64-unknown-linux-gnu/release}"
regressions="${FUZZ_REGRESSIONS_DIR:-$fuzz_dir/regressions}"
artifacts="${FUZZ_ARTIFACTS_DIR:-artifacts}"
regressions_yaml="${FUZZ_REGRESSIONS_YAML:-$fuzz_dir/../vectors/fuzz/regressions.yaml}"

# Appends one kept input to the vector file as a fuzz_regression case (unless
# the same target and bytes are there already), keeping numberOfTests and the
# tcIds consistent: `vectors lint` and `vectors check` then cover it.
append_vector() {
    python3 - "$regressions_yaml" "$1" "$2" "$3" <<'PY'
import datetime, pathlib, re, sys
yaml_path, target, path, what = pathlib.Path(sys.argv[1]), sys.argv[2], pathlib.Path(sys.argv[3]), sys.argv[4]
text = yaml_path.read_text()
data = path.read_bytes().hex()
if re.search(rf"target: {re.escape(target)}\n\s*input: \"{data}\"", text):
    sys.exit(0)
count = int(re.search(r"^numberOfTests: (\d+)$", text, re.M).group(1))
ids = [int(i) for i in re.findall(r"^\s*- tcId: (\d+)$", text, re.M)]
tc = max(ids, default=0) + 1
when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
text = re.sub(r"^numberOfTests: \d+$", f"numberOfTests: {count + 1}", text, count=1, flags=re.M)
if not text.endswith("\n"):
    text += "\n"
text += (f"      - tcId: {tc}\n"
         f"        comment: \"{what} input {path.name}, minimised\"\n"
         f"        flags: [FuzzFound]\n"
         f"        target: {target}\n"
         f"        input: \"{data}\"\n"
         f"        found: \"fuzz/campaign.sh {when}\"\n"
         f"        result: valid\n")
yaml_path.write_text(text)
print(f"   appended tcId {tc} to {yaml_path}")
PY
}
summary=()
new_regressions=0
for t in "${targets[@]}"; do
    bin="$bin_dir/$t"
    mkdir -p "$corpus/$t" "$artifacts/$t" "$regressions/$t"
    log="$artifacts/$t/campaign.log"
    : >"$log"
    before=$(find "$corpus/$t" -type f | wc -l)
    start=$(date +%s)
    crashes=0
    echo "== $t: ${seconds}s from $(date -u +%FT%TZ)"
    while :; do
        left=$(( seconds - ($(date +%s) - start) ))
        [ "$left" -gt 0 ] || break
        status=0
        "$bin" "$corpus/$t" \
            -dict=dict/sidepool.dict \
            -max_total_time="$left" \
            -print_final_stats=1 \
            -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="$artifacts/$t/" >>"$log" 2>&1 || status=$?
        [ "$status" -ne 0 ] || break
        # A crash: keep every new artifact, minimised, as a regression case.
        for a in "$artifacts/$t"/crash-* "$artifacts/$t"/timeout-* "$artifacts/$t"/oom-* "$artifacts/$t"/leak-*; do
            [ -f "$a" ] || continue
            name="$(basename "$a")"
            [ -e "$regressions/$t/$name" ] && continue
            "$bin" -minimize_crash=1 -max_total_time=60 -timeout=10 \
                -exact_artifact_path="$regressions/$t/$name" "$a" >>"$log" 2>&1 || true
            [ -f "$regressions/$t/$name" ] || cp "$a" "$regressions/$t/$name"
            echo "   kept $regressions/$t/$name"
            append_vector "$t" "$regressions/$t/$name" "${name%%-*}"
            new_regressions=$(( new_regressions + 1 ))
        done
        crashes=$(( crashes + 1 ))
        if [ "$crashes" -ge "$max_crashes" ]; then
            echo "   $crashes crashes: stopping $t early" >&2
            break
        fi
    done
    # Minimise the grown corpus in place (merge into a fresh folder, then swap).
    # Never swap in an empty merge result for a corpus that had inputs.
    merged="$(mktemp -d "$corpus/.$t.merge.XXXX")"
    if "$bin" -merge=1 "$merged" "$corpus/$t" >>"$log" 2>&1 &&
        { [ -n "$(ls -A "$merged")" ] || [ -z "$(ls -A "$corpus/$t")" ]; }; then
        rm -rf "${corpus:?}/$t" && mv "$merged" "$corpus/$t"
    else
        rm -rf "$merged"
    fi
    after=$(find "$corpus/$t" -type f | wc -l)
    execs=$(awk '/^stat::number_of_executed_units:/ {s += $2} END {print s + 0}' "$log")
    elapsed=$(( $(date +%s) - start ))
    summary+=("$(printf '%-30s %13s execs %9s exec/s  corpus %s -> %s  crashes %s' \
        "$t" "$execs" "$(( execs / (elapsed > 0 ? elapsed : 1) ))" "$before" "$after" "$crashes")")
done

echo
echo "campaign: ${seconds}s per target, sanitizer ${sanitizer}, $(date -u +%FT%TZ)"
printf '%s\n' "${summary[@]}"
if [ "$new_regressions" -gt 0 ]; then
    echo "campaign: $new_regressions new regression input(s) under $regressions/ and in $regressions_yaml: fix the bugs, commit both" >&2
    exit 1
fi
