"""Run monitor's native dependencies under the seccomp rules of systemd's
MemoryDenyWriteExecute=yes, to show that the unit's hardening does not break the daemon.

Usage: python mdwe_probe.py CONFIG   (run by tests/deploy/test_systemd.py in a subprocess:
the filter cannot be removed once loaded).

systemd 252 (Debian 12) implements MemoryDenyWriteExecute= with these seccomp rules
(src/shared/seccomp-util.c, seccomp_memory_deny_write_execute):
  mmap, mmap2                both PROT_WRITE and PROT_EXEC set          -> EPERM
  mprotect, pkey_mprotect    PROT_EXEC set                               -> EPERM
  shmat                      SHM_EXEC set                                -> EPERM
Newer systemd uses prctl(PR_SET_MDWE) where the kernel has it, which refuses less.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import mmap
import sys
from pathlib import Path

SHM_EXEC = 0o100000


def install_filter() -> None:
    import pyseccomp as seccomp

    both = mmap.PROT_WRITE | mmap.PROT_EXEC
    filt = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    deny = seccomp.ERRNO(errno.EPERM)
    for name in ("mmap", "mmap2"):
        # mmap2 exists only on 32-bit architectures
        with contextlib.suppress(RuntimeError, ValueError, OSError):
            filt.add_rule(deny, name, seccomp.Arg(2, seccomp.MASKED_EQ, both, both))
    for name in ("mprotect", "pkey_mprotect"):
        filt.add_rule(deny, name, seccomp.Arg(2, seccomp.MASKED_EQ, mmap.PROT_EXEC, mmap.PROT_EXEC))
    filt.add_rule(deny, "shmat", seccomp.Arg(2, seccomp.MASKED_EQ, SHM_EXEC, SHM_EXEC))
    filt.load()


def filter_is_active() -> bool:
    try:
        mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    except PermissionError:
        return True
    return False


def exercise(config: Path) -> list[str]:
    """Import and use every compiled dependency; return what was done."""
    done = []
    import ssl

    ssl.create_default_context()
    done.append("ssl")
    import sqlite3

    db = sqlite3.connect(":memory:")
    db.execute("create table t (x)")
    db.execute("insert into t values ('هدنة')")
    done.append("sqlite3")
    import re2

    assert re2.compile(r"(?:^|\s)هدنة(?:\s|$)").search("أعلنت هدنة اليوم")
    done.append("google-re2")
    import ahocorasick

    automaton = ahocorasick.Automaton()
    automaton.add_word("هدنة", 1)
    automaton.make_automaton()
    assert list(automaton.iter("أعلنت هدنة اليوم"))
    done.append("pyahocorasick")
    from selectolax.lexbor import LexborHTMLParser

    assert LexborHTMLParser("<div><p>نص</p></div>").css_first("p").text() == "نص"
    done.append("selectolax")
    import pydantic

    class Model(pydantic.BaseModel):
        x: int

    assert Model.model_validate({"x": "3"}).x == 3
    done.append("pydantic-core")
    import feedparser

    feed = Path(__file__).resolve().parents[2] / "examples" / "demo" / "feeds" / "iraq-news.xml"
    assert feedparser.parse(feed.read_bytes()).entries
    done.append("feedparser")
    import apscheduler.schedulers.asyncio  # noqa: F401
    import httpx
    import redis  # noqa: F401
    import structlog  # noqa: F401
    import telegram  # noqa: F401
    import yaml

    yaml.safe_load("a: [1, 2]")

    async def client() -> None:
        async with httpx.AsyncClient():
            pass

    asyncio.run(client())
    done.append("httpx/asyncio/redis/telegram/structlog/apscheduler/yaml")

    # the daemon's own code: config, embedded store, the health check before and after a beat
    import io

    from monitor import status
    from monitor.config import load_config
    from monitor.store import open_store

    loaded = load_config(config)
    assert asyncio.run(status.health(loaded, io.StringIO())) == 1  # no heartbeat yet

    async def beat() -> None:
        store = open_store(loaded.config.store.url, base_dir=loaded.base_dir)
        await store.open()
        try:
            await store.heartbeat("mdwe-probe", 45.0)
        finally:
            await store.close()

    asyncio.run(beat())
    assert asyncio.run(status.health(loaded, io.StringIO())) == 0
    done.append("config, sqlite store, health")

    from monitor import cli

    with contextlib.redirect_stdout(io.StringIO()) as out:  # the probe's own stdout is its verdict
        assert cli.main(["health", "--config", str(config)]) == 0
    assert out.getvalue().startswith("ok:")
    done.append("`monitor health`")
    return done


def main() -> int:
    install_filter()
    if not filter_is_active():
        print("FILTER-NOT-ACTIVE")
        return 3
    done = exercise(Path(sys.argv[1]))
    print("OK " + ", ".join(done))
    return 0


if __name__ == "__main__":
    sys.exit(main())
