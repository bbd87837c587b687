#!/bin/bash -eu
# Every target, its dictionary and seed corpus into $OUT (see fuzz/README.md).
# Seeds come from the vectors via PyYAML: a cargo-built seeding tool would get
# the image's sanitizer RUSTFLAGS.
export FUZZ_SEED_PYYAML=1
"$SRC/sidepool-conformance/fuzz/build.sh"
