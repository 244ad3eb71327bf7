"""Markup of the Telegram web preview (`t.me/s/<channel>`), rebuilt from real pages.

One set of templates serves both the captured-style fixture files in tests/data/telegram_web/
(written once by `make_telegram_web_fixtures.py`, then committed and read as plain files) and
the fake server in `telegram_web.py`, so the fake answers with the structure the parser reads
on real pages: the channel info header, `section.tgme_channel_history`, one
`tgme_widget_message_wrap` per card, the "messages_more" links with `?before=` / `?after=`,
albums as `tgme_widget_message_grouped_wrap` with a caption nested twice, and landing pages
(`div.tgme_page`) for channels with no web preview.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from urllib.parse import quote

CDN = "https://cdn4.telesco.pe/file"
_TAIL = (
    '<i class="tgme_widget_message_bubble_tail"><svg class="bubble_icon" width="9px" '
    'height="20px" viewBox="0 0 9 20"><g fill="none"><path class="background" fill="#ffffff" '
    'd="M8,1 L9,1 L9,20 L8,20 L8,18 C7.8,15.2 7.1,12.2 6,9.2 C5,6.9 3.5,4.7 1.3,2.7 '
    'C0.9,2.4 0.9,1.7 1.3,1.3 C1.5,1.1 1.7,1 2,1 L8,1 Z"></path></g></svg></i>'
)


@dataclass(frozen=True)
class Media:
    """One media item of a card (or of an album). `title`/`extra` name documents and polls."""

    kind: str  # photo video gif round_video voice audio document poll location sticker
    title: str = ""
    extra: str = ""
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Card:
    channel: str
    id: int
    date: datetime
    html: str = ""  # the text block's inner HTML, as Telegram writes it
    views: str | None = "1.2K"
    edited: bool = False
    author: str | None = None  # the signature shown in the meta
    forwarded_from: tuple[str, str | None] | None = None  # (name, link or None if hidden)
    reply_to: tuple[int, str, str] | None = None  # (id, author, quoted text)
    media: tuple[Media, ...] = ()  # one item, or N for an album (ids id .. id+N-1)
    preview: tuple[str, str, str, str] | None = None  # (url, site, title, description)
    service: bool = False
    reactions: tuple[tuple[str, str], ...] = ()
    album_ids: tuple[int, ...] = ()  # ids of the album's media when not id, id+1, ...


@dataclass(frozen=True)
class ChannelInfo:
    username: str
    title: str
    description_html: str = ""
    subscribers: str = "12.4K"
    counters: tuple[tuple[str, str], ...] = field(default=(("1.1K", "photos"), ("96", "videos")))


# --- plain text -> Telegram's text HTML ---------------------------------------------------

_TOKEN = re.compile(
    r"(?P<url>https?://[^\s<>\"']+)|(?P<tag>(?<!\w)#\w+)|(?P<mention>(?<!\w)@\w{4,32})"
    r"|(?P<emoji>[\U0001F000-\U0001FAFF\u2600-\u27BF\u203C\u2049]\uFE0F?)"
)


def emoji_html(char: str) -> str:
    code = char.replace("\ufe0f", "").encode("utf-8").hex().upper()
    return (
        f'<i class="emoji" style="{_bg(f"//telegram.org/img/emoji/40/{code}.png")}">'
        f"<b>{char}</b></i>"
    )


def hashtag_html(tag: str) -> str:
    return f'<a href="?q={quote(tag, safe="")}">{escape(tag)}</a>'


def text_link_html(href: str, label_html: str) -> str:
    """A link with custom text: Telegram asks before opening it (and escapes & twice)."""
    return (
        f'<a href="{escape(href).replace("&amp;", "&amp;amp;")}" target="_blank" rel="noopener" '
        f"onclick=\"return confirm('Open this link?\\n\\n'+this.href);\">{label_html}</a>"
    )


def text_to_html(text: str) -> str:
    """Render plain post text the way the preview does: links, #tags, @names, emoji, <br/>."""
    out: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        out.append(escape(text[pos : match.start()], quote=False))
        token = match.group()
        if match["url"]:
            url = escape(token)
            out.append(f'<a href="{url}" target="_blank" rel="noopener">{url}</a>')
        elif match["tag"]:
            out.append(hashtag_html(token))
        elif match["mention"]:
            out.append(f'<a href="https://t.me/{token[1:]}">{escape(token)}</a>')
        else:
            out.append(emoji_html(token))
        pos = match.end()
    out.append(escape(text[pos:], quote=False))
    return "".join(out).replace("\n", "<br/>")


# --- small helpers ------------------------------------------------------------------------


def _file(*parts: object) -> str:
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return base64.urlsafe_b64encode(digest * 2).decode().rstrip("=")


def _data_view(card: Card) -> str:
    post: int | str = f"{card.id}g" if len(card.media) > 1 else card.id
    blob = {"c": -1000000000 - len(card.channel), "p": post, "t": int(card.date.timestamp())}
    raw = json.dumps(blob, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _post_url(card: Card, index: int = 0) -> str:
    ids = card.album_ids or range(card.id, card.id + len(card.media))
    post_id = ids[index] if index < len(ids) else card.id + index
    return f"https://t.me/{card.channel}/{post_id}"


def _bg(url: str) -> str:
    return f"background-image:url('{url}')"


# --- media --------------------------------------------------------------------------------


def _photo(card: Card, index: int, grouped: bool) -> str:
    url = f"{CDN}/{_file(card.channel, card.id, index)}.jpg"
    if grouped:
        return (
            f'<a class="tgme_widget_message_photo_wrap grouped_media_wrap blured js-message_photo" '
            f'style="left:0px;top:{index * 152}px;width:453px;height:150px;{_bg(url)}" '
            f'data-ratio="1.3333333333333" href="{_post_url(card, index)}?single">'
            '<div class="grouped_media_helper" style="left:0;right:0;top:0;bottom:0;">'
            '<div class="tgme_widget_message_photo grouped_media" style="left:0;right:0;top:0;'
            'bottom:0;"></div></div></a>'
        )
    return (
        f'<a class="tgme_widget_message_photo_wrap blured 5172795381250108{card.id % 1000:03d} '
        f'1204385278_45624{card.id % 10000:04d}" href="{_post_url(card)}" '
        f'style="width:800px;{_bg(url)}"><div class="tgme_widget_message_photo" '
        'style="padding-top:75%"></div></a>'
    )


def _video(card: Card, index: int, grouped: bool, gif: bool = False) -> str:
    thumb = f"{CDN}/{_file('thumb', card.channel, card.id, index)}"
    src = f"{CDN}/{_file('video', card.channel, card.id)[:10]}.mp4?token={_file(card.id)}"
    href = f"{_post_url(card, index)}?single" if grouped else _post_url(card)
    group_cls = " grouped_media_wrap blured" if grouped else ""
    play = "" if gif else '<div class="message_video_play js-message_video_play"></div>'
    return (
        f'<a class="tgme_widget_message_video_player{group_cls} js-message_video_player" '
        f'href="{href}"><i class="tgme_widget_message_video_thumb" style="{_bg(thumb)}"></i>'
        '<div class="tgme_widget_message_video_wrap" style="width:720px;padding-top:56.25%">'
        f'<video src="{src}" class="tgme_widget_message_video js-message_video" width="100%" '
        f'height="100%"></video></div>{play}'
        '<time class="message_video_duration js-message_video_duration">0:27</time>'
        '<div class="message_media_not_supported_wrap"><div class="message_media_not_supported">'
        '<div class="message_media_not_supported_label">This media is not supported in your '
        'browser</div><span class="message_media_view_in_telegram">VIEW IN TELEGRAM</span>'
        "</div></div></a>"
    )


def _voice(card: Card) -> str:
    src = f"{CDN}/{_file('voice', card.channel, card.id)[:10]}.ogg?token={_file(card.id)}"
    return (
        f'<a class="tgme_widget_message_voice_player js-message_voice_player" '
        f'href="{_post_url(card)}"><audio class="tgme_widget_message_voice js-message_voice" '
        f'src="{src}" data-ogg width="100%" data-waveform="0,3,12,31,31,28,17,4,0"></audio>'
        '<div class="tgme_widget_message_voice_play accent_bghover"></div>'
        '<div class="tgme_widget_message_voice_wrap"><div class="tgme_widget_message_voice_'
        'progress_wrap js-message_voice_progress_wrap"></div><time class="tgme_widget_message_'
        'voice_duration js-message_voice_duration">1:42</time></div></a>'
    )


def _document(card: Card, media: Media) -> str:
    icon = " audio" if media.kind == "audio" else ""
    return (
        f'<a class="tgme_widget_message_document_wrap" href="{_post_url(card)}">'
        f'<div class="tgme_widget_message_document_icon accent_bg{icon}"></div>'
        '<div class="tgme_widget_message_document"><div class="tgme_widget_message_document_title '
        f'accent_color" dir="auto">{escape(media.title)}</div><div class="tgme_widget_message_'
        f'document_extra" dir="auto">{escape(media.extra)}</div></div></a>'
    )


def _poll(card: Card, media: Media) -> str:
    options = "".join(
        '<div class="tgme_widget_message_poll_option"><div class="tgme_widget_message_poll_option'
        f'_percent">{(37 * (i + 1)) % 100}%</div><div class="tgme_widget_message_poll_option_'
        f'value"><div class="tgme_widget_message_poll_option_text">{escape(text)}</div>'
        '<div class="tgme_widget_message_poll_option_bar accent_bg" style="width:40%"></div>'
        "</div></div>"
        for i, text in enumerate(media.options)
    )
    return (
        '<div class="tgme_widget_message_poll js-poll"><div class="tgme_widget_message_poll_'
        f'question">{escape(media.title)}</div><div class="tgme_widget_message_poll_type">'
        f'{escape(media.extra or "Anonymous poll")}</div><a class="tgme_widget_message_poll_'
        f'options" href="{_post_url(card)}">{options}</a></div>'
    )


def _location(card: Card) -> str:
    q = "33.7986,42.4412"
    return (
        f'<a class="tgme_widget_message_location_wrap" href="https://maps.google.com/maps?q={q}'
        f'&amp;ll={q}&amp;z=16"><div class="tgme_widget_message_location" style="'
        f'{_bg(f"{CDN}/{_file(q)}.png")}"></div></a>'
    )


def _single_media(card: Card, media: Media) -> str:
    if media.kind == "photo":
        return _photo(card, 0, grouped=False)
    if media.kind in ("video", "gif"):
        return _video(card, 0, grouped=False, gif=media.kind == "gif")
    if media.kind == "voice":
        return _voice(card)
    if media.kind in ("document", "audio"):
        return _document(card, media)
    if media.kind == "poll":
        return _poll(card, media)
    if media.kind == "location":
        return _location(card)
    return (
        '<div class="message_media_not_supported_wrap"><div class="message_media_not_supported">'
        '<div class="message_media_not_supported_label">Please open Telegram to view this post'
        f'</div><a href="{_post_url(card)}" class="message_media_view_in_telegram">VIEW IN '
        "TELEGRAM</a></div></div>"
    )


def _album(card: Card) -> str:
    items = "".join(
        _video(card, i, grouped=True) if m.kind == "video" else _photo(card, i, grouped=True)
        for i, m in enumerate(card.media)
    )
    return (
        '<div class="tgme_widget_message_grouped_wrap js-message_grouped_wrap" data-margin-w="2" '
        'data-margin-h="2" style="width:453px;"><div class="tgme_widget_message_grouped '
        'js-message_grouped" style="padding-top:100%"><div class="tgme_widget_message_grouped_'
        'layer js-message_grouped_layer" style="width:453px;height:453px">'
        f"{items}</div></div></div>"
    )


# --- one card -----------------------------------------------------------------------------


def _text_block(card: Card) -> str:
    if not card.html:
        return ""
    inner = f'<div class="tgme_widget_message_text js-message_text" dir="auto">{card.html}</div>'
    if len(card.media) > 1:  # an album's caption block is nested twice
        return f'<div class="tgme_widget_message_text js-message_text" dir="auto">{inner}</div>'
    return inner


def _forwarded(card: Card) -> str:
    if card.forwarded_from is None:
        return ""
    name, link = card.forwarded_from
    label = f'<span dir="auto">{escape(name)}</span>'
    who = (
        f'<a class="tgme_widget_message_forwarded_from_name" href="{escape(link)}">{label}</a>'
        if link
        else f'<span class="tgme_widget_message_forwarded_from_name">{label}</span>'
    )
    return (
        '<div class="tgme_widget_message_forwarded_from accent_color">'
        f"Forwarded from&nbsp;{who}</div>"
    )


def _reply(card: Card) -> str:
    if card.reply_to is None:
        return ""
    reply_id, author, quoted = card.reply_to
    return (
        f'<a class="tgme_widget_message_reply user-color-default" href="https://t.me/'
        f'{card.channel}/{reply_id}"><div class="tgme_widget_message_author accent_color">'
        f'<span class="tgme_widget_message_author_name" dir="auto">{escape(author)}</span></div>'
        '<div class="tgme_widget_message_text js-message_reply_text" dir="auto">'
        f"{text_to_html(quoted)}</div></a>"
    )


def _preview(card: Card) -> str:
    if card.preview is None:
        return ""
    url, site, title, description = (escape(p) for p in card.preview)
    image = f"{CDN}/{_file('preview', url)}.jpg"
    return (
        f'<a class="tgme_widget_message_link_preview" href="{url}"><i class="link_preview_right_'
        f'image" style="{_bg(image)}"></i><div class="link_preview_site_name accent_color" '
        f'dir="auto">{site}</div><div class="link_preview_title" dir="auto">{title}</div>'
        f'<div class="link_preview_description" dir="auto">{description}</div></a>'
    )


def _reactions(card: Card) -> str:
    if not card.reactions:
        return ""
    spans = "".join(
        f'<span class="tgme_reaction">{emoji_html(e)}{escape(n)}</span>' for e, n in card.reactions
    )
    return f'<div class="tgme_widget_message_reactions js-message_reactions">{spans}</div>'


def _footer(card: Card) -> str:
    views = (
        f'<span class="tgme_widget_message_views">{escape(card.views)}</span>'
        '<span class="copyonly"> views</span>'
        if card.views and not card.service
        else ""
    )
    edited = "edited &nbsp;" if card.edited else ""
    author = (
        f'<span class="tgme_widget_message_from_author" dir="auto">{escape(card.author)}</span>'
        ",&nbsp;"
        if card.author
        else ""
    )
    when = card.date.astimezone(UTC)
    return (
        '<div class="tgme_widget_message_footer compact js-message_footer"><div class="tgme_'
        f'widget_message_info short js-message_info">{views}<span class="tgme_widget_message_'
        f'meta">{edited}{author}<a class="tgme_widget_message_date" href="{_post_url(card)}">'
        f'<time datetime="{when.isoformat()}" class="time">{when:%H:%M}</time></a></span>'
        "</div></div>"
    )


def render_card(card: Card, info: ChannelInfo) -> str:
    if len(card.media) > 1:
        media = _album(card)
    else:
        media = "".join(_single_media(card, m) for m in card.media)
    service = " service_message" if card.service else ""
    photo = f"{CDN}/{_file('userpic', info.username)}.jpg"
    return (
        '<div class="tgme_widget_message_wrap js-widget_message_wrap">\n'
        f'  <div class="tgme_widget_message text_not_supported_wrap{service} js-widget_message" '
        f'data-post="{card.channel}/{card.id}" data-view="{_data_view(card)}">\n'
        f'    <div class="tgme_widget_message_user"><a href="https://t.me/{info.username}">'
        '<i class="tgme_widget_message_user_photo bgcolor2" '
        f'data-content="{escape(info.title[:1])}">'
        f'<img src="{photo}"></i></a></div>\n'
        f'    <div class="tgme_widget_message_bubble">\n      {_TAIL}\n'
        '      <div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_'
        f'owner_name" href="https://t.me/{info.username}"><span dir="auto">{escape(info.title)}'
        f"</span></a></div>\n      {_forwarded(card)}{_reply(card)}{media}\n"
        f"      {_text_block(card)}\n      {_preview(card)}{_reactions(card)}\n"
        f"      {_footer(card)}\n    </div>\n  </div>\n</div>\n"
    )
