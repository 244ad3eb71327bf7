"""Charset detection for feed bodies (Arabic sites with wrong or missing labels)."""

from __future__ import annotations

import pytest

from monitor.sources import charset
from monitor.sources.rss import parse_feed

ARABIC = "هدنة في بغداد وسقوط صواريخ على قاعدة عين الأسد"


def rss(title: str, decl: str | None) -> str:
    head = f'<?xml version="1.0" encoding="{decl}"?>' if decl else ""
    return f'{head}<rss version="2.0"><channel><title>t</title><item><guid>1</guid><title>{title}</title></item></channel></rss>'


@pytest.mark.parametrize(
    ("encoding", "decl", "header"),
    [
        ("utf-8", "utf-8", "application/rss+xml; charset=utf-8"),
        ("utf-8", None, ""),
        ("utf-8", "windows-1256", "text/xml"),  # a lying declaration
        ("cp1256", "windows-1256", "text/xml; charset=windows-1256"),
        ("cp1256", "windows-1256", "text/xml; charset=utf-8"),  # a lying header
        ("cp1256", None, "text/xml; charset=utf-8"),  # lying header, no declaration
        ("cp1256", None, ""),  # no label at all
        ("cp1256", "iso-8859-1", "text/xml"),  # a Western label on Arabic bytes
        ("cp1256", None, "text/html; charset=ISO-8859-1"),  # Apache's default header
    ],
)
def test_arabic_feed_decodes(encoding: str, decl: str | None, header: str) -> None:
    body = rss(ARABIC, decl).encode(encoding)
    assert parse_feed(body, header, "s", ()).items[0].title == ARABIC


def test_western_label_on_western_text_is_kept() -> None:
    text = "Cessez-le-feu prolongé à Gaza, selon le médiateur"
    body = rss(text, "iso-8859-1").encode("latin-1")
    assert parse_feed(body, "text/xml", "s", ()).items[0].title == text


def test_utf16_with_bom() -> None:
    body = rss(ARABIC, "utf-16").encode("utf-16")
    assert parse_feed(body, "", "s", ()).items[0].title == ARABIC


def test_latin_feed_without_label_guessed_as_windows_1252() -> None:
    text = "Le cessez-le-feu à Gaza prolongé, annonce le médiateur égyptien"
    body = rss(text, None).encode("cp1252")
    assert parse_feed(body, "", "s", ()).items[0].title == text


def test_guess_single_byte() -> None:
    assert charset.guess_single_byte(ARABIC.encode("cp1256")) == "cp1256"
    assert charset.guess_single_byte("déjà vu à Paris, été".encode("cp1252")) == "cp1252"
    assert charset.guess_single_byte(b"plain ascii") == "cp1252"


def test_labels() -> None:
    assert charset.header_charset("text/xml; charset=Windows-1256") == "cp1256"
    assert charset.header_charset("text/xml; charset=nonsense") is None
    assert charset.xml_charset(b'<?xml version="1.0" encoding="UTF-8"?><a/>') == "utf-8"
    assert charset.xml_charset(b"<a/>") is None
