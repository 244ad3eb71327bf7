"""Item identity: GUID, else canonical URL, else a hash of the normalized title and text.

An item is known by every identity it has (guid, canonical url, content), so a feed that changes
an item's GUID but keeps its URL or its content does not make it new. Pure functions.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from datetime import datetime
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from monitor.model import Item

_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "hsa_", "_hs", "vero_", "oly_", "ga_")
_TRACKING = {
    "fbclid",
    "gclid",
    "gclsrc",
    "dclid",
    "msclkid",
    "yclid",
    "twclid",
    "igshid",
    "mibextid",
    "ref",
    "ref_src",
    "ref_url",
    "referrer",
    "source",
    "src",
    "cmpid",
    "campaign",
    "at_medium",
    "at_campaign",
    "ocid",
    "ncid",
    "sr_share",
    "share",
    "smid",
    "s_cid",
    "xtor",
    "__twitter_impression",
    "amp",
    "outputtype",
    "output",
    "_ga",
    "_gl",
    "spm",
    "wt.mc_id",
    "cid",
    "feature",
}
_AMP_PATH = re.compile(r"(/amp)(?=/|$)|(\.amp)(?=\.html?$|$)", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MOBILE_HOSTS = ("m.", "mobile.", "amp.", "www.")
_WS = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w]+")


def digest(text: str, size: int = 16) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=size).hexdigest()


def canonical_url(url: str) -> str | None:
    """A stable form of a page URL, or None when `url` is not an http(s) URL.

    Lower-cased scheme and host; `m.`, `mobile.`, `amp.` and `www.` host prefixes dropped; default
    port, fragment, tracking parameters (utm_*, fbclid, gclid, ref, ...), AMP paths and a trailing
    slash removed; remaining query parameters sorted.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    for prefix in _MOBILE_HOSTS:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    path = _AMP_PATH.sub("", unquote(parts.path)) or "/"
    path = quote(path, safe="/:@!$&'()*+,;=-._~%")
    if len(path) > 1:
        path = path.rstrip("/")
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    ]
    # scheme folded to https: the same page is often linked both ways
    return urlunsplit(("https", host, path, urlencode(sorted(query)), ""))


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in _TRACKING or low.startswith(_TRACKING_PREFIXES)


def content_key(title: str, text: str) -> str | None:
    """A hash of the title and text folded for comparison, or None when there is too little
    text for the hash to identify an item."""
    folded = unicodedata.normalize("NFKC", f"{title} {text}").casefold()
    folded = _NON_WORD.sub(" ", folded)
    folded = _WS.sub(" ", folded).strip()
    if len(folded) < 24:
        return None
    return digest(folded)


@functools.lru_cache(maxsize=4096)
def identities(guid: str | None, url: str | None, title: str, text: str) -> tuple[str, ...]:
    """Every identity of an item, strongest first: `g:` guid, `u:` canonical URL, `c:` content.

    Cached: the source computes them to key the item and the pipeline again to look them up
    (the strings' hashes are cached by Python, so a hit costs a dict lookup)."""
    out: list[str] = []
    if guid and guid.strip():
        out.append("g:" + digest(guid.strip()))
    canon = canonical_url(url) if url else None
    if canon:
        out.append("u:" + digest(canon))
    content = content_key(title, text)
    if content:
        out.append("c:" + content)
    if not out:
        out.append("c:" + digest(f"{title}\x00{text}"))
    return tuple(out)


def version(title: str, text: str) -> str:
    """Changes when the visible content changes (an edit)."""
    return digest(f"{title}\x00{text}", size=8)


def feed_item(
    *,
    source_id: str,
    guid: str | None,
    url: str | None,
    title: str,
    text: str,
    published: datetime | None,
    fetched: datetime,
    author: str | None,
    tags: tuple[str, ...],
    source_title: str | None,
) -> Item | None:
    """An Item from a feed entry, keyed by its strongest identity; None for an empty entry."""
    if not (title or text or url or guid):
        return None
    ids = identities(guid, url, title, text)
    return Item(
        source_id=source_id,
        key=ids[0],
        title=title,
        text=text,
        url=url,
        published=published,
        fetched=fetched,
        guid=guid,
        author=author,
        version=version(title, text),
        tags=tags,
        source_title=source_title,
    )
