"""Our side of ../shared/bench/peers/run_peers.py: refresh every URL of a file once and exit.

    python ../shared/bench/peers/run_peers.py --peers rss2email \\
        --ours "$PWD/.venv/bin/python $PWD/bench/peers_ours.py {urls_file} {state_dir}"

Writes (once) a monitor.yaml in the state dir with one RSS source per URL, the shipped rules,
the embedded store and a console sink (alerts to standard output, as rss2email mails them),
then runs `monitor run --once` in this process.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def write_config(urls_file: Path, state: Path) -> Path:
    path = state / "monitor.yaml"
    if not path.exists():
        urls = [u.strip() for u in urls_file.read_text().splitlines() if u.strip()]
        config = {
            "store": {"url": "sqlite:monitor.db"},
            "rules": str(ROOT / "rules"),
            "log": {"level": "warning", "format": "json"},
            "sources": [{"id": f"f{i}", "type": "rss", "url": u} for i, u in enumerate(urls)],
            "sinks": [{"id": "console", "type": "console", "digest_after": None}],
        }
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def main() -> int:
    config = write_config(Path(sys.argv[1]), Path(sys.argv[2]))
    from monitor.cli import main as monitor

    return monitor(["run", "--once", "--config", str(config)])


if __name__ == "__main__":
    sys.exit(main())
