"""Alerts as Telegram messages (parse_mode=HTML). Pure functions, no I/O.

Every feed string goes through `clean_text` then `escape_html`; only http(s) URLs become
links; each message is at most 4096 UTF-16 units of HTML source (so also after parsing), split
at paragraph > line > sentence > word boundaries with tags closed and reopened.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.model import Alert, Item, Mention
from monitor.sinks.render_common import (
    Atom,
    Segment,
    clean_text,
    format_time,
    group_by_rule,
    has_arabic,
    isolate_runs,
    item_time,
    level_marker,
    one_line,
    safe_url,
    snippet,
    sorted_matches,
    source_name,
    spans_for,
    split_atoms,
    time_range,
    utf16_len,
)

__all__ = [
    "TELEGRAM_LIMIT",
    "TelegramMessage",
    "TelegramOptions",
    "escape_html",
    "isolate_runs",
    "render_alert",
    "render_digest",
    "render_update",
    "render_update_reply",
    "split_html",
    "utf16_len",
]

TELEGRAM_LIMIT = 4096
MAX_TITLE = 300
MAX_RULES = 5
MAX_MENTIONS = 50
MAX_HREF = 2048

_TOKEN = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)(?:\s[^<>]*)?>"
    r"|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]*);"
    r"|.",
    re.DOTALL,
)


@dataclass(frozen=True)
class TelegramOptions:
    """Per-route settings. `max_snippet <= 0` shows the whole text (split when long)."""

    link_preview: bool = False
    open_button: bool = True
    max_snippet: int = 600
    tz: str = "UTC"

    def __post_init__(self) -> None:
        if self.tz.upper() != "UTC":
            try:
                ZoneInfo(self.tz)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {self.tz!r}") from exc


@dataclass(frozen=True)
class TelegramMessage:
    """One sendMessage/editMessageText: `html` is at most 4096 UTF-16 units; `button_url` is the
    URL of an inline "open" button (None: no button)."""

    html: str
    button_url: str | None
    disable_preview: bool


_DEFAULT = TelegramOptions()


# --- primitives ---------------------------------------------------------------------------


def escape_html(text: str) -> str:
    """Escape `&`, `<`, `>` and `"` (safe in text and in a double-quoted attribute)."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def split_html(html_text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split well-formed Telegram HTML into parts of at most `limit` UTF-16 units, at paragraph >
    line > sentence (. ! ? ، ؛ ؟) > word > hard boundaries; tags open at a cut are closed at the
    end of the part and reopened at the start of the next; never inside a tag or an entity.
    Parts with no visible text are dropped (Telegram refuses empty messages); HTML that fits is
    returned as is. Raises ValueError on malformed HTML, whatever its length."""
    return split_atoms(tokenize_html(html_text), limit)


def tokenize_html(html_text: str) -> list[Atom]:
    """Atoms of Telegram HTML: tags, entities, characters. Checks balance and stray `<`/`&`."""
    atoms: list[Atom] = []
    names: list[str] = []
    for match in _TOKEN.finditer(html_text):
        raw = match.group(0)
        if match.group(2):
            atoms.append(_tag_atom(raw, match.group(1) == "/", match.group(2).lower(), names))
        elif raw in "<&":
            raise ValueError(f"unescaped {raw!r} at {match.start()}")
        elif raw.startswith("&"):
            atoms.append(Atom(raw, char=html.unescape(raw)[:1] or "?"))
        else:
            atoms.append(Atom(raw, char=raw))
    if names:
        raise ValueError(f"unclosed tags: {names}")
    return atoms


def _tag_atom(raw: str, closing: bool, name: str, names: list[str]) -> Atom:
    if not closing:
        names.append(name)
        return Atom(raw, "open", close=f"</{name}>")
    if not names or names[-1] != name:
        raise ValueError(f"unbalanced {raw!r}")
    names.pop()
    return Atom(raw, "close")


def segments_html(segments: Sequence[Segment], rtl: bool, inline: bool = False) -> str:
    """Plain segments to HTML: each cleaned, isolated when RTL, escaped; hits in bold."""
    out = []
    for text, hit in segments:
        text = clean_text(text)
        if inline:
            text = text.replace("\n", " ")
        escaped = escape_html(isolate_runs(text, rtl))
        out.append(f"<b>{escaped}</b>" if hit and text.strip() else escaped)
    return "".join(out)


def link(url: str | None, label_html: str) -> str:
    """`label_html` as a link when `url` is a safe http(s) URL, else the label alone."""
    href = safe_url(url)
    if href is None or len(escape_html(href)) > MAX_HREF or not label_html:
        return label_html
    return f'<a href="{escape_html(href)}">{label_html}</a>'


def _plain(text: str, limit: int, rtl: bool | None = None) -> str:
    return escape_html(isolate_runs(one_line(text, limit), rtl))


# --- message parts ------------------------------------------------------------------------


def _rule_lines(alert: Alert) -> list[str]:
    matches = sorted_matches(alert)
    lines = [
        f"{level_marker(level)} <b>{_plain(title or rule_id, 200)}</b> · {level.value}"
        for rule_id, title, level in matches[:MAX_RULES]
    ]
    if len(matches) > MAX_RULES:
        lines.append(f"+{len(matches) - MAX_RULES} more rules")
    return lines


def _title_html(alert: Alert, rtl: bool) -> str:
    item = alert.item
    segments = snippet(item.title, spans_for(alert, "title"), MAX_TITLE)
    return link(item.url, segments_html(segments, rtl, inline=True).strip())


def _footer(item: Item, tz: str) -> str:
    parts = [f"<i>{_plain(source_name(item), 100)}</i>"]
    if item.author:
        parts.append(_plain(item.author, 100))
    parts.append(escape_html(format_time(item_time(item), tz)))
    if item.edited:
        parts.append("✏️ edited")
    return " · ".join(parts)


def _mention_line(mention: Mention) -> str:
    title = link(mention.url, _plain(mention.title, 200) or "link")
    return f"• {_plain(mention.source_id, 100)} — {title}"


def _also_html(mentions: Sequence[Mention]) -> str:
    if not mentions:
        return ""
    lines = [f"➕ <b>Also reported by</b> ({len(mentions)})"]
    lines += [_mention_line(m) for m in mentions[:MAX_MENTIONS]]
    if len(mentions) > MAX_MENTIONS:
        lines.append(f"… and {len(mentions) - MAX_MENTIONS} more")
    return "\n".join(lines)


def alert_html(alert: Alert, options: TelegramOptions = _DEFAULT, also: bool = False) -> str:
    """The whole message as one HTML string, before splitting."""
    item = alert.item
    rtl = has_arabic(item.title) or has_arabic(item.text)
    header = [*_rule_lines(alert), _title_html(alert, rtl)]
    body = segments_html(snippet(item.text, spans_for(alert, "text"), options.max_snippet), rtl)
    blocks = [
        "\n".join(line for line in header if line),
        body.strip(),
        _also_html(alert.also) if also else "",
        _footer(item, options.tz),
    ]
    return "\n\n".join(block for block in blocks if block)


def _messages(html_text: str, button: str | None, no_preview: bool) -> list[TelegramMessage]:
    parts = split_html(html_text)
    return [
        TelegramMessage(part, button if i == len(parts) - 1 else None, no_preview)
        for i, part in enumerate(parts)
    ]


def _button(alert: Alert, options: TelegramOptions) -> str | None:
    return safe_url(alert.item.url) if options.open_button else None


# --- public renderers ---------------------------------------------------------------------


def render_alert(alert: Alert, options: TelegramOptions = _DEFAULT) -> list[TelegramMessage]:
    """Usually one message; several when long, the button only on the last."""
    html_text = alert_html(alert, options)
    return _messages(html_text, _button(alert, options), not options.link_preview)


def render_update(alert: Alert, options: TelegramOptions = _DEFAULT) -> list[TelegramMessage]:
    """The full alert with its "also reported by" section (for editMessageText)."""
    html_text = alert_html(alert, options, also=True)
    return _messages(html_text, _button(alert, options), not options.link_preview)


def render_update_reply(alert: Alert, options: TelegramOptions = _DEFAULT) -> TelegramMessage:
    """A short threaded reply listing the other sources; always a single message."""
    mentions = alert.also
    head = f"➕ <b>Also reported by</b> ({len(mentions)})"
    story = _plain(alert.item.title or alert.item.text, 200)
    lines = [head] if mentions or not story else [f"{head}: {story}"]
    size = utf16_len(head)
    for index, mention in enumerate(mentions):
        line = _mention_line(mention)
        rest = f"… and {len(mentions) - index} more"
        if size + utf16_len(line) + utf16_len(rest) + 2 > TELEGRAM_LIMIT:
            lines.append(rest)
            break
        lines.append(line)
        size += utf16_len(line) + 1
    return TelegramMessage("\n".join(lines), None, not options.link_preview)


def _digest_line(alert: Alert) -> str:
    item = alert.item
    title = _plain(item.title or item.text, 200) or _plain(item.url or "", 200) or "(untitled)"
    return f"• {link(item.url, title)} — <i>{_plain(source_name(item), 100)}</i>"


def digest_html(alerts: Sequence[Alert], options: TelegramOptions = _DEFAULT) -> str:
    count = f"{len(alerts)} alert" + ("" if len(alerts) == 1 else "s")
    when = escape_html(time_range(alerts, options.tz))
    blocks = [f"🗞 <b>{count}</b>" + (f" · {when}" if when else "")]
    for title, level, group in group_by_rule(alerts):
        head = f"{level_marker(level)} <b>{_plain(title, 200)}</b> ({len(group)})"
        blocks.append("\n".join([head, *(_digest_line(a) for a in group)]))
    return "\n\n".join(blocks)


def render_digest(
    alerts: Sequence[Alert], options: TelegramOptions = _DEFAULT
) -> list[TelegramMessage]:
    """One message (split only when long) for a burst: grouped by rule, titles and links.
    Link previews are always off: a preview of the first link would misrepresent the digest."""
    if not alerts:
        return []
    return _messages(digest_html(alerts, options), None, True)
