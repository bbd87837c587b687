#!/usr/bin/env python3
"""Turn cargo-mutants results into docs/mutation-report.md's tables.

usage: tools/mutants/report.py OUTCOMES_DIR... [--rerun OUTCOMES_DIR]... [--scope LIST_JSON] > section.md

Each OUTCOMES_DIR is a cargo-mutants output directory (the one holding outcomes.json); shards are
combined by mutant name. A `--rerun` directory holds re-runs of earlier survivors after edits that
moved lines: each of its verdicts replaces the earlier one of the same name, else one earlier
survivor matched by file, mutation and function (no line). Survivors named in tools/mutants/equivalent.toml are shown as
equivalent with their reason; the rest are listed as live. Exit status 1 when the score over
viable, non-equivalent mutants is below 90 %. Stdlib only.

`--scope LIST_JSON` (the output of `cargo mutants --list --json` on the code being reported) counts
each mutant of today's scope exactly once: it takes the verdict of the same name, else (the code
moved since that run) an unused verdict of the same file, mutation and function; a mutant with no
verdict at all is listed as not run and fails the report. Without it, every verdict counts, so a
mutant run before and after its lines moved counts twice.
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
            # A re-run verdict replaces the earlier verdict of the same name, else (edits moved
            # lines) one earlier *survivor* of the same file, mutation and function: a function
            # may hold several mutants of one stable name, and only its survivors were re-run.
            for n in this_run:
                if n in by_name:
                    del by_name[n]
                    continue
                old = next((o for o, (_, summary) in by_name.items()
                            if stable_name(o) == stable_name(n) and summary == "MissedMutant"), None)
                if old is not None:
                    del by_name[old]
        by_name.update(this_run)
    return by_name


def restrict_to_scope(outcomes, scope):
    """One verdict per mutant of `scope`: exact name first, then same stable name; and the names never run."""
    picked, used = {}, set()
    for m in scope:
        if m["name"] in outcomes:
            picked[m["name"]] = outcomes[m["name"]]
            used.add(m["name"])
    spare = OrderedDict()
    for n in outcomes:
        if n not in used:
            spare.setdefault(stable_name(n), []).append(n)
    not_run = []
    for m in scope:
        if m["name"] in picked:
            continue
        candidates = spare.get(stable_name(m["name"]), [])
        if candidates:
            verdict_of = candidates.pop()  # the latest run's
            picked[m["name"]] = (m, outcomes[verdict_of][1])
        else:
            not_run.append(m["name"])
    ordered = OrderedDict((m["name"], picked[m["name"]]) for m in scope if m["name"] in picked)
    return ordered, not_run


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) >= 2 else 2
    dirs, scope_file, args = [], None, iter(argv[1:])
    for a in args:
        if a == "--rerun":
            dirs.append((next(args, None), True))
        elif a == "--scope":
            scope_file = next(args, None)
            if scope_file is None:
                print("--scope needs a file", file=sys.stderr)
                return 2
        else:
            dirs.append((a, False))
    if any(d is None for d, _ in dirs):
        print("--rerun needs a directory", file=sys.stderr)
        return 2
    outcomes = load_outcomes(dirs)
    not_run = []
    if scope_file is not None:
        try:
            scope = json.loads(Path(scope_file).read_text())
        except (OSError, ValueError) as e:
            print(f"--scope {scope_file}: {e}", file=sys.stderr)
            return 2
        excluded = excluded_patterns()
        scope = [m for m in scope if not any(p.search(m["name"]) for p in excluded)]
        outcomes, not_run = restrict_to_scope(outcomes, scope)
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
    if scope_file is not None:
        out.append("")
        out.append(f"Scope: {len(outcomes) + len(not_run)} mutants, {len(outcomes)} with a verdict, {len(not_run)} not run.")
        out.extend(f"- not run: `{n}`" for n in not_run)
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
    return 0 if score >= GOAL and not not_run else 1


def row(label, c):
    killed = c.get("CaughtMutant", 0) + c.get("Timeout", 0)
    viable = killed + c.get("MissedMutant", 0)
    total = viable + c.get("Unviable", 0) + c.get("equivalent", 0)
    score = f"{killed / viable:.1%}" if viable else "n/a"
    return (f"| {label} | {total} | {c.get('Unviable', 0)} | {c.get('CaughtMutant', 0)} | {c.get('Timeout', 0)} "
            f"| {c.get('equivalent', 0)} | {c.get('MissedMutant', 0)} | {score} |")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
