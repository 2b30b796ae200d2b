"""The `memrpc` command.

`memrpc serve` (and `memrpc worker`, the background jobs alone) takes every
setting `memrpc.config` declares: its flag, its `MEMRPC_*` variable (a flag
wins over its variable), its help and default come from the declaration, and
`memrpc.server.check_startup` checks the values and files; a bad one is a
usage error (exit status 2) naming the flag or variable.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from memrpc import admin_cli, demo_cli, mcp_cli, portability_cli
from memrpc.config import GROUPS, SETTINGS, Setting, Settings, SettingsError
from memrpc.version import VERSION

# The commands that run a memrpc client, by module.
_REMOTE = (portability_cli, admin_cli, demo_cli, mcp_cli)


class _Parser(argparse.ArgumentParser):
    """A usage error is one line, `memrpc serve: error: ...`, and exit
    status 2 (argparse would print the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="memrpc", description="gRPC memory service for AI agents, on Redis.")
    parser.add_argument("--version", action="version", version=f"memrpc {VERSION}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = commands.add_parser(
        "serve",
        help="run the server",
        description="Run the memrpc gRPC server. Every flag can also be set with the "
        "MEMRPC_* environment variable named in its help; a flag wins over the variable.",
    )
    _add_settings(serve)
    serve.set_defaults(subparser=serve)
    worker = commands.add_parser(
        "worker",
        help="run the background jobs only",
        description="Run memrpc's background jobs (running summaries) without serving gRPC, "
        "on the Redis of the servers (--redis-url, else the embedded Redis of a memrpc serve "
        "with the same --data-dir); start as many as wanted, they share the work. It takes "
        "the flags of memrpc serve: those of Redis, the model, the background jobs, the logs "
        "and --metrics-listen apply.",
    )
    _add_settings(worker)
    worker.set_defaults(subparser=worker)
    _keys_parser(commands)
    for remote_commands in _REMOTE:
        remote_commands.add_parsers(commands)
    return parser


def _add_settings(command: argparse.ArgumentParser) -> None:
    """Every setting's flag, in its group."""
    groups = {name: command.add_argument_group(name) for name in GROUPS}
    for declared in SETTINGS:
        boolean = declared.kind is bool
        groups[declared.group].add_argument(
            declared.flag,
            dest=declared.name,
            # Read and checked by `_settings`, as a variable is. Unset: the
            # variable, else the declared default.
            default=argparse.SUPPRESS,
            metavar=_metavar(declared),
            help=_help(declared),
            # A boolean flag alone means true: `--allow-unauthenticated`.
            nargs="?" if boolean else None,
            const=True if boolean else None,
        )


def _metavar(declared: Setting) -> str:
    if declared.choices:
        return "{" + ",".join(declared.choices) + "}"
    return "BOOL" if declared.kind is bool else declared.name.upper()


def _help(declared: Setting) -> str:
    """The declared help, its range, its variable and its default."""
    bounds = f" ({declared.bounds})" if declared.bounds and not declared.choices else ""
    # argparse formats help with %: a literal percent sign is doubled.
    text = f"{declared.help}{bounds} [{declared.env}] (default: {declared.default_text})"
    return text.replace("%", "%%")


def _settings(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Settings:
    """The settings of the flags given, else of their variables, else the
    declared defaults. A value that does not parse or is out of range is a
    usage error naming the flag (and the variable, when it came from one)."""
    values: dict[str, Any] = {}
    for declared in SETTINGS:
        text = getattr(args, declared.name, None)
        source = ""
        if text is None and (text := os.environ.get(declared.env, "")):
            source = f"{declared.env}: "
        if not text:
            continue
        try:  # a boolean flag alone is True already
            value = text if text is True else declared.parse(text)
            declared.check(value)
        except SettingsError as err:
            parser.error(f"{source}{err}")
        values[declared.name] = value
    return Settings(**values)


def _keys_parser(commands: Any) -> None:
    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(
        dest="keys_command", required=True
    )
    new = keys.add_parser(
        "new",
        help="make an API key",
        description="Make an API key: prints the key once and the entry to add to the "
        "--auth-keys-file (which keeps only its hash).",
    )
    new.add_argument("--id", required=True, help="key id: 1 to 64 of [A-Za-z0-9-]")
    new.add_argument(
        "--namespace",
        action="append",
        required=True,
        help="a namespace the key may use (repeat for more; * for every namespace)",
    )
    access = new.add_mutually_exclusive_group()
    access.add_argument("--read-only", action="store_true", help="only read calls")
    access.add_argument(
        "--admin",
        action="store_true",
        help="read and write calls, and changing the namespaces' settings",
    )
    listing = keys.add_parser(
        "list",
        help="list the keys of a key file",
        description="List the keys of an --auth-keys-file: id, access, namespaces (no hash).",
    )
    listing.add_argument("--auth-keys-file", type=Path, required=True, help="the key file")
    revoke = keys.add_parser(
        "revoke",
        help="remove a key from a key file",
        description="Remove a key from an --auth-keys-file, the rest of the file as written. "
        "A running memrpc picks the change up: the key's calls, and the streams it opened, "
        "are refused from then on.",
    )
    revoke.add_argument("--auth-keys-file", type=Path, required=True, help="the key file")
    revoke.add_argument("--id", required=True, help="the id of the key to remove")


def _keys(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    from memrpc.auth.credentials import Access
    from memrpc.auth.keys import KeyRing, new_key, revoke_key

    try:
        if args.keys_command == "list":
            for entry in KeyRing.load(args.auth_keys_file).entries():
                print(f"{entry.id}\t{entry.access}\t{','.join(entry.namespaces)}")
            return
        if args.keys_command == "revoke":
            revoke_key(args.auth_keys_file, args.id)
            print(f"revoked API key {args.id!r} in {args.auth_keys_file}")
            return
        access = Access.READ if args.read_only else Access.ADMIN if args.admin else Access.WRITE
        key = new_key(args.id, args.namespace, access=access)
    except ValueError as err:
        parser.error(str(err))
    print(f"API key (shown only now; send it as `authorization: Bearer <key>`):\n\n{key.token}\n")
    print(f"Add this entry to the --auth-keys-file (a running memrpc picks it up):\n\n{key.entry}")


def _worker(parser: argparse.ArgumentParser, settings: Settings) -> None:
    from memrpc.jobs.worker import redis_url, run_worker
    from memrpc.llm.openai import api_key
    from memrpc.redis_check import RedisUnreachable, connect_url
    from memrpc.rpc.correlation import configure_logging

    try:
        settings.validate()
        connect_url(settings, redis_url(settings))
        api_key(settings)
    except SettingsError as err:
        parser.error(str(err))
    configure_logging(
        settings.log_level, settings.log_format, "%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        asyncio.run(run_worker(settings))
    except SettingsError as err:
        parser.error(str(err))
    except RedisUnreachable as err:
        parser.exit(1, f"{parser.prog}: error: {err}\n")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `memrpc` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "keys":
        _keys(parser, args)
        return
    for remote_commands in _REMOTE:
        if args.command in remote_commands.COMMANDS:
            remote_commands.run(args.subparser, args)
            return
    parser = args.subparser  # its errors say `memrpc serve: error: ...`
    settings = _settings(parser, args)
    if args.command == "worker":
        _worker(parser, settings)
        return
    from memrpc.embedded_redis import EmbeddedRedisError
    from memrpc.redis_check import RedisUnreachable
    from memrpc.rpc.correlation import configure_logging
    from memrpc.server import check_startup, run
    from memrpc.workers import run_workers

    try:  # every setting and file is checked here, before serving or starting workers
        check_startup(settings)
    except SettingsError as err:
        parser.error(str(err))
    configure_logging(
        settings.log_level, settings.log_format, "%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # What only starting finds out (the Redis, the model) ends it in one
    # line too: status 2 for what a setting must change, 1 for a Redis that
    # never answered or an embedded one that did not start (its line is
    # followed by the end of its log).
    try:
        if settings.workers == 1:
            asyncio.run(run(settings))
        else:
            sys.exit(asyncio.run(run_workers(settings)))
    except SettingsError as err:
        parser.error(str(err))
    except (RedisUnreachable, EmbeddedRedisError) as err:
        parser.exit(1, f"{parser.prog}: error: {err}\n")


if __name__ == "__main__":
    main()
