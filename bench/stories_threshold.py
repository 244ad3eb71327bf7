"""Measure the story clusterer on hand-written pairs and show where its defaults come from.

    python -m bench.stories_threshold [--pairs FILE] [--seeds N] [--skip-variants]

Sections:
1. shingling variants (k, function words, headline, clitic stripping): exact Jaccard of the
   smallest positive and the largest negative, and the best F1 of exact Jaccard;
2. for the chosen shingling: threshold sweep of precision, recall and F1, for exact Jaccard and
   for the LSH pipeline (candidate through a shared band key, then estimate >= threshold),
   overall, Arabic and English;
3. the pipeline over other seeds at thresholds near the default (the shipped seed is one draw);
4. signature sizes (num_perm = bands x rows): expected precision/recall from the binomial
   model of the estimate and the S-curve;
5. the S-curve at a few similarities; 6. costs: import, shingles, signature, bands per item;
7. the pairs the default pipeline gets wrong.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from monitor import stories
from monitor.stories import DEFAULT_PARAMS, StoryParams, jaccard
from monitor.text.normalize import normalize_text
from monitor.text.tokenize import tokenize

PAIRS = Path(__file__).resolve().parent.parent / "tests" / "data" / "stories" / "pairs.jsonl"
LANGS = (("all", None), ("ar", "ar"), ("en", "en"))


@dataclass(frozen=True)
class Pair:
    id: str
    lang: str
    same: bool
    kind: str
    a: dict[str, str]
    b: dict[str, str]


def load_pairs(path: Path = PAIRS) -> list[Pair]:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return [Pair(r["id"], r["lang"], r["same"], r["kind"], r["a"], r["b"]) for r in rows]


def prf(decisions: Sequence[tuple[bool, bool]]) -> tuple[float, float, float]:
    """Precision, recall, F1 of (predicted, actual) pairs; precision is 1 with no prediction."""
    tp = sum(1 for p, y in decisions if p and y)
    fp = sum(1 for p, y in decisions if p and not y)
    fn = sum(1 for p, y in decisions if not p and y)
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return prec, rec, f1


# --------------------------------------------------------------------------- 1. variants

_CLITICS = ("وال", "فال", "بال", "كال", "لل", "ال")


def _strip_clitics(w: str) -> str:
    for p in _CLITICS:
        if w.startswith(p) and len(w) - len(p) >= 3:
            return w[len(p) :]
    return w[1:] if w.startswith("و") and len(w) >= 5 else w


def variant_shingles(
    item: dict[str, str], k: int, stop: bool, headline: bool, clitics: bool
) -> set[str]:
    def words(s: str) -> list[str]:
        out = [t.text for t in tokenize(normalize_text(s))]
        if stop:
            out = [w for w in out if w not in stories.STOPWORDS]
        return [_strip_clitics(w) for w in out] if clitics else out

    ws = (words(item["title"]) if headline else []) + words(item["text"])
    return {" ".join(ws[i : i + k]) for i in range(max(1, len(ws) - k + 1))}


def best_f1(scores: Sequence[tuple[float, bool]]) -> tuple[float, float]:
    grid = [t / 100 for t in range(5, 96)]
    return max((prf([(s >= t, y) for s, y in scores])[2], t) for t in grid)


def section_variants(pairs: list[Pair]) -> None:
    print("\n## 1. Shingling variants (exact Jaccard)")
    print("k stop headline clitics | min pos  2nd pos | max neg  2nd neg |  gap  | best F1 @ t")
    for k in (2, 3, 4, 5):
        for stop in (False, True):
            for headline in (False, True):
                for clitics in (False, True):
                    if clitics and not (stop and not headline):
                        continue
                    sc = [
                        (
                            jaccard(
                                variant_shingles(p.a, k, stop, headline, clitics),
                                variant_shingles(p.b, k, stop, headline, clitics),
                            ),
                            p.same,
                        )
                        for p in pairs
                    ]
                    pos = sorted(s for s, y in sc if y)
                    neg = sorted((s for s, y in sc if not y), reverse=True)
                    f1, t = best_f1(sc)
                    print(
                        f"{k} {stop!s:5} {headline!s:8} {clitics!s:7} | {pos[0]:.3f}    "
                        f"{pos[1]:.3f}  | {neg[0]:.3f}    {neg[1]:.3f}  | {pos[0] - neg[0]:+.3f}"
                        f" | {f1:.3f} @ {t:.2f}"
                    )


# --------------------------------------------------------------------------- 2. sweep


@dataclass(frozen=True)
class Scored:
    pair: Pair
    exact: float  # exact Jaccard of the shingle sets
    estimate: float | None  # MinHash estimate; None when an item is too short
    candidate: bool  # the two items share at least one band key


def score(pairs: list[Pair], params: StoryParams) -> list[Scored]:
    out = []
    for p in pairs:
        sa = stories.shingles(p.a["title"], p.a["text"], params.k, params.min_shingles)
        sb = stories.shingles(p.b["title"], p.b["text"], params.k, params.min_shingles)
        ga = stories.signature(p.a["title"], p.a["text"], params)
        gb = stories.signature(p.b["title"], p.b["text"], params)
        if ga is None or gb is None:
            out.append(Scored(p, jaccard(sa, sb), None, False))
            continue
        ka = stories.bands(ga, params.bands, params.rows)
        kb = stories.bands(gb, params.bands, params.rows)
        cand = any(x == y for x, y in zip(ka, kb, strict=True))
        out.append(Scored(p, jaccard(sa, sb), stories.similarity(ga, gb), cand))
    return out


def pipeline_says_same(s: Scored, threshold: float) -> bool:
    return s.candidate and s.estimate is not None and s.estimate >= threshold


def measure(
    scored: Sequence[Scored], threshold: float, lang: str | None
) -> dict[str, tuple[float, float, float]]:
    sel = [s for s in scored if lang is None or s.pair.lang == lang]
    return {
        "exact": prf([(s.exact >= threshold, s.pair.same) for s in sel]),
        "lsh": prf([(pipeline_says_same(s, threshold), s.pair.same) for s in sel]),
    }


def section_sweep(scored: list[Scored], params: StoryParams) -> None:
    print(
        f"\n## 2. Threshold sweep: k={params.k}, num_perm={params.num_perm}, "
        f"b={params.bands}, r={params.rows}, seed={params.seed}"
    )
    for name, lang in LANGS:
        n = sum(1 for s in scored if lang is None or s.pair.lang == lang)
        npos = sum(1 for s in scored if (lang is None or s.pair.lang == lang) and s.pair.same)
        print(f"\n{name} ({n} pairs, {npos} same)")
        print(" t    | exact Jaccard P   R     F1   | LSH + verify P   R     F1")
        for t100 in range(20, 46, 2):
            t = t100 / 100
            m = measure(scored, t, lang)
            mark = "  <- default" if math.isclose(t, params.threshold) else ""
            (ep, er, ef), (lp, lr, lf) = m["exact"], m["lsh"]
            print(
                f" {t:.2f} |       {ep:.3f} {er:.3f} {ef:.3f} |"
                f"              {lp:.3f} {lr:.3f} {lf:.3f}{mark}"
            )


# --------------------------------------------------------------------------- 3-5


def section_seeds(pairs: list[Pair], params: StoryParams, n: int) -> None:
    print(f"\n## 3. LSH + verify over {n} other seeds (the shipped seed is one draw)")
    print(" t    | lang  precision mean  min | recall mean  min")
    runs = [score(pairs, replace(params, seed=seed)) for seed in range(100, 100 + n)]
    for t100 in range(24, 38, 2):
        t = t100 / 100
        for name, lang in LANGS:
            vals = [measure(scored, t, lang)["lsh"] for scored in runs]
            ps, rs = [v[0] for v in vals], [v[1] for v in vals]
            mark = "  <- default" if math.isclose(t, params.threshold) and lang is None else ""
            print(
                f" {t:.2f} | {name:4}       {sum(ps) / n:.3f}  {min(ps):.3f} |"
                f"      {sum(rs) / n:.3f}  {min(rs):.3f}{mark}"
            )


def _ptail(n: int, j: float, m: int) -> float:
    """P(Binomial(n, j) >= m): the chance that the estimate reaches m/n at Jaccard j."""
    return sum(math.comb(n, i) * j**i * (1 - j) ** (n - i) for i in range(m, n + 1))


def section_sizes(scored: list[Scored], params: StoryParams) -> None:
    t = params.threshold
    print(f"\n## 4. Signature sizes at t={t:.2f}: expected P/R (binomial estimate x S-curve)")
    print(" num_perm  b  r  S-curve | exp P   exp R   exp F1 | band keys, hex chars per item")
    for n, b, r in (
        (64, 21, 3),
        (96, 32, 3),
        (120, 40, 3),
        (144, 48, 3),
        (192, 64, 3),
        (128, 64, 2),
        (128, 32, 4),
        (256, 64, 4),
    ):
        p = StoryParams(num_perm=n if b * r == n else b * r, bands=b, rows=r, threshold=t)
        m = math.ceil(t * p.num_perm - 1e-9)
        tp = fp = 0.0
        for s in scored:
            prob = p.candidate_probability(s.exact) * _ptail(p.num_perm, s.exact, m)
            if s.pair.same:
                tp += prob
            else:
                fp += prob
        npos = sum(1 for s in scored if s.pair.same)
        ep, er = tp / (tp + fp), tp / npos
        mark = "  <- default" if (b, r) == (params.bands, params.rows) else ""
        print(
            f"  {p.num_perm:4}   {b:3} {r:2}  {p.s_curve_threshold:.3f}  | {ep:.3f}   {er:.3f}"
            f"   {2 * ep * er / (ep + er):.3f} | {b}, {8 * p.num_perm}{mark}"
        )
    print("\n## 5. S-curve: P(candidate) at Jaccard s for the default b, r")
    print(
        "  ".join(
            f"s={s:.2f}: {params.candidate_probability(s):.3f}"
            for s in (0.05, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.8)
        )
    )


def _timeit(fn: Callable[[], object], repeat: int) -> float:
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t0) / repeat


def section_costs(pairs: list[Pair], params: StoryParams) -> None:
    print("\n## 6. Costs")
    code = "import time; t=time.perf_counter(); import datasketch; print(time.perf_counter()-t)"
    imports = sorted(
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(3)
    )
    print(f"import datasketch (numpy, scipy), fresh process: median {imports[1] * 1000:.0f} ms")
    items = [it for p in pairs for it in (p.a, p.b)]
    sets = [stories.shingles(it["title"], it["text"], params.k) for it in items]
    sigs = [stories.signature_of(s, params) for s in sets]
    n = len(items)
    us_sh = _timeit(lambda: [stories.shingles(i["title"], i["text"], params.k) for i in items], 5)
    us_sig = _timeit(lambda: [stories.signature_of(s, params) for s in sets], 5)
    us_b = _timeit(lambda: [stories.bands(g, params.bands, params.rows) for g in sigs], 5)
    us_sim = _timeit(lambda: [stories.similarity(g, sigs[0]) for g in sigs], 5)
    print(f"{n} items, {sum(map(len, sets)) / n:.0f} shingles on average; per item:")
    print(f"  shingles (normalize + tokenize + k-grams): {us_sh / n * 1e6:7.1f} us")
    print(f"  MinHash signature ({params.num_perm} perms):          {us_sig / n * 1e6:7.1f} us")
    print(f"  {params.bands} band keys (blake2b):                  {us_b / n * 1e6:7.1f} us")
    print(f"  similarity of two signatures:               {us_sim / n * 1e6:7.1f} us")
    enc = stories.encode_signature(sigs[0])
    key = stories.bands(sigs[0], params.bands, params.rows)[0]
    print(f"  encoded signature: {len(enc)} characters; band key: {len(key)} hex characters")


def section_errors(scored: list[Scored], params: StoryParams) -> None:
    print(f"\n## 7. Pairs the default pipeline gets wrong (t={params.threshold:.2f})")
    wrong = [s for s in scored if pipeline_says_same(s, params.threshold) != s.pair.same]
    for s in wrong:
        est = "short" if s.estimate is None else f"{s.estimate:.3f}"
        print(
            f"  {s.pair.id:7} {s.pair.kind:28} same={s.pair.same!s:5} exact={s.exact:.3f} "
            f"estimate={est} candidate={s.candidate}"
        )
    if not wrong:
        print("  none")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--pairs", type=Path, default=PAIRS)
    ap.add_argument("--seeds", type=int, default=30, help="other seeds for section 3")
    ap.add_argument("--skip-variants", action="store_true")
    args = ap.parse_args(argv)
    pairs = load_pairs(args.pairs)
    params = DEFAULT_PARAMS
    print(f"{len(pairs)} pairs from {args.pairs}; defaults: {params}")
    if not args.skip_variants:
        section_variants(pairs)
    scored = score(pairs, params)
    section_sweep(scored, params)
    section_seeds(pairs, params, args.seeds)
    section_sizes(scored, params)
    section_costs(pairs, params)
    section_errors(scored, params)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
