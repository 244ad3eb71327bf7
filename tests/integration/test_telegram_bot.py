"""Chats where the bot is a member (updates by long polling) and the subscriber bot, against a
local fake of the Bot API: posts alert, edits are matched again, the update offset survives a
restart, every command with and without admin rights, alerts routed to subscribers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from monitor.bot import CommandHandler
from monitor.config.schema import (
    BotConfig,
    DeliveryConfig,
    TelegramBotSourceConfig,
    TelegramConfig,
    TelegramSinkConfig,
)
from monitor.delivery import Delivery
from monitor.matching import compile_rules
from monitor.model import Level
from monitor.pipeline import Pipeline
from monitor.routing import Router
from monitor.sinks.telegram import TelegramSink
from monitor.sources.telegram_bot import BotUpdates
from monitor.store.sqlite import SqliteStore
from monitor.subscriptions import SubscriptionStore
from monitor.telegram_client import BotPool
from tests.conftest import ROOT
from tests.fakes.telegram_api import FakeTelegramBotAPI

CHANNEL = -1001500  # a militia channel the bot was added to
DESK = -1002600  # the editors' channel that receives alerts
ADMIN, EDITOR, STRANGER = 111, 222, 333
ENGINE, _ = compile_rules(ROOT / "rules")


@pytest.fixture
def tg() -> Iterator[FakeTelegramBotAPI]:
    with FakeTelegramBotAPI() as srv:
        srv.add_chat(DESK, "channel")
        srv.add_chat(CHANNEL, "channel", title="قناة الأخبار", username="sabereen_news")
        for user in (ADMIN, EDITOR, STRANGER):
            srv.add_chat(user, "private", first_name=f"user{user}")
        yield srv
        assert not srv.internal_errors


class Rig:
    """The bot's update loop, the pipeline and delivery, wired as the daemon wires them."""

    def __init__(
        self, store: SqliteStore, tg: FakeTelegramBotAPI, bots: BotPool, bot: BotConfig
    ) -> None:
        telegram = TelegramConfig(token=tg.token, api_base=tg.base_url, pacing=False, bot=bot)
        self.subs = SubscriptionStore(store, "bot")
        router = Router(
            [],
            {"desk": Level.INFO},
            subscribers=lambda m: self.subs.current.destinations("desk", m),
        )
        self.pipeline = Pipeline(store, matcher=lambda: ENGINE, router=lambda: router)
        sink = TelegramSink(
            TelegramSinkConfig(id="desk", type="telegram", chat_id=str(DESK)), telegram, bots
        )
        self.delivery = Delivery(store, {"desk": sink}, DeliveryConfig())
        self.reloads = 0

        async def status() -> str:
            return "<b>monitor</b> status: ok"

        async def reload() -> str:
            self.reloads += 1
            return "✅ reloaded"

        handler = CommandHandler(
            bot, self.subs, rules=lambda: ENGINE.rules, status=status, reload=reload
        )
        chats = {
            "sabereen": TelegramBotSourceConfig(
                id="sabereen", type="telegram_bot", chat_id=str(CHANNEL), tags=("iraq",)
            )
        }
        self.updates = BotUpdates(
            bots.get(tg.token, tg.base_url),
            "bot",
            store,
            self.pipeline.ingest,
            chats,
            handler,
            "test",
        )

    async def round(self) -> None:
        await self.updates.poll_once(long_poll=0)
        await self.delivery.drain(time.monotonic() + 15)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(tmp_path / "s.db")
    await s.open()
    yield s
    await s.close()


@pytest.fixture
async def bots() -> AsyncIterator[BotPool]:
    pool = BotPool()
    yield pool
    await pool.aclose()


def replies(tg: FakeTelegramBotAPI, chat: int) -> list[str]:
    return [m.text_plain for m in tg.messages(chat)]


async def test_channel_posts_alert_and_edits_are_matched_again(
    tg: FakeTelegramBotAPI, store: SqliteStore, bots: BotPool
) -> None:
    rig = Rig(store, tg, bots, BotConfig(enabled=True))
    post = tg.channel_post(CHANNEL, "سقوط صواريخ على قاعدة عين الأسد الجوية")
    quiet = tg.channel_post(CHANNEL, "نشرة الطقس لهذا اليوم")
    await rig.round()
    (alert,) = tg.messages(DESK)
    assert "عين الأسد" in alert.text_plain
    assert "https://t.me/sabereen_news/" in " ".join(url for _, url in alert.links)
    quiet_id = quiet["channel_post"]["message_id"]
    tg.channel_post(CHANNEL, "تحديث: الفصائل تعلن هدنة لمدة أسبوع", message_id=quiet_id, edit=True)
    post_id = post["channel_post"]["message_id"]
    tg.channel_post(
        CHANNEL,
        "سقوط صواريخ على قاعدة عين الأسد الجوية وأنباء عن إصابات",
        message_id=post_id,
        edit=True,
    )
    await rig.round()
    texts = replies(tg, DESK)
    assert len(texts) == 2  # the edit that newly matches alerts; the one already alerted does not
    assert "هدنة" in texts[1] and "edited" in texts[1]


async def test_the_update_offset_survives_a_restart(
    tg: FakeTelegramBotAPI, store: SqliteStore, bots: BotPool
) -> None:
    rig = Rig(store, tg, bots, BotConfig(enabled=True))
    tg.channel_post(CHANNEL, "هجوم بصواريخ على قاعدة عين الأسد")
    await rig.round()
    assert len(tg.messages(DESK)) == 1
    offset = await store.kv_get("tg:offset:bot")
    assert offset is not None
    # a restart: new objects, the same store; a post arrives while it is down
    tg.channel_post(CHANNEL, "قصف يستهدف قاعدة عين الأسد مجدداً")
    again = Rig(store, tg, bots, BotConfig(enabled=True))
    await again.round()
    await again.round()
    assert len(tg.messages(DESK)) == 2  # the new post once, the old one not again
    calls = tg.calls("getUpdates")
    assert str(calls[-1].params.get("offset")) == await store.kv_get("tg:offset:bot")


async def test_commands_and_routing_to_subscribers(
    tg: FakeTelegramBotAPI, store: SqliteStore, bots: BotPool
) -> None:
    rig = Rig(store, tg, bots, BotConfig(enabled=True, admins=(ADMIN,), commands_per_minute=100))
    await rig.updates.register_commands((ADMIN,))
    registered = tg.calls("setMyCommands")
    assert registered and "subscribe" in str(registered[0].params["commands"])

    for text in (
        "/start",
        "/rules",
        "/subscribe iraq-truce",
        "/subscribe tag:nope",
        "/subscribe@monitor_bot strike-on-bases",
        "/mysubs",
        "/frobnicate",
        "/status",
        "/reload",
    ):
        tg.user_message(EDITOR, EDITOR, text)
    await rig.round()
    out = replies(tg, EDITOR)
    assert "/subscribe" in out[0]  # /start shows the help
    assert "iraq-truce" in out[1] and "strike-on-bases" in out[1]  # /rules
    assert "Subscribed: rule iraq-truce" in out[2]
    assert "No rule or tag named tag:nope" in out[3]
    assert "Subscribed: rule strike-on-bases" in out[4]
    assert "iraq-truce" in out[5] and "strike-on-bases" in out[5]  # /mysubs
    assert "Unknown command" in out[6]
    assert "operators only" in out[7] and "operators only" in out[8]  # not an admin
    assert rig.reloads == 0

    tg.user_message(ADMIN, ADMIN, "/status")
    tg.user_message(ADMIN, ADMIN, "/reload")
    await rig.round()
    assert "status: ok" in replies(tg, ADMIN)[0] and rig.reloads == 1

    tg.channel_post(CHANNEL, "إعلان هدنة في الفلوجة")  # iraq-truce: to the desk and the editor
    await rig.round()
    assert any("هدنة" in t for t in replies(tg, EDITOR)[-1:])
    assert len(tg.messages(DESK)) == 1

    tg.user_message(EDITOR, EDITOR, "/mute 2h")
    await rig.round()
    assert "Muted until" in replies(tg, EDITOR)[-1]
    tg.channel_post(CHANNEL, "تمديد الهدنة في الرمادي أسبوعاً")
    await rig.round()
    assert "Muted until" in replies(tg, EDITOR)[-1]  # muted: nothing new for the editor
    assert len(tg.messages(DESK)) == 2
    tg.user_message(EDITOR, EDITOR, "/unmute")
    tg.user_message(EDITOR, EDITOR, "/unsubscribe iraq-truce")
    tg.user_message(EDITOR, EDITOR, "/mysubs")
    await rig.round()
    assert "resumed" in replies(tg, EDITOR)[-3]
    assert (
        "iraq-truce" not in replies(tg, EDITOR)[-1] and "strike-on-bases" in replies(tg, EDITOR)[-1]
    )


async def test_allowlist_and_rate_limit(
    tg: FakeTelegramBotAPI, store: SqliteStore, bots: BotPool
) -> None:
    bot = BotConfig(
        enabled=True, subscription="allowlist", allowlist=(EDITOR,), commands_per_minute=3
    )
    rig = Rig(store, tg, bots, bot)
    tg.user_message(STRANGER, STRANGER, "/subscribe iraq-truce")
    tg.user_message(EDITOR, EDITOR, "/subscribe iraq-truce")
    await rig.round()
    assert "by invitation" in replies(tg, STRANGER)[0]
    assert "Subscribed" in replies(tg, EDITOR)[0]
    for _ in range(5):
        tg.user_message(STRANGER, STRANGER, "/help")
    await rig.round()
    assert len(replies(tg, STRANGER)) == 3  # 3 commands a minute; the rest are ignored


def test_the_daemon_reads_both_kinds_of_channel_and_serves_subscribers(
    tmp_path: Path, tg: FakeTelegramBotAPI
) -> None:
    from tests.fakes.telegram_web import FakeTelegramWeb
    from tests.support.daemon import Daemon, wait_for, write_config

    with FakeTelegramWeb() as web:
        web.post("ahd_news", "بيان صادر عن الفصائل")
        path = write_config(
            tmp_path,
            {
                "rules": str(ROOT / "rules"),
                "store": {"url": "sqlite:var/s.db"},
                "telegram": {
                    "token": tg.token,
                    "api_base": tg.base_url,
                    "web_base": web.base_url,
                    "chat_per_second": 50,
                    "group_per_minute": 10000,
                    "bot": {"enabled": True, "admins": [ADMIN]},
                },
                "sources": [
                    {"id": "ahd", "type": "telegram_web", "channel": "ahd_news", "interval": "1s"},
                    {"id": "sabereen", "type": "telegram_bot", "chat_id": str(CHANNEL)},
                ],
                "sinks": [
                    {"id": "desk", "type": "telegram", "chat_id": str(DESK), "digest_after": None}
                ],
            },
        )
        with Daemon(path) as daemon:
            wait_for(lambda: bool(tg.calls("getUpdates")), 20, "the bot polling")
            tg.channel_post(CHANNEL, "سقوط صواريخ على قاعدة عين الأسد")
            wait_for(lambda: len(tg.messages(DESK)) == 1, 20, "the bot-member chat's alert")
            tg.user_message(EDITOR, EDITOR, "/subscribe iraq-truce")
            wait_for(lambda: bool(tg.messages(EDITOR)), 20, "the subscription answer")
            for n in range(50):  # a burst between two polls of the web preview
                web.post("ahd_news", f"الفصائل تعلن هدنة رقم {n}")
            wait_for(lambda: len(tg.messages(DESK)) == 51, 60, "all 50 posts of the burst")
            wait_for(lambda: len(tg.messages(EDITOR)) == 51, 60, "the subscriber's copies")
            daemon.stop()
    assert "Subscribed" in tg.messages(EDITOR)[0].text_plain
    assert tg.calls("setMyCommands")
