"""Every key, prefix and TTL the store uses, in one place.

All Redis keys share one hash tag (`{<namespace>}`), so every multi-key operation (the commit
script, the lease script) runs on one slot and a Redis Cluster accepts it. The embedded store uses
the same names as row keys where it keeps key/value state.

| key                                  | type   | TTL                | holds |
| ------------------------------------ | ------ | ------------------ | ----- |
| {ns}:cursor:<source>                 | string | none               | the source's Cursor as JSON |
| {ns}:seen:<source>:<identity>        | string | SEEN_TTL (30 d)    | content version of the item seen |
| {ns}:claim:<alert id>                | string | CLAIM_TTL (48 h)   | the alert first enqueued (destination+story taken) |
| {ns}:alias:<identity>                | string | CLAIM_TTL          | story id of a canonical URL or content hash |
| {ns}:ssig:<story>                    | string | CLAIM_TTL          | the story's MinHash signature (hex) |
| {ns}:lsh:<band key>                  | set    | CLAIM_TTL          | story ids whose signature has this LSH band |
| {ns}:smen:<story>                    | hash   | CLAIM_TTL          | item key -> mention JSON (the story's sources) |
| {ns}:outbox:data                     | hash   | none               | alert id -> entry JSON (alert, state, attempts, error) |
| {ns}:outbox:queue                    | zset   | none               | alert id -> due time (ms) |
| {ns}:outbox:leased                   | zset   | none               | alert id -> lease expiry (ms) |
| {ns}:outbox:dead                     | zset   | none               | alert id -> time of death (ms) |
| {ns}:outbox:sent                     | list   | capped SENT_KEEP   | recent SentRecord JSON, newest first |
| {ns}:receipt:<alert id>              | string | RECEIPT_TTL (7 d)  | the sink's message id, for later edits |
| {ns}:heartbeat:<instance>            | string | heartbeat ttl      | ISO time of the last beat |
| {ns}:pace:<limit key>                | zset   | the limit's window | send times (ms) inside a rate limit's window |
| {ns}:kv:<name>                       | string | per call           | small named state (bot offsets, subscriptions) |
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

SEEN_TTL = 30 * 24 * 3600
CLAIM_TTL = 48 * 3600
RECEIPT_TTL = 7 * 24 * 3600
SENT_KEEP = 200
DEFAULT_NAMESPACE = "monitor"


def story_id(item_key: str) -> str:
    """The id a story gets from the item that starts it (deterministic: two replicas that start
    the same story name it the same)."""
    return "st:" + hashlib.blake2b(item_key.encode("utf-8"), digest_size=12).hexdigest()


@dataclass(frozen=True, slots=True)
class Keys:
    namespace: str = DEFAULT_NAMESPACE

    @property
    def tag(self) -> str:
        return "{" + self.namespace + "}"

    def cursor(self, source_id: str) -> str:
        return f"{self.tag}:cursor:{source_id}"

    @property
    def cursor_prefix(self) -> str:
        return f"{self.tag}:cursor:"

    def seen(self, source_id: str, identity: str) -> str:
        return f"{self.tag}:seen:{source_id}:{identity}"

    def claim(self, alert_id: str) -> str:
        return f"{self.tag}:claim:{alert_id}"

    @property
    def prefix(self) -> str:
        """For scripts that derive story keys themselves: alias:, ssig:, lsh:, smen:."""
        return f"{self.tag}:"

    @property
    def outbox_data(self) -> str:
        return f"{self.tag}:outbox:data"

    @property
    def outbox_queue(self) -> str:
        return f"{self.tag}:outbox:queue"

    @property
    def outbox_leased(self) -> str:
        return f"{self.tag}:outbox:leased"

    @property
    def outbox_dead(self) -> str:
        return f"{self.tag}:outbox:dead"

    @property
    def outbox_sent(self) -> str:
        return f"{self.tag}:outbox:sent"

    def receipt(self, alert_id: str) -> str:
        return f"{self.tag}:receipt:{alert_id}"

    def heartbeat(self, instance: str) -> str:
        return f"{self.tag}:heartbeat:{instance}"

    @property
    def heartbeat_prefix(self) -> str:
        return f"{self.tag}:heartbeat:"

    def pace(self, limit_key: str) -> str:
        return f"{self.tag}:pace:{limit_key}"

    def kv(self, name: str) -> str:
        return f"{self.tag}:kv:{name}"


@dataclass(frozen=True, slots=True)
class Ttls:
    """Configurable windows (seconds)."""

    seen: int = SEEN_TTL
    claim: int = CLAIM_TTL
    receipt: int = RECEIPT_TTL
