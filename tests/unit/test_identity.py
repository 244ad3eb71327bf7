"""Item identity and URL canonicalization."""

from __future__ import annotations

import pytest

from monitor import identity


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://example.com/a/b", "https://example.com/a/b"),
        ("HTTP://Example.COM:80/a/b/", "https://example.com/a/b"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://www.example.com/a#comments", "https://example.com/a"),
        ("https://m.example.com/news/1", "https://example.com/news/1"),
        ("https://amp.example.com/news/1", "https://example.com/news/1"),
        ("https://example.com/news/1/amp", "https://example.com/news/1"),
        ("https://example.com/news/1/amp/", "https://example.com/news/1"),
        ("https://example.com/news/1.amp.html", "https://example.com/news/1.html"),
        ("https://example.com/a?utm_source=rss&utm_medium=x&id=5", "https://example.com/a?id=5"),
        ("https://example.com/a?fbclid=1&gclid=2&ref=tw&b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?amp=1", "https://example.com/a"),
        ("https://example.com/ar/خبر", "https://example.com/ar/%D8%AE%D8%A8%D8%B1"),
        ("https://example.com/ar/%D8%AE%D8%A8%D8%B1", "https://example.com/ar/%D8%AE%D8%A8%D8%B1"),
        ("https://example.com", "https://example.com/"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert identity.canonical_url(url) == canonical


@pytest.mark.parametrize(
    "url", ["", "mailto:a@b.c", "javascript:alert(1)", "ftp://x/y", "/rel", "http://"]
)
def test_not_a_page_url(url: str) -> None:
    assert identity.canonical_url(url) is None


def test_m_prefix_only_stripped_from_subdomains() -> None:
    assert identity.canonical_url("https://m.com/a") == "https://m.com/a"
    assert identity.canonical_url("https://www.co.uk/a") == "https://co.uk/a"


def test_identities_strongest_first_and_stable() -> None:
    ids = identity.identities(
        "guid-1", "https://example.com/a?utm_source=x", "عنوان الخبر", "نص الخبر كاملاً هنا"
    )
    assert [i[:2] for i in ids] == ["g:", "u:", "c:"]
    again = identity.identities(
        "guid-1", "https://www.example.com/a/", "عنوان الخبر", "نص الخبر كاملاً هنا"
    )
    assert ids == again


def test_changed_guid_keeps_url_and_content_identity() -> None:
    a = identity.identities(
        "guid-1", "https://example.com/a", "عنوان", "نص طويل بما يكفي للتعرف عليه"
    )
    b = identity.identities(
        "guid-2", "https://example.com/a", "عنوان", "نص طويل بما يكفي للتعرف عليه"
    )
    assert a[0] != b[0]
    assert set(a[1:]) == set(b[1:])


def test_content_identity_ignores_spacing_and_case() -> None:
    a = identity.identities(
        None, None, "Rockets hit Ain al-Asad", "Three rockets  fell on the base."
    )
    b = identity.identities(None, None, "rockets hit AIN AL-ASAD", "three rockets fell on the base")
    assert a == b


def test_short_items_still_get_an_identity() -> None:
    assert identity.identities(None, None, "عاجل", "") == identity.identities(
        None, None, "عاجل", ""
    )
    assert identity.identities(None, None, "عاجل", "") != identity.identities(None, None, "خبر", "")


def test_version_changes_with_content() -> None:
    assert identity.version("a", "b") == identity.version("a", "b")
    assert identity.version("a", "b") != identity.version("a", "c")
