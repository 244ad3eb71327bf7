"""deploy/Dockerfile and .dockerignore, checked without a Docker engine (none runs here).

The Dockerfile is parsed by BuildKit's own parser (the `dockerfile` package); every command the
image runs is checked against the real CLI parser, every file it copies against the repository
and against .dockerignore (a file the ignore rules drop would fail the build).
"""

from __future__ import annotations

import posixpath
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.deploy.support import DEPLOY, REPO, cli_problem

dockerfile = pytest.importorskip(
    "dockerfile", reason="the `dockerfile` parser (a dev dependency) is not installed"
)

DOCKERFILE = DEPLOY / "Dockerfile"
# rules/ arrives with the rule-language work; until it is in the checkout the image cannot build.
LATER = {"rules": "rules/ is not in this checkout yet (it comes with the rules work)"}


@dataclass
class Stage:
    name: str | None
    base: str
    commands: list = field(default_factory=list)

    def all(self, cmd: str) -> list:
        return [c for c in self.commands if c.cmd == cmd.upper()]

    def last(self, cmd: str):  # type: ignore[no-untyped-def]
        found = self.all(cmd)
        return found[-1] if found else None


def _stages() -> list[Stage]:
    commands = dockerfile.parse_file(str(DOCKERFILE))
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for command in commands:
        if command.cmd == "ARG" and not stages:
            name, _, default = command.value[0].partition("=")
            args[name] = default
        elif command.cmd == "FROM":
            base = re.sub(
                r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), command.value[0]
            )
            name = command.value[2] if len(command.value) == 3 else None
            stages.append(Stage(name, base))
        elif stages:
            stages[-1].commands.append(command)
    return stages


STAGES = _stages()
FINAL = STAGES[-1]


def _flag(command, name: str) -> str | None:  # type: ignore[no-untyped-def]
    for flag in command.flags:
        if flag.startswith(f"--{name}="):
            return flag.split("=", 1)[1]
    return None


def _exec_form(command) -> list[str]:  # type: ignore[no-untyped-def]
    """CMD/HEALTHCHECK arguments as an argv list (exec form preferred, shell form split)."""
    values = list(command.value)
    if command.cmd == "HEALTHCHECK":
        assert values[0] == "CMD", f"HEALTHCHECK {values[0]} (want CMD)"
        values = values[1:]
        return values if command.json else shlex.split(values[0])
    return values if command.json else shlex.split(values[0])


def _env() -> dict[str, str]:
    """ENV of the runtime stage (the parser gives key, value, key, value, ...)."""
    env: dict[str, str] = {}
    for command in FINAL.all("ENV"):
        values = list(command.value)
        env.update(zip(values[0::2], values[1::2], strict=True))
    return env


# --- .dockerignore, as moby/patternmatcher reads it ---------------------------------------------


def _ignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in (REPO / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:].strip() if negate else line
        pattern = pattern.strip("/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex += "(?:.*/)?"
                i += 3
            elif pattern.startswith("**", i):
                regex += ".*"
                i += 2
            elif pattern[i] == "*":
                regex += "[^/]*"
                i += 1
            elif pattern[i] == "?":
                regex += "[^/]"
                i += 1
            else:
                regex += re.escape(pattern[i])
                i += 1
        rules.append((negate, re.compile(regex)))
    return rules


IGNORE = _ignore_rules()


def ignored(relative: str) -> bool:
    """True when the build context leaves `relative` out (the last matching rule wins; a rule
    matching a parent folder matches its files)."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negate, regex in IGNORE:
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            excluded = not negate
    return excluded


def _tracked(path: str) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--", path], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    return out or ([path] if (REPO / path).is_file() else [])


def _context_copies() -> list[tuple[Stage, str, str]]:
    copies = []
    for stage in STAGES:
        for command in stage.all("COPY") + stage.all("ADD"):
            if _flag(command, "from"):
                continue
            *sources, dest = command.value
            copies += [(stage, source, dest) for source in sources]
    return copies


# --- tests ------------------------------------------------------------------------------------


def test_multi_stage_on_a_slim_python_311_or_newer() -> None:
    assert len(STAGES) >= 2, "build the wheel in one stage, run from another"
    for stage in STAGES:
        match = re.fullmatch(r"python:3\.(\d+)(?:\.\d+)?-slim(?:-\w+)?(?:@sha256:\w+)?", stage.base)
        assert match, f"FROM {stage.base}: want a python:3.x-slim image"
        assert int(match.group(1)) >= 11, f"FROM {stage.base}: monitor needs Python 3.11+"
    assert STAGES[0].name, "the build stage needs a name for COPY --from"
    # the same base for both stages: the venv's python symlink points into the base image
    assert len({stage.base for stage in STAGES}) == 1


def test_copy_from_names_an_earlier_stage() -> None:
    names = [stage.name for stage in STAGES]
    for index, stage in enumerate(STAGES):
        for command in stage.all("COPY"):
            source_stage = _flag(command, "from")
            if source_stage:
                assert source_stage in names[:index], f"COPY --from={source_stage}: no such stage"


def test_builds_a_wheel_and_installs_it_into_a_venv() -> None:
    build = " && ".join(" ".join(c.value) for c in STAGES[0].all("RUN"))
    assert "python -m venv /opt/venv" in build
    assert re.search(r"pip wheel .*--wheel-dir /wheels", build)
    assert re.search(r"/opt/venv/bin/pip install .*/wheels/monitor-\*\.whl", build)
    copies = [c for c in FINAL.all("COPY") if _flag(c, "from")]
    assert any(c.value[0] == "/opt/venv" for c in copies), "the runtime stage copies the venv"
    assert _env()["PATH"].startswith("/opt/venv/bin:"), "`monitor` on PATH for CMD/HEALTHCHECK"
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert "monitor" in scripts, "the console script the image calls"


def test_dependency_one_liner_prints_the_pyproject_dependencies(tmp_path: Path) -> None:
    """The RUN that lists the dependencies (cached layer) really prints them: run its first
    command through /bin/sh exactly as written, with this interpreter as `python`."""
    run = next(c for c in STAGES[0].all("RUN") if "tomllib" in c.value[0])
    first = run.value[0].split("&&")[0]
    out = tmp_path / "requirements.txt"
    script = first.replace("/tmp/requirements.txt", str(out))
    script = re.sub(r"^\s*python\b", shlex.quote(sys.executable), script)
    subprocess.run(["/bin/sh", "-c", script], cwd=REPO, check=True, timeout=60)
    wanted = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert out.read_text().split("\n")[: len(wanted)] == wanted


def test_runs_as_a_numeric_non_root_user() -> None:
    user = FINAL.last("USER")
    assert user is not None, "the runtime stage must set USER"
    uid = user.value[0].split(":")[0]
    assert uid.isdigit(), f"USER {uid}: numeric, so Kubernetes' runAsNonRoot can verify it"
    assert int(uid) != 0
    useradd = " ".join(" ".join(c.value) for c in FINAL.all("RUN"))
    assert f"--uid {uid}" in useradd, "the user exists in /etc/passwd (for tools that look)"
    # nothing after USER switches back
    index = FINAL.commands.index(user)
    assert not [c for c in FINAL.commands[index + 1 :] if c.cmd == "USER"]


def test_cmd_and_healthcheck_are_real_monitor_commands() -> None:
    cmd = FINAL.last("CMD")
    assert cmd is not None and cmd.json, "CMD in exec form (signals reach monitor, not a shell)"
    assert _exec_form(cmd) == ["monitor", "run"]
    assert cli_problem(_exec_form(cmd)) is None
    health = FINAL.last("HEALTHCHECK")
    assert health is not None, "HEALTHCHECK missing"
    argv = _exec_form(health)
    assert argv[:2] == ["monitor", "health"], argv
    assert cli_problem(argv) is None
    assert not FINAL.all("ENTRYPOINT"), "no ENTRYPOINT: `docker run IMAGE monitor status` works"


def test_runtime_settings() -> None:
    assert FINAL.last("WORKDIR").value[0] == "/app"
    assert FINAL.last("STOPSIGNAL").value[0] == "SIGTERM"
    assert "9108" in " ".join(FINAL.last("EXPOSE").value)
    env = _env()
    assert env["MONITOR_CONFIG"] == "/app/monitor.yaml"
    assert env["MONITOR_HTTP_LISTEN"].endswith(":9108")
    volumes = [v for c in FINAL.all("VOLUME") for v in c.value]
    assert "/app/var" in volumes, "the embedded store survives a new container"


def _runtime_targets() -> dict[str, str]:
    """Where each build-context COPY of the runtime stage lands: {target path: source}."""
    workdir = "/"
    targets: dict[str, str] = {}
    for command in FINAL.commands:
        if command.cmd == "WORKDIR":
            workdir = posixpath.join(workdir, command.value[0])
        elif command.cmd == "COPY" and not _flag(command, "from"):
            *sources, dest = command.value
            base = posixpath.normpath(posixpath.join(workdir, dest))
            for source in sources:
                into_folder = dest.endswith("/") or dest in (".", "./") or len(sources) > 1
                is_file = (REPO / source).is_file() or not source.endswith("/")
                if into_folder and is_file and not (REPO / source).is_dir():
                    targets[posixpath.join(base, posixpath.basename(source))] = source
                else:
                    targets[base] = source  # a folder's contents go into base
    return targets


def test_copies_config_and_rules_into_app() -> None:
    targets = _runtime_targets()
    assert targets.get("/app/monitor.yaml") == "monitor.yaml"
    assert targets.get("/app/rules") == "rules/"
    # the demo source named in monitor.yaml resolves inside the image
    config = (REPO / "monitor.yaml").read_text()
    for url in re.findall(r"url:\s*(examples/[^,}\s]+)", config):
        assert any(url.startswith(t.removeprefix("/app/")) for t in targets), url


def test_every_copied_file_exists_and_is_in_the_build_context() -> None:
    for _, source, _ in _context_copies():
        path = source.rstrip("/")
        if path in LATER and not (REPO / path).exists():
            continue  # reported by the next test
        assert (REPO / path).exists(), f"COPY {source}: not in the repository"
        files = _tracked(path) if (REPO / path).is_dir() else [path]
        assert files, f"COPY {source}: no tracked file under it"
        dropped = [f for f in files if ignored(f)]
        assert not dropped, f"COPY {source}: .dockerignore leaves out {dropped[:5]}"


@pytest.mark.parametrize("path", sorted(LATER))
def test_copied_folders_that_arrive_later(path: str) -> None:
    if not (REPO / path).exists():
        pytest.skip(f"COPY {path}/: {LATER[path]}")
    assert not ignored(f"{path}/x.yaml")


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".git/HEAD",
        ".venv/bin/python",
        "var/monitor.db",
        "tests/conftest.py",
        "monitor/__pycache__/cli.cpython-311.pyc",
        "examples/demo/var/demo.db",
    ],
)
def test_dockerignore_keeps_secrets_and_junk_out(path: str) -> None:
    assert ignored(path), f"{path} would be sent to the Docker daemon"


def test_dockerignore_keeps_what_the_build_needs() -> None:
    for path in [
        "pyproject.toml",
        "monitor/cli.py",
        "monitor.yaml",
        "examples/demo/feeds/iraq-news.xml",
    ]:
        assert not ignored(path), path
