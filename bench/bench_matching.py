"""Matching throughput and build cost, against a raw reference, in one command.

    python bench/bench_matching.py                      # the table for 10 .. 100,000 terms
    python bench/bench_matching.py --terms 10 10000 --sets rare --items 200

For each term set and count, a fresh process builds the engine from rules of 10 terms each
(build time, peak memory of the build), times `Engine.match` over generated Arabic news-like
items of 2-5 KB (normalization included), and, over the same texts and terms, a raw reference:
a str.replace normalization chain plus one pyahocorasick scan that only counts hits. A match
builds its hits when they are first read, so the same pass is also timed reading them.

Term sets (from ../shared/bench/arabic_corpus.py, imported by path, never copied):
- rare:  4-word phrases, realistic specific rules that almost never fire: the scan-cost floor;
- mixed: 5% single common words, 15% two-word and 80% longer phrases: at 10,000 terms about
  75 rules match every item, the worst case for the per-hit work the raw scan does not do.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RULE_SIZE = 10  # terms per rule


def find_corpus(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("MONITOR_SHARED")
    candidates = [Path(env) / "bench"] if env else []
    candidates += [p / "shared" / "bench" for p in ROOT.parents]
    for c in candidates:
        if (c / "arabic_corpus.py").is_file():
            return c
    sys.exit("bench_matching: ../shared/bench/arabic_corpus.py not found; pass --corpus DIR")


# --------------------------------------------------------------------------- memory


def _rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter (Linux); False when it cannot be done."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_mb(resettable: bool) -> float:
    if resettable:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1e3
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


# --------------------------------------------------------------------------- raw reference

_RAW_CHAIN = [("أ", "ا"), ("إ", "ا"), ("آ", "ا"), ("ى", "ي"), ("ة", "ه"), ("ؤ", "و"), ("ئ", "ي")]
_RAW_CHAIN += [(chr(c), "") for c in range(0x064B, 0x0653)] + [("\u0640", "")]


def raw_normalize(s: str) -> str:
    for a, b in _RAW_CHAIN:
        s = s.replace(a, b)
    return s.lower()


# --------------------------------------------------------------------------- one measurement


def child(corpus: Path, set_name: str, n: int, items: int, repeat: int) -> dict[str, Any]:
    sys.path.insert(0, str(corpus))
    sys.path.insert(0, str(ROOT))
    import ahocorasick
    import arabic_corpus  # type: ignore[import-not-found]

    from monitor.matching import compile_rules
    from monitor.matching.loader import build_engine
    from monitor.matching.schema import GroupSpec, RuleSpec, TermSpec
    from monitor.model import Item, Level
    from monitor.text.normalize import normalize_text

    normalize_text("warm up the tables")
    gen = arabic_corpus.make_terms_rare if set_name == "rare" else arabic_corpus.make_terms
    terms = gen(n)
    docs = arabic_corpus.make_docs(items, seed=1)
    corpus_mb = sum(len(d.encode("utf-8")) for d in docs) / 1e6
    item_list = [Item(source_id="bench", key=str(i), title="", text=d) for i, d in enumerate(docs)]
    specs = [
        RuleSpec(
            id=f"r{i}",
            title=f"rule {i}",
            level=Level.MEDIUM,
            file="bench",
            line=1,
            groups=(
                GroupSpec(
                    "keywords", tuple(TermSpec(t, "term", 1) for t in terms[i : i + RULE_SIZE]), 1
                ),
            ),
        )
        for i in range(0, len(terms), RULE_SIZE)
    ]

    gc.collect()
    rss0 = _rss_mb()
    resettable = _reset_peak()
    t0 = time.perf_counter()
    engine, problems = build_engine(specs)
    build_s = time.perf_counter() - t0
    peak_mb = max(_peak_mb(resettable), _rss_mb()) - rss0
    held_mb = _rss_mb() - rss0
    assert not problems, problems[:3]

    with tempfile.TemporaryDirectory() as tmp:
        with (Path(tmp) / "rules.yaml").open("w", encoding="utf-8") as f:
            for spec in specs:
                words = ", ".join(
                    json.dumps(t.text, ensure_ascii=False) for t in spec.groups[0].terms
                )
                f.write(f"- id: {spec.id}\n  keywords: [{words}]\n")
        t0 = time.perf_counter()
        _, problems = compile_rules(Path(tmp))
        yaml_s = time.perf_counter() - t0
        assert not problems, problems[:3]

    best = float("inf")
    matches = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        matches = sum(len(engine.match(it)) for it in item_list)
        best = min(best, time.perf_counter() - t0)
    # A RuleMatch builds its hits (offsets in the original text) when they are first read;
    # an alert reads them. The same pass, reading every match's hits:
    hits_best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for it in item_list:
            for m in engine.match(it):
                m.hits  # noqa: B018
        hits_best = min(hits_best, time.perf_counter() - t0)

    automaton = ahocorasick.Automaton()
    for i, t in enumerate(terms):
        automaton.add_word(t, i)
    automaton.make_automaton()
    raw_best = float("inf")
    raw_hits = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        raw_hits = 0
        for d in docs:
            for _hit in automaton.iter(raw_normalize(d)):
                raw_hits += 1
        raw_best = min(raw_best, time.perf_counter() - t0)

    return {
        "set": set_name,
        "terms": n,
        "keys": engine.term_count,
        "rules": len(engine.rules),
        "build_s": build_s,
        "build_peak_mb": peak_mb,
        "build_held_mb": held_mb,
        "yaml_s": yaml_s,
        "items": items,
        "corpus_mb": corpus_mb,
        "items_s": items / best,
        "mb_s": corpus_mb / best,
        "hits_items_s": items / hits_best,
        "raw_items_s": items / raw_best,
        "raw_mb_s": corpus_mb / raw_best,
        "matches_per_item": matches / items,
        "raw_hits_per_item": raw_hits / items,
    }


# --------------------------------------------------------------------------- the table


def table(rows: list[dict[str, Any]]) -> str:
    base = {
        r["set"]: r["items_s"]
        for r in rows
        if r["terms"] == min(x["terms"] for x in rows if x["set"] == r["set"])
    }
    head = (
        "| set | terms | build s | build peak MB | YAML load s | items/s | MB/s | raw items/s "
        "| raw MB/s | vs raw | vs fewest terms | rules matched/item | items/s, hits read |"
    )
    lines = [head, "|" + "---|" * 13]
    for r in rows:
        lines.append(
            f"| {r['set']} | {r['terms']:,} | {r['build_s']:.2f} | {r['build_peak_mb']:.0f} "
            f"| {r['yaml_s']:.2f} | {r['items_s']:,.0f} | {r['mb_s']:.1f} "
            f"| {r['raw_items_s']:,.0f} | {r['raw_mb_s']:.1f} "
            f"| {r['items_s'] / r['raw_items_s']:.2f}x | {r['items_s'] / base[r['set']]:.2f}x "
            f"| {r['matches_per_item']:.1f} | {r['hits_items_s']:,.0f} |"
        )
    return "\n".join(lines)


def verdicts(rows: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for set_name in sorted({r["set"] for r in rows}):
        by_n = {r["terms"]: r for r in rows if r["set"] == set_name}
        if 10 in by_n and 10_000 in by_n:
            r, b = by_n[10_000], by_n[10]
            a = r["items_s"] / b["items_s"]
            c = r["items_s"] / r["raw_items_s"]
            out.append(
                f"{set_name}: 10,000 terms at {a:.2f}x the 10-term throughput (target "
                f">= 0.5x: {'ok' if a >= 0.5 else 'MISSED'}), {c:.2f}x the raw reference "
                f"(target >= 0.3x: {'ok' if c >= 0.3 else 'MISSED'}); with every match's hits "
                f"read: {r['hits_items_s'] / b['hits_items_s']:.2f}x and "
                f"{r['hits_items_s'] / r['raw_items_s']:.2f}x"
            )
        if 100_000 in by_n:
            r = by_n[100_000]
            ok = r["build_s"] < 2 and r["build_peak_mb"] < 150
            out.append(
                f"{set_name}: 100,000 terms build in {r['build_s']:.2f} s, peak "
                f"+{r['build_peak_mb']:.0f} MB (target < 2 s, < 150 MB: "
                f"{'ok' if ok else 'MISSED'})"
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", help="directory holding arabic_corpus.py (../shared/bench)")
    ap.add_argument("--terms", type=int, nargs="+", default=[10, 1_000, 10_000, 100_000])
    ap.add_argument("--sets", nargs="+", choices=["rare", "mixed"], default=["rare", "mixed"])
    ap.add_argument("--items", type=int, default=400, help="items per pass (2-5 KB each)")
    ap.add_argument("--repeat", type=int, default=3, help="passes; the best one counts")
    ap.add_argument("--json", help="also write the rows to this file")
    ap.add_argument("--child", nargs=2, metavar=("SET", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    corpus = find_corpus(args.corpus)
    if args.child:
        row = child(corpus, args.child[0], int(args.child[1]), args.items, args.repeat)
        print(json.dumps(row))
        return
    rows = []
    for set_name in args.sets:
        for n in args.terms:
            cmd = [
                sys.executable,
                __file__,
                "--corpus",
                str(corpus),
                "--items",
                str(args.items),
                "--repeat",
                str(args.repeat),
                "--child",
                set_name,
                str(n),
            ]
            done = subprocess.run(cmd, check=True, capture_output=True, text=True)
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"  {set_name} {n:>7,} terms done", file=sys.stderr)
    print(
        f"Python {sys.version.split()[0]}, {args.items} items of 2-5 KB "
        f"({rows[0]['corpus_mb']:.2f} MB), best of {args.repeat} passes, rules of "
        f"{RULE_SIZE} terms; build = Engine from rule specs in a fresh process.\n"
    )
    print(table(rows))
    print()
    for line in verdicts(rows):
        print(line)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
