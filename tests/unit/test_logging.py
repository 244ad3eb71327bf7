"""Logs: JSON lines off a terminal, readable lines on one, ids on every line, no secrets."""

from __future__ import annotations

import io
import json
import logging

from monitor import logging as mlog

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_json_lines_when_not_on_a_terminal() -> None:
    stream = io.StringIO()
    mlog.configure("info", "auto", stream)
    mlog.get_logger("t").info("alert.sent", source="wire", item="g1", sink="desk", alert="a1")
    line = json.loads(stream.getvalue().strip())
    assert line["event"] == "alert.sent" and line["level"] == "info"
    assert {line["source"], line["item"], line["sink"], line["alert"]} == {
        "wire",
        "g1",
        "desk",
        "a1",
    }
    assert line["timestamp"].endswith("Z")


def test_readable_lines_on_a_terminal() -> None:
    stream = Terminal()
    mlog.configure("info", "auto", stream)
    mlog.get_logger("t").warning("source.failing", source="agency", error="HTTP 500")
    text = stream.getvalue()
    assert not text.startswith("{") and "source.failing" in text and "agency" in text


def test_tokens_never_reach_a_log_line() -> None:
    stream = io.StringIO()
    mlog.configure("debug", "json", stream)
    mlog.register_secrets(["xoxb-secret-slack-token-123", "https://hooks.example/secret-path"])
    log = mlog.get_logger("t")
    log.error(
        "send.failed",
        url=f"https://api.telegram.org/bot{TOKEN}/sendMessage",
        error=RuntimeError(f"bot{TOKEN} failed"),
    )
    log.info("x", note="token xoxb-secret-slack-token-123 and https://hooks.example/secret-path")
    logging.getLogger("httpx").warning("HTTP Request: POST https://api.telegram.org/bot%s/x", TOKEN)
    log.info("slack", hook="https://hooks.slack.com/services/T000/B000/XXXXXXXX")
    out = stream.getvalue()
    assert TOKEN not in out and TOKEN.split(":")[1] not in out
    assert "secret-slack-token" not in out and "secret-path" not in out and "XXXXXXXX" not in out
    assert out.count("<redacted") >= 4
