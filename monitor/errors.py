"""Every exception the project raises, in one tree. Callers decide by type, never by message.

    MonitorError                      base of everything below
    ├── ConfigError                   bad configuration: exit 2 at start, keep old config on reload
    ├── RuleError                     a rule or entity file cannot be used (file:line)
    ├── SourceError                   a poll failed; the source backs off, others go on
    │   ├── FetchError                network, timeout, 5xx: transient, retry with backoff
    │   │   └── SourceRateLimited     429/503 with Retry-After: wait at least `retry_after`
    │   ├── SourceUnavailable         404/410/401/403, private or missing channel: keep trying, slowly
    │   ├── FeedTooLarge              body over the size cap (before or after decompression)
    │   └── FeedParseError            not a feed we can read
    ├── StoreError                    the store is unreachable or failed: transient, nothing advances
    └── DeliveryError                 a sink could not deliver an alert
        ├── TransientDeliveryError    5xx, timeout, connection: retry with capped backoff + jitter
        │   └── DeliveryRateLimited   429: pause that destination for `retry_after` seconds
        └── PermanentDeliveryError    400 can't parse, 403 forbidden, chat not found: dead letter

Every error carries the place it is about (`where`: a source id, a sink id, file:line) so that a
log line names it. Messages never contain secrets: sinks redact tokens before raising.
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base class; `where` names the place (source id, sink id, file:line, config key)."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class ConfigError(MonitorError):
    """Configuration that cannot run. `where` is `file: key.path` (and line when known)."""


class RuleError(MonitorError):
    """A rule or entity that cannot be compiled. `where` is `file:line`."""


class SourceError(MonitorError):
    """A poll of one source failed. `kind` is a short stable label for logs and metrics."""

    kind = "error"


class FetchError(SourceError):
    kind = "fetch"


class SourceRateLimited(FetchError):
    kind = "rate_limited"

    def __init__(self, message: str, *, retry_after: float, where: str | None = None) -> None:
        super().__init__(message, where=where)
        self.retry_after = retry_after


class SourceUnavailable(SourceError):
    kind = "unavailable"


class FeedTooLarge(SourceError):
    kind = "too_large"


class FeedParseError(SourceError):
    kind = "parse"


class StoreError(MonitorError):
    """The store failed or is unreachable; the operation did not happen."""


class DeliveryError(MonitorError):
    """A sink failed to deliver. `kind` labels logs and metrics."""

    kind = "error"


class TransientDeliveryError(DeliveryError):
    kind = "transient"


class DeliveryRateLimited(TransientDeliveryError):
    kind = "rate_limited"

    def __init__(self, message: str, *, retry_after: float, where: str | None = None) -> None:
        super().__init__(message, where=where)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    kind = "permanent"
