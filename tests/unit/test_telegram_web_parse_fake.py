"""The parser on pages served by the fake web preview, and on garbled pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.sources.telegram_web_parse import ChannelPage, parse_channel_page, post_ids_covered
from tests.fakes.telegram_web import FakeTelegramWeb
from tests.fakes.telegram_web_markup import Card, ChannelInfo, text_to_html
from tests.fakes.telegram_web_pages import render_channel_page

DATA = Path(__file__).resolve().parents[1] / "data" / "telegram_web"
CH = "alamn_now"


@pytest.fixture
def srv() -> Iterator[FakeTelegramWeb]:
    with FakeTelegramWeb() as fake:
        yield fake


def fetch(srv: FakeTelegramWeb, path: str, channel: str = CH) -> ChannelPage:
    response = httpx.get(srv.base_url + path, follow_redirects=True)
    assert response.status_code == 200
    return parse_channel_page(response.content, channel)


def walk_back(srv: FakeTelegramWeb, down_to: int) -> set[int]:
    """Poll the latest page, then older pages until `down_to` is covered: every id seen."""
    result = fetch(srv, f"/s/{CH}")
    seen = post_ids_covered(result)
    while result.oldest_id is not None and result.oldest_id > down_to:
        result = fetch(srv, f"/s/{CH}?before={result.oldest_id}")
        seen |= post_ids_covered(result)
    return seen


# --- round trip through the fake ---------------------------------------------------------


def test_a_page_from_the_fake_reads_back(srv: FakeTelegramWeb) -> None:
    first = srv.post(
        CH, "سقوط صواريخ قرب قاعدة عين الأسد\nالتفاصيل https://example.iq/a #عين_الأسد"
    )
    album = srv.post(CH, "بالصور | آثار القصف", album=3)
    fwd = srv.post(CH, "بيان الهدنة", forwarded_from="إعلام المقاومة")
    video = srv.post(CH, "لحظة الانفجار", media="video")
    srv.edit(CH, first, "تحديث: ثلاثة صواريخ 🚨")
    result = fetch(srv, f"/s/{CH}")
    assert result.has_history
    assert [p.id for p in result.posts] == [first, album, fwd, video]
    by_id = {p.id: p for p in result.posts}
    assert by_id[first].text == "تحديث: ثلاثة صواريخ 🚨"
    assert by_id[first].edited and not by_id[album].edited
    assert (by_id[album].album_size, by_id[album].media) == (3, ("photo",))
    assert by_id[album].text == "بالصور | آثار القصف"
    assert by_id[fwd].forwarded_from == "إعلام المقاومة"
    assert by_id[video].media == ("video",)
    assert post_ids_covered(result) == {1, 2, 3, 4, 5, 6}
    assert all(p.date is not None and p.date.tzinfo is UTC for p in result.posts)


def test_fifty_posts_between_two_polls_are_all_found_on_older_pages(srv: FakeTelegramWeb) -> None:
    for i in range(10):
        srv.post(CH, f"خبر قديم {i}")
    before = fetch(srv, f"/s/{CH}").newest_id
    assert before == 10
    for i in range(50):
        srv.post(CH, f"خبر جديد {i} عن الهدنة")
    srv.requests.clear()
    seen = walk_back(srv, down_to=before)
    assert set(range(before + 1, 61)) <= seen
    assert srv.requests == [f"/s/{CH}", f"/s/{CH}?before=41", f"/s/{CH}?before=21"]


def test_a_page_counts_album_media_as_messages(srv: FakeTelegramWeb) -> None:
    for _ in range(10):
        srv.post(CH, "ألبوم", album=4)
    result = fetch(srv, f"/s/{CH}")
    assert len(result.posts) == 5
    assert post_ids_covered(result) == set(range(21, 41))


def test_deleted_ids_leave_gaps_that_never_come_back(srv: FakeTelegramWeb) -> None:
    for i in range(12):
        srv.post(CH, f"خبر {i}")
    srv.delete(CH, 4)
    srv.delete(CH, 9)
    new = srv.post(CH, "خبر بعد الحذف")
    result = fetch(srv, f"/s/{CH}")
    assert new == 13
    assert post_ids_covered(result) == set(range(1, 14)) - {4, 9} == set(srv.ids(CH))


def test_deleting_the_first_id_of_an_album_moves_its_card(srv: FakeTelegramWeb) -> None:
    srv.post(CH, "قبل")
    album = srv.post(CH, "الصور", album=3)
    srv.delete(CH, album)
    result = fetch(srv, f"/s/{CH}")
    assert [(p.id, p.album_size) for p in result.posts] == [(1, 1), (3, 2)]


def test_before_excludes_its_own_id(srv: FakeTelegramWeb) -> None:
    for i in range(5):
        srv.post(CH, f"خبر {i}")
    result = fetch(srv, f"/s/{CH}?before=4")
    assert [p.id for p in result.posts] == [1, 2, 3]
    assert fetch(srv, f"/s/{CH}?before=1").has_history
    assert fetch(srv, f"/s/{CH}?before=1").posts == ()


@pytest.mark.parametrize("access", ["unknown", "private", "restricted"])
def test_channels_without_a_preview_redirect_to_a_landing_page(
    srv: FakeTelegramWeb, access: str
) -> None:
    if access != "unknown":
        srv.post(CH, "خبر")
        srv.make_private(CH) if access == "private" else srv.restrict(CH)
    first = httpx.get(f"{srv.base_url}/s/{CH}")
    assert (first.status_code, first.headers["location"]) == (302, f"/{CH}")
    result = fetch(srv, f"/s/{CH}")
    assert not result.has_history and result.posts == ()
    assert (result.restricted_reason is not None) is (access == "restricted")


def test_injected_failures_come_first_then_pages_again(srv: FakeTelegramWeb) -> None:
    srv.post(CH, "خبر")
    srv.fail_next(429, retry_after=7)
    srv.fail_next(500)
    limited = httpx.get(f"{srv.base_url}/s/{CH}")
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "7")
    assert httpx.get(f"{srv.base_url}/s/{CH}").status_code == 500
    assert [p.id for p in fetch(srv, f"/s/{CH}").posts] == [1]
    assert srv.requests == [f"/s/{CH}"] * 3


def test_the_fake_uses_only_markup_found_in_the_fixture_pages(srv: FakeTelegramWeb) -> None:
    srv.post(CH, "نص #وسم https://e.iq/x 🚨", forwarded_from="قناة")
    srv.post(CH, "ألبوم", media=["video", "photo"], album=2)
    for kind in ("photo", "video", "voice", "document", "location"):
        srv.post(CH, "وسائط", media=kind)
    srv.post(CH, "Channel created", service=True)
    served = httpx.get(f"{srv.base_url}/s/{CH}?before=100").text
    fixtures = " ".join(p.read_text(encoding="utf-8") for p in DATA.glob("channel_*.html"))
    assert classes(served) <= classes(fixtures)


def classes(html: str) -> set[str]:
    """Class names, less the numeric tokens Telegram puts on each photo."""
    names = {c for attr in re.findall(r'class="([^"]*)"', html) for c in attr.split()}
    return {c for c in names if not re.fullmatch(r"[\d_]+", c)}


# --- properties ---------------------------------------------------------------------------

PIECES = [*"قصف عين الأسد هدنة#_@&<>'\"abc 123\n\t🚨✅\u200f", "https://x.iq/a?b=1&c=2 "]
TEXT = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)


def single_card_page(text: str) -> str:
    info = ChannelInfo(CH, "قناة")
    card = Card(CH, 7, datetime(2025, 1, 1, tzinfo=UTC), text_to_html(text))
    return render_channel_page(info, [card])


def expected_text(text: str) -> str:
    lines = (re.sub(r"[ \t]+", " ", line).strip(" ") for line in text.split("\n"))
    return "\n".join(lines).strip()


@given(TEXT)
@settings(max_examples=200, deadline=None)
def test_any_post_text_reads_back_as_written(text: str) -> None:
    result = parse_channel_page(single_card_page(text), CH)
    assert [p.text for p in result.posts] == [expected_text(text)]


JUNK = st.sampled_from(
    [
        "<",
        ">",
        "</div>",
        '<div class="tgme_widget_message_text">',
        '<div class="tgme_widget_message js-widget_message" data-post="alamn_now/9">',
        '<div class="tgme_widget_message_grouped_wrap">',
        '<a class="grouped_media_wrap" href="https://t.me/alamn_now/99999999?single">',
        '<time datetime="9999-99-99">',
        "<br>",
        "&amp;",
        "&#0;",
        "\x00",
        "<script>",
        "<!--",
        "data-post=",
        "عين الأسد",
    ]
)
EDIT = st.tuples(st.sampled_from(["cut", "insert", "repeat", "truncate"]), st.floats(0, 1), JUNK)
PAGES = sorted(p.name for p in DATA.glob("*.html"))


def garble(html: str, edits: list[tuple[str, float, str]]) -> str:
    for kind, where, junk in edits:
        at = int(where * len(html))
        if kind == "cut":
            html = html[:at] + html[at + 40 :]
        elif kind == "insert":
            html = html[:at] + junk + html[at:]
        elif kind == "repeat":
            html = html[:at] + html[at : at + 300] * 3 + html[at:]
        else:
            html = html[:at]
    return html


@given(st.sampled_from(PAGES), st.lists(EDIT, max_size=8))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_garbled_pages_never_raise(name: str, edits: list[tuple[str, float, str]]) -> None:
    html = garble((DATA / name).read_text(encoding="utf-8"), edits)
    result = parse_channel_page(html, CH)
    ids = [p.id for p in result.posts]
    assert ids == sorted(set(ids))
    assert all(p.album_size >= 1 and isinstance(p.text, str) for p in result.posts)
    assert all(p.date is None or p.date.tzinfo is UTC for p in result.posts)


@given(st.binary(max_size=2000) | st.text(max_size=2000))
@settings(max_examples=150, deadline=None)
def test_arbitrary_input_never_raises(data: bytes | str) -> None:
    assert isinstance(parse_channel_page(data, CH), ChannelPage)


async def test_the_fake_serves_an_async_client(srv: FakeTelegramWeb) -> None:
    srv.post(CH, "خبر")
    async with httpx.AsyncClient(base_url=srv.base_url, follow_redirects=True) as client:
        pages = [await client.get(f"/s/{CH}"), await client.get("/s/nobody_here")]
    results = [parse_channel_page(p.content, CH) for p in pages]
    assert [r.has_history for r in results] == [True, False]


def test_without_redirects_the_landing_page_is_served_in_place() -> None:
    with FakeTelegramWeb(redirect_missing=False) as fake:
        response = httpx.get(f"{fake.base_url}/s/nobody_here")
    assert response.status_code == 200
    assert not parse_channel_page(response.content, "nobody_here").has_history


def test_after_pages_go_forward(srv: FakeTelegramWeb) -> None:
    for i in range(30):
        srv.post(CH, f"خبر {i}")
    result = fetch(srv, f"/s/{CH}?after=5")
    assert [p.id for p in result.posts] == list(range(6, 26))
