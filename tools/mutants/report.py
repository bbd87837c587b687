#!/usr/bin/env python3
"""Turn cargo-mutants results into docs/mutation-report.md's tables.

usage: tools/mutants/report.py OUTCOMES_DIR... [--rerun OUTCOMES_DIR]... > section.md

Each OUTCOMES_DIR is a cargo-mutants output directory (the one holding outcomes.json); shards are
combined by mutant name. A `--rerun` directory holds re-runs of earlier survivors after edits that
moved lines: its verdicts replace earlier ones matched by file, mutation and function (no line). Survivors named in tools/mutants/equivalent.toml are shown as
equivalent with their reason; the rest are listed as live. Exit status 1 when the score over
viable, non-equivalent mutants is below 90 %. Stdlib only.
"""
import json
import re
import sys
import tomllib
from collections import OrderedDict
from pathlib import Path

GOAL = 0.90
HERE = Path(__file__).resolve().parent

AREAS = [
    ("codec", ("reference/src/wire/", "reference/src/messages.rs", "reference/src/peerswap/messages.rs")),
    ("crypto", ("reference/src/htlc/",)),
    ("rules", ("reference/src/peerswap/",)),
]


def area_of(path):
    for name, prefixes in AREAS:
        if any(path.startswith(p) for p in prefixes):
            return name
    return "other"


def stable_name(name):
    """The mutant's name without line:col, so edits elsewhere in a file don't orphan entries."""
    return re.sub(r"^([^:]+):\d+:\d+: ", r"\1: ", name)


def excluded_patterns():
    """exclude_re from .cargo/mutants.toml: results from runs before a pattern was added are dropped."""
    cfg = HERE.parent.parent / ".cargo" / "mutants.toml"
    if not cfg.exists():
        return []
    return [re.compile(p) for p in tomllib.loads(cfg.read_text()).get("exclude_re", [])]


def load_outcomes(dirs):
    excluded = excluded_patterns()
    by_name = OrderedDict()
    for d, rerun in dirs:
        path = Path(d) / "outcomes.json"
        if not path.exists():
            path = Path(d) / "mutants.out" / "outcomes.json"
        data = json.loads(path.read_text())
        this_run = OrderedDict()
        for o in data["outcomes"]:
            m = o["scenario"].get("Mutant") if isinstance(o["scenario"], dict) else None
            if m is None or any(p.search(m["name"]) for p in excluded):
                continue
            this_run[m["name"]] = (m, o["summary"])
        if rerun:
            # Re-runs replace earlier verdicts matched without line:col (edits moved lines).
            newer = {stable_name(n) for n in this_run}
            by_name = OrderedDict((n, v) for n, v in by_name.items() if stable_name(n) not in newer)
        by_name.update(this_run)
    return by_name


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) >= 2 else 2
    dirs, args = [], iter(argv[1:])
    for a in args:
        if a == "--rerun":
            dirs.append((next(args, None), True))
        else:
            dirs.append((a, False))
    if any(d is None for d, _ in dirs):
        print("--rerun needs a directory", file=sys.stderr)
        return 2
    outcomes = load_outcomes(dirs)
    equivalent = {}
    eq_file = HERE / "equivalent.toml"
    if eq_file.exists():
        for e in tomllib.loads(eq_file.read_text()).get("equivalent", []):
            equivalent[e["mutant"]] = e["reason"]

    counts = {}
    live, equiv = [], []
    for name, (m, summary) in outcomes.items():
        a = area_of(m["file"])
        c = counts.setdefault(a, {"CaughtMutant": 0, "MissedMutant": 0, "Timeout": 0, "Unviable": 0, "equivalent": 0})
        if summary == "MissedMutant" and stable_name(name) in equivalent:
            c["equivalent"] += 1
            equiv.append((name, equivalent[stable_name(name)]))
        else:
            c[summary] = c.get(summary, 0) + 1
            if summary == "MissedMutant":
                live.append(name)

    out = []
    out.append("| area | mutants | unviable | caught | timeout | equivalent | live (missed) | score |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    tot = {k: 0 for k in ("CaughtMutant", "MissedMutant", "Timeout", "Unviable", "equivalent")}
    for a in [n for n, _ in AREAS] + ["other"]:
        if a not in counts:
            continue
        c = counts[a]
        for k in tot:
            tot[k] += c.get(k, 0)
        out.append(row(a, c))
    out.append(row("**all**", tot))
    killed = tot["CaughtMutant"] + tot["Timeout"]
    viable = killed + tot["MissedMutant"]
    score = killed / viable if viable else 1.0
    raw_viable = viable + tot["equivalent"]
    raw = killed / raw_viable if raw_viable else 1.0
    out.append("")
    out.append(f"Score over viable, non-equivalent mutants: **{score:.1%}** ({killed} of {viable}); "
               f"counting equivalent mutants as missed: {raw:.1%} ({killed} of {raw_viable}). Goal: {GOAL:.0%}.")
    out.append("")
    out.append(f"### Live mutants ({len(live)})")
    out.append("")
    out.extend(f"- `{n}`" for n in sorted(live)) if live else out.append("None.")
    out.append("")
    out.append(f"### Equivalent mutants ({len(equiv)})")
    out.append("")
    if equiv:
        for n, why in sorted(equiv):
            out.append(f"- `{n}`: {why}")
    else:
        out.append("None.")
    print("\n".join(out))
    return 0 if score >= GOAL else 1


def row(label, c):
    killed = c.get("CaughtMutant", 0) + c.get("Timeout", 0)
    viable = killed + c.get("MissedMutant", 0)
    total = viable + c.get("Unviable", 0) + c.get("equivalent", 0)
    score = f"{killed / viable:.1%}" if viable else "n/a"
    return (f"| {label} | {total} | {c.get('Unviable', 0)} | {c.get('CaughtMutant', 0)} | {c.get('Timeout', 0)} "
            f"| {c.get('equivalent', 0)} | {c.get('MissedMutant', 0)} | {score} |")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
