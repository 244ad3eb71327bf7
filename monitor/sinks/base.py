"""What every sink is: a destination that sends an alert and says whether it got through.

A sink raises from the DeliveryError tree (monitor.errors) and the delivery loop decides by type:
rate-limited -> pause that destination, transient -> retry with backoff, permanent -> dead letter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from monitor.model import Alert


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `rate` messages in any `per` seconds for everything that shares `key` (one chat,
    one bot, one Slack channel)."""

    key: str
    rate: float
    per: float


class Sink(Protocol):
    id: str
    kind: str

    def destination_key(self, alert: Alert) -> str:
        """The paced unit (a chat, a channel): alerts with one key go out in order."""
        ...

    def limits(self, alert: Alert) -> tuple[Limit, ...]:
        """Every bucket one message to this alert's destination takes a token from."""
        ...

    async def send(self, alert: Alert) -> str | None:
        """Deliver one alert; return the service's message id (receipt) when there is one."""
        ...

    async def send_digest(self, alerts: Sequence[Alert]) -> str | None:
        """Deliver several alerts for one destination as one message."""
        ...

    async def aclose(self) -> None: ...
