#!/usr/bin/env bash
# Mutation testing of the reference's codec, rules and crypto (issue 8).
# Scope, test set and profile live in .cargo/mutants.toml; results in mutants.out/;
# tools/mutants/report.py turns them into docs/mutation-report.md.
#
#   tools/mutants/run.sh                      # all 719 mutants (hours on 2 cores)
#   tools/mutants/run.sh --shard 0/4 --sharding round-robin   # a quarter, spread over every file
#   tools/mutants/run.sh --iterate            # only the mutants missed last time, and new ones
#   tools/mutants/run.sh --list               # what would be tested
#
# Extra arguments go to cargo-mutants.
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v cargo-mutants >/dev/null || cargo install cargo-mutants --locked --version 27.1.0

# The test set named in .cargo/mutants.toml, run once on the unmutated tree. cargo-mutants 27.1
# runs its own baseline with the *mutated* package only, where the conformance test targets the
# config names do not exist, so its baseline is skipped and this one stands in for it.
tests=(--lib)
for t in vectors peerswap_vectors htlc_vectors ln_htlc_vectors roundtrip htlc_oracle_props \
         htlc_props peerswap_rules_props htlc_leaf_execution htlc_spec_quotes diagnostics; do
    tests+=(--test "$t")
done
if [[ " $* " != *" --list "* ]]; then
    cargo nextest run --cargo-profile mutants -p sidepool-reference -p sidepool-conformance "${tests[@]}"
fi

# Timeouts are set by hand because the baseline is skipped: a mutant's tests take ~5 s here, its
# build ~15 s; ten times that is an infinite loop, not a slow machine.
exec cargo mutants --baseline skip --timeout 120 --build-timeout 600 \
    --test-package sidepool-reference,sidepool-conformance "$@"
