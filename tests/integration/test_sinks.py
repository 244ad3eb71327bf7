"""Sinks against local servers that behave like Telegram and Slack: what arrives, and how each
answer maps onto the delivery error tree. Hostile feed text must arrive as text."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import httpx
import pytest

from monitor.config.schema import (
    SlackConfig,
    SlackSinkConfig,
    TelegramConfig,
    TelegramSinkConfig,
    WebhookSinkConfig,
)
from monitor.errors import DeliveryRateLimited, PermanentDeliveryError, TransientDeliveryError
from monitor.model import Alert, Destination, Hit, Item, Level, Mention, RuleMatch
from monitor.sinks.slack import SlackSink
from monitor.sinks.telegram import TelegramSink
from monitor.sinks.webhook import WebhookSink, signature
from monitor.telegram_client import BotPool
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram_api import FakeTelegramBotAPI
from tests.fakes.webhook_receiver import FakeWebhookReceiver

CHAT = -1001234567890
HOSTILE = [
    "</b><b>",
    '<a href="javascript:alert(1)">click</a>',
    "<!channel> <!here> <@U123> <#C123|general> @channel",
    '&amp;lt; &lt;b&gt; & < > "',
    "هجوم على قاعدة عين الأسد " + "بصواريخ كاتيوشا 122mm وفق https://example.com/a?b=1&c=2 " * 60,
]


def alert(text: str, *, title: str = "سقوط صواريخ على قاعدة عين الأسد", n: int = 1) -> Alert:
    item = Item(
        source_id="feed-a",
        key=f"k{n}",
        title=title,
        text=text,
        url=f"https://news.example/{n}?x=1&y=2",
        source_title="وكالة <b>",
    )
    hit = Hit("title", 0, 4, "سقوط")
    return Alert(
        f"alert-{n}",
        Destination("desk"),
        f"story-{n}",
        item,
        (RuleMatch("strike-on-bases", "هجوم على قاعدة <i>", Level.CRITICAL, (hit,)),),
    )


@pytest.fixture
def tg() -> Iterator[FakeTelegramBotAPI]:
    with FakeTelegramBotAPI() as srv:
        srv.add_chat(CHAT, "channel", title="desk")
        yield srv
        assert not srv.internal_errors


@pytest.fixture
async def bots() -> AsyncIterator[BotPool]:
    pool = BotPool()
    yield pool
    await pool.aclose()


def telegram_sink(tg: FakeTelegramBotAPI, bots: BotPool, **extra: object) -> TelegramSink:
    config = TelegramSinkConfig(id="desk", type="telegram", chat_id=str(CHAT), **extra)  # type: ignore[arg-type]
    return TelegramSink(config, TelegramConfig(token=tg.token, api_base=tg.base_url), bots)


@pytest.mark.parametrize("text", HOSTILE)
async def test_telegram_accepts_hostile_text_as_text(
    tg: FakeTelegramBotAPI, bots: BotPool, text: str
) -> None:
    sink = telegram_sink(tg, bots)
    receipt = await sink.send(alert(text))
    messages = tg.messages(CHAT)
    assert receipt == f"{CHAT}:{messages[0].message_id}"
    isolates = dict.fromkeys([0x2066, 0x2067, 0x2068, 0x2069])
    plain = "".join(m.text_plain for m in messages).translate(isolates)
    for part in ("</b><b>", "<!channel>", "&lt;", "<a href="):
        if part in text:
            assert part in plain  # shown as text, not interpreted
    for message in messages:
        assert all(url.startswith("https://") for _, url in message.links)
    assert "سقوط" in [span for m in messages for span in m.bold_spans]


async def test_telegram_long_text_is_split_within_limits(
    tg: FakeTelegramBotAPI, bots: BotPool
) -> None:
    sink = telegram_sink(tg, bots, **{"open_button": True})
    sink.options = replace(sink.options, max_snippet=0)  # the whole 5,000+ character text
    await sink.send(alert(HOSTILE[4] * 2))
    messages = tg.messages(CHAT)
    assert len(messages) >= 2
    assert all(len(m.text_plain.encode("utf-16-le")) // 2 <= 4096 for m in messages)
    assert messages[-1].reply_markup is not None and messages[0].reply_markup is None


@pytest.mark.parametrize(
    ("status", "description", "error"),
    [
        (429, None, DeliveryRateLimited),
        (400, "Bad Request: can't parse entities: Unsupported start tag", PermanentDeliveryError),
        (400, "Bad Request: chat not found", PermanentDeliveryError),
        (403, "Forbidden: bot was kicked from the channel chat", PermanentDeliveryError),
        (500, None, TransientDeliveryError),
        (502, None, TransientDeliveryError),
    ],
)
async def test_telegram_errors_by_type(
    tg: FakeTelegramBotAPI, bots: BotPool, status: int, description: str | None, error: type
) -> None:
    tg.fail_next("sendMessage", status=status, retry_after=3, description=description)
    with pytest.raises(error) as info:
        await telegram_sink(tg, bots).send(alert("نص"))
    if status == 429:
        assert info.value.retry_after == 3
    assert tg.token not in str(info.value)


async def test_telegram_dropped_connection_is_transient(
    tg: FakeTelegramBotAPI, bots: BotPool
) -> None:
    tg.drop_connection_next("sendMessage")
    with pytest.raises(TransientDeliveryError):
        await telegram_sink(tg, bots).send(alert("نص"))


async def test_telegram_update_edits_the_original(tg: FakeTelegramBotAPI, bots: BotPool) -> None:
    sink = telegram_sink(tg, bots)
    original = alert("نص الخبر")
    receipt = await sink.send(original)
    update = replace(
        original,
        id="u1",
        kind="update",
        reply_to=receipt,
        also=(Mention("feed-b", "نقلاً عن وكالة أخرى", "https://other.example/1"),),
    )
    assert await sink.send(update) == receipt
    (message,) = tg.messages(CHAT)
    assert "https://other.example/1" in [url for _, url in message.links]
    assert len(message.versions) == 1  # the text before the edit
    reply_sink = telegram_sink(tg, bots, updates="reply")
    await reply_sink.send(update)
    replies = tg.messages(CHAT)[1:]
    assert len(replies) == 1 and replies[0].reply_to_message_id == message.message_id


async def test_telegram_digest(tg: FakeTelegramBotAPI, bots: BotPool) -> None:
    receipt = await telegram_sink(tg, bots).send_digest([alert("x", n=n) for n in range(12)])
    assert receipt is not None
    (message,) = tg.messages(CHAT)
    assert len(message.links) == 12


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(channels={"C1": "alerts"}) as srv:
        yield srv
        assert not srv.internal_errors


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    client = httpx.AsyncClient()
    yield client
    await client.aclose()


def webhook_sink(slack: FakeSlack, http: httpx.AsyncClient) -> SlackSink:
    config = SlackSinkConfig(
        id="slack", type="slack", webhook_url=slack.base_url + "/services/T0/B0/x"
    )
    return SlackSink(config, SlackConfig(api_base=slack.base_url + "/api"), http)


def api_sink(slack: FakeSlack, http: httpx.AsyncClient, updates: str = "edit") -> SlackSink:
    config = SlackSinkConfig(
        id="slack", type="slack", channel="C1", bot_token=slack.token, updates=updates
    )  # type: ignore[arg-type]
    return SlackSink(config, SlackConfig(api_base=slack.base_url + "/api"), http)


@pytest.mark.parametrize("text", HOSTILE)
async def test_slack_nothing_from_a_feed_becomes_a_mention_or_link(
    slack: FakeSlack, http: httpx.AsyncClient, text: str
) -> None:
    await webhook_sink(slack, http).send(alert(text, title=text[:200]))
    await api_sink(slack, http).send(alert(text, title=text[:200]))
    for target in ("/services/T0/B0/x", "C1"):
        for message in slack.messages(target):
            tokens = slack.special_tokens(message)
            assert all(
                t.startswith(("<https://news.example", "<https://example.com")) for t in tokens
            ), tokens


@pytest.mark.parametrize(
    ("status", "word", "error"),
    [
        (429, "rate_limited", DeliveryRateLimited),
        (400, "invalid_payload", PermanentDeliveryError),
        (404, "no_service", PermanentDeliveryError),
        (410, "channel_is_archived", PermanentDeliveryError),
        (500, None, TransientDeliveryError),
    ],
)
async def test_slack_webhook_errors(
    slack: FakeSlack, http: httpx.AsyncClient, status: int, word: str | None, error: type
) -> None:
    slack.fail_next("webhook", status=status, retry_after=2, error=word)
    with pytest.raises(error) as info:
        await webhook_sink(slack, http).send(alert("x"))
    if status == 429:
        assert info.value.retry_after == 2


async def test_slack_api_errors_and_edit(slack: FakeSlack, http: httpx.AsyncClient) -> None:
    sink = api_sink(slack, http)
    receipt = await sink.send(alert("نص"))
    assert receipt is not None and receipt.startswith("C1:")
    update = replace(
        alert("نص"),
        kind="update",
        reply_to=receipt,
        also=(Mention("feed-b", "b", "https://other.example/2"),),
    )
    await sink.send(update)
    (message,) = slack.messages("C1")
    assert len(message.versions) == 1  # edited once (chat.update)
    bad = SlackSink(
        SlackSinkConfig(id="s", type="slack", channel="C404", bot_token=slack.token),
        SlackConfig(api_base=slack.base_url + "/api"),
        http,
    )
    with pytest.raises(PermanentDeliveryError, match="channel_not_found"):
        await bad.send(alert("x"))
    slack.fail_next("chat.postMessage", status=429, retry_after=4)
    with pytest.raises(DeliveryRateLimited):
        await sink.send(alert("x"))


async def test_webhook_sink_signs_the_body(http: httpx.AsyncClient) -> None:
    with FakeWebhookReceiver() as receiver:
        sink = WebhookSink(
            WebhookSinkConfig(id="hook", type="webhook", url=receiver.url, secret="s3cret"), http
        )
        await sink.send(alert("نص"))
        (request,) = receiver.received
    body = request.body
    stamp = request.headers["x-monitor-timestamp"]
    expected = (
        "sha256=" + hmac.new(b"s3cret", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    )
    assert request.headers["x-monitor-signature"] == expected == signature("s3cret", stamp, body)
    assert json.loads(body)["alert"]["item"]["title"] == "سقوط صواريخ على قاعدة عين الأسد"


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, TransientDeliveryError), (400, PermanentDeliveryError), (429, DeliveryRateLimited)],
)
async def test_webhook_errors(http: httpx.AsyncClient, status: int, error: type) -> None:
    with FakeWebhookReceiver() as receiver:
        receiver.status, receiver.retry_after = status, "5"
        sink = WebhookSink(WebhookSinkConfig(id="hook", type="webhook", url=receiver.url), http)
        with pytest.raises(error) as info:
            await sink.send(alert("x"))
    if status == 429:
        assert info.value.retry_after == 5
