"""Alerts as Slack Block Kit messages (section + context, mrkdwn). Pure functions, no I/O.

The same payload works for incoming webhooks, chat.postMessage and chat.update: `{"text":
message.text, "blocks": message.blocks}`. Feed text is escaped (`&`, `<`, `>`), so it can
never form `<!channel>`, `<@U…>`, `<#C…|x>` or `<url|other text>`; `@channel`, `@here` and
`@everyone` words get a zero-width joiner. Only we write `<url|label>` links, for http(s) URLs.
Section texts stay under 3000 characters (counted in UTF-16 units, to be safe), messages under
50 blocks; a longer alert becomes several messages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from monitor.model import Alert, Mention
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
    top_match,
    utf16_len,
)

SECTION_LIMIT = 3000
MAX_BLOCKS = 50
FALLBACK_LIMIT = 300
MAX_TITLE = 300
MAX_SNIPPET = 600
MAX_RULES = 5
MAX_MENTIONS = 50
MAX_LINK = 2000
MAX_BOLD = 500
ZWSP, ZWJ = "\u200b", "\u200d"

_BROADCAST = re.compile(r"([@＠])(channel|here|everyone)", re.IGNORECASE)
_ESCAPED = re.compile(r"&(?:amp|lt|gt);|.", re.DOTALL)
_UNESCAPE = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}


@dataclass(frozen=True)
class SlackMessage:
    """`text` is the notification fallback (short, escaped); `blocks` the Block Kit layout."""

    text: str
    blocks: list[dict[str, Any]]

    def payload(self, unfurl: bool = False) -> dict[str, Any]:
        """The JSON body for an incoming webhook or chat.postMessage/chat.update (add
        `channel`, `ts` or `thread_ts` there). Never add `link_names` or `parse=full`."""
        return {
            "text": self.text,
            "blocks": self.blocks,
            "unfurl_links": unfurl,
            "unfurl_media": unfurl,
        }


def escape_mrkdwn(text: str) -> str:
    """Escape `&`, `<`, `>` and break `@channel`/`@here`/`@everyone` with a zero-width joiner."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda m: f"{m.group(1)}{ZWJ}{m.group(2)}", text)


def slack_link(url: str | None, label: str) -> str | None:
    """`<url|label>` for a safe http(s) URL (label escaped), else None."""
    href = safe_url(url)
    if href is None:
        return None
    href = href.replace("&", "&amp;")
    if utf16_len(href) > MAX_LINK:
        return None
    return f"<{href}|{escape_mrkdwn(label.replace('|', '¦'))}>"


class _Mrkdwn:
    """Builds a mrkdwn text as atoms so that it can be split between escapes and markup."""

    def __init__(self) -> None:
        self.atoms: list[Atom] = []

    def text(self, text: str) -> _Mrkdwn:
        """Feed or own plain text: escaped, one atom per character or escape."""
        for match in _ESCAPED.finditer(escape_mrkdwn(text)):
            raw = match.group(0)
            self.atoms.append(Atom(raw, char=_UNESCAPE.get(raw, raw)))
        return self

    def bold(self, text: str, glue_before: bool = False, glue_after: bool = False) -> _Mrkdwn:
        """`*text*` as one atom; zero-width spaces let Slack bold inside a word."""
        core = escape_mrkdwn(text).replace("*", "∗")
        raw = f"{ZWSP if glue_before else ''}*{core}*{ZWSP if glue_after else ''}"
        self.atoms.append(Atom(raw, char="x"))
        return self

    def link(self, url: str | None, label: str) -> _Mrkdwn:
        markup = slack_link(url, label)
        if markup is None:
            return self.text(label)
        self.atoms.append(Atom(markup, char="x"))
        return self

    def segments(self, segments: Sequence[Segment], rtl: bool, inline: bool = False) -> _Mrkdwn:
        cleaned = [(_clean(text, inline), hit) for text, hit in segments]
        for index, (text, hit) in enumerate(cleaned):
            text = isolate_runs(text, rtl)
            core = text.strip()
            if not hit or not core or len(core) > MAX_BOLD:
                self.text(text)
                continue
            lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
            before = lead or (cleaned[index - 1][0][-1:] if index else "")
            after = trail or (cleaned[index + 1][0][:1] if index + 1 < len(cleaned) else "")
            glue = (bool(before) and not before.isspace(), bool(after) and not after.isspace())
            self.text(lead).bold(core, *glue).text(trail)
        return self

    def sections(self) -> list[dict[str, Any]]:
        return [_section(part) for part in split_atoms(self.atoms, SECTION_LIMIT)]


def _clean(text: str, inline: bool) -> str:
    text = clean_text(text)
    return text.replace("\n", " ") if inline else text


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _plain(text: str, limit: int, rtl: bool | None = None) -> str:
    return isolate_runs(one_line(text, limit), rtl)


# --- alert parts --------------------------------------------------------------------------


def _header(alert: Alert) -> _Mrkdwn:
    item = alert.item
    rtl = has_arabic(item.title) or has_arabic(item.text)
    out = _Mrkdwn()
    matches = sorted_matches(alert)
    for rule_id, title, level in matches[:MAX_RULES]:
        out.text(f"{level_marker(level)} ").bold(_plain(title or rule_id, 200))
        out.text(f" · {level.value}\n")
    if len(matches) > MAX_RULES:
        out.text(f"+{len(matches) - MAX_RULES} more rules\n")
    segments = snippet(item.title, spans_for(alert, "title"), MAX_TITLE)
    return out.segments(segments, rtl, inline=True)


def _body(alert: Alert) -> _Mrkdwn:
    item = alert.item
    rtl = has_arabic(item.title) or has_arabic(item.text)
    segments = snippet(item.text, spans_for(alert, "text"), MAX_SNIPPET)
    return _Mrkdwn().segments(segments, rtl)


def _mention(out: _Mrkdwn, mention: Mention) -> _Mrkdwn:
    out.text(f"• {_plain(mention.source_id, 100)} — ")
    return out.link(mention.url, _plain(mention.title, 200) or "link").text("\n")


def _also(mentions: Sequence[Mention]) -> _Mrkdwn:
    out = _Mrkdwn().text("➕ ").bold(f"Also reported by ({len(mentions)})").text("\n")
    for mention in mentions[:MAX_MENTIONS]:
        _mention(out, mention)
    if len(mentions) > MAX_MENTIONS:
        out.text(f"… and {len(mentions) - MAX_MENTIONS} more")
    return out


def _footer(alert: Alert) -> str:
    item = alert.item
    parts = [escape_mrkdwn(_plain(source_name(item), 100))]
    if item.author:
        parts.append(escape_mrkdwn(_plain(item.author, 100)))
    parts.append(format_time(item_time(item)))
    if item.edited:
        parts.append("✏️ edited")
    link = slack_link(item.url, "Open")
    if link:
        parts.append(link)
    return " · ".join(parts)


def _fallback(alert: Alert) -> str:
    rule_id, title, level = top_match(alert)
    story = alert.item.title or alert.item.text
    text = f"{level_marker(level)} {level.value}: {title or rule_id} — {story}"
    return escape_mrkdwn(one_line(text, FALLBACK_LIMIT))


def _messages(blocks: list[dict[str, Any]], fallback: str) -> list[SlackMessage]:
    chunks = [blocks[i : i + MAX_BLOCKS] for i in range(0, len(blocks), MAX_BLOCKS)]
    if len(chunks) == 1:
        return [SlackMessage(fallback, chunks[0])]
    return [
        SlackMessage(f"{fallback} ({n}/{len(chunks)})", chunk)
        for n, chunk in enumerate(chunks, start=1)
    ]


def alert_blocks(alert: Alert, also: bool = False) -> list[dict[str, Any]]:
    blocks = _header(alert).sections() + _body(alert).sections()
    if also and alert.also:
        blocks += _also(alert.also).sections()
    return [*blocks, _context(_footer(alert))]


# --- public renderers ---------------------------------------------------------------------


def render_alert(alert: Alert) -> list[SlackMessage]:
    """Usually one message: header section, snippet section(s), context line."""
    return _messages(alert_blocks(alert), _fallback(alert))


def render_update(alert: Alert) -> list[SlackMessage]:
    """The full alert with its "also reported by" section (for chat.update)."""
    return _messages(alert_blocks(alert, also=True), _fallback(alert))


def render_update_reply(alert: Alert) -> SlackMessage:
    """A short threaded reply: one section listing the other sources."""
    mentions = alert.also
    out = _Mrkdwn().text("➕ ").bold(f"Also reported by ({len(mentions)})").text("\n")
    if not mentions:
        out.text(_plain(alert.item.title or alert.item.text, 200))
    size = sum(utf16_len(a.raw) for a in out.atoms)
    for index, mention in enumerate(mentions):
        line = _mention(_Mrkdwn(), mention).atoms
        cost = sum(utf16_len(a.raw) for a in line)
        if size + cost + 30 > SECTION_LIMIT:
            out.text(f"… and {len(mentions) - index} more")
            break
        out.atoms += line
        size += cost
    fallback = escape_mrkdwn(f"➕ Also reported by {len(mentions)} more source(s)")
    return SlackMessage(fallback, out.sections()[:1])


def _digest_group(title: str, marker: str, alerts: Sequence[Alert]) -> _Mrkdwn:
    out = _Mrkdwn().text(f"{marker} ").bold(_plain(title, 200)).text(f" ({len(alerts)})\n")
    for alert in alerts:
        item = alert.item
        label = _plain(item.title or item.text, 200) or "(untitled)"
        out.text("• ").link(item.url, label).text(f" — {_plain(source_name(item), 100)}\n")
    return out


def render_digest(alerts: Sequence[Alert]) -> list[SlackMessage]:
    """One message (several only past 50 blocks) for a burst: grouped by rule, titles + links."""
    if not alerts:
        return []
    count = f"{len(alerts)} alert" + ("" if len(alerts) == 1 else "s")
    head = _Mrkdwn().text("🗞 ").bold(count).text(f" · {time_range(alerts)}")
    blocks = head.sections()
    for title, level, group in group_by_rule(alerts):
        blocks += _digest_group(title, level_marker(level), group).sections()
    return _messages(blocks, escape_mrkdwn(f"🗞 {count}"))
