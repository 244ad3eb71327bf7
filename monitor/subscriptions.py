"""Subscriptions of Telegram chats to rules and tags, kept in the store (pure model + I/O).

One JSON document per bot under kv `subs:<bot>`: {chat_id: {"rules": [...], "tags": [...],
"muted_until": iso|null}}. Small (one entry per subscribed chat) and written only when a
subscriber changes something, so a whole-document write is simpler than per-chat keys and keeps
`/mysubs` and routing consistent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from monitor.model import Destination, RuleMatch, as_utc, utcnow
from monitor.store import Store


@dataclass
class ChatSubs:
    rules: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    muted_until: datetime | None = None

    def wants(self, match: RuleMatch) -> bool:
        return match.rule_id in self.rules or bool(self.tags.intersection(match.tags))

    def muted(self) -> bool:
        return self.muted_until is not None and self.muted_until > utcnow()

    def empty(self) -> bool:
        return not self.rules and not self.tags and self.muted_until is None


@dataclass
class Subscriptions:
    chats: dict[str, ChatSubs] = field(default_factory=dict)

    def chat(self, chat_id: str) -> ChatSubs:
        return self.chats.setdefault(chat_id, ChatSubs())

    def destinations(self, sink_id: str, match: RuleMatch) -> Iterable[Destination]:
        for chat_id, subs in self.chats.items():
            if subs.wants(match) and not subs.muted():
                yield Destination(sink_id, chat_id)

    def to_json(self) -> str:
        data = {
            chat: {
                "rules": sorted(s.rules),
                "tags": sorted(s.tags),
                "muted_until": s.muted_until.isoformat() if s.muted_until else None,
            }
            for chat, s in self.chats.items()
            if not s.empty()
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | None) -> Subscriptions:
        if not raw:
            return cls()
        data = json.loads(raw)
        chats = {
            str(chat): ChatSubs(
                rules=set(entry.get("rules", ())),
                tags=set(entry.get("tags", ())),
                muted_until=as_utc(datetime.fromisoformat(entry["muted_until"]))
                if entry.get("muted_until")
                else None,
            )
            for chat, entry in data.items()
        }
        return cls(chats)


class SubscriptionStore:
    """Loads and saves the document; keeps the last loaded copy for routing."""

    def __init__(self, store: Store, bot_key: str) -> None:
        self.store = store
        self.name = f"subs:{bot_key}"
        self.current = Subscriptions()

    async def load(self) -> Subscriptions:
        self.current = Subscriptions.from_json(await self.store.kv_get(self.name))
        return self.current

    async def save(self, subs: Subscriptions) -> None:
        await self.store.kv_set(self.name, subs.to_json())
        self.current = subs
