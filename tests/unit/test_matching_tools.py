"""The CLI bodies: rules check, rules test, match (text, file, stdin, JSON lines)."""

from __future__ import annotations

import io
import json
import sys
import textwrap
from pathlib import Path

import pytest

from monitor.matching.tools import format_spans, match_command, rules_check, rules_test

GOOD = """
id: truce
title: هدنة
level: high
keywords: [هدنة, ceasefire]
examples:
  match: [الهدنة صامدة, "Ceasefire holds"]
  no_match: [المهادنة]
"""


def rules_dir(tmp_path: Path, *files: str) -> Path:
    d = tmp_path / "rules"
    d.mkdir()
    for i, text in enumerate(files):
        (d / f"r{i}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return d


def run(fn: object, *args: object, **kw: object) -> tuple[int, str]:
    out = io.StringIO()
    code = fn(*args, out=out, **kw)  # type: ignore[operator]
    return code, out.getvalue()


def test_check_ok(tmp_path: Path) -> None:
    code, out = run(rules_check, rules_dir(tmp_path, GOOD))
    assert code == 0
    assert out.startswith("ok: 1 rule(s)")


def test_check_reports_every_problem(tmp_path: Path) -> None:
    d = rules_dir(tmp_path, GOOD, "id: a\nkeywords: ['@x']\nlevel: loud\n", "id: b\nkeywords: [\n")
    code, out = run(rules_check, d)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"{d / 'r1.yaml'}:2: rule 'a': unknown entity '@x'")
    assert lines[1].startswith(f"{d / 'r1.yaml'}:3: 'level' 'loud'")
    assert lines[2].startswith(f"{d / 'r2.yaml'}:3: YAML syntax")
    assert lines[3] == "3 problem(s); 1 rule(s) usable"


def test_check_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(rules_check, tmp_path / "nope")
    assert code == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_rules_test_passes(tmp_path: Path) -> None:
    code, out = run(rules_test, rules_dir(tmp_path, GOOD))
    assert code == 0
    assert out.strip() == "3 example(s), 0 failed, 1 rule(s)"


def test_rules_test_shows_failures_with_spans(tmp_path: Path) -> None:
    bad = """
    id: bases
    match:
      attack: [قصف]
      place: [عين الأسد]
    condition: attack and place
    examples:
      match: [قصف مطار بغداد]
      no_match: [قصف قاعدة عين الأسد]
    """
    code, out = run(rules_test, rules_dir(tmp_path, bad, "id: quiet\nkeywords: [x]\n"))
    assert code == 1
    lines = out.splitlines()
    assert lines[0].endswith("r0.yaml:8: rule 'bases': should match but did not: [قصف] مطار بغداد")
    assert lines[1] == "    groups hit: attack: قصف; place: -"
    assert lines[2].endswith(
        "r0.yaml:9: rule 'bases': should not match but did: [قصف] قاعدة [عين الأسد]"
    )
    assert lines[3] == "    groups hit: attack: قصف; place: عين الأسد"
    assert lines[4] == "note: rule 'quiet' has no examples"
    assert lines[5] == "2 example(s), 2 failed, 2 rule(s)"


def test_rules_test_runs_examples_inside_the_rule_scope(tmp_path: Path) -> None:
    scoped = """
    id: scoped
    keywords: [هدنة]
    sources: [tag:iraq]
    examples:
      match: [هدنة, {text: هدنة, source: x, tags: [iraq]}]
      no_match: [{text: هدنة, source: other, tags: [sport]}]
    """
    code, out = run(rules_test, rules_dir(tmp_path, scoped))
    assert (code, out.strip()) == (0, "3 example(s), 0 failed, 1 rule(s)")


def test_rules_test_fails_on_problems(tmp_path: Path) -> None:
    code, out = run(rules_test, rules_dir(tmp_path, GOOD, "id: a\nkeywords: ['@x']\n"))
    assert code == 1
    assert "unknown entity '@x'" in out
    assert out.splitlines()[-1] == "3 example(s), 0 failed, 1 rule(s), 1 problem(s)"


def test_match_text_human(tmp_path: Path) -> None:
    d = rules_dir(tmp_path, GOOD)
    code, out = run(
        match_command, d, text="قال إن الهُدنةَ صامدة", file=None, jsonl=None, as_json=False
    )
    assert code == 0
    assert out.splitlines() == [
        "truce (high): هدنة",
        "  text 7-15 'الهُدنةَ' <- 'هدنة' (keywords)",
        "    قال إن [الهُدنةَ] صامدة",
    ]
    code, out = run(match_command, d, text="لا شيء", file=None, jsonl=None, as_json=False)
    assert (code, out) == (0, "no rule matched\n")


def test_match_text_json(tmp_path: Path) -> None:
    d = rules_dir(tmp_path, GOOD)
    code, out = run(
        match_command, d, text="قال إن الهُدنةَ صامدة", file=None, jsonl=None, as_json=True
    )
    assert code == 0
    assert json.loads(out) == {
        "id": None,
        "matches": [
            {
                "rule": "truce",
                "hits": [
                    {
                        "field": "text",
                        "start": 7,
                        "end": 15,
                        "term": "هدنة",
                        "group": "keywords",
                        "entity": None,
                        "text": "الهُدنةَ",
                    }
                ],
            }
        ],
    }


def test_match_file_and_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = rules_dir(tmp_path, GOOD)
    f = tmp_path / "item.txt"
    f.write_text("عن الهدنة\nسطر ثان", encoding="utf-8")
    code, out = run(match_command, d, text=None, file=f, jsonl=None, as_json=True)
    assert code == 0
    record = json.loads(out)
    assert record["id"] == str(f)
    assert record["matches"][0]["hits"][0]["text"] == "الهدنة"
    monkeypatch.setattr(sys, "stdin", io.StringIO("ceasefire now"))
    code, out = run(match_command, d, text=None, file=Path("-"), jsonl=None, as_json=False)
    assert code == 0 and out.startswith("truce (high)")


def test_match_jsonl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = rules_dir(tmp_path, GOOD)
    batch = tmp_path / "batch.jsonl"
    batch.write_text(
        "\n".join(
            [
                json.dumps({"id": 1, "text": "الهدنة", "title": "Ceasefire"}, ensure_ascii=False),
                "",
                json.dumps({"id": "b", "text": "لا شيء"}, ensure_ascii=False),
                "{not json",
                json.dumps({"id": 3, "text": 5}),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    code, out = run(match_command, d, text=None, file=None, jsonl=batch, as_json=True)
    assert code == 2  # bad lines are reported, the others matched
    lines = [json.loads(x) for x in out.splitlines()]
    assert lines[0] == {
        "id": 1,
        "matches": [
            {
                "rule": "truce",
                "hits": [
                    {
                        "field": "title",
                        "start": 0,
                        "end": 9,
                        "term": "ceasefire",
                        "group": "keywords",
                        "entity": None,
                        "text": "Ceasefire",
                    },
                    {
                        "field": "text",
                        "start": 0,
                        "end": 6,
                        "term": "هدنة",
                        "group": "keywords",
                        "entity": None,
                        "text": "الهدنة",
                    },
                ],
            }
        ],
    }
    assert lines[1] == {"id": "b", "matches": []}
    assert lines[2]["id"] is None and "error" in lines[2]
    assert lines[3] == {"id": 3, "error": "'text' and 'title' must be strings"}
    err = capsys.readouterr().err
    assert f"{batch}:4:" in err and f"{batch}:5:" in err


@pytest.mark.parametrize(
    "kwargs",
    [
        {"text": None, "file": None, "jsonl": None},
        {"text": "x", "file": Path("f"), "jsonl": None},
    ],
)
def test_match_usage(tmp_path: Path, kwargs: dict[str, object]) -> None:
    code, _ = run(match_command, rules_dir(tmp_path, GOOD), as_json=False, **kwargs)
    assert code == 2


def test_match_missing_inputs(tmp_path: Path) -> None:
    d = rules_dir(tmp_path, GOOD)
    assert (
        run(match_command, tmp_path / "nope", text="x", file=None, jsonl=None, as_json=False)[0]
        == 2
    )
    assert (
        run(match_command, d, text=None, file=tmp_path / "nope", jsonl=None, as_json=False)[0] == 2
    )


def test_match_warns_about_broken_rules_and_runs_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = rules_dir(tmp_path, GOOD, "id: a\nkeywords: ['@x']\n")
    code, out = run(match_command, d, text="هدنة", file=None, jsonl=None, as_json=False)
    assert code == 0 and out.startswith("truce")
    assert "warning:" in capsys.readouterr().err


def test_format_spans() -> None:
    text = "قصف قاعدة عين الأسد غرب الأنبار"
    assert format_spans(text, [(4, 19), (10, 19)]) == "قصف [قاعدة عين الأسد] غرب الأنبار"
    assert format_spans(text, [(0, 3)], context=5) == "[قصف] قاعد…"
    assert format_spans("a\nb", []) == "a b"
