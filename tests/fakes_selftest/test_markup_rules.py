"""The markup rules the fakes apply: Telegram's HTML parse mode and Slack's control sequences."""

from __future__ import annotations

import html

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fakes.slack_blocks import special_tokens, unescaped
from tests.fakes.telegram_html import EntityParseError, parse_html, trim, utf16_len, utf16_slice

ARABIC = st.text(
    alphabet=st.sampled_from("قصفعلىاعدةينلأسد هدنة<>&\"';#@!/\n😀ﷺ\u200f\u0640abc<b></b>&amp;"),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(ARABIC, st.text(max_size=60)))
def test_escaped_text_comes_back_unchanged(text: str) -> None:
    parsed = parse_html(html.escape(text, quote=False))
    assert parsed.text == text and parsed.entities == []


@settings(max_examples=300, deadline=None)
@given(st.one_of(ARABIC, st.text(max_size=60)))
def test_any_input_parses_or_fails_with_telegrams_error(text: str) -> None:
    for strict in (True, False):
        try:
            parsed = parse_html(text, strict=strict)
        except EntityParseError:
            continue
        total = utf16_len(parsed.text)
        for entity in parsed.entities:
            assert entity["offset"] >= 0 and entity["offset"] + entity["length"] <= total


@settings(max_examples=200, deadline=None)
@given(st.one_of(ARABIC, st.text(max_size=60)))
def test_escaped_text_is_inert_for_slack(text: str) -> None:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    payload = {
        "text": escaped,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": escaped}}],
    }
    assert special_tokens(payload) == [] and unescaped(payload) == []


def test_entities_offsets_are_utf16() -> None:
    parsed = parse_html("😀 <b>عاجل</b> <i>x</i>")
    assert parsed.text == "😀 عاجل x"
    assert parsed.entities == [
        {"offset": 3, "length": 4, "type": "bold"},
        {"offset": 8, "length": 1, "type": "italic"},
    ]
    assert utf16_slice(parsed.text, 3, 4) == "عاجل"


def test_trim_moves_entities() -> None:
    parsed = trim(parse_html("\n  <b> bold</b> tail  \n"))
    assert parsed.text == "bold tail"
    assert parsed.entities == [{"offset": 0, "length": 4, "type": "bold"}]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("عا<x>", 'Unsupported start tag "x" at byte offset 4'),
        ("<a href=http://x>x</a>", "Unexpected end of name token at byte offset 8"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
    ],
)
def test_tdlib_wording(source: str, message: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(source)
    assert str(caught.value) == message


def test_empty_tags_make_no_entity_and_links_default_to_their_text() -> None:
    assert parse_html("<b></b>x").entities == []
    parsed = parse_html("<a href=''>https://example.org</a>")
    assert parsed.entities[0]["url"] == "https://example.org"
    lax = parse_html('<a href="example.org">x</a>', strict=False)
    assert lax.entities[0]["url"] == "http://example.org/"
