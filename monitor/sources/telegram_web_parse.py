"""Parse the public web preview of a Telegram channel (`https://t.me/s/<channel>`).

Pure and synchronous: HTML in, `ChannelPage` out. No network, no clock, never raises on odd
markup (a card that cannot be read is skipped, a page that cannot be read has no history).

What the page looks like (observed on real pages, see tests/data/telegram_web/):

- `section.tgme_channel_history` holds one card per post, oldest first:
  `div.tgme_widget_message.js-widget_message[data-post="<channel>/<id>"]` inside a
  `div.tgme_widget_message_wrap`. A missing, private or restricted channel answers with a
  landing page (`div.tgme_page`) that has no history section and no cards.
- The post text is `div.tgme_widget_message_text` directly in the bubble. For an album the
  caption block is nested twice (a text div inside a text div); a reply quote carries its own
  `tgme_widget_message_text js-message_reply_text`, which is not the post's text.
- An album of N media uses N consecutive ids and shows ONE card under the first id; each media
  links to `https://t.me/<channel>/<id>?single`.
- Links with an `onclick` confirmation have had `&` in their href escaped twice since 2024.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from selectolax.lexbor import LexborHTMLParser

__all__ = ["ChannelPage", "WebPost", "parse_channel_page", "post_ids_covered"]

Node = Any  # selectolax nodes are untyped here (see the mypy override in pyproject.toml)


@dataclass(frozen=True)
class WebPost:
    """One card of the web preview. `channel` is spelled as in the card's `data-post`."""

    channel: str
    id: int
    text: str  # plain text; links kept as their visible text, <br> as "\n"
    links: tuple[str, ...]  # http(s) hrefs of the text, in order, without duplicates
    date: datetime | None  # UTC
    edited: bool
    forwarded_from: str | None
    media: tuple[str, ...]  # photo, video, gif, round_video, voice, audio, document, ...
    album_size: int  # ids the card accounts for: 1, or N for an album of N media
    views: str | None  # as shown: "1.2K"
    service: bool = False  # channel created, pinned, photo changed...: never has text


@dataclass(frozen=True)
class ChannelPage:
    channel: str
    title: str | None
    posts: tuple[WebPost, ...]  # ordered by id ascending, one per id
    has_history: bool  # False for a landing page: private, restricted or missing channel
    restricted_reason: str | None  # the notice Telegram shows instead of the channel
    oldest_id: int | None  # smallest id covered by the page
    newest_id: int | None  # largest id covered by the page (the last id of a trailing album)


def post_ids_covered(page: ChannelPage) -> set[int]:
    """Every id a card of the page accounts for, album ids included."""
    return {pid for post in page.posts for pid in range(post.id, post.id + post.album_size)}


def parse_channel_page(html: str | bytes, channel: str) -> ChannelPage:
    """Read one `t.me/s/<channel>` page (or a `?before=<id>` page). Never raises."""
    try:
        return _parse(html, channel)
    except Exception:  # the parser's promise: odd markup is data, not a crash
        return ChannelPage(channel, None, (), False, None, None, None)


# --- page level ---------------------------------------------------------------------------

_RESTRICTION = re.compile(
    r"can[’'`]?t be displayed|cannot be displayed|violated|unavailable|blocked|inaccessible"
    r"|copyright|pornographic|terms of service",
    re.IGNORECASE,
)
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


def _parse(html: str | bytes, channel: str) -> ChannelPage:
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    tree = LexborHTMLParser(html)
    posts = _unique_sorted(post for card in _cards(tree) if (post := _safe_card(card)))
    has_history = bool(posts) or tree.css_first(".tgme_channel_history") is not None
    covered = {pid for post in posts for pid in range(post.id, post.id + post.album_size)}
    return ChannelPage(
        channel=channel,
        title=_title(tree),
        posts=posts,
        has_history=has_history,
        restricted_reason=None if has_history else _restriction(tree),
        oldest_id=min(covered) if covered else None,
        newest_id=max(covered) if covered else None,
    )


def _cards(tree: Any) -> Iterator[Node]:
    for node in tree.css("[data-post]"):
        if "widget_message" in (node.attributes.get("class") or ""):
            yield node


def _unique_sorted(posts: Iterator[WebPost]) -> tuple[WebPost, ...]:
    by_id: dict[int, WebPost] = {}
    for post in posts:
        by_id.setdefault(post.id, post)
    return tuple(by_id[pid] for pid in sorted(by_id))


def _title(tree: Any) -> str | None:
    for selector in (".tgme_channel_info_header_title", ".tgme_page_title", ".tgme_header_title"):
        node = tree.css_first(selector)
        if node is not None and (text := _squash(node.text(deep=True))):
            return text
    return None


def _restriction(tree: Any) -> str | None:
    for selector in (".tgme_page_description", ".tgme_widget_message_error", ".tgme_page_extra"):
        for node in tree.css(selector):
            text = _squash(node.text(deep=True))
            if text and _RESTRICTION.search(text):
                return text
    return None


def _squash(text: str | None) -> str:
    return _SPACES.sub(" ", (text or "").replace("\xa0", " ")).strip()


# --- one card -----------------------------------------------------------------------------


def _safe_card(card: Node) -> WebPost | None:
    try:
        return _card(card)
    except Exception:  # one malformed card never costs the page
        return None


def _card(card: Node) -> WebPost | None:
    ref = _post_ref(card.attributes.get("data-post"))
    if ref is None:
        return None
    channel, post_id = ref
    service = "service_message" in (card.attributes.get("class") or "").split()
    blocks = [] if service else _text_blocks(card)
    text = "\n".join(t for t in (_block_text(b) for b in blocks) if t)
    media = () if service else _media(card)
    if not text and "poll" in media:
        text = _squash(_first_text(card, ".tgme_widget_message_poll_question"))
    return WebPost(
        channel=channel,
        id=post_id,
        text=text,
        links=_links(blocks),
        date=_date(card),
        edited=_edited(card),
        forwarded_from=None if service else _forwarded_from(card),
        media=media,
        album_size=_album_size(card, channel, post_id),
        views=_squash(_first_text(card, ".tgme_widget_message_views")) or None,
        service=service,
    )


def _post_ref(value: str | None) -> tuple[str, int] | None:
    name, _, number = (value or "").strip().rpartition("/")
    if not name or not number.isdigit() or not number.isascii():
        return None
    post_id = int(number)
    return (name, post_id) if 0 < post_id < 2**53 else None


def _first_text(card: Node, selector: str) -> str | None:
    node = card.css_first(selector)
    return None if node is None else str(node.text(deep=True))


def _inside(node: Node, classes: frozenset[str]) -> bool:
    """True when an ancestor of `node`, up to its card (`data-post`), has one of `classes`."""
    parent = node.parent
    while parent is not None and "data-post" not in parent.attributes:
        if classes.intersection(_classes(parent).split()):
            return True
        parent = parent.parent
    return False


_NOT_POST_TEXT = frozenset(
    {
        "tgme_widget_message_text",  # the inner block of an album caption
        "tgme_widget_message_reply",  # the quoted post of a reply
        "tgme_widget_message_link_preview",
        "tgme_widget_message_poll",
    }
)


def _text_blocks(card: Node) -> list[Node]:
    blocks = card.css(".tgme_widget_message_text")
    return [b for b in blocks if not _inside(b, _NOT_POST_TEXT)]


# --- text ---------------------------------------------------------------------------------

_SKIP_TAGS = frozenset({"script", "style", "svg", "template", "noscript", "head", "-comment"})
_BLOCK_TAGS = frozenset({"div", "p"})
# Never post text, even when broken markup leaves them inside the text block.
_NOT_TEXT = frozenset(
    {
        "tgme_widget_message_meta",
        "tgme_widget_message_footer",
        "tgme_widget_message_reply",
        "tgme_widget_message_link_preview",
        "tgme_widget_message_reactions",
    }
)


def _block_text(block: Node) -> str:
    parts: list[str] = []
    stack: list[tuple[Node, bool]] = [(child, False) for child in reversed(_children(block))]
    while stack:
        node, in_pre = stack.pop()
        tag = node.tag
        if tag == "-text":
            raw = node.text(deep=False) or ""
            parts.append(raw if in_pre else _SPACES.sub(" ", raw))
        elif tag == "br":
            parts.append("\n")
        elif tag == "i" and _is_bare_emoji(node):
            parts.append(_emoji_from_style(node))
        elif tag not in _SKIP_TAGS and not _NOT_TEXT.intersection(_classes(node).split()):
            if tag in _BLOCK_TAGS and parts and not parts[-1].endswith("\n"):
                parts.append("\n")  # a block inside the text starts a line
            inner = in_pre or tag == "pre"
            stack.extend((child, inner) for child in reversed(_children(node)))
    return _tidy("".join(parts))


_EMOJI_URL = re.compile(r"/emoji/\d+/(?P<hex>(?:[0-9A-Fa-f]{2}){1,32})\.png")


def _is_bare_emoji(node: Node) -> bool:
    """An emoji drawn only as a background image, without its character inside."""
    return "emoji" in _classes(node).split() and not (node.text(deep=True) or "").strip()


def _emoji_from_style(node: Node) -> str:
    match = _EMOJI_URL.search(str(node.attributes.get("style") or ""))
    return bytes.fromhex(match["hex"]).decode("utf-8", errors="ignore") if match else ""


def _children(node: Node) -> list[Node]:
    return list(node.iter(include_text=True))


def _tidy(text: str) -> str:
    lines = (line.strip(" \t") for line in text.split("\n"))
    return "\n".join(lines).strip()


def _links(blocks: list[Node]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for block in blocks:
        for anchor in block.css("a[href]"):
            if _inside(anchor, _NOT_TEXT):
                continue
            href = (anchor.attributes.get("href") or "").strip()
            if "onclick" in anchor.attributes:
                href = href.replace("&amp;", "&")
            if href.lower().startswith(("http://", "https://")):
                found.setdefault(href, None)
    return tuple(found)


# --- meta ---------------------------------------------------------------------------------


def _date(card: Node) -> datetime | None:
    node = card.css_first(".tgme_widget_message_date time[datetime]")
    if node is None:
        node = card.css_first(".tgme_widget_message_meta time[datetime]")
    value = (node.attributes.get("datetime") or "").strip() if node is not None else ""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _edited(card: Node) -> bool:
    meta = card.css_first(".tgme_widget_message_meta")
    if meta is None:
        return False
    own = " ".join(c.text(deep=False) or "" for c in _children(meta) if c.tag == "-text")
    return "edited" in own.lower()


def _forwarded_from(card: Node) -> str | None:
    name = _first_text(card, ".tgme_widget_message_forwarded_from_name")
    if name is None:
        block = _first_text(card, ".tgme_widget_message_forwarded_from")
        if block is None:
            return None
        name = re.sub(r"^\s*forwarded from", "", _squash(block), flags=re.IGNORECASE)
    return _squash(name) or None


# --- media --------------------------------------------------------------------------------

_MEDIA_SELECTORS: tuple[tuple[str, str], ...] = (
    ("photo", ".tgme_widget_message_photo_wrap, .tgme_widget_message_photo"),
    ("video", ".tgme_widget_message_video_player"),
    ("round_video", ".tgme_widget_message_roundvideo_player"),
    ("voice", ".tgme_widget_message_voice_player, .tgme_widget_message_voice"),
    ("document", ".tgme_widget_message_document_wrap, .tgme_widget_message_document"),
    ("poll", ".tgme_widget_message_poll"),
    ("sticker", ".tgme_widget_message_sticker_wrap, .tgme_widget_message_sticker"),
    ("sticker", ".tgme_widget_message_tgsticker, .tgme_widget_message_videosticker"),
    ("location", ".tgme_widget_message_location_wrap"),
    ("contact", ".tgme_widget_message_contact"),
)


def _media(card: Node) -> tuple[str, ...]:
    kinds: dict[str, None] = {}
    for kind, selector in _MEDIA_SELECTORS:
        nodes = [n for n in card.css(selector) if not _inside(n, _NOT_MEDIA)]
        for name in (_refine(kind, node) for node in nodes):
            kinds.setdefault(name, None)
    if not kinds and card.css_first(".message_media_not_supported") is not None:
        kinds["unsupported"] = None
    return tuple(kinds)


_NOT_MEDIA = frozenset({"tgme_widget_message_reply", "tgme_widget_message_link_preview"})


def _refine(kind: str, node: Node) -> str:
    """A video player without a play button is a GIF; a document with the audio icon, audio."""
    if kind == "video" and node.css_first(".message_video_play") is None:
        return "gif"
    if kind == "document":
        wrap = node if node.parent is None or "_wrap" in _classes(node) else node.parent
        if wrap.css_first(".tgme_widget_message_document_icon.audio") is not None:
            return "audio"
    return kind


def _classes(node: Node) -> str:
    return str(node.attributes.get("class") or "")


_SINGLE = re.compile(r"/(?P<channel>[^/?#]+)/(?P<id>\d{1,15})\?single")


def _album_size(card: Node, channel: str, post_id: int) -> int:
    group = card.css_first(".tgme_widget_message_grouped_wrap")
    if group is None:
        return 1
    items = group.css(".grouped_media_wrap")
    ids = [post_id]
    for item in items:
        match = _SINGLE.search(item.attributes.get("href") or "")
        if match and match["channel"].lower() == channel.lower():
            ids.append(int(match["id"]))
    span = max(ids) - post_id + 1 if min(ids) == post_id and max(ids) - post_id < 100 else 1
    return max(len(items), span, 1)
