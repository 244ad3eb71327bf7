"""Find a feed body's real charset and hand feedparser UTF-8 (pure).

Arabic sites often serve windows-1256 under a wrong or missing charset label; feedparser's own
fallback (windows-1252) then turns Arabic into mojibake that no rule can match. Order of trust:
a byte-order mark; valid UTF-8 (self-validating: a non-ASCII body that decodes as UTF-8 almost
surely is); the labels (HTTP header, then XML declaration) when they decode the body, except a
Western single-byte label on a body that looks Arabic; and last a guess between windows-1256 and
windows-1252 from whether the high bytes come in word-long runs.
"""

from __future__ import annotations

import codecs
import re

_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9._-]+)", re.I)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
UTF8_XML = "application/xml; charset=utf-8"
# Labels that decode any byte, so the bytes can never refute them; a body whose high bytes come
# in word-long runs is Arabic in windows-1256 whatever these labels say.
_WEAK_LABELS = {"latin-1", "iso8859-1", "cp1252", "ascii", "iso8859-15"}


def header_charset(content_type: str) -> str | None:
    match = _HEADER_CHARSET.search(content_type)
    return _known(match.group(1)) if match else None


def xml_charset(body: bytes) -> str | None:
    match = _XML_DECL.match(body[:512])
    return _known(match.group(1).decode("ascii")) if match else None


def _known(label: str) -> str | None:
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


_HIGH = re.compile(rb"[\x80-\xff]+")


def guess_single_byte(body: bytes) -> str:
    """windows-1256 when high bytes come in runs (Arabic words are made of them), else
    windows-1252 (accented letters stand alone among ASCII letters)."""
    runs = _HIGH.findall(body)
    total = sum(len(r) for r in runs)
    in_words = sum(len(r) for r in runs if len(r) >= 3)
    return "cp1256" if total and in_words / total > 0.5 else "cp1252"


def decode_body(body: bytes, content_type: str) -> tuple[str, str]:
    """The body as text and the charset used to read it."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body.decode(name, errors="replace"), name
    if b"\x00" in body[:4]:  # UTF-16/32 without BOM: let the label decide, else utf-16
        wide = header_charset(content_type) or "utf-16"
        return body.decode(wide, errors="replace"), wide
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    guess = guess_single_byte(body)
    for label in (header_charset(content_type), xml_charset(body)):
        if not label or label == "utf-8":
            continue
        if label in _WEAK_LABELS and guess == "cp1256":
            break  # server defaults (Apache's ISO-8859-1) often mislabel Arabic pages
        try:
            return body.decode(label), label
        except (UnicodeDecodeError, LookupError):
            continue
    return body.decode(guess, errors="replace"), guess


def as_utf8_xml(body: bytes, content_type: str) -> tuple[bytes, str]:
    """UTF-8 bytes with the XML declaration saying so, and the charset the body was in."""
    text, charset = decode_body(body, content_type)
    if charset == "utf-8":
        return body, charset
    text = text.lstrip("\ufeff")
    match = re.match(r"^\s*<\?xml[^>]*\?>", text)
    if match:
        text = '<?xml version="1.0" encoding="utf-8"?>' + text[match.end() :]
    return text.encode("utf-8"), charset
