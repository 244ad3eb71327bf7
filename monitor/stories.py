"""Stories: near-duplicate detection across sources, MinHash over word shingles + LSH. Pure.

A story is the set of items that tell the same report: a wire story in five feeds, an outlet
carrying another's report under a new headline with a credit line, a Telegram repost of the
first two sentences, a page edited under a new GUID. This module turns an item into a compact
signature and LSH band keys; the store keeps them for a time window (Redis in production, so
replicas share them) and the caller decides "same story" when a candidate found through a
shared band key has `similarity >= threshold`.

How an item becomes shingles. Each choice is measured by `python -m bench.stories_threshold`
on `tests/data/stories/pairs.jsonl` (66 hand-written pairs, 44 Arabic and 22 English, half of
them the same story re-edited, half hard negatives sharing place, people and phrasing); the
figures below are exact Jaccard of the smallest positive / the largest negative:

- `normalize_text` (alef forms, taa marbuta, tashkeel, tatweel, case...), then `tokenize`
  (runs of letters or digits). Numbers stay: they tell "3 rockets on Sunday" from "2 rockets on
  Wednesday".
- Function words dropped (`STOPWORDS`, Arabic and English): without it 0.354 / 0.318, with it
  0.338 / 0.227 (k=4). Template phrasing shares function words, not content.
- Clitics and the article (و ف ب ك ل ال) NOT stripped: at k=4 it moved 4 of 66 pairs by at
  most 0.05, two positives and two negatives up alike, and neither end of the gap (outlets that
  carry a report keep its words); not worth the words it would mangle.
- The body only: the headline is what another outlet rewrites first; with it 0.284 / 0.257.
  The headline is used only when the body alone gives fewer than `min_shingles`.
- k = 4 words: the widest gap (k=3: 0.389 / 0.310, k=4: 0.338 / 0.227, k=5: 0.280 / 0.183).
- Fewer than `MIN_SHINGLES` (10, about one long sentence of content words): no signature, the
  caller falls back to exact identity: with 10 shingles one changed word (k shingles gone on
  each side) already drops Jaccard from 1 to 0.43.

Signature: datasketch `MinHash` (SHA-1 32-bit hash of each shingle, `num_perm` universal-hash
permutations from a fixed seed), kept as a tuple of `num_perm` ints in [0, 2**32). The same
text gives the same signature in every process and on every machine (no `hash()`).

Parameters (`DEFAULT_PARAMS`, from the bench):

- `threshold` 0.32: exact Jaccard separates the pairs anywhere in 0.23..0.33. Over 30 other
  seeds the LSH pipeline keeps precision 1.000 (min 1.000) at 0.32 but not at 0.30 (mean
  0.998, min 0.970) while recall drops only 0.969 -> 0.966: a false merge (a new attack folded
  into an old one's alert) costs more than a missed one (a duplicate alert).
- `num_perm` 120 = `bands` 40 x `rows` 3: the S-curve threshold (1/40)**(1/3) = 0.29 sits just
  under the verification threshold (P(candidate) 0.67 at 0.30, 0.93 at 0.40). Band keys are
  what the store pays for per item, so 40; 192 = 64 x 3 lifts expected recall 0.958 -> 0.979
  for 60% more keys and signature bytes. 128 does not split into rows of 3; rows of 2 or 4
  put the S-curve at 0.13 (candidates flood) or 0.42 (reposts missed: expected recall 0.84).
- At the shipped seed (overall / Arabic / English): precision 1.000 / 1.000 / 1.000, recall
  0.970 / 0.955 / 1.000 (missed: one Telegram repost, exact 0.35, estimated 0.28).

Signature encoding for the store and a Redis Lua script (`encode_signature`): fixed-width
lowercase hex, 8 characters per value, no separator (960 characters for 120 values). Lua
compares position i (1-based) with `string.sub(s, 8*i-7, 8*i)`, no parsing needed.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from monitor.text.normalize import normalize_text
from monitor.text.tokenize import tokenize

__all__ = [
    "DEFAULT_PARAMS",
    "MIN_SHINGLES",
    "NUM_PERM",
    "SEED",
    "STOPWORDS",
    "Signature",
    "StoryParams",
    "bands",
    "content_words",
    "decode_signature",
    "encode_signature",
    "jaccard",
    "shingles",
    "signature",
    "signature_of",
    "similarity",
]

NUM_PERM = 120
SEED = 1
K = 4
MIN_SHINGLES = 10
HEX_WIDTH = 8  # hex digits per signature value: values are 32-bit
MAX_VALUE = (1 << 32) - 1
_HEX = frozenset("0123456789abcdef")

Signature = tuple[int, ...]

# Function words, in normalized spelling (ا for أ إ آ, ي for ى, ه for ة); the tests check
# that each one is already normalized. Only words that say nothing about the event: no
# reporting verbs, no days or months ("may" stays: it is also May), no numbers.
_AR_STOP = """
في من الي علي عن مع ان انه انها انهم لان كان كانت يكون تكون كانوا قد لقد لا لم لن ما ماذا
هذا هذه هذان هاتان هولاء ذلك تلك هناك هنا الذي التي الذين اللذين اللتين اللواتي اللاتي
او ام ثم بل لكن لكنه غير سوي الا كل بعض اي ايه ايضا كما مثل حيث حين عندما بينما فيما اذ اذا
لو بين بعد قبل حتي منذ عند خلال ضد نحو دون لدي لدي حول عبر وفق
به بها بهم له لها لهم لهما فيه فيها فيهم منه منها منهم عليه عليها عليهم عنه عنها عنهم اليه
اليها اليهم معه معها هو هي هم هما هن نحن انا انت انتم
وفي ومن والي وعلي وعن ومع وان وانه وانها وكان وكانت وقد ولا ولم ولن وما وهذا وهذه وذلك وهو
وهي وهم وكل وبعد وقبل وحتي ومنذ وعند وخلال ولكن واذا واي وكما وبين والذي والتي والذين
فان فقد فلا فهو فهي فيما
"""
_EN_STOP = """
a an the and or but if nor so of to in on at by for from with as into onto over under about
after before between during since until against than then that this these those there here
it its is are was were be been being has have had do does did not no yes will would can could
shall should might must which who whom whose what when where while why how all any both
each few more most other some such only own same too very just also he she they them his her
hers their theirs we our ours us i me my you your yours him s t
"""
STOPWORDS: frozenset[str] = frozenset(_AR_STOP.split()) | frozenset(_EN_STOP.split())


@dataclass(frozen=True, slots=True)
class StoryParams:
    """The clustering parameters; the defaults are the measured choice (module docstring)."""

    num_perm: int = NUM_PERM
    bands: int = 40
    rows: int = 3
    threshold: float = 0.32
    k: int = K
    min_shingles: int = MIN_SHINGLES
    seed: int = SEED

    def __post_init__(self) -> None:
        if self.bands * self.rows != self.num_perm:
            raise ValueError(f"bands x rows must be num_perm: {self.bands}x{self.rows}")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1]: {self.threshold}")
        if self.k < 1 or self.min_shingles < 1 or self.num_perm < 1:
            raise ValueError("k, min_shingles and num_perm must be positive")

    @property
    def s_curve_threshold(self) -> float:
        """The similarity where the chance of becoming a candidate rises fastest."""
        return float((1.0 / self.bands) ** (1.0 / self.rows))

    def candidate_probability(self, s: float) -> float:
        """The chance that two items of Jaccard `s` share at least one band key."""
        return 1.0 - (1.0 - s**self.rows) ** self.bands


DEFAULT_PARAMS = StoryParams()


# --------------------------------------------------------------------------- shingles


def content_words(text: str) -> list[str]:
    """The normalized words and numbers of `text`, function words dropped."""
    return [t.text for t in tokenize(normalize_text(text)) if t.text not in STOPWORDS]


def _kgrams(words: Sequence[str], k: int) -> set[str]:
    if len(words) <= k:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + k]) for i in range(len(words) - k + 1)}


def shingles(title: str, text: str, k: int = K, min_shingles: int = MIN_SHINGLES) -> set[str]:
    """The word k-shingles of an item: of its body, or of headline + body when the body alone
    gives fewer than `min_shingles` (a headline is what another outlet rewrites first)."""
    body = content_words(text)
    out = _kgrams(body, k)
    if len(out) < min_shingles and title.strip():
        out = _kgrams(content_words(title) + body, k)
    return out


# --------------------------------------------------------------------------- signatures


_MERSENNE = (1 << 61) - 1
_MAX_HASH = (1 << 32) - 1


@functools.cache
def _permutations(num_perm: int, seed: int) -> tuple[Any, Any]:
    """The (a, b) parameters of `num_perm` universal hashes, drawn exactly as datasketch's
    MinHash draws them for `seed` (tests/unit/test_stories.py proves the signatures equal)."""
    import numpy as np

    gen = np.random.RandomState(seed)
    pairs = [
        (gen.randint(1, _MERSENNE, dtype=np.uint64), gen.randint(0, _MERSENNE, dtype=np.uint64))
        for _ in range(num_perm)
    ]
    a, b = np.array(pairs, dtype=np.uint64).T
    return a, b


def _sha1_32(data: bytes) -> int:
    return int.from_bytes(hashlib.sha1(data).digest()[:4], "little")


def signature_of(shingle_set: Iterable[str], params: StoryParams = DEFAULT_PARAMS) -> Signature:
    """The MinHash signature of a set of shingles (any size; an empty set gives all maxima).

    datasketch's MinHash algorithm (SHA-1 32-bit hashes, universal hashing mod 2**61-1), written
    with numpy alone: importing datasketch loads scipy (~0.4 s, ~200 MB) for its LSH classes,
    which the daemon does not use (the LSH index lives in the store)."""
    import numpy as np

    if not shingle_set:
        return (_MAX_HASH,) * params.num_perm
    a, b = _permutations(params.num_perm, params.seed)
    hv = np.array([_sha1_32(s.encode("utf-8")) for s in shingle_set], dtype=np.uint64, ndmin=2).T
    phv = ((hv * a + b) % np.uint64(_MERSENNE)) & np.uint64(_MAX_HASH)
    return tuple(int(v) for v in phv.min(axis=0).tolist())


def signature(title: str, text: str, params: StoryParams = DEFAULT_PARAMS) -> Signature | None:
    """The signature of an item, or None when it is too short to cluster (the caller then
    falls back to exact identity)."""
    sh = shingles(title, text, params.k, params.min_shingles)
    if len(sh) < params.min_shingles:
        return None
    return signature_of(sh, params)


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """The MinHash estimate of Jaccard: the fraction of positions where a and b agree."""
    if len(a) != len(b) or not a:
        raise ValueError(f"signatures of different lengths: {len(a)} and {len(b)}")
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a)


def bands(sig: Sequence[int], b: int, r: int) -> list[str]:
    """The LSH band keys of a signature: for each band i, 16 hex digits of blake2b over i and
    the band's r values (big-endian uint32). Two items share key i only if they agree on all
    r values of band i; the same signature gives the same keys in every process."""
    if b * r != len(sig):
        raise ValueError(f"bands x rows ({b}x{r}) must be the signature length {len(sig)}")
    keys = []
    for i in range(b):
        h = hashlib.blake2b(digest_size=8)
        h.update(i.to_bytes(2, "big"))
        for v in sig[i * r : (i + 1) * r]:
            h.update(v.to_bytes(4, "big"))
        keys.append(h.hexdigest())
    return keys


# --------------------------------------------------------------------------- encoding


def encode_signature(sig: Sequence[int]) -> str:
    """Fixed-width lowercase hex, `HEX_WIDTH` (8) digits per value, no separator. A Redis Lua
    script compares position i (1-based) as `string.sub(s, 8*i-7, 8*i)`."""
    for v in sig:
        if not 0 <= v <= MAX_VALUE:
            raise ValueError(f"signature value out of uint32 range: {v}")
    return "".join(f"{v:08x}" for v in sig)


def decode_signature(s: str) -> Signature:
    """The inverse of `encode_signature`; raises ValueError on a malformed string."""
    if not s or len(s) % HEX_WIDTH or not _HEX.issuperset(s):
        raise ValueError(f"not an encoded signature: {s[:40]!r}")
    return tuple(int(s[i : i + HEX_WIDTH], 16) for i in range(0, len(s), HEX_WIDTH))


def jaccard(a: set[str], b: set[str]) -> float:
    """Exact Jaccard of two shingle sets (the bench and the tests compare the estimate to it)."""
    union = len(a | b)
    return len(a & b) / union if union else 1.0
