from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.model import Alert, Destination, Hit, Item, Level, Mention, RuleMatch
from monitor.sinks.render_common import FSI, PDI, clean_text
from monitor.sinks.render_telegram import (
    TELEGRAM_LIMIT,
    TelegramMessage,
    TelegramOptions,
    escape_html,
    isolate_runs,
    render_alert,
    render_digest,
    render_update,
    render_update_reply,
    split_html,
    utf16_len,
)

ALLOWED = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "blockquote",
}
_TOKENS = re.compile(r"<[^>]*>|&[^;&<>]*;|[^<&]+|[<&]")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);")
WHEN = datetime(2026, 11, 30, 14, 5, tzinfo=UTC)

HOSTILE = [
    "</b><b>",
    '<a href="javascript:alert(1)">click</a>',
    "<!channel>",
    "<!here>",
    "<@U123>",
    "<#C123|x>",
    "&amp;lt;",
    "&#60;b&#62; & &x; &",
    "a < b && c > d",
    "\"quoted\" 'single'",
    "<tg-spoiler>x</b>",
    '<pre><code class="x">',
    "https://evil.example/<script>alert(1)</script>",
    "\u202eevil\u202c \x00\x1b[31m",
    "@channel @here @everyone",
]


def assert_valid(part: str, limit: int = TELEGRAM_LIMIT) -> None:
    """What Telegram's HTML parser accepts: known tags, balanced, escaped text."""
    assert utf16_len(part) <= limit
    stack: list[str] = []
    for token in _TOKENS.findall(part):
        if token.startswith("<"):
            tag = re.fullmatch(r"<(/?)([a-z-]+)(.*)>", token, re.DOTALL)
            assert tag, token
            closing, name, attrs = tag.groups()
            assert name in ALLOWED, token
            if closing:
                assert not attrs and stack and stack.pop() == name, token
            else:
                pattern = r' href="https?://[^"<>\s]+"' if name == "a" else ""
                assert re.fullmatch(pattern, attrs), token
                assert not (name == "a" and "a" in stack), "nested link"
                stack.append(name)
        elif token.startswith("&"):
            assert _ENTITY.fullmatch(token), token
        else:
            assert ">" not in token and '"' not in token, token
    assert not stack, stack


def visible(part: str) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", part))


def bare(text: str) -> str:
    return text.replace(FSI, "").replace(PDI, "")


def reassembles(parts: list[str], text: str) -> bool:
    pos = 0
    for part in parts:
        found = text.find(part, pos)
        if found < 0 or text[pos:found].strip():
            return False
        pos = found + len(part)
    return not text[pos:].strip()


def make_alert(
    title: str = "هجوم على قاعدة",
    text: str = "سقوط صواريخ على قاعدة عين الأسد غرب الأنبار",
    terms: tuple[str, ...] = ("صواريخ",),
    url: str | None = "https://news.example/a?id=1&x=2",
    level: Level = Level.HIGH,
    also: tuple[Mention, ...] = (),
    rule: str = "strike-on-bases",
    **item: object,
) -> Alert:
    hits = tuple(
        Hit(field, m.start(), m.end(), term)
        for term in terms
        for field, value in (("title", title), ("text", text))
        for m in re.finditer(re.escape(term), value)
    )
    fields: dict[str, object] = {"published": WHEN, "source_title": "Source", **item}
    it = Item("src", "key", title, text, url=url, **fields)  # type: ignore[arg-type]
    match = RuleMatch(rule, f"Rule {rule}", level, hits)
    return Alert("id", Destination("tg"), "story", it, (match,), also=also)


def all_messages(alert: Alert, options: TelegramOptions | None = None) -> list[str]:
    options = options or TelegramOptions()
    messages = [
        *render_alert(alert, options),
        *render_update(alert, options),
        render_update_reply(alert, options),
        *render_digest([alert, alert], options),
    ]
    return [m.html for m in messages]


# --- escaping ------------------------------------------------------------------------------


@given(st.text())
def test_escape_html_round_trips_and_leaves_no_markup(text: str) -> None:
    escaped = escape_html(text)
    assert html.unescape(escaped) == text
    assert not set(escaped) & set('<>"')
    assert all(_ENTITY.match(escaped, m.start()) for m in re.finditer("&", escaped))


# --- splitting -----------------------------------------------------------------------------

TEXTS = st.text(
    alphabet=st.sampled_from(list("ab cd\n.!?،؛؟<>&\"'هجومعلى 123😀\u200d\u0651"))
    | st.characters(codec="utf-8"),
    max_size=120,
)
STYLES = st.sampled_from(["", "b", "i", "a", "b+i", "code", "blockquote", "tg-spoiler"])


def wrap(text: str, style: str) -> str:
    escaped = escape_html(text)
    if style == "a":
        return f'<a href="https://example.com/x?a=1&amp;b=2">{escaped}</a>'
    if style == "b+i":
        return f"<b>x<i>{escaped}</i></b>"
    return f"<{style}>{escaped}</{style}>" if style else escaped


def plain(text: str, style: str) -> str:
    return "x" + text if style == "b+i" else text


@settings(max_examples=300)
@given(st.lists(st.tuples(TEXTS, STYLES), max_size=12), st.integers(64, 400))
def test_split_html_parts_are_valid_fit_and_reassemble(
    pieces: list[tuple[str, str]], limit: int
) -> None:
    source = "".join(wrap(t, s) for t, s in pieces)
    parts = split_html(source, limit)
    for part in parts:
        assert_valid(part, limit)
        assert visible(part).strip()
    assert reassembles([visible(p) for p in parts], "".join(plain(t, s) for t, s in pieces))


@given(st.text(max_size=300))
def test_split_html_short_text_is_one_part(text: str) -> None:
    source = escape_html(text)
    if utf16_len(source) <= TELEGRAM_LIMIT:
        assert split_html(source) == ([source] if text.strip() else [])


def test_split_html_reopens_tags_and_never_cuts_entities() -> None:
    source = "<b>" + "&amp;&lt;&gt; " * 40 + "</b>"
    parts = split_html(source, 50)
    assert len(parts) > 1
    for part in parts:
        assert_valid(part, 50)
        assert part.startswith("<b>") and part.endswith("</b>")
    assert "".join(visible(p) for p in parts) == "&<> " * 40


def test_split_html_prefers_arabic_sentence_ends() -> None:
    sentence = "أعلنت الوزارة أن القوات وصلت إلى القاعدة، ثم انسحبت؛ هل انتهت العملية؟ لا. "
    parts = split_html(escape_html(sentence * 10), 200)
    assert len(parts) > 1
    for part in parts[:-1]:
        assert visible(part).rstrip()[-1] in ".،؛؟"


def test_split_html_counts_utf16_units() -> None:
    source = "😀" * 3000  # 6000 UTF-16 units, 3000 code points
    parts = split_html(source)
    assert len(parts) == 2
    assert all(utf16_len(p) <= TELEGRAM_LIMIT for p in parts)
    assert "".join(parts) == source


@pytest.mark.parametrize("bad", ["<b>x", "x</b>", "a < b", "a & b", "<b><i>x</b></i>"])
def test_split_html_rejects_malformed_html(bad: str) -> None:
    with pytest.raises(ValueError):
        split_html(bad * 2000)


# --- hostile feeds -------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("field", ["title", "text", "source_title", "author", "mention", "rule"])
def test_hostile_strings_are_shown_escaped_never_as_markup(hostile: str, field: str) -> None:
    kwargs: dict[str, object] = {}
    if field in ("title", "text", "source_title", "author"):
        kwargs[field] = hostile + " " + str(kwargs.get(field, "x"))
    if field == "mention":
        kwargs["also"] = (Mention("other", hostile, "javascript:alert(1)"),)
    alert = make_alert(rule=hostile if field == "rule" else "r", **kwargs)  # type: ignore[arg-type]
    texts = all_messages(alert)
    for part in texts:
        assert_valid(part)
        assert 'href="javascript' not in part
    shown = " ".join(" ".join(bare(visible(p)).split()) for p in texts)
    assert " ".join(clean_text(hostile).split()) in shown


def test_only_http_links_and_button() -> None:
    alert = make_alert(url="javascript:alert(1)")
    (message,) = render_alert(alert)
    assert "<a " not in message.html
    assert message.button_url is None
    (message,) = render_alert(make_alert(url="https://news.example/a?id=1&x=2"))
    assert '<a href="https://news.example/a?id=1&amp;x=2">' in message.html
    assert message.button_url == "https://news.example/a?id=1&x=2"


# --- the alert message ---------------------------------------------------------------------


def test_alert_layout() -> None:
    alert = make_alert(title="هجوم صواريخ", author="مراسل", edited=True)
    (message,) = render_alert(alert)
    assert_valid(message.html)
    lines = message.html.split("\n")
    assert lines[0] == "🟠 <b>Rule strike-on-bases</b> · high"
    assert "<b>صواريخ</b>" in lines[1]  # title hits in bold, inside the link
    assert lines[1].startswith('<a href="https://news.example/a?id=1&amp;x=2">')
    assert "سقوط <b>صواريخ</b> على قاعدة" in message.html
    assert lines[-1] == "<i>Source</i> · مراسل · 2026-11-30 14:05 UTC · ✏️ edited"
    assert message.disable_preview is True


@pytest.mark.parametrize(
    ("level", "marker"),
    [
        (Level.CRITICAL, "🔴"),
        (Level.HIGH, "🟠"),
        (Level.MEDIUM, "🟡"),
        (Level.LOW, "🔵"),
        (Level.INFO, "⚪"),
    ],
)
def test_level_marker(level: Level, marker: str) -> None:
    (message,) = render_alert(make_alert(level=level))
    assert message.html.startswith(f"{marker} <b>")
    assert f"· {level.value}\n" in message.html


def test_several_rules_most_urgent_first() -> None:
    alert = make_alert(level=Level.LOW)
    worse = RuleMatch("crit", "Critical rule", Level.CRITICAL, ())
    alert = Alert(alert.id, alert.destination, alert.story_key, alert.item, (*alert.matches, worse))
    (message,) = render_alert(alert)
    first, second = message.html.split("\n")[:2]
    assert first.startswith("🔴 <b>Critical rule</b>") and second.startswith("🔵 ")


def test_options() -> None:
    alert = make_alert()
    (message,) = render_alert(alert, TelegramOptions(link_preview=True, open_button=False))
    assert message.disable_preview is False and message.button_url is None
    (message,) = render_alert(alert, TelegramOptions(tz="Asia/Baghdad"))
    assert "2026-11-30 17:05 +03" in message.html
    with pytest.raises(ValueError, match="time zone"):
        TelegramOptions(tz="Mars/Olympus")


def test_snippet_window_around_a_late_hit() -> None:
    text = "كلام عادي عن الطقس والرياضة " * 100 + "سقوط صواريخ على القاعدة " + "خبر " * 100
    (message,) = render_alert(make_alert(text=text), TelegramOptions(max_snippet=200))
    body = message.html.split("\n\n")[1]
    assert body.startswith("…") and body.endswith("…")
    assert "<b>صواريخ</b>" in body
    assert len(visible(body)) <= 210


@pytest.mark.parametrize("offsets", [(-5, 3), (10, 5000), (7, 7), (9, 2), (0, 10**9)])
def test_bad_hit_offsets_do_not_break_the_message(offsets: tuple[int, int]) -> None:
    alert = make_alert(terms=())
    item = alert.item
    hit = Hit("text", *offsets, term="x")
    match = RuleMatch("r", "R", Level.LOW, (hit, Hit("title", *offsets, term="x")))
    alert = Alert("id", alert.destination, "s", item, (match,))
    for part in all_messages(alert):
        assert_valid(part)


def test_empty_title_and_text() -> None:
    alert = make_alert(title="", text="", terms=(), url=None)
    for part in all_messages(alert):
        assert_valid(part)
        assert visible(part).strip()


def long_arabic_text() -> str:
    sentences = []
    for n in range(60):
        sentences.append(
            f"أعلنت وزارة الدفاع في البيان رقم {n} أن 1,200 جندي من قوات Coalition وصلوا إلى "
            "قاعدة Ain al-Asad عند الساعة 12:30، "
            f"وفق بيان على https://mod.example/news?id={n}&l=ar؛ "
            "هل تنتهي العملية قريبا؟ لا أحد يعرف."
        )
        sentences.append("\n\n" if n % 5 == 4 else " ")
    sentences.insert(70, "وقال المتحدث إن الهدف كان مخزنا للسلاح. ")
    return "".join(sentences)


def test_long_arabic_text_with_latin_and_numbers_is_split_cleanly() -> None:
    text = long_arabic_text()
    assert len(text) > 5000
    alert = make_alert(text=text, terms=("الهدف",))
    messages = render_alert(alert, TelegramOptions(max_snippet=0))
    assert len(messages) >= 3
    for message in messages:
        assert_valid(message.html)
    assert [m.button_url for m in messages] == [None] * (len(messages) - 1) + [
        "https://news.example/a?id=1&x=2"
    ]
    assert messages[0].html.startswith("🟠 ")
    assert messages[-1].html.endswith("2026-11-30 14:05 UTC")
    for message in messages[:-1]:
        assert bare(visible(message.html)).rstrip()[-1] in ".،؛؟"
    joined = "".join(m.html for m in messages)
    assert joined.count("<b>الهدف</b>") == 1
    assert f"{FSI}Ain al-Asad{PDI}" in joined and f"{FSI}1,200{PDI}" in joined
    assert f"{FSI}https://mod.example/news?id=7&amp;l=ar{PDI}؛" in joined
    shown = bare("".join(visible(m.html) for m in messages))
    for sentence in clean_text(text).split("\n\n"):
        assert sentence.strip() in shown


def test_isolate_runs_is_exported() -> None:
    assert isolate_runs("قاعدة Ain al-Asad") == f"قاعدة {FSI}Ain al-Asad{PDI}"
    assert isolate_runs("Ain al-Asad base") == "Ain al-Asad base"


# --- digests and updates -------------------------------------------------------------------


def test_digest_groups_by_rule_most_urgent_first() -> None:
    alerts = [
        make_alert(title="first low", rule="low", level=Level.LOW),
        make_alert(title="a critical one", rule="crit", level=Level.CRITICAL),
        make_alert(title="second low", rule="low", level=Level.LOW, url=None),
    ]
    (message,) = render_digest(alerts)
    assert_valid(message.html)
    assert message.button_url is None and message.disable_preview is True
    assert message.html.startswith("🗞 <b>3 alerts</b> · 2026-11-30 14:05 UTC\n\n")
    crit, low = message.html.split("\n\n")[1:]
    assert crit.startswith("🔴 <b>Rule crit</b> (1)\n• <a href=")
    assert low.split("\n") == [
        "🔵 <b>Rule low</b> (2)",
        '• <a href="https://news.example/a?id=1&amp;x=2">first low</a> — <i>Source</i>',
        "• second low — <i>Source</i>",
    ]


def test_big_digest_is_split_into_valid_messages() -> None:
    alerts = [make_alert(title=f"خبر رقم {n} " + "<b>&" * 30, rule=f"r{n % 7}") for n in range(300)]
    messages = render_digest(alerts)
    assert len(messages) > 1
    for message in messages:
        assert_valid(message.html)
    assert sum(visible(m.html).count("• ") for m in messages) == 300
    assert render_digest([]) == []


def test_update_adds_the_other_sources() -> None:
    also = (
        Mention("alsumaria", "تقرير آخر", "https://alsumaria.example/1"),
        Mention("shady", "<b>bad</b>", "javascript:alert(1)"),
    )
    alert = make_alert(also=also)
    (message,) = render_update(alert)
    assert_valid(message.html)
    assert "➕ <b>Also reported by</b> (2)" in message.html
    assert '• alsumaria — <a href="https://alsumaria.example/1">تقرير آخر</a>' in message.html
    assert "• shady — &lt;b&gt;bad&lt;/b&gt;" in message.html
    assert message.html.endswith("2026-11-30 14:05 UTC")
    assert isinstance(render_update_reply(alert), TelegramMessage)
    reply = render_update_reply(alert).html
    assert reply.startswith("➕ <b>Also reported by</b> (2)\n")
    assert "alsumaria" in reply and reply.count("\n") == 2


def test_update_reply_stays_one_message_with_many_mentions() -> None:
    also = tuple(Mention(f"src{n}", "عنوان " * 20, f"https://e.example/{n}") for n in range(500))
    reply = render_update_reply(make_alert(also=also))
    assert_valid(reply.html)
    assert "… and " in reply.html
    messages = render_update(make_alert(also=also))
    for message in messages:
        assert_valid(message.html)


def test_update_reply_without_mentions_names_the_story() -> None:
    reply = render_update_reply(make_alert(title="", text="نص الخبر"))
    assert reply.html == "➕ <b>Also reported by</b> (0): نص الخبر"


FEED = st.text(
    alphabet=st.sampled_from(list("<>&\"';|!@#/ \n.،؟abcهجوم12😀\u202e\x00")) | st.characters(),
    max_size=400,
)


@settings(max_examples=150)
@given(FEED, FEED, FEED, st.lists(st.tuples(st.integers(-3, 420), st.integers(-3, 420))))
def test_any_feed_strings_render_to_valid_messages(
    title: str, text: str, source: str, spans: list[tuple[int, int]]
) -> None:
    hits = tuple(Hit(f, s, e, "t") for s, e in spans for f in ("title", "text"))
    alert = make_alert(title=title, text=text, terms=(), source_title=source, author=source)
    alert = Alert(
        "id",
        alert.destination,
        "s",
        alert.item,
        (RuleMatch("r", source, Level.LOW, hits),),
        also=(Mention(source, title, text),),
    )
    for options in (TelegramOptions(), TelegramOptions(max_snippet=0)):
        for part in all_messages(alert, options):
            assert_valid(part)
            assert visible(part).strip()
