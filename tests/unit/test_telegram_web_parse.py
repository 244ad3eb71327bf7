"""The web-preview parser on captured-style pages (tests/data/telegram_web/)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from monitor.sources.telegram_web_parse import (
    ChannelPage,
    WebPost,
    parse_channel_page,
    post_ids_covered,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "telegram_web"


@cache
def page(name: str, channel: str = "alamn_now") -> ChannelPage:
    return parse_channel_page((DATA / name).read_bytes(), channel)


def post(name: str, post_id: int) -> WebPost:
    return next(p for p in page(name).posts if p.id == post_id)


# --- pages --------------------------------------------------------------------------------

LATEST_IDS = [1042, 1043, *range(1046, 1064)]

PAGES = [
    # file, title, has_history, card ids, covered ids, restricted
    ("channel_latest.html", "الأمن الآن | عاجل", True, LATEST_IDS, set(range(1042, 1064)), None),
    (
        "channel_before.html",
        "الأمن الآن | عاجل",
        True,
        [*range(1021, 1031), *range(1033, 1041)],
        set(range(1021, 1041)),
        None,
    ),
    ("channel_start.html", "الأمن الآن | عاجل", True, [1, 2, 3, 5, 6], {1, 2, 3, 5, 6}, None),
    (
        "channel_gap.html",
        "الجبهة نيوز",
        True,
        [500, 501, 503, 504, 507, 509, 512, 513],
        {500, 501, 503, 504, 507, 508, 509, 512, 513},
        None,
    ),
    ("channel_empty_history.html", "الأمن الآن | عاجل", True, [], set(), None),
    (
        "channel_odd.html",
        "قناة غريبة",
        True,
        [77, 79, 80, 81, 85],
        {77, 79, 80, *range(81, 85), 85},
        None,
    ),
    ("landing_missing.html", None, False, [], set(), None),
    ("landing_no_preview.html", "أخبار الفصائل", False, [], set(), None),
    (
        "landing_restricted.html",
        "المقاومة الإسلامية | الإعلام الحربي",
        False,
        [],
        set(),
        "This channel can’t be displayed because it violated Telegram's Terms of Service.",
    ),
]


@pytest.mark.parametrize(("name", "title", "history", "ids", "covered", "restricted"), PAGES)
def test_page(
    name: str,
    title: str | None,
    history: bool,
    ids: list[int],
    covered: set[int],
    restricted: str | None,
) -> None:
    result = page(name)
    assert result.channel == "alamn_now"
    assert result.title == title
    assert result.has_history is history
    assert [p.id for p in result.posts] == ids
    assert post_ids_covered(result) == covered
    assert result.oldest_id == (min(covered) if covered else None)
    assert result.newest_id == (max(covered) if covered else None)
    assert result.restricted_reason == restricted


def test_the_gap_page_shows_which_ids_were_deleted() -> None:
    covered = post_ids_covered(page("channel_gap.html"))
    assert set(range(500, 514)) - covered == {502, 505, 506, 510, 511}


def test_a_latest_page_of_twenty_cards_covers_its_ids_without_gaps() -> None:
    result = page("channel_latest.html")
    assert len(result.posts) == 20
    assert post_ids_covered(result) == set(
        range(result.oldest_id or 0, (result.newest_id or 0) + 1)
    )


def test_bytes_with_broken_utf8_are_read() -> None:
    raw = (DATA / "channel_gap.html").read_bytes().replace(b"</body>", b"\xff\xfe</body>")
    assert [p.id for p in parse_channel_page(raw, "jabha_news").posts][:2] == [500, 501]


# --- posts --------------------------------------------------------------------------------

T = "channel_latest.html"
POSTS = [
    (
        T,
        1042,
        "text",
        "🚨 عاجل | سقوط صاروخين من نوع كاتيوشا قرب قاعدة عين الأسد الجوية غرب الأنبار، "
        "دون أنباء عن إصابات.",
    ),
    (T, 1042, "views", "15.2K"),
    (T, 1042, "date", datetime(2025, 3, 14, 1, 0, tzinfo=UTC)),
    (T, 1042, "channel", "alamn_now"),
    (T, 1043, "album_size", 3),
    (T, 1043, "media", ("photo",)),
    (
        T,
        1043,
        "text",
        "بالصور | آثار القصف الذي استهدف مخزناً للعتاد في جرف الصخر فجر اليوم.\n\n"
        "#جرف_الصخر #العراق",
    ),
    (T, 1043, "links", ()),
    (T, 1046, "forwarded_from", "خلية الإعلام الأمني"),
    (T, 1046, "edited", False),
    (T, 1047, "edited", True),
    (T, 1047, "views", "21K"),
    (
        T,
        1048,
        "links",
        (
            "https://www.example-news.iq/article?id=5512&src=tg",
            "https://www.example-news.iq/live",
            "https://t.me/alamn_now",
        ),
    ),
    (
        T,
        1048,
        "text",
        "🔴 مصادر: التحالف الدولي يرفع حالة التأهب في قاعدة حرير بأربيل بعد هجوم بطائرة مسيّرة."
        "\n\nالتفاصيل: على موقعنا\nالبث المباشر: https://www.example-news.iq/live\n"
        "#عين_الأسد #أربيل #هجوم_مسيرة\n@alamn_now",
    ),
    (T, 1049, "service", True),
    (T, 1049, "text", ""),
    (T, 1049, "views", None),
    (T, 1049, "media", ()),
    (T, 1050, "media", ("video",)),
    (
        T,
        1051,
        "text",
        "هدنة مؤقتة بين الفصائل والقوات الأمريكية بحسب مصادر مطلعة، تبدأ منتصف الليل "
        "وتستمر أسبوعاً تستمر ثلاثة أيام.\nنص البيان: نلتزم بالتهدئة ما دام الطرف الآخر ملتزماً."
        "\nرمز العملية: OP-77\nوقف إطلاق النار: 00:00 بتوقيت بغداد",
    ),
    (T, 1052, "text", "🔥 اسم القيادي المستهدف لم يُكشف بعد، والتحقيقات مستمرة."),
    (T, 1053, "text", "مصدر أمني ينفي وقوع خسائر بشرية في الهجوم."),
    (T, 1054, "media", ("document",)),
    (T, 1054, "text", "نص البيان الكامل."),
    (T, 1055, "media", ("voice",)),
    (T, 1055, "text", ""),
    (T, 1056, "media", ("poll",)),
    (T, 1056, "text", "هل تتوقع صمود الهدنة؟"),
    (
        T,
        1057,
        "text",
        "الأنبار | انتشار أمني مكثف على طريق حديثة – القائم بعد تهديدات بشن هجمات جديدة.",
    ),
    (T, 1058, "links", ("https://www.example-news.iq/reports/bases-2025",)),
    (T, 1059, "media", ("location",)),
    (T, 1061, "forwarded_from", "محمد العبيدي"),
    (T, 1062, "media", ("photo",)),
    (T, 1062, "text", ""),
    ("channel_before.html", 1025, "forwarded_from", "إعلام المقاومة"),
    ("channel_before.html", 1030, "album_size", 3),
    ("channel_before.html", 1030, "media", ("photo", "video")),
    ("channel_before.html", 1036, "edited", True),
    ("channel_start.html", 1, "service", True),
    ("channel_start.html", 2, "text", ""),
    ("channel_start.html", 3, "text", "أهلاً بكم في قناة الأمن الآن ✅"),
    ("channel_gap.html", 507, "album_size", 2),
    ("channel_gap.html", 513, "text", "⚠️ تحذير للمدنيين بالابتعاد عن المواقع العسكرية."),
    (
        "channel_odd.html",
        77,
        "text",
        "سطر أول يكمل هنا\nقصف & تهدئة رابط خبيث تطبيق نسبي كبير\nكتلة داخلية",
    ),
    ("channel_odd.html", 77, "links", ("HTTPS://Example.org/A",)),
    ("channel_odd.html", 77, "date", None),
    ("channel_odd.html", 79, "media", ("gif",)),
    ("channel_odd.html", 79, "date", datetime(2025, 3, 14, 10, 0, tzinfo=UTC)),
    ("channel_odd.html", 80, "text", "نص غير مغلق هدنة"),
    ("channel_odd.html", 80, "edited", True),
    ("channel_odd.html", 81, "album_size", 4),
    ("channel_odd.html", 81, "date", datetime(2025, 3, 14, 9, 30, tzinfo=UTC)),
    ("channel_odd.html", 85, "forwarded_from", "قناة مجهولة"),
    ("channel_odd.html", 85, "views", None),
    ("channel_odd.html", 85, "text", "منقول بلا رابط ⚠"),  # emoji drawn without its character
]


@pytest.mark.parametrize(("name", "post_id", "attr", "expected"), POSTS)
def test_post(name: str, post_id: int, attr: str, expected: object) -> None:
    assert getattr(post(name, post_id), attr) == expected


def test_an_album_caption_nested_twice_is_read_once() -> None:
    text = post(T, 1043).text
    assert text.count("آثار القصف") == 1


def test_a_reply_quote_is_not_the_post_text() -> None:
    assert "ارتفاع عدد الصواريخ" not in post(T, 1053).text


def test_a_link_preview_is_not_the_post_text() -> None:
    assert "خريطة وتسلسل زمني" not in post(T, 1058).text


def test_hashtags_stay_in_the_text_but_are_not_links() -> None:
    first = post(T, 1048)
    assert "#عين_الأسد" in first.text
    assert not any("?q=" in link for link in first.links)


def test_dates_are_utc_and_the_odd_duplicate_card_is_dropped() -> None:
    for result in (page(T), page("channel_odd.html")):
        for item in result.posts:
            assert item.date is None or item.date.utcoffset() is not None
    assert post("channel_odd.html", 77).text.startswith("سطر أول")
