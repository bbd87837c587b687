#!/usr/bin/env bash
# Builds every fuzz target and, OSS-Fuzz style, copies each binary to $OUT with
# its dictionary (<target>.dict) and seed corpus (<target>_seed_corpus.zip).
# ClusterFuzzLite / OSS-Fuzz call it from their build.sh unchanged
# (`$SRC/<repo>/fuzz/build.sh`); locally OUT defaults to fuzz/out/.
#
# Sanitizer: $SANITIZER as OSS-Fuzz sets it (address, memory, undefined,
# coverage...); without it, FUZZ_SANITIZER, default none (builds on stable).
set -euo pipefail

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$fuzz_dir"
out="${OUT:-$fuzz_dir/out}"
mkdir -p "$out"

sanitizer="${SANITIZER:-${FUZZ_SANITIZER:-none}}"
case "$sanitizer" in
    address|memory|thread|leak|none) ;;
    # cargo-fuzz knows no `undefined` or `coverage`: build uninstrumented by a sanitizer.
    *) sanitizer=none ;;
esac
if [ "$sanitizer" != none ] && ! rustc -V | grep -q nightly; then
    # -Zsanitizer is nightly-only; a stable rustc accepts it with RUSTC_BOOTSTRAP.
    export RUSTC_BOOTSTRAP=1
fi

cargo fuzz build --sanitizer "$sanitizer"

bin_dir="${CARGO_TARGET_DIR:-$fuzz_dir/target}/x86_64-unknown-linux-gnu/release"
have_corpus=0
if [ -d corpus ] || ./seed_corpora.sh >/dev/null 2>&1; then have_corpus=1; fi
while read -r t; do
    cp "$bin_dir/$t" "$out/$t"
    cp dict/sidepool.dict "$out/$t.dict"
    if [ "$have_corpus" = 1 ] && [ -d "corpus/$t" ] && command -v zip >/dev/null; then
        rm -f "$out/${t}_seed_corpus.zip"
        (cd "corpus/$t" && zip -q -j -r "$out/${t}_seed_corpus.zip" .) || true
    fi
done < <(./list_targets)
echo "built $(./list_targets | wc -l) fuzz targets into $out"
