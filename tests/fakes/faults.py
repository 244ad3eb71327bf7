"""Fault injection shared by the Bot API and Slack fakes.

A fault matches a method (a Bot API method, a Slack API method or "webhook"; None = any) and
optionally a target (a chat id, a Slack channel or webhook path). `take` is called once per
request and hands back the delay and the failure (or dropped connection) that apply to it.

`deliver=True` on a failure or a dropped connection means the fake does the work first (the
message is stored, as if delivered) and only the answer is lost or wrong: the case where a
client's retry makes a duplicate.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass


@dataclass
class Fault:
    kind: str  # "fail" | "delay" | "drop"
    method: str | None = None
    target: str | None = None
    status: int = 500
    retry_after: int | None = None
    description: str | None = None
    seconds: float = 0.0
    remaining: int | None = 1  # None: forever
    deliver: bool = False

    def matches(self, method: str, target: str | None) -> bool:
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.target is None or self.target == target


@dataclass
class _Every:
    n: int
    method: str | None  # None: every call counts
    status: int
    retry_after: int | tuple[int, ...] | None  # a tuple: used in turn, one value per failure
    description: str | None
    failures: int = 0

    def next_retry_after(self) -> int | None:
        value = self.retry_after
        if isinstance(value, tuple):
            value = value[self.failures % len(value)]
        self.failures += 1
        return value


class Faults:
    """Thread-safe store of pending faults."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []
        self._every: list[_Every] = []
        self._calls: Counter[str] = Counter()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._pending.append(fault)

    def every(
        self,
        n: int,
        method: str | None,
        status: int,
        retry_after: int | tuple[int, ...] | None,
        description: str | None,
    ) -> None:
        if n < 1:
            raise ValueError("n must be >= 1")
        with self._lock:
            self._calls[(method or "*").lower()] = 0
            self._every.append(_Every(n, method, status, retry_after, description))

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
            self._every.clear()

    def take(self, method: str, target: str | None) -> tuple[Fault | None, Fault | None]:
        """(delay, failure) for one request to `method` about `target`."""
        with self._lock:
            self._calls[method.lower()] += 1
            self._calls["*"] += 1
            delay = self._pop(("delay",), method, target)
            failure = self._pop(("fail", "drop"), method, target)
            if failure is None:
                for rule in self._every:
                    if rule.method is not None and rule.method.lower() != method.lower():
                        continue
                    if self._calls[(rule.method or "*").lower()] % rule.n == 0:
                        failure = Fault(
                            "fail",
                            method,
                            None,
                            rule.status,
                            rule.next_retry_after(),
                            rule.description,
                        )
                        break
            return delay, failure

    def _pop(self, kinds: tuple[str, ...], method: str, target: str | None) -> Fault | None:
        for fault in self._pending:
            if fault.kind in kinds and fault.matches(method, target):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._pending.remove(fault)
                return fault
        return None
