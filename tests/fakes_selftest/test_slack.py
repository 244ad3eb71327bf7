"""FakeSlack answers httpx the way Slack's webhooks and Web API do."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.slack import FakeSlack

HOOK = "/services/T000/B000/XXXX"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as srv:
        yield srv
    assert srv.internal_errors == []


@pytest.fixture
def client(slack: FakeSlack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=slack.base_url, timeout=5.0) as http:
        yield http


def api(client: httpx.Client, slack: FakeSlack, method: str, **args: Any) -> httpx.Response:
    """A Web API call as Slack SDKs make it: bearer token, JSON with a charset."""
    headers = {
        "Authorization": f"Bearer {slack.token}",
        "Content-Type": "application/json; charset=utf-8",
    }
    return client.post(f"/api/{method}", headers=headers, content=json.dumps(args).encode())


# --- incoming webhooks -----------------------------------------------------------------------


def test_webhook_ok_and_recorded(slack: FakeSlack, client: httpx.Client) -> None:
    answer = client.post(HOOK, json={"text": "عاجل: قصف &lt;قرب&gt; بغداد"})
    assert (answer.status_code, answer.text) == (200, "ok")
    assert answer.headers["content-type"].startswith("text/plain")
    answer = client.post(HOOK, data={"payload": json.dumps({"text": "legacy form"})})
    assert (answer.status_code, answer.text) == (200, "ok")
    texts = [m.text for m in slack.messages(HOOK)]
    assert texts == ["عاجل: قصف &lt;قرب&gt; بغداد", "legacy form"]
    assert slack.messages(HOOK)[0].via == "webhook"
    assert slack.arrival_times(HOOK) == sorted(slack.arrival_times(HOOK))


@pytest.mark.parametrize(
    ("body", "status", "word"),
    [
        (b"{not json", 400, "invalid_payload"),
        (b"[1, 2]", 400, "invalid_payload"),
        (b"{}", 400, "no_text"),
        (json.dumps({"blocks": [{"type": "divider"}] * 51}).encode(), 400, "invalid_blocks"),
        (json.dumps({"blocks": [{"type": "nope"}]}).encode(), 400, "invalid_blocks"),
    ],
)
def test_webhook_payload_errors(client: httpx.Client, body: bytes, status: int, word: str) -> None:
    answer = client.post(HOOK, content=body, headers={"Content-Type": "application/json"})
    assert (answer.status_code, answer.text) == (status, word)


def test_webhook_states() -> None:
    hooks: dict[str, str | None] = {
        "/services/T/B/alerts": "C0ALERTS",
        "/services/T/B/desk": "C0DESK",
    }
    with FakeSlack(webhooks=hooks) as srv, httpx.Client(base_url=srv.base_url) as client:
        answer = client.post("/services/T/B/unknown", json={"text": "x"})
        assert (answer.status_code, answer.text) == (404, "no_service")
        srv.webhook_error("/services/T/B/desk", "action_prohibited")
        answer = client.post("/services/T/B/desk", json={"text": "x"})
        assert (answer.status_code, answer.text) == (403, "action_prohibited")
        srv.archive("C0ALERTS")
        answer = client.post("/services/T/B/alerts", json={"text": "x"})
        assert (answer.status_code, answer.text) == (410, "channel_is_archived")
        srv.webhook_error("/services/T/B/desk", None)
        assert client.post("/services/T/B/desk", json={"text": "x"}).text == "ok"
        assert [m.channel for m in srv.messages("C0DESK")] == ["C0DESK"]
        assert srv.messages("#desk") == srv.messages("/services/T/B/desk")


def test_webhook_faults(slack: FakeSlack, client: httpx.Client) -> None:
    slack.fail_next("webhook", status=429, retry_after=4)
    answer = client.post(HOOK, json={"text": "x"})
    assert (answer.status_code, answer.text) == (429, "rate_limited")
    assert answer.headers["retry-after"] == "4"
    assert slack.rate_limited[-1].retry_after == 4 and slack.rate_limited[-1].injected
    slack.fail_next("webhook", status=500)
    assert client.post(HOOK, json={"text": "x"}).status_code == 500
    slack.fail_next("webhook", status=404)
    assert client.post(HOOK, json={"text": "x"}).text == "no_service"
    assert slack.messages() == []
    slack.fail_every(2, status=429)
    codes = [client.post(HOOK, json={"text": f"m{i}"}).status_code for i in range(4)]
    assert codes == [200, 429, 200, 429]
    assert [r.status for r in slack.requests][-4:] == codes


def test_slow_and_dropped_webhook(slack: FakeSlack, client: httpx.Client) -> None:
    slack.delay_next(1.0, "webhook")
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.post(HOOK, json={"text": "slow"}, timeout=0.2)
    assert time.monotonic() - started < 0.9
    assert [m.text for m in slack.messages()] == ["slow"]  # posted anyway
    slack.drop_connection_next("webhook")
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(HOOK, json={"text": "lost"})
    assert [m.text for m in slack.messages()] == ["slow"]
    assert client.post(HOOK, json={"text": "after"}).text == "ok"


def test_webhook_rate_limit_per_target() -> None:
    with (
        FakeSlack(enforce_limits=True, burst=2) as srv,
        httpx.Client(base_url=srv.base_url) as client,
    ):
        codes = [client.post(HOOK, json={"text": f"{i}"}).status_code for i in range(3)]
        assert codes == [200, 200, 429]
        assert srv.requests[-1].error == "rate_limited"
        assert client.post("/services/T000/B000/OTHER", json={"text": "x"}).status_code == 200
        assert not srv.rate_limited[-1].injected


# --- Web API ---------------------------------------------------------------------------------


def test_post_message_and_update(slack: FakeSlack, client: httpx.Client) -> None:
    answer = api(client, slack, "chat.postMessage", channel="#alerts", text="عاجل")
    body = answer.json()
    assert answer.status_code == 200 and body["ok"] is True
    assert body["channel"] == "C0ALERTS" and body["message"]["text"] == "عاجل"
    ts = body["ts"]
    assert ts.count(".") == 1 and len(ts.split(".")[1]) == 6
    second = api(client, slack, "chat.postMessage", channel="C0ALERTS", text="ثاني").json()
    assert float(second["ts"]) > float(ts)
    updated = api(client, slack, "chat.update", channel="C0ALERTS", ts=ts, text="تحديث").json()
    assert updated["ok"] and updated["text"] == "تحديث"
    record = slack.messages("C0ALERTS")[0]
    assert record.text == "تحديث" and record.versions[0]["text"] == "عاجل"
    missing = api(client, slack, "chat.update", channel="C0ALERTS", ts="1.000001", text="x")
    assert missing.json() == {"ok": False, "error": "message_not_found"}
    assert api(client, slack, "chat.delete", channel="C0ALERTS", ts=ts).json()["ok"]
    assert api(client, slack, "auth.test").json()["user_id"] == "U0BOTUSER"
    unknown = api(client, slack, "chat.nothing")
    assert unknown.json()["error"] == "unknown_method"


def test_api_auth(slack: FakeSlack, client: httpx.Client) -> None:
    no_auth = client.post("/api/chat.postMessage", json={"channel": "C0ALERTS", "text": "x"})
    assert (no_auth.status_code, no_auth.json()["error"]) == (200, "not_authed")
    wrong = client.post(
        "/api/chat.postMessage",
        headers={"Authorization": "Bearer xoxb-wrong"},
        json={"channel": "C0ALERTS", "text": "x"},
    )
    assert (wrong.status_code, wrong.json()) == (200, {"ok": False, "error": "invalid_auth"})
    form = client.post(
        "/api/chat.postMessage",
        data={
            "token": slack.token,
            "channel": "C0DESK",
            "text": "form",
            "blocks": json.dumps([{"type": "section", "text": {"type": "mrkdwn", "text": "*b*"}}]),
        },
    )
    assert form.json()["ok"] is True
    assert slack.messages("C0DESK")[0].blocks == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*b*"}}
    ]
    json_no_charset = client.post(
        "/api/chat.postMessage",
        headers={"Authorization": f"Bearer {slack.token}"},
        json={"channel": "C0DESK", "text": "x"},
    )
    assert json_no_charset.json()["warning"] == "missing_charset"
    assert len(slack.messages()) == 2


def test_api_channel_errors(slack: FakeSlack, client: httpx.Client) -> None:
    slack.add_channel("C0OUT", "outside", member=False)
    slack.archive("C0DESK")
    assert (
        api(client, slack, "chat.postMessage", channel="C0NOPE", text="x").json()["error"]
        == "channel_not_found"
    )
    assert (
        api(client, slack, "chat.postMessage", channel="C0DESK", text="x").json()["error"]
        == "is_archived"
    )
    assert (
        api(client, slack, "chat.postMessage", channel="C0OUT", text="x").json()["error"]
        == "not_in_channel"
    )
    assert api(client, slack, "chat.postMessage", channel="C0ALERTS").json()["error"] == "no_text"
    assert slack.messages() == []


@pytest.mark.parametrize(
    ("blocks", "pointer"),
    [
        (
            [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
            "/blocks/0/text/text",
        ),
        (
            [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
            "/blocks/0/text/text",
        ),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}], "/blocks/0/text/type"),
        (
            [{"type": "context", "elements": [{"type": "mrkdwn", "text": "x"}] * 11}],
            "/blocks/0/elements",
        ),
        ([{"type": "divider"}] * 51, "/blocks"),
        ([{"type": "section"}], "/blocks/0"),
        (
            [{"type": "divider", "block_id": "a"}, {"type": "divider", "block_id": "a"}],
            "/blocks/1/block_id",
        ),
    ],
)
def test_invalid_blocks(
    slack: FakeSlack, client: httpx.Client, blocks: list[Any], pointer: str
) -> None:
    body = api(
        client, slack, "chat.postMessage", channel="C0ALERTS", text="x", blocks=blocks
    ).json()
    assert body["ok"] is False and body["error"] == "invalid_blocks"
    assert any(f"[json-pointer:{pointer}]" in m for m in body["response_metadata"]["messages"])
    assert slack.messages() == []


def test_blocks_limits_are_inclusive(slack: FakeSlack, client: httpx.Client) -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3000}}
    ]
    blocks += [{"type": "header", "text": {"type": "plain_text", "text": "h" * 150}}]
    blocks += [{"type": "context", "elements": [{"type": "plain_text", "text": "c"}] * 10}]
    blocks += [{"type": "divider"}] * 47
    answer = api(client, slack, "chat.postMessage", channel="C0ALERTS", text="x", blocks=blocks)
    assert answer.json()["ok"] is True
    assert api(client, slack, "chat.postMessage", channel="C0ALERTS", blocks="nope").json()[
        "error"
    ] == ("invalid_blocks_format")


def test_long_text_is_truncated_and_recorded(slack: FakeSlack, client: httpx.Client) -> None:
    assert client.post(HOOK, json={"text": "ع" * 40_001}).text == "ok"
    record = slack.messages()[0]
    assert record.truncated and len(record.text or "") == 40_000


def test_api_rate_limits(slack: FakeSlack, client: httpx.Client) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=9, channel="#alerts")
    limited = api(client, slack, "chat.postMessage", channel="C0ALERTS", text="x")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "9"
    assert limited.json() == {"ok": False, "error": "ratelimited"}
    slack.fail_next("chat.postMessage", status=200, error="fatal_error")
    assert (
        api(client, slack, "chat.postMessage", channel="C0ALERTS", text="x").json()["error"]
        == "fatal_error"
    )
    slack.enforce_limits = True
    codes = [
        api(client, slack, "chat.postMessage", channel="C0ALERTS", text="x").status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    assert api(client, slack, "chat.postMessage", channel="C0DESK", text="x").status_code == 200


# --- what Slack would interpret --------------------------------------------------------------


def test_special_tokens() -> None:
    payload = {
        "text": "fallback <!here> &lt;!channel&gt; a &amp; b",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": "<!channel> is literal here"},
            },
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "<@U123> and <http://x.example|click>"},
            },
            {"type": "section", "fields": [{"type": "mrkdwn", "text": "<#C999|general>"}]},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "<!subteam^S1>"}]},
            {
                "type": "rich_text",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [{"type": "broadcast", "range": "everyone"}],
                    }
                ],
            },
        ],
    }
    assert FakeSlack.special_tokens(payload) == [
        "<!here>",
        "<@U123>",
        "<http://x.example|click>",
        "<#C999|general>",
        "<!subteam^S1>",
        "<!everyone>",
    ]
    assert FakeSlack.unescaped({"text": "a &amp; b &lt;x&gt;"}) == []
    assert FakeSlack.unescaped({"text": "a & b"}) == ["a & b"]
    assert FakeSlack.special_tokens({"text": "@here @channel"}) == []
    assert FakeSlack.special_tokens({"text": "@here x", "link_names": True}) == ["@here"]


def test_special_tokens_of_a_recorded_message(slack: FakeSlack, client: httpx.Client) -> None:
    client.post(HOOK, json={"text": "قصف <!channel>", "attachments": [{"text": "<@U1>"}]})
    message = slack.messages(HOOK)[0]
    assert slack.special_tokens(message) == ["<!channel>", "<@U1>"]
    assert slack.mrkdwn_strings(message) == ["قصف <!channel>", "<@U1>"]
