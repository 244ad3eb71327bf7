"""Command line: `monitor <command>` (also `python -m monitor`). Exit codes: 0 success, 1 a
check failed, 2 bad usage or configuration."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from monitor import logging as mlog
from monitor.config import EnvSettings, LoadedConfig, load_config
from monitor.errors import ConfigError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monitor",
        description="Watch feeds and Telegram channels, match Arabic-aware rules, send alerts.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the daemon (or one pass with --once)")
    _config_arg(run)
    run.add_argument("--once", action="store_true", help="poll every source once, deliver, exit")

    rules = sub.add_parser("rules", help="check or test rule files")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    for name, text in (
        ("check", "validate every rule and entity file"),
        ("test", "run every rule's examples"),
    ):
        cmd = rules_sub.add_parser(name, help=text)
        cmd.add_argument("path", nargs="?", help="rules folder or file (default: from config)")
        _config_arg(cmd)

    match = sub.add_parser("match", help="which rules match a text, and where")
    match.add_argument("text", nargs="?", help="the text (or use --file / --jsonl / stdin)")
    match.add_argument("--rules", help="rules folder (default: from config)")
    match.add_argument("--file", type=Path, help="read the text from a file")
    match.add_argument("--jsonl", type=Path, help='JSON lines {"id":..,"text":..} ("-": stdin)')
    match.add_argument("--json", action="store_true", help="JSON output")
    _config_arg(match)

    status = sub.add_parser("status", help="sources, outbox depth, dead letters, recent alerts")
    _config_arg(status)
    status.add_argument("--json", action="store_true", help="JSON output")

    outbox = sub.add_parser("outbox", help="the outbox of alerts")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    retry = outbox_sub.add_parser("retry", help="send dead letters again")
    retry.add_argument("id", nargs="?", help="a dead letter's alert id")
    retry.add_argument("--all", action="store_true", help="every dead letter")
    _config_arg(retry)

    health = sub.add_parser("health", help="exit 0 while the daemon's heartbeat is fresh")
    _config_arg(health)
    return parser


def _config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, help="config file (default: $MONITOR_CONFIG or monitor.yaml)"
    )


def _load(args: argparse.Namespace) -> LoadedConfig:
    env = EnvSettings()
    path = args.config or Path(env.config)
    loaded = load_config(path)
    level = env.log_level or loaded.config.log.level
    fmt = env.log_format or loaded.config.log.format
    mlog.configure(level, fmt)
    from monitor.wiring import secrets_of

    mlog.register_secrets(secrets_of(loaded))
    return loaded


def _rules_path(args: argparse.Namespace, explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    env = EnvSettings()
    path = args.config or Path(env.config)
    if path.exists():
        return load_config(path).rules_path
    return Path("rules")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ConfigError as exc:
        for line in str(exc).splitlines():
            sys.stderr.write(f"config error: {line}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        from monitor.app import App

        app = App(_load(args))
        return asyncio.run(app.run_once() if args.once else app.run_forever())
    if args.command == "rules":
        import monitor.matching.tools as tools

        path = _rules_path(args, args.path)
        if args.rules_command == "check":
            return tools.rules_check(path, sys.stdout)
        return tools.rules_test(path, sys.stdout)
    if args.command == "match":
        return _match(args)
    from monitor import status as st

    loaded = _load(args)
    if args.command == "status":
        return asyncio.run(st.status(loaded, sys.stdout, as_json=args.json))
    if args.command == "outbox":
        if not args.all and not args.id:
            sys.stderr.write("outbox retry: give an alert id or --all\n")
            return EXIT_USAGE
        return asyncio.run(st.outbox_retry(loaded, None if args.all else [args.id], sys.stdout))
    return asyncio.run(st.health(loaded, sys.stdout))


def _match(args: argparse.Namespace) -> int:
    from monitor.matching import tools

    rules = _rules_path(args, args.rules)
    text = args.text
    if text is None and args.file is None and args.jsonl is None:
        text = sys.stdin.read()
    jsonl = args.jsonl
    return tools.match_command(
        rules, text=text, file=args.file, jsonl=jsonl, as_json=args.json, out=sys.stdout
    )
