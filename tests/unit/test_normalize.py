"""monitor.text.normalize: table-driven, one row per phenomenon of the issue; the offset map."""

from __future__ import annotations

from bisect import bisect_right

import pytest

from monitor.text.normalize import fold_char, normalize, normalize_text, reference_normalize

CASES = [
    # Unicode NFKC: presentation forms and ligatures
    ("presentation forms", "ﻫﺪﻧﺔ", "هدنه"),
    ("lam-alef ligature", "ﻻ", "لا"),
    ("lam-alef with hamza ligature", "ﻷمن", "لامن"),
    ("allah ligature", "ﷲ", "الله"),
    ("fullwidth latin", "ＩＳＩＳ", "isis"),
    ("superscript digit", "m²", "m2"),
    # tashkeel, tanween, superscript alef, Quranic marks, tatweel
    ("fatha damma kasra sukun", "هُدْنَةِ", "هدنه"),
    ("shadda", "القوّات", "القوات"),
    ("tanween", "هدنةٌ هدنةً هدنةٍ", "هدنه هدنه هدنه"),
    ("superscript alef", "هٰذا", "هذا"),
    ("quranic small high marks", "الرحيمۖ ذلكۚ", "الرحيم ذلك"),
    ("quranic rub el hizb", "۞ قل", " قل"),
    ("tatweel", "الهـــدنة", "الهدنه"),
    ("tatweel and tashkeel", "الهـُـدنـة", "الهدنه"),
    # letters
    ("alef hamza above", "أمن", "امن"),
    ("alef hamza below", "إطلاق", "اطلاق"),
    ("alef madda", "آمن", "امن"),
    ("alef wasla", "ٱلله", "الله"),
    ("waw hamza", "مؤتمر", "موتمر"),
    ("yeh hamza", "عصائب", "عصايب"),
    ("taa marbuta", "هدنة", "هدنه"),
    ("alef maqsura", "مستشفى", "مستشفي"),
    ("decomposed alef hamza", "ا\u0654من", "امن"),
    # Persian / Urdu / Kurdish forms
    ("farsi yeh", "کتائب سید", "كتايب سيد"),
    ("keheh", "کرکوک", "كركوك"),
    ("kurdish ae", "هەولێر", "ههولێر"),
    ("heh with yeh", "خانۀ", "خانه"),
    ("heh goal", "ہدنہ", "هدنه"),
    ("heh doachashmee", "ھدنة", "هدنه"),
    # digits
    ("arabic-indic digits", "٠١٢٣٤٥٦٧٨٩", "0123456789"),
    ("persian digits", "۰۱۲۳۴۵۶۷۸۹", "0123456789"),
    ("devanagari digits", "१२", "12"),
    ("fullwidth digits", "１２", "12"),
    ("mathematical digits", "𝟐𝟐", "22"),
    ("arabic decimal separator", "٣٫٥", "3.5"),
    # invisible and bidi controls
    ("zwnj zwj", "هد\u200cنة\u200d", "هدنه"),
    ("lrm rlm alm", "\u200eهدنة\u200f\u061c", "هدنه"),
    ("embeddings lre..pdf", "\u202a\u202b\u202c\u202d\u202eهدنة", "هدنه"),
    ("isolates lri..pdi", "\u2066\u2067\u2068هدنة\u2069", "هدنه"),
    ("soft hyphen word joiner bom zwsp", "\ufeffهد\u00adن\u2060ة\u200b", "هدنه"),
    # HTML residue
    ("named entity", "Tom &amp; Jerry", "tom & jerry"),
    ("twice-escaped quote", "&amp;quot;هدنة&amp;quot;", " هدنه "),
    ("numeric entities", "&#1607;&#x62f;نة", "هدنه"),
    ("twice-escaped numeric", "&amp;#1607;دنة", "هدنه"),
    ("escaped tags", "&lt;b&gt;هدنة&lt;/b&gt;", "هدنه"),
    ("block tags become spaces", "<p>أ</p><p>ب</p>", " ا ب "),
    ("inline tags vanish", "هد<b>نة</b>", "هدنه"),
    ("comment", "a<!-- x -->b", "ab"),
    ("lone less-than stays", "a < b", "a < b"),
    ("unknown entity stays", "&foo; x", "&foo; x"),
    # Latin
    ("case fold", "ISIS Truce", "isis truce"),
    ("accents", "Événement à Mossoul", "evenement a mossoul"),
    ("sharp s", "Straße", "strasse"),
    ("dotted capital i", "İstanbul", "istanbul"),
    ("stroke letters", "Łódź Ørsted", "lodz orsted"),
    ("apostrophe in names", "Kata'ib Ba’ath Baʿath Shiʾa", "kataib baath baath shia"),
    ("possessive s", "Iraq's army, Iraq’s", "iraq s army, iraq s"),
    # separators
    ("underscore", "#عين_الأسد", "#عين الاسد"),
    ("hyphen", "BM-21", "bm 21"),
    ("en dash", "عين–الأسد", "عين الاسد"),
    ("line break and tab", "عين\nالأسد\tهنا", "عين الاسد هنا"),
    ("guillemets", "«هدنة»", " هدنه "),
    ("curly quotes", "“truce”", " truce "),
    ("runs of spaces", "a  \u00a0 \u2003b", "a b"),
    ("sentence punctuation stays", "عين، الأسد. هنا؟ نعم! لا: ؛", "عين، الاسد. هنا؟ نعم! لا: ؛"),
    ("em dash stays", "عين — الأسد", "عين — الاسد"),
    ("empty", "", ""),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_normalize(name: str, text: str, expected: str) -> None:
    assert normalize_text(text) == expected
    assert reference_normalize(text) == expected


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_normalize_is_idempotent_on_cases(name: str, text: str, expected: str) -> None:
    assert normalize_text(expected) == expected


def test_fold_char_outputs_are_fixed_points() -> None:
    for cp in [*range(0x20, 0x250), *range(0x0600, 0x0700), *range(0xFB50, 0xFF00)]:
        out = fold_char(chr(cp))
        assert "".join(fold_char(c) for c in out) == out, hex(cp)


# ----------------------------------------------------------------------------- offset map

MAP_CASES = [
    # (original, normalized substring, expected original slice)
    ("قال إن الهُدْنَةُ صامدة", "الهدنه", "الهُدْنَةُ"),
    ("\u200fالهدنة\u200f صامدة", "الهدنه", "الهدنة\u200f"),
    ("الهـــدنة صامدة", "الهدنه", "الهـــدنة"),
    ("ﻻ هدنة", "لا", "ﻻ"),
    ("<b>هدنة</b> x", "هدنه", "هدنة"),
    ("&quot;هدنة&quot;", "هدنه", "هدنة"),
    ("&amp;quot;هدنة&amp;quot; بعد", "بعد", "بعد"),
    ("a   \n هدنة", "هدنه", "هدنة"),
    ("Iraq's army", "iraq", "Iraq"),
    ("Kata'ib Hezbollah", "kataib hezbollah", "Kata'ib Hezbollah"),
    ("قصف عين_الأسد", "عين الاسد", "عين_الأسد"),
    ("٣٤٥ صاروخاً", "345", "٣٤٥"),
    ("ﻫﺪﻧﺔ", "هدنه", "ﻫﺪﻧﺔ"),
    ("Straße x", "strasse", "Straße"),
]


@pytest.mark.parametrize(("original", "needle", "expected"), MAP_CASES)
def test_offset_map(original: str, needle: str, expected: str) -> None:
    n = normalize(original)
    start = n.text.index(needle)
    s, e = n.to_original(start, start + len(needle))
    assert original[s:e] == expected


def test_offset_map_inside_an_expansion_takes_the_whole_character() -> None:
    n = normalize("ﻻ")
    assert n.text == "لا"
    assert n.to_original(0, 1) == (0, 1)
    assert n.to_original(1, 2) == (0, 1)


def test_offset_map_identity_when_nothing_changes() -> None:
    n = normalize("هدنه في بغداد")
    assert n.to_original(5, 7) == (5, 7)


def test_shift_tables_when_characters_were_only_removed() -> None:
    assert normalize("هدنه في بغداد").shift_tables() == []
    text = "الهُدْنَة  في  بغـداد"  # tashkeel, tatweel, runs of spaces: two removing stages
    n = normalize(text)
    tables = n.shift_tables()
    assert tables is not None and len(tables) == 2
    start = n.text.index("بغداد")
    end = start + len("بغداد")
    for breaks, shifts in tables:
        start += shifts[bisect_right(breaks, start)]
        end += shifts[bisect_right(breaks, end)]
    assert (start, end) == n.to_original(n.text.index("بغداد"), n.text.index("بغداد") + 5)
    assert text[start:end] == "بغـداد"


@pytest.mark.parametrize("text", ["ﻻ نعم", "<b>هدنة</b> &quot;x&quot;", "Cæsar"])
def test_no_shift_tables_when_a_stage_inserted_or_replaced(text: str) -> None:
    assert normalize(text).shift_tables() is None


def test_the_shipped_fold_table_is_a_fresh_scan() -> None:
    """monitor/text/_fold_table.py must equal the reference scan (regenerate it with
    `python -m monitor.text.gen_fold_table` after changing the folding rules)."""
    import unicodedata

    from monitor.text import _fold_table, gen_fold_table
    from monitor.text.normalize import scan_unicode

    if unicodedata.unidata_version != _fold_table.UNIDATA_VERSION:
        pytest.skip(
            f"this Python has Unicode {unicodedata.unidata_version}, the shipped table "
            f"{_fold_table.UNIDATA_VERSION}: normalization scans Unicode itself at start"
        )
    table, lower = scan_unicode()
    assert (table, lower) == (_fold_table.TABLE, _fold_table.LOWER_DIFFERS)
    assert gen_fold_table.render() == gen_fold_table.TARGET.read_text(encoding="ascii")
