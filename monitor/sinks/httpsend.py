"""POST JSON with httpx and map the answer onto the delivery error tree (Slack, webhooks)."""

from __future__ import annotations

from typing import Any

import httpx

from monitor.errors import DeliveryRateLimited, PermanentDeliveryError, TransientDeliveryError
from monitor.logging import redact_text
from monitor.sources.http import retry_after_seconds

DEFAULT_RETRY_AFTER = 30.0


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    payload: dict[str, Any] | None = None,
    *,
    where: str,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    send_timeout: float = 20.0,
) -> httpx.Response:
    """POST and return a 2xx response; raise a DeliveryError subclass otherwise."""
    try:
        if content is not None:
            response = await client.post(
                url, content=content, headers=headers, timeout=send_timeout
            )
        else:
            response = await client.post(url, json=payload, headers=headers, timeout=send_timeout)
    except httpx.TimeoutException as exc:
        raise TransientDeliveryError(f"timeout ({type(exc).__name__})", where=where) from exc
    except httpx.HTTPError as exc:
        message = redact_text(f"{type(exc).__name__}: {exc}")
        raise TransientDeliveryError(message, where=where) from exc
    raise_for_status(response, where)
    return response


def raise_for_status(response: httpx.Response, where: str) -> None:
    code = response.status_code
    if 200 <= code < 300:
        return
    body = redact_text(response.text[:200].strip())
    if code == 429:
        delay = retry_after_seconds(response.headers.get("retry-after", ""))
        raise DeliveryRateLimited(
            f"HTTP 429 {body}", retry_after=delay or DEFAULT_RETRY_AFTER, where=where
        )
    if code >= 500 or code == 408:
        raise TransientDeliveryError(f"HTTP {code} {body}", where=where)
    raise PermanentDeliveryError(f"HTTP {code} {body}", where=where)
