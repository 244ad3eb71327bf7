"""The data that flows through the pipeline, and nothing else.

    sources -> Item -> matching -> RuleMatch -> dedup -> Alert -> outbox -> sinks

Every module may import this one; this one imports nothing of the project. All datetimes are
timezone-aware UTC. Alerts round-trip through JSON because the outbox stores them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar, dataclass_transform


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A naive datetime is taken as UTC; an aware one is converted to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class Level(enum.StrEnum):
    """Severity of a rule; ordered from least to most urgent."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _LEVEL_ORDER.index(self)


_LEVEL_ORDER = list(Level)

_T = TypeVar("_T")


@dataclass_transform(frozen_default=True)
def _value(cls: type[_T]) -> type[_T]:
    """A slotted dataclass that is immutable by contract, not at run time.

    The matching engine builds one `Hit` per hit and one `RuleMatch` per matched rule, often
    a hundred per item; a frozen dataclass's `__init__` goes through `object.__setattr__` for
    every field and costs ~5x a plain one. Equality, hashing (`unsafe_hash`: the hash of the
    fields, the same value a frozen dataclass gives), repr, `dataclasses.replace` and the
    codecs are those of a frozen dataclass; type checkers see the class as frozen
    (`frozen_default`), so an assignment to a field is a type error. Never mutate one."""
    return dataclass(slots=True, unsafe_hash=True)(cls)


@dataclass(frozen=True, slots=True)
class Item:
    """One entry from a source: a feed entry, a Telegram post.

    `key` identifies the item within its source (see `monitor.identity`); `version` changes when
    the content changes (an edited post), so an edit can be matched again.
    `title` and `text` are plain text: sources strip markup before building an Item.
    """

    source_id: str
    key: str
    title: str
    text: str
    url: str | None = None
    published: datetime | None = None
    fetched: datetime = field(default_factory=utcnow)
    guid: str | None = None
    author: str | None = None
    version: str = ""
    tags: tuple[str, ...] = ()
    source_title: str | None = None
    edited: bool = False

    def field_text(self, name: str) -> str:
        if name == "title":
            return self.title
        if name == "text":
            return self.text
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "key": self.key,
            "title": self.title,
            "text": self.text,
            "url": self.url,
            "published": format_time(self.published),
            "fetched": format_time(self.fetched),
            "guid": self.guid,
            "author": self.author,
            "version": self.version,
            "tags": list(self.tags),
            "source_title": self.source_title,
            "edited": self.edited,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Item:
        return cls(
            source_id=data["source_id"],
            key=data["key"],
            title=data["title"],
            text=data["text"],
            url=data.get("url"),
            published=parse_time(data.get("published")),
            fetched=parse_time(data.get("fetched")) or utcnow(),
            guid=data.get("guid"),
            author=data.get("author"),
            version=data.get("version", ""),
            tags=tuple(data.get("tags", ())),
            source_title=data.get("source_title"),
            edited=bool(data.get("edited", False)),
        )


@_value
class Hit:
    """Where a term matched: offsets [start, end) in the ORIGINAL text of `field` of the item."""

    field: str  # "title" or "text"
    start: int
    end: int
    term: str  # the term as written in the rule (or the entity alias that hit)
    group: str = "keywords"  # the rule's term group that the term belongs to
    entity: str | None = None  # entity id when the term came from "@entity"

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "start": self.start,
            "end": self.end,
            "term": self.term,
            "group": self.group,
            "entity": self.entity,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Hit:
        return cls(
            field=data["field"],
            start=int(data["start"]),
            end=int(data["end"]),
            term=data["term"],
            group=data.get("group", "keywords"),
            entity=data.get("entity"),
        )


@_value
class RuleMatch:
    """A rule whose condition held for an item, with the hits that made it hold."""

    rule_id: str
    title: str
    level: Level
    hits: tuple[Hit, ...] = ()
    routes: tuple[str, ...] = ()  # sink ids named by the rule; empty: the config decides
    tags: tuple[str, ...] = ()  # the rule's own tags (subscriptions may name them)

    def __eq__(self, other: object) -> bool:
        # Field by field like the dataclass's own, but across subclasses: the matching engine
        # returns a private subclass that builds its hits when they are first read.
        if not isinstance(other, RuleMatch):
            return NotImplemented
        return (
            self.rule_id == other.rule_id
            and self.title == other.title
            and self.level == other.level
            and self.routes == other.routes
            and self.tags == other.tags
            and self.hits == other.hits
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "title": self.title,
            "level": self.level.value,
            "hits": [h.to_dict() for h in self.hits],
            "routes": list(self.routes),
            "tags": list(self.tags),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RuleMatch:
        return cls(
            rule_id=data["rule_id"],
            title=data["title"],
            level=Level(data["level"]),
            hits=tuple(Hit.from_dict(h) for h in data.get("hits", ())),
            routes=tuple(data.get("routes", ())),
            tags=tuple(data.get("tags", ())),
        )


@dataclass(frozen=True, slots=True)
class Mention:
    """Another source that carried the same story ("also reported by")."""

    source_id: str
    title: str
    url: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"source_id": self.source_id, "title": self.title, "url": self.url}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Mention:
        return cls(source_id=data["source_id"], title=data["title"], url=data.get("url"))


@dataclass(frozen=True, slots=True)
class Destination:
    """Where an alert goes: a configured sink, optionally to another target of the same kind
    (a subscriber's chat id for a Telegram sink)."""

    sink_id: str
    target: str | None = None

    @property
    def key(self) -> str:
        return self.sink_id if self.target is None else f"{self.sink_id}/{self.target}"


@dataclass(frozen=True, slots=True)
class Alert:
    """One message to one destination about one story.

    `id` is deterministic (destination + story), so the same alert enqueued twice is one alert.
    `kind` is "alert" for a new story, "update" when a story gained a source after its alert
    went out (then `reply_to` holds the sink's receipt of the original message, if known).
    """

    id: str
    destination: Destination
    story_key: str
    item: Item
    matches: tuple[RuleMatch, ...]
    created: datetime = field(default_factory=utcnow)
    kind: str = "alert"
    also: tuple[Mention, ...] = ()
    reply_to: str | None = None

    @property
    def level(self) -> Level:
        return max((m.level for m in self.matches), key=lambda lv: lv.rank, default=Level.INFO)

    def with_also(self, mentions: tuple[Mention, ...]) -> Alert:
        return replace(self, also=mentions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sink_id": self.destination.sink_id,
            "target": self.destination.target,
            "story_key": self.story_key,
            "item": self.item.to_dict(),
            "matches": [m.to_dict() for m in self.matches],
            "created": format_time(self.created),
            "kind": self.kind,
            "also": [m.to_dict() for m in self.also],
            "reply_to": self.reply_to,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Alert:
        return cls(
            id=data["id"],
            destination=Destination(data["sink_id"], data.get("target")),
            story_key=data["story_key"],
            item=Item.from_dict(data["item"]),
            matches=tuple(RuleMatch.from_dict(m) for m in data["matches"]),
            created=parse_time(data.get("created")) or utcnow(),
            kind=data.get("kind", "alert"),
            also=tuple(Mention.from_dict(m) for m in data.get("also", ())),
            reply_to=data.get("reply_to"),
        )


def format_time(value: datetime | None) -> str | None:
    """ISO 8601 in UTC, as every record the project stores or prints carries times."""
    return None if value is None else as_utc(value).isoformat()


def parse_time(value: str | None) -> datetime | None:
    return None if not value else as_utc(datetime.fromisoformat(value))
