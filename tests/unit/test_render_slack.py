from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.model import Alert, Destination, Hit, Item, Level, Mention, RuleMatch
from monitor.sinks.render_common import FSI, PDI, clean_text, utf16_len
from monitor.sinks.render_slack import (
    SlackMessage,
    escape_mrkdwn,
    render_alert,
    render_digest,
    render_update,
    render_update_reply,
)

WHEN = datetime(2026, 11, 30, 14, 5, tzinfo=UTC)
ZWJ, ZWSP = "\u200d", "\u200b"
_OUR_LINK = re.compile(r"<(https?://[^|<>\s]+)\|([^<>|]*)>")
_BROADCAST = re.compile(r"[@＠](channel|here|everyone)", re.IGNORECASE)
_UNESCAPE = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}

HOSTILE = [
    "<!channel>",
    "<!here|here>",
    "<!everyone>",
    "<@U123>",
    "<@W123|boss>",
    "<#C123|x>",
    "<!subteam^S123|@team>",
    "<https://evil.example|https://bank.example>",
    "<javascript:alert(1)|click>",
    "&amp;lt; &lt;!channel&gt;",
    "@channel @here @everyone @Channel ＠here",
    "</b><b>",
    '<a href="javascript:alert(1)">x</a>',
    "*bold* _it_ ~s~ `code` ```block```",
    "\u202eevil\u202c \x00",
    "a < b && c > d",
]


def unescape(text: str) -> str:
    return re.sub(r"&(?:amp|lt|gt);", lambda m: _UNESCAPE[m.group(0)], text)


def assert_safe_mrkdwn(text: str) -> None:
    """Only our own `<http(s)://…|label>` links; no other control sequence, no broadcast word."""
    outside = _OUR_LINK.sub("", text)
    assert "<" not in outside and ">" not in outside, text
    for match in re.finditer("&", text):
        assert re.match(r"&(?:amp|lt|gt);", text[match.start() :]), text
    assert not _BROADCAST.search(text), text


def mrkdwn_texts(message: SlackMessage) -> list[str]:
    texts = [message.text]
    for block in message.blocks:
        if block["type"] == "section":
            assert block["text"]["type"] == "mrkdwn"
            texts.append(block["text"]["text"])
        else:
            assert block["type"] == "context"
            assert 1 <= len(block["elements"]) <= 10
            texts += [element["text"] for element in block["elements"]]
    return texts


def assert_valid(message: SlackMessage) -> None:
    assert 1 <= len(message.blocks) <= 50
    assert message.text.strip() and utf16_len(message.text) <= 400
    for text in mrkdwn_texts(message):
        assert text.strip() and utf16_len(text) <= 3000
        assert_safe_mrkdwn(text)


def shown(messages: list[SlackMessage]) -> str:
    """Roughly what a reader sees: link labels, escapes decoded, invisible marks removed."""
    text = " ".join(t for m in messages for t in mrkdwn_texts(m))
    text = unescape(_OUR_LINK.sub(lambda m: m.group(2), text))
    for mark in (ZWJ, ZWSP, FSI, PDI):
        text = text.replace(mark, "")
    return " ".join(text.replace("∗", "*").replace("¦", "|").split())


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
    return Alert("id", Destination("slack"), "story", it, (match,), also=also)


def all_messages(alert: Alert) -> list[SlackMessage]:
    return [
        *render_alert(alert),
        *render_update(alert),
        render_update_reply(alert),
        *render_digest([alert, alert]),
    ]


def section_texts(message: SlackMessage) -> list[str]:
    return [b["text"]["text"] for b in message.blocks if b["type"] == "section"]


# --- escaping ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("<#C123|x>", "&lt;#C123|x&gt;"),
        ("&amp;lt;", "&amp;amp;lt;"),
        ("a & b", "a &amp; b"),
        ("@here now", f"@{ZWJ}here now"),
        ("@Everyone!", f"@{ZWJ}Everyone!"),
        ("ping @channel.", f"ping @{ZWJ}channel."),
        ("＠here", f"＠{ZWJ}here"),
        ("@hereford", f"@{ZWJ}hereford"),
        ("plain عربي 12", "plain عربي 12"),
    ],
)
def test_escape_mrkdwn(raw: str, escaped: str) -> None:
    assert escape_mrkdwn(raw) == escaped


@given(
    st.text(alphabet=st.sampled_from(list("<>&!@#|^ channelhereveryoCHE;amplt")) | st.characters())
)
def test_escape_mrkdwn_leaves_no_control_sequence(text: str) -> None:
    escaped = escape_mrkdwn(text)
    assert "<" not in escaped and ">" not in escaped
    assert_safe_mrkdwn(escaped)
    assert unescape(escaped).replace(ZWJ, "") == text.replace(ZWJ, "")


# --- hostile feeds -------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("field", ["title", "text", "source_title", "author", "mention", "rule"])
def test_hostile_strings_never_become_mentions_or_links(hostile: str, field: str) -> None:
    kwargs: dict[str, object] = {}
    if field in ("title", "text", "source_title", "author"):
        kwargs[field] = hostile + " x"
    if field == "mention":
        kwargs["also"] = (Mention("other", hostile, "javascript:alert(1)"),)
    alert = make_alert(rule=hostile if field == "rule" else "r", **kwargs)  # type: ignore[arg-type]
    messages = all_messages(alert)
    for message in messages:
        assert_valid(message)
        for text in mrkdwn_texts(message):
            for link in _OUR_LINK.finditer(text):
                assert link.group(1) == "https://news.example/a?id=1&amp;x=2"
    assert " ".join(clean_text(hostile).split()) in shown(messages)


def test_unsafe_urls_are_not_linked() -> None:
    also = (Mention("m", "t", "data:text/html,x"),)
    for message in all_messages(make_alert(url="javascript:alert(1)", also=also)):
        assert_valid(message)
        assert not any(_OUR_LINK.search(t) for t in mrkdwn_texts(message))


def test_link_url_cannot_break_out() -> None:
    (message,) = render_alert(make_alert(url="https://e.example/a|<!channel>b"))
    context = message.blocks[-1]["elements"][0]["text"]
    assert context.endswith("<https://e.example/a%7C%3C!channel%3Eb|Open>")
    assert_valid(message)


# --- the alert message ---------------------------------------------------------------------


def test_alert_layout() -> None:
    alert = make_alert(title="هجوم صواريخ", author="مراسل", edited=True)
    (message,) = render_alert(alert)
    assert_valid(message)
    header, body, context = message.blocks
    assert header["text"]["text"] == "🟠 *Rule strike-on-bases* · high\nهجوم *صواريخ*"
    assert body["text"]["text"] == "سقوط *صواريخ* على قاعدة عين الأسد غرب الأنبار"
    assert context == {
        "type": "context",
        "elements": [
            {
                "type": "mrkdwn",
                "text": "Source · مراسل · 2026-11-30 14:05 UTC · ✏️ edited · "
                "<https://news.example/a?id=1&amp;x=2|Open>",
            }
        ],
    }
    assert message.text == "🟠 high: Rule strike-on-bases — هجوم صواريخ"
    assert message.payload() == {
        "text": message.text,
        "blocks": message.blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def test_bold_inside_a_word_and_feed_asterisks() -> None:
    alert = make_alert(text="وقالت إن والصواريخ سقطت", terms=("صواريخ",))
    (message,) = render_alert(alert)
    assert f"وال{ZWSP}*صواريخ*" in section_texts(message)[1]
    alert = make_alert(title="Title", text="a *star* b", terms=("*star*",))
    (message,) = render_alert(alert)
    assert section_texts(message)[1] == "a *∗star∗* b"


def test_arabic_text_gets_isolates_and_a_snippet() -> None:
    text = "خبر عادي " * 300 + "وصل 1,200 جندي إلى قاعدة Ain al-Asad " + "خبر " * 300
    (message,) = render_alert(make_alert(text=text, terms=("قاعدة",)))
    assert_valid(message)
    body = section_texts(message)[1]
    assert body.startswith("…") and body.endswith("…")
    assert f"{FSI}1,200{PDI}" in body and f"*قاعدة* {FSI}Ain al-Asad{PDI}" in body
    assert len(body) < 700


# --- limits, digests and updates ----------------------------------------------------------


def test_update_lists_other_sources_and_splits_long_sections() -> None:
    also = tuple(
        Mention(f"src{n}", "تقرير <b>آخر</b> " * 10, f"https://e.example/{n}") for n in range(40)
    )
    messages = render_update(make_alert(also=also))
    assert len(messages) == 1
    assert_valid(messages[0])
    sections = section_texts(messages[0])
    assert len(sections) > 3  # header, snippet, the mentions over several sections
    assert sections[2].startswith("➕ *Also reported by (40)*\n• src0 — <https://e.example/0|")
    assert sum(s.count("• src") for s in sections) == 40


def test_update_reply_is_one_short_section() -> None:
    also = (Mention("alsumaria", "تقرير", "https://alsumaria.example/1"),)
    reply = render_update_reply(make_alert(also=also))
    assert_valid(reply)
    assert section_texts(reply) == [
        "➕ *Also reported by (1)*\n• alsumaria — <https://alsumaria.example/1|تقرير>\n"
    ]
    many = tuple(Mention(f"s{n}", "عنوان " * 30, f"https://e.example/{n}") for n in range(500))
    reply = render_update_reply(make_alert(also=many))
    assert_valid(reply)
    assert len(reply.blocks) == 1 and "… and " in section_texts(reply)[0]


def test_digest_groups_by_rule() -> None:
    alerts = [
        make_alert(title="first low", rule="low", level=Level.LOW),
        make_alert(title="a critical one", rule="crit", level=Level.CRITICAL, url=None),
        make_alert(title="second low", rule="low", level=Level.LOW),
    ]
    (message,) = render_digest(alerts)
    assert_valid(message)
    assert message.text == "🗞 3 alerts"
    assert section_texts(message) == [
        "🗞 *3 alerts* · 2026-11-30 14:05 UTC",
        "🔴 *Rule crit* (1)\n• a critical one — Source\n",
        "🔵 *Rule low* (2)\n"
        "• <https://news.example/a?id=1&amp;x=2|first low> — Source\n"
        "• <https://news.example/a?id=1&amp;x=2|second low> — Source\n",
    ]
    assert render_digest([]) == []


def test_huge_digest_respects_block_limits() -> None:
    alerts = [make_alert(title=f"خبر {n} " + "&<>" * 60, rule=f"r{n % 3}") for n in range(3000)]
    messages = render_digest(alerts)
    assert len(messages) > 1
    for index, message in enumerate(messages, start=1):
        assert_valid(message)
        assert message.text == f"🗞 3000 alerts ({index}/{len(messages)})"
    assert sum(t.count("• <https") for m in messages for t in section_texts(m)) == 3000


FEED = st.text(
    alphabet=st.sampled_from(list("<>&!@#|*_~` \n.،؟abchereyonlهجوم12😀\u202e\x00"))
    | st.characters(),
    max_size=400,
)


@settings(max_examples=150)
@given(FEED, FEED, FEED, st.lists(st.tuples(st.integers(-3, 420), st.integers(-3, 420))))
def test_any_feed_strings_render_to_valid_messages(
    title: str, text: str, source: str, spans: list[tuple[int, int]]
) -> None:
    hits = tuple(Hit(f, s, e, "t") for s, e in spans for f in ("title", "text"))
    alert = make_alert(title=title, text=text, terms=(), source_title=source, author=source)
    match = RuleMatch("r", source, Level.LOW, hits)
    alert = Alert(
        "id", alert.destination, "s", alert.item, (match,), also=(Mention(source, title, text),)
    )
    for message in all_messages(alert):
        assert_valid(message)
