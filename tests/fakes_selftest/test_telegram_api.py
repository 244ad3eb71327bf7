"""FakeTelegramBotAPI answers a real python-telegram-bot client the way Telegram does."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time

import httpx
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from tests.fakes.telegram_api import FakeTelegramBotAPI
from tests.fakes_selftest.conftest import CHANNEL, GROUP, PRIVATE, SUPERGROUP


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns when RetryAfter.retry_after is read as int; opt in to timedelta
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


# --- sending ---------------------------------------------------------------------------------


async def test_send_html_is_parsed_and_recorded(tg: FakeTelegramBotAPI, bot: telegram.Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("المصدر", url="https://example.org/a")]])
    sent = await bot.send_message(
        PRIVATE,
        '<b>عاجل</b>: قصف &lt;قرب&gt; &amp; "بغداد" <a href="https://example.org/a?x=1&amp;y=2">رابط</a>',
        parse_mode="HTML",
        reply_markup=keyboard,
    )
    assert sent.text == 'عاجل: قصف <قرب> & "بغداد" رابط'
    assert sent.message_id == 1
    record = tg.messages(PRIVATE)[0]
    assert record.text_plain == sent.text
    assert record.bold_spans == ["عاجل"]
    assert record.links == [("رابط", "https://example.org/a?x=1&y=2")]
    assert record.parse_mode == "HTML"
    assert record.reply_markup == {
        "inline_keyboard": [[{"text": "المصدر", "url": "https://example.org/a"}]]
    }
    second = await bot.send_message(PRIVATE, "plain <b>not bold</b>")
    assert second.message_id == 2
    assert tg.messages(PRIVATE)[1].text_plain == "plain <b>not bold</b>"
    assert tg.messages(PRIVATE)[1].entities == []


async def test_send_to_channel_by_username(tg: FakeTelegramBotAPI, bot: telegram.Bot) -> None:
    sent = await bot.send_message("@alerts_test", "تنبيه", disable_web_page_preview=True)
    assert sent.chat.id == CHANNEL
    assert sent.sender_chat is not None and sent.sender_chat.id == CHANNEL
    assert tg.messages(CHANNEL)[0].link_preview_options == {"is_disabled": True}


@pytest.mark.parametrize(
    ("html", "fragment"),
    [
        ("<div>x</div>", 'Unsupported start tag "div"'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", "Unmatched end tag"),
        ("1 < 2", 'Unsupported start tag ""'),
        ("AT&T", 'Unescaped "&"'),
        ("&nbsp;x", 'unsupported entity "&nbsp;"'),
        ('<a href="javascript:alert(1)">x</a>', "Wrong URL"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("x</b>", "Unexpected end tag"),
        ("<br>", 'Unsupported start tag "br"'),
    ],
)
async def test_html_errors_are_bad_requests(
    tg: FakeTelegramBotAPI, bot: telegram.Bot, html: str, fragment: str
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(PRIVATE, html, parse_mode="HTML")
    assert tg.requests[-1].status == 400
    description = tg.requests[-1].description or ""
    assert description.startswith("Bad Request: can't parse entities: ")
    assert fragment in description
    assert tg.messages(PRIVATE) == []


async def test_every_allowed_tag(tg: FakeTelegramBotAPI, bot: telegram.Bot) -> None:
    html = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike>"
        '<del>d</del><code>c</code><pre><code class="language-py">p</code></pre>'
        '<tg-spoiler>t</tg-spoiler><span class="tg-spoiler">q</span><blockquote>bq</blockquote>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji><a href="tg://resolve?domain=x">a</a>'
        "&#1593;&#x639;&quot;"
    )
    await bot.send_message(PRIVATE, html, parse_mode="HTML")
    record = tg.messages(PRIVATE)[0]
    assert record.text_plain == 'bsieunskdcptqbq👍aعع"'
    types = [e["type"] for e in record.entities]
    assert types.count("bold") == 2 and types.count("strikethrough") == 3
    assert {"code", "pre", "spoiler", "blockquote", "custom_emoji", "text_link"} <= set(types)
    assert {"type": "pre", "offset": 10, "length": 1, "language": "py"} in record.entities


def test_lax_html_behaves_like_the_real_server() -> None:
    with FakeTelegramBotAPI(strict_html=False) as srv:
        srv.add_chat(1)
        url = f"{srv.base_url}/bot{srv.token}/sendMessage"
        html = 'AT&T &nbsp; <a href="javascript:alert(1)">x</a>'
        answer = httpx.post(url, json={"chat_id": 1, "text": html, "parse_mode": "HTML"})
        assert answer.status_code == 200
        assert answer.json()["result"]["text"] == "AT&T &nbsp; x"
        assert "entities" not in answer.json()["result"]  # the bad link is dropped


async def test_length_is_counted_in_utf16_after_parsing(
    tg: FakeTelegramBotAPI, bot: telegram.Bot
) -> None:
    await bot.send_message(PRIVATE, "<b>" + "ع" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(PRIVATE, "😀" * 2048)  # 4096 UTF-16 code units
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(PRIVATE, "😀" * 2048 + "x")
    with pytest.raises(BadRequest, match="text is empty"):
        await bot.send_message(PRIVATE, "<b> </b>\n", parse_mode="HTML")
    assert len(tg.messages(PRIVATE)) == 2


async def test_chat_errors(tg: FakeTelegramBotAPI, bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "x")
    tg.block(PRIVATE)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(PRIVATE, "x")
    assert tg.requests[-1].status == 403
    tg.block(CHANNEL)
    with pytest.raises(Forbidden, match=r"(?i)not a member of the channel"):
        await bot.send_message(CHANNEL, "x")
    tg.migrate(GROUP, -1009)
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(GROUP, "x")
    assert migrated.value.new_chat_id == -1009


async def test_buttons_and_replies_are_checked(tg: FakeTelegramBotAPI, bot: telegram.Bot) -> None:
    bad = InlineKeyboardMarkup([[InlineKeyboardButton("x", url="javascript:alert(1)")]])
    with pytest.raises(BadRequest, match=r"(?i)button_url_invalid"):
        await bot.send_message(PRIVATE, "x", reply_markup=bad)
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(PRIVATE, "x", reply_parameters=ReplyParameters(77))
    first = await bot.send_message(SUPERGROUP, "first")
    reply = await bot.send_message(
        SUPERGROUP, "second", reply_parameters=ReplyParameters(first.message_id)
    )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == first.message_id
    assert tg.messages(SUPERGROUP)[1].reply_to_message_id == first.message_id


async def test_edit_and_delete(tg: FakeTelegramBotAPI, bot: telegram.Bot) -> None:
    sent = await bot.send_message(PRIVATE, "<b>v1</b>", parse_mode="HTML")
    edited = await bot.edit_message_text("<b>v2</b>", PRIVATE, sent.message_id, parse_mode="HTML")
    assert isinstance(edited, telegram.Message)
    assert edited.text == "v2" and edited.edit_date is not None
    record = tg.message(PRIVATE, sent.message_id)
    assert record.versions == ["<b>v1</b>"] and record.bold_spans == ["v2"]
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("<b>v2</b>", PRIVATE, sent.message_id, parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.edit_message_text("<b>v3", PRIVATE, sent.message_id, parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", PRIVATE, 999)
    assert await bot.delete_message(PRIVATE, sent.message_id) is True
    assert tg.message(PRIVATE, sent.message_id).deleted
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(PRIVATE, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("v4", PRIVATE, sent.message_id)


# --- failures --------------------------------------------------------------------------------


async def test_injected_429_raises_retry_after(tg: FakeTelegramBotAPI, bot: telegram.Bot) -> None:
    tg.fail_next("sendMessage", status=429, retry_after=7, chat_id=CHANNEL)
    await bot.send_message(PRIVATE, "another chat is not affected")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHANNEL, "x")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    assert tg.rate_limited[-1].retry_after == 7 and tg.rate_limited[-1].scope == "injected"
    await bot.send_message(CHANNEL, "x")  # only once
    assert [m.chat_id for m in tg.messages()] == [PRIVATE, CHANNEL]


def test_429_body_is_telegrams(tg: FakeTelegramBotAPI) -> None:
    tg.fail_next(status=429, retry_after=3)
    answer = httpx.post(
        f"{tg.base_url}/bot{tg.token}/sendMessage", data={"chat_id": PRIVATE, "text": "x"}
    )
    assert answer.status_code == 429
    assert answer.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_are_network_errors(
    tg: FakeTelegramBotAPI, bot: telegram.Bot, status: int
) -> None:
    tg.fail_next(status=status)
    with pytest.raises(NetworkError):
        await bot.send_message(PRIVATE, "x")
    assert tg.messages() == []
    assert tg.requests[-1].status == status


async def test_injected_400_and_403(tg: FakeTelegramBotAPI, bot: telegram.Bot) -> None:
    tg.fail_next(status=400, description="Bad Request: PEER_ID_INVALID")
    with pytest.raises(BadRequest, match=r"(?i)peer_id_invalid"):
        await bot.send_message(PRIVATE, "x")
    tg.fail_next(status=403, description="Forbidden: bot was blocked by the user")
    with pytest.raises(Forbidden):
        await bot.send_message(PRIVATE, "x")


async def test_fail_every_nth(tg: FakeTelegramBotAPI, bot: telegram.Bot) -> None:
    tg.fail_every(3, status=429, retry_after=1)
    outcomes = []
    for i in range(6):
        try:
            await bot.send_message(PRIVATE, f"m{i}")
            outcomes.append("ok")
        except RetryAfter:
            outcomes.append("429")
    assert outcomes == ["ok", "ok", "429", "ok", "ok", "429"]


async def test_slow_answer_times_out_but_delivers(
    tg: FakeTelegramBotAPI, bot: telegram.Bot
) -> None:
    tg.delay_next(1.0, method="sendMessage")
    started = time.monotonic()
    with pytest.raises(TimedOut):
        await bot.send_message(PRIVATE, "slow", read_timeout=0.2)
    assert time.monotonic() - started < 0.9
    assert [m.text for m in tg.messages(PRIVATE)] == ["slow"]  # Telegram got it anyway


async def test_dropped_connection(tg: FakeTelegramBotAPI, bot: telegram.Bot) -> None:
    tg.drop_connection_next("sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(PRIVATE, "lost")
    assert tg.messages() == [] and tg.requests[-1].status is None
    tg.drop_connection_next("sendMessage", deliver=True)
    with pytest.raises(NetworkError):
        await bot.send_message(PRIVATE, "delivered, answer lost")
    assert [m.text for m in tg.messages()] == ["delivered, answer lost"]
    await bot.send_message(PRIVATE, "next")  # the client reconnects


async def test_wrong_token(tg: FakeTelegramBotAPI) -> None:
    intruder = telegram.Bot("1:wrong", base_url=tg.base_url + "/bot")
    with pytest.raises(InvalidToken):
        await intruder.get_me()


def test_unknown_method_and_wrong_token_bodies(tg: FakeTelegramBotAPI) -> None:
    answer = httpx.post(f"{tg.base_url}/bot{tg.token}/sendSticker2", json={})
    assert answer.status_code == 404
    assert answer.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    answer = httpx.get(f"{tg.base_url}/bot1:wrong/getMe")
    assert answer.status_code == 401 and answer.json()["description"] == "Unauthorized"


# --- flood control ---------------------------------------------------------------------------


async def test_flood_control_private_chat(tg: FakeTelegramBotAPI, bot: telegram.Bot) -> None:
    tg.enforce_limits = True
    for i in range(3):  # the burst
        await bot.send_message(PRIVATE, f"b{i}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(PRIVATE, "too fast")
    assert caught.value.retry_after == dtm.timedelta(seconds=1)
    assert tg.rate_limited[-1].scope == "chat"
    await bot.send_message(SUPERGROUP, "other chats still work")


def test_flood_control_groups_and_global() -> None:
    with FakeTelegramBotAPI(enforce_limits=True) as srv:
        for chat in range(1, 41):
            srv.add_chat(chat)
        srv.add_chat(-5, "supergroup")
        url = f"{srv.base_url}/bot{srv.token}/sendMessage"
        with httpx.Client() as client:
            codes = [
                client.post(url, json={"chat_id": -5, "text": "x"}).status_code for _ in range(21)
            ]
            assert codes == [200] * 20 + [429]
            assert srv.rate_limited[-1].scope == "group"
            assert 50 <= srv.rate_limited[-1].retry_after <= 60
            codes = [
                client.post(url, json={"chat_id": c, "text": "x"}).status_code for c in range(1, 41)
            ]
        assert 429 in codes and srv.rate_limited[-1].scope == "global"
        assert len(srv.messages()) < 20 + 40


# --- updates ---------------------------------------------------------------------------------


async def test_get_updates_offsets(tg: FakeTelegramBotAPI, bot: telegram.Bot) -> None:
    tg.channel_post(CHANNEL, "قصف على قاعدة عين الأسد")
    tg.channel_post(CHANNEL, "تحديث: قصف", edit=True)
    tg.user_message(PRIVATE, PRIVATE, "/subscribe iraq-truce")
    updates = await bot.get_updates()
    assert len(updates) == 3
    assert updates[0].channel_post is not None
    assert updates[0].channel_post.text == "قصف على قاعدة عين الأسد"
    assert updates[0].channel_post.chat.type == "channel"
    assert updates[1].edited_channel_post is not None
    assert updates[1].edited_channel_post.message_id == updates[0].channel_post.message_id
    command = updates[2].message
    assert command is not None and command.from_user is not None
    assert command.from_user.id == PRIVATE
    assert command.parse_entities(["bot_command"]) != {}
    assert list(command.parse_entities(["bot_command"]).values()) == ["/subscribe"]
    ids = [u.update_id for u in updates]
    assert ids == sorted(ids) and len(set(ids)) == 3
    again = await bot.get_updates(offset=ids[1])  # confirms ids[0]
    assert [u.update_id for u in again] == ids[1:]
    assert [u["update_id"] for u in tg.pending_updates()] == ids[1:]
    assert await bot.get_updates(offset=ids[2] + 1) == ()
    assert tg.pending_updates() == []
    limited = [tg.channel_post(CHANNEL, f"p{i}")["update_id"] for i in range(3)]
    assert [u.update_id for u in await bot.get_updates(limit=2)] == limited[:2]
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == limited[2:]


async def test_channel_posts_only_where_the_bot_is_a_member(
    tg: FakeTelegramBotAPI, bot: telegram.Bot
) -> None:
    tg.block(CHANNEL)
    assert "update_id" not in tg.channel_post(CHANNEL, "لا يراه البوت")
    tg.block(CHANNEL, False)
    tg.channel_post(CHANNEL, "يراه")
    assert [u.channel_post.text for u in await bot.get_updates() if u.channel_post] == ["يراه"]


async def test_faults_by_username_target_the_chat(
    tg: FakeTelegramBotAPI, bot: telegram.Bot
) -> None:
    tg.fail_next(status=500, chat_id=CHANNEL)
    with pytest.raises(NetworkError):
        await bot.send_message("@alerts_test", "x")


async def test_long_poll_waits_and_wakes(tg: FakeTelegramBotAPI, bot: telegram.Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 2.0
    loop = asyncio.get_running_loop()
    loop.call_later(0.3, tg.channel_post, CHANNEL, "جديد")
    started = time.monotonic()
    updates = await bot.get_updates(timeout=5)
    assert len(updates) == 1 and time.monotonic() - started < 2.0


async def test_second_poller_conflicts(tg: FakeTelegramBotAPI, bot: telegram.Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=3))
    await asyncio.sleep(0.3)
    async with httpx.AsyncClient() as other:
        answer = await other.post(f"{tg.base_url}/bot{tg.token}/getUpdates", json={"timeout": 0})
    assert answer.status_code == 200
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await first


async def test_commands_chat_and_webhook(tg: FakeTelegramBotAPI, bot: telegram.Bot) -> None:
    await bot.set_my_commands([("subscribe", "اشترك في قاعدة"), ("mute", "كتم")])
    assert [c.command for c in await bot.get_my_commands()] == ["subscribe", "mute"]
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([("Bad-Name", "x")])
    chat = await bot.get_chat(CHANNEL)
    assert chat.title == "تنبيهات" and chat.type == "channel"
    tg.webhook_url = "https://example.org/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    tg.channel_post(CHANNEL, "x")
    assert await bot.delete_webhook(drop_pending_updates=True) is True
    assert await bot.get_updates() == ()


def test_json_form_and_multipart_bodies(tg: FakeTelegramBotAPI) -> None:
    url = f"{tg.base_url}/bot{tg.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "x", "url": "https://example.org"}]]}
    with httpx.Client() as client:
        as_json = client.post(
            url, json={"chat_id": PRIVATE, "text": "json", "reply_markup": markup}
        )
        as_form = client.post(
            url, data={"chat_id": str(PRIVATE), "text": "form", "reply_markup": json.dumps(markup)}
        )
        as_multipart = client.post(
            url,
            data={"chat_id": str(PRIVATE), "text": "multipart"},
            files={"document": ("a.txt", b"payload", "text/plain")},
        )
        as_query = client.get(url, params={"chat_id": PRIVATE, "text": "query"})
    assert [a.status_code for a in (as_json, as_form, as_multipart, as_query)] == [200] * 4
    assert [m.text for m in tg.messages(PRIVATE)] == ["json", "form", "multipart", "query"]
    assert tg.messages(PRIVATE)[1].reply_markup == markup
    bad = httpx.post(url, data={"chat_id": PRIVATE, "text": "x", "reply_markup": "{nope"})
    assert bad.status_code == 400
    assert bad.json()["description"] == "Bad Request: can't parse reply keyboard markup JSON object"


async def test_ptb_application_polls_and_answers_commands(tg: FakeTelegramBotAPI) -> None:
    from telegram.ext import Application, CommandHandler, ContextTypes

    received: asyncio.Queue[str] = asyncio.Queue()

    async def subscribe(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            f"<b>مشترك</b>: {context.args}", parse_mode="HTML", do_quote=True
        )
        await received.put(" ".join(context.args or []))

    app = Application.builder().token(tg.token).base_url(tg.base_url + "/bot").build()
    app.add_handler(CommandHandler("subscribe", subscribe))
    tg.user_message(PRIVATE, PRIVATE, "/subscribe iraq-truce")
    async with app:
        assert app.updater is not None
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        tg.user_message(PRIVATE, PRIVATE, "/subscribe strike-on-bases")
        got = [await asyncio.wait_for(received.get(), 5) for _ in range(2)]
        await app.updater.stop()
        await app.stop()
    assert got == ["iraq-truce", "strike-on-bases"]
    replies = tg.messages(PRIVATE)
    assert [m.bold_spans for m in replies] == [["مشترك"], ["مشترك"]]
    assert all(m.reply_to_message_id for m in replies)
    assert tg.pending_updates() == []  # PTB confirmed them on stop
    assert "deleteWebhook" in [r.method for r in tg.requests]
