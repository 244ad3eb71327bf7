"""The subscriber bot's commands: what a chat can ask, and the answers (no I/O of its own).

/start /help /rules /subscribe /unsubscribe /mysubs /mute /unmute for everyone (subject to the
subscription policy), /status and /reload for the admins in the config. Unknown commands get the
help text; each user may send `commands_per_minute` commands a minute.
"""

from __future__ import annotations

import html
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from monitor.config.schema import BotConfig, parse_duration
from monitor.matching import RuleInfo
from monitor.model import utcnow
from monitor.pacing import WindowLimit
from monitor.subscriptions import SubscriptionStore

PUBLIC_COMMANDS = [
    ("start", "ابدأ · start"),
    ("help", "المساعدة · help"),
    ("rules", "القواعد المتاحة · list rules"),
    ("subscribe", "اشترك بقاعدة أو وسم · subscribe <rule|tag>"),
    ("unsubscribe", "ألغِ الاشتراك · unsubscribe <rule|tag|all>"),
    ("mysubs", "اشتراكاتي · my subscriptions"),
    ("mute", "كتم مؤقت · mute <30m|2h|1d>"),
    ("unmute", "إلغاء الكتم · unmute"),
]
ADMIN_COMMANDS = [("status", "حالة المراقب · status"), ("reload", "إعادة تحميل · reload")]

HELP = (
    "<b>monitor</b> — تنبيهات الأخبار · news alerts\n\n"
    "/rules — القواعد · the rules you can follow\n"
    "/subscribe &lt;rule id | tag&gt; — اشترك · subscribe\n"
    "/unsubscribe &lt;rule id | tag | all&gt; — ألغِ · unsubscribe\n"
    "/mysubs — اشتراكاتي · what this chat follows\n"
    "/mute 2h — كتم · pause alerts for a while\n"
    "/unmute — إلغاء الكتم · resume"
)


@dataclass(frozen=True)
class Command:
    chat_id: str
    user_id: int | None
    name: str  # without the slash and @botname, lower-case
    args: list[str]


def parse_command(text: str, chat_id: str, user_id: int | None) -> Command | None:
    if not text.startswith("/"):
        return None
    head, *args = text.strip().split()
    name = head[1:].split("@", 1)[0].lower()
    return Command(chat_id, user_id, name, args) if name else None


class CommandHandler:
    def __init__(
        self,
        config: BotConfig,
        subs: SubscriptionStore,
        rules: Callable[[], Sequence[RuleInfo]],
        status: Callable[[], Awaitable[str]],
        reload: Callable[[], Awaitable[str]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.subs = subs
        self.rules = rules
        self.status = status
        self.reload = reload
        self.clock = clock
        self._limits: dict[int | str, WindowLimit] = {}

    async def handle(self, cmd: Command) -> str | None:
        """The reply (Telegram HTML), or None to stay silent (a user over the rate limit)."""
        who = cmd.user_id if cmd.user_id is not None else cmd.chat_id
        limit = self._limits.setdefault(
            who, WindowLimit(self.config.commands_per_minute, 60.0, self.clock)
        )
        if limit.wait_time() > 0:
            return None
        limit.take()
        handler = getattr(self, f"_cmd_{cmd.name}", None)
        if handler is None:
            return "❓ لا أعرف هذا الأمر · Unknown command.\n\n" + HELP
        reply: str = await handler(cmd)
        return reply

    # everyone ----------------------------------------------------------------------------

    async def _cmd_start(self, cmd: Command) -> str:
        return HELP

    async def _cmd_help(self, cmd: Command) -> str:
        return HELP

    async def _cmd_rules(self, cmd: Command) -> str:
        rules = sorted(self.rules(), key=lambda r: r.id)
        if not rules:
            return "لا توجد قواعد · No rules are loaded."
        lines = [
            f"• <code>{html.escape(r.id)}</code> — {html.escape(r.title)}"
            + (f" <i>({html.escape(', '.join(r.tags))})</i>" if r.tags else "")
            for r in rules
        ]
        return "<b>القواعد · Rules</b>\n" + "\n".join(lines[:80])

    async def _cmd_subscribe(self, cmd: Command) -> str:
        refusal = self._refused(cmd)
        if refusal:
            return refusal
        if not cmd.args:
            return (
                "اكتب معرّف القاعدة أو الوسم · Usage: /subscribe &lt;rule id | tag&gt; (see /rules)"
            )
        subs = await self.subs.load()
        chat = subs.chat(cmd.chat_id)
        added = []
        for arg in cmd.args:
            kind, name = self._resolve(arg)
            if kind is None:
                return f"❓ لا توجد قاعدة أو وسم باسم · No rule or tag named <code>{html.escape(arg)}</code>. See /rules"
            (chat.rules if kind == "rule" else chat.tags).add(name)
            added.append(f"{kind} {name}")
        await self.subs.save(subs)
        return "✅ مشترك · Subscribed: " + html.escape(", ".join(added))

    async def _cmd_unsubscribe(self, cmd: Command) -> str:
        subs = await self.subs.load()
        chat = subs.chat(cmd.chat_id)
        if not cmd.args:
            return "Usage: /unsubscribe &lt;rule id | tag | all&gt;"
        if cmd.args == ["all"]:
            chat.rules.clear()
            chat.tags.clear()
        else:
            for arg in cmd.args:
                name = arg.removeprefix("tag:")
                chat.rules.discard(arg)
                chat.tags.discard(name)
        await self.subs.save(subs)
        return "🗑 أُلغي · Unsubscribed: " + html.escape(" ".join(cmd.args))

    async def _cmd_mysubs(self, cmd: Command) -> str:
        chat = (await self.subs.load()).chats.get(cmd.chat_id)
        if chat is None or (not chat.rules and not chat.tags):
            return "لا اشتراكات · This chat follows nothing yet. /rules then /subscribe"
        lines = [f"• rule <code>{html.escape(r)}</code>" for r in sorted(chat.rules)]
        lines += [f"• tag <code>{html.escape(t)}</code>" for t in sorted(chat.tags)]
        if chat.muted():
            lines.append(f"🔇 muted until {chat.muted_until:%Y-%m-%d %H:%M} UTC")
        return "<b>اشتراكاتي · Subscriptions</b>\n" + "\n".join(lines)

    async def _cmd_mute(self, cmd: Command) -> str:
        try:
            seconds = float(parse_duration(cmd.args[0])) if cmd.args else 3600.0
        except ValueError:
            return "Usage: /mute 30m | 2h | 1d"
        subs = await self.subs.load()
        until = utcnow() + timedelta(seconds=min(seconds, 30 * 86400))
        subs.chat(cmd.chat_id).muted_until = until
        await self.subs.save(subs)
        return f"🔇 مكتوم حتى · Muted until {until:%Y-%m-%d %H:%M} UTC. /unmute to resume."

    async def _cmd_unmute(self, cmd: Command) -> str:
        subs = await self.subs.load()
        subs.chat(cmd.chat_id).muted_until = None
        await self.subs.save(subs)
        return "🔔 عادت التنبيهات · Alerts resumed."

    # admins ------------------------------------------------------------------------------

    async def _cmd_status(self, cmd: Command) -> str:
        if cmd.user_id not in self.config.admins:
            return "⛔ هذا الأمر للمشرفين فقط · This command is for operators only."
        return await self.status()

    async def _cmd_reload(self, cmd: Command) -> str:
        if cmd.user_id not in self.config.admins:
            return "⛔ هذا الأمر للمشرفين فقط · This command is for operators only."
        return await self.reload()

    # helpers -----------------------------------------------------------------------------

    def _refused(self, cmd: Command) -> str | None:
        if self.config.subscription == "open" or cmd.user_id in self.config.admins:
            return None
        allowed = set(self.config.allowlist)
        if (cmd.user_id in allowed) or (
            cmd.chat_id.lstrip("-").isdigit() and int(cmd.chat_id) in allowed
        ):
            return None
        return "⛔ الاشتراك بدعوة فقط · Subscriptions are by invitation; ask an operator."

    def _resolve(self, arg: str) -> tuple[str | None, str]:
        rules = self.rules()
        if arg.startswith("tag:"):
            tag = arg[4:]
            return ("tag", tag) if any(tag in r.tags for r in rules) else (None, arg)
        if any(r.id == arg for r in rules):
            return "rule", arg
        if any(arg in r.tags for r in rules):
            return "tag", arg
        return None, arg
