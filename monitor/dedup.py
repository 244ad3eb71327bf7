"""Story deduplication, the pure part: what an item asks the store, and the "also reported by"
updates to send when a story gains a source after its alert went out.

The store (assign_stories) decides atomically which story an item belongs to; alerts are then
claimed per (story, destination), so one story makes one alert per destination however many
sources carry it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from monitor import stories
from monitor.identity import digest
from monitor.model import Alert, Item, Mention
from monitor.store.base import StoryClaim, StoryFound


@dataclass(frozen=True, slots=True)
class StorySettings:
    near_duplicates: bool = True
    threshold: float = stories.DEFAULT_PARAMS.threshold


def item_key(item: Item, ids: Sequence[str]) -> str:
    """Names the item across the store: its strongest identity within its source."""
    return f"{item.source_id}|{ids[0]}"


def mention_of(item: Item) -> Mention:
    return Mention(item.source_id, item.title or item.text[:120], item.url)


def story_claim(item: Item, ids: Sequence[str], settings: StorySettings) -> StoryClaim:
    """Canonical URL and content hash are shared across sources; the MinHash signature finds
    re-edited copies (a new headline, a credit line, a few changed sentences)."""
    aliases = tuple(i for i in ids if i.startswith(("u:", "c:")))
    signature = ""
    bands: tuple[str, ...] = ()
    if settings.near_duplicates:
        sig = stories.signature(item.title, item.text)
        if sig is not None:
            params = stories.DEFAULT_PARAMS
            signature = stories.encode_signature(sig)
            bands = tuple(stories.bands(sig, params.bands, params.rows))
    return StoryClaim(item_key(item, ids), aliases, signature, bands, mention_of(item))


def update_id(original: Alert, item: Item) -> str:
    return digest(f"{original.id}\x00update\x00{item.source_id}\x00{item.key}")


def updates_for(
    lost: Sequence[Alert],
    found: Mapping[str, StoryFound],
    originals: Mapping[str, Alert],
) -> list[Alert]:
    """An "also reported by" update for each alert whose claim was lost because its story had
    already alerted that destination, when the item is a new source of the story (not the
    same item seen again). `found` is by story id, `originals` by the original alert's id."""
    out: list[Alert] = []
    for alert in lost:
        story = found.get(alert.story_key)
        original = originals.get(alert.id)
        if story is None or original is None or story.new or story.known:
            continue
        first = mention_of(original.item)
        also = tuple(m for m in story.mentions if m != first)
        if not also:
            continue
        out.append(
            Alert(
                id=update_id(original, alert.item),
                destination=original.destination,
                story_key=original.story_key,
                item=original.item,
                matches=original.matches,
                kind="update",
                also=also,
            )
        )
    return out
