#!/usr/bin/env bash
# Tests campaign.sh's crash path without a real crash: a stand-in "fuzzer"
# (a shell script speaking libFuzzer's flags) reports one synthetic crash of
# `bigsize`; the campaign must keep it under the regressions folder AND append
# it to the vector file as a fuzz_regression case that `vectors lint` and
# `vectors check` accept (the synthetic input is a harmless BigSize, so the
# real check passes), and a second campaign must not append it twice.
# Everything happens in a temporary folder (binaries, corpus, artifacts,
# regressions, vector file); the repository is not touched.
#
#   fuzz/test_campaign.sh
set -euo pipefail

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$fuzz_dir")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/corpus/bigsize"
printf '\x01' >"$tmp/corpus/bigsize/seed"
cp "$root/vectors/fuzz/regressions.yaml" "$tmp/regressions.yaml"
before=$(grep -c '^      - tcId:' "$tmp/regressions.yaml")

# The stand-in: the first fuzzing run "crashes" on the bytes fd 00 fd; later
# runs finish cleanly; -minimize_crash copies its input; -merge does nothing.
cat >"$tmp/bin/bigsize" <<'SH'
#!/usr/bin/env bash
prefix=""; exact=""; minimize=0; merge=0; input=""
for a in "$@"; do
    case "$a" in
        -artifact_prefix=*) prefix="${a#-artifact_prefix=}" ;;
        -exact_artifact_path=*) exact="${a#-exact_artifact_path=}" ;;
        -minimize_crash=1) minimize=1 ;;
        -merge=1) merge=1 ;;
        -*) ;;
        *) input="$a" ;;
    esac
done
[ "$merge" = 1 ] && exit 0
if [ "$minimize" = 1 ]; then cp "$input" "$exact"; exit 0; fi
echo "stat::number_of_executed_units: 1"
marker="$(dirname "$0")/crashed"
if [ ! -e "$marker" ]; then
    touch "$marker"
    printf '\xfd\x00\xfd' >"${prefix}crash-synthetic"
    exit 1
fi
sleep 1
SH
chmod +x "$tmp/bin/bigsize"

run_campaign() {
    FUZZ_SKIP_BUILD=1 FUZZ_BIN_DIR="$tmp/bin" FUZZ_CORPUS_DIR="$tmp/corpus" FUZZ_ARTIFACTS_DIR="$tmp/artifacts" \
        FUZZ_REGRESSIONS_DIR="$tmp/regressions" FUZZ_REGRESSIONS_YAML="$tmp/regressions.yaml" \
        "$fuzz_dir/campaign.sh" 2s bigsize
}

status=0
run_campaign >"$tmp/out1" 2>&1 || status=$?
cat "$tmp/out1"
[ "$status" = 1 ] || { echo "FAIL: a campaign with a crash must exit 1, got $status" >&2; exit 1; }
[ "$(od -An -tx1 "$tmp/regressions/bigsize/crash-synthetic" | tr -d ' \n')" = fd00fd ] ||
    { echo "FAIL: the crash input was not kept under the regressions folder" >&2; exit 1; }
after=$(grep -c '^      - tcId:' "$tmp/regressions.yaml")
[ "$after" = $((before + 1)) ] || { echo "FAIL: expected one appended case, $before -> $after" >&2; exit 1; }
grep -q "numberOfTests: $after" "$tmp/regressions.yaml" || { echo "FAIL: numberOfTests not updated" >&2; exit 1; }
grep -q 'input: "fd00fd"' "$tmp/regressions.yaml" || { echo "FAIL: the case does not hold the input" >&2; exit 1; }

# A second campaign re-finds the same artifact: kept once, appended once.
rm -f "$tmp/bin/crashed"
run_campaign >"$tmp/out2" 2>&1 || true
[ "$(grep -c '^      - tcId:' "$tmp/regressions.yaml")" = "$after" ] ||
    { echo "FAIL: the same input was appended twice" >&2; exit 1; }

# The appended file passes the vector tooling, which replays the case through the real check.
cd "$root"
cargo run --quiet -p sidepool-conformance -- vectors lint "$tmp/regressions.yaml"
cargo run --quiet -p sidepool-conformance -- vectors check "$tmp/regressions.yaml"
echo "test_campaign: ok (crash kept, appended once as tcId $after, lint and check pass)"
