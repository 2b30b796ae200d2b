"""The `memrpc` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from memrpc.config import Settings

DEFAULTS = Settings()


def _env(name: str, default: Any, kind: Callable[[str], Any] = str) -> Any:
    """The value of MEMRPC_<name>, converted, or `default`."""
    raw = os.environ.get(f"MEMRPC_{name}")
    return default if raw in (None, "") else kind(raw)


def _boolean(text: str) -> bool:
    """`true`/`false` (also 1/0, yes/no, on/off) as a bool."""
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"not a boolean: {text!r} (use true or false)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="memrpc", description="gRPC memory service for AI agents, on Redis."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the server",
        description="Run the memrpc gRPC server. Every flag can also be set with the "
        "MEMRPC_* environment variable named in its help; a flag wins over the variable.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    options: list[tuple[str, str, Callable[[str], Any], Any, str]] = [
        ("--listen", "LISTEN", str, DEFAULTS.listen, "host:port to serve gRPC on"),
        (
            "--redis-url",
            "REDIS_URL",
            str,
            None,
            "Redis 8 / Redis Stack URL (redis://, rediss://, unix://); unset: start an "
            "embedded Redis in --data-dir",
        ),
        (
            "--data-dir",
            "DATA_DIR",
            Path,
            DEFAULTS.data_dir,
            "where the embedded Redis keeps its data",
        ),
        (
            "--model-dir",
            "MODEL_DIR",
            Path,
            None,
            "directory with model.onnx and tokenizer.json of a sentence-transformers ONNX "
            "export; unset: the packaged all-MiniLM-L6-v2 (int8)",
        ),
        ("--embed-threads", "EMBED_THREADS", int, DEFAULTS.embed_threads, "onnxruntime threads"),
        (
            "--embed-cache-size",
            "EMBED_CACHE_SIZE",
            int,
            DEFAULTS.embed_cache_size,
            "texts whose embeddings are cached (0: no cache)",
        ),
        (
            "--shutdown-grace",
            "SHUTDOWN_GRACE",
            float,
            DEFAULTS.shutdown_grace,
            "seconds in-flight calls get to finish on SIGTERM/SIGINT",
        ),
        (
            "--feed-max-len",
            "FEED_MAX_LEN",
            int,
            DEFAULTS.feed_max_len,
            "about how many events each namespace feed keeps for consumer groups",
        ),
        (
            "--event-log-max-len",
            "EVENT_LOG_MAX_LEN",
            int,
            DEFAULTS.event_log_max_len,
            "about how many events each thread's log keeps, unless an AppendEvents "
            "sets its own max_len (1 to 1,000,000)",
        ),
        ("--log-level", "LOG_LEVEL", str, DEFAULTS.log_level, "DEBUG, INFO, WARNING or ERROR"),
        (
            "--workers",
            "WORKERS",
            int,
            DEFAULTS.workers,
            "server processes sharing --listen (SO_REUSEPORT) and one Redis; a worker "
            "that dies is restarted",
        ),
        (
            "--tls-cert-file",
            "TLS_CERT_FILE",
            Path,
            None,
            "PEM certificate chain to serve TLS with (needs --tls-key-file); reloaded when "
            "the file changes; unset: plaintext",
        ),
        ("--tls-key-file", "TLS_KEY_FILE", Path, None, "unencrypted PEM key of --tls-cert-file"),
        (
            "--tls-client-ca-file",
            "TLS_CLIENT_CA_FILE",
            Path,
            None,
            "PEM CA certificate(s): clients must present a certificate signed by one "
            "(mutual TLS); reloaded when the file changes",
        ),
        (
            "--auth-keys-file",
            "AUTH_KEYS_FILE",
            Path,
            None,
            "TOML file of hashed API keys (make one with `memrpc keys new`); see docs/security.md",
        ),
        ("--jwks-file", "JWKS_FILE", Path, None, "local JWKS file of keys that sign accepted JWTs"),
        ("--jwt-issuer", "JWT_ISSUER", str, None, "the iss every JWT must carry"),
        ("--jwt-audience", "JWT_AUDIENCE", str, None, "a value every JWT's aud must hold"),
        (
            "--allow-unauthenticated",
            "ALLOW_UNAUTHENTICATED",
            _boolean,
            DEFAULTS.allow_unauthenticated,
            "serve without credentials even beyond loopback: anyone who reaches the port "
            "can read and write every namespace",
        ),
        *_limit_options(),
    ]
    for flag, env, kind, default, text in options:
        serve.add_argument(
            flag,
            type=kind,
            default=_env(env, default, kind),
            help=f"{text} [MEMRPC_{env}]",
            # A boolean flag alone means true: `--allow-unauthenticated`.
            nargs="?" if kind is _boolean else None,
            const=True if kind is _boolean else None,
        )
    _keys_parser(commands)
    return parser


def _limit_options() -> list[tuple[str, str, Callable[[str], Any], Any, str]]:
    """The flags of the limits (docs/security.md, `## Limits`)."""
    limits = [
        ("max_message_bytes", "largest gRPC message received or sent, in bytes"),
        (
            "max_batch_items",
            "most memories per CreateMemories, events per AppendEvents, turns per AppendTurns",
        ),
        ("max_text_chars", "most characters of a memory's text or a search's query text"),
        (
            "max_metadata_bytes",
            "most UTF-8 bytes of one metadata or attributes map, keys and values together",
        ),
        ("max_search_limit", "most memories one SearchMemories returns (its limit)"),
        ("max_tails_per_connection", "most TailEvents calls open on one client connection"),
        ("max_tails", "most TailEvents calls open on this server process"),
        (
            "tail_max_lag_events",
            "events a tail may fall behind one of its threads before it ends with "
            "RESOURCE_EXHAUSTED",
        ),
    ]
    return [
        (f"--{name.replace('_', '-')}", name.upper(), int, getattr(DEFAULTS, name), text)
        for name, text in limits
    ]


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
    new.add_argument("--read-only", action="store_true", help="only read calls")


def _new_key(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    from memrpc.auth.keys import new_key

    try:
        key = new_key(args.id, args.namespace, read_only=args.read_only)
    except ValueError as err:
        parser.error(str(err))
    print(f"API key (shown only now; send it as `authorization: Bearer <key>`):\n\n{key.token}\n")
    print(f"Add this entry to the --auth-keys-file (a running memrpc picks it up):\n\n{key.entry}")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `memrpc` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "keys":
        _new_key(parser, args)
        return
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = Settings(**{field.name: getattr(args, field.name) for field in fields(Settings)})
    from memrpc.limits import Limits
    from memrpc.store.events import Retention

    try:  # limits and retention out of range fail here too
        Limits.from_settings(settings)
        Retention.from_settings(settings)
    except ValueError as err:
        parser.error(str(err))
    from memrpc.auth import AuthConfigError, check_settings
    from memrpc.server import run
    from memrpc.tls import TlsConfigError, server_credentials
    from memrpc.workers import run_workers

    try:  # bad TLS settings or files fail here, before serving or starting workers
        server_credentials(settings)
    except TlsConfigError as err:
        parser.error(str(err))
    try:  # so are settings that must not serve without credentials
        check_settings(settings)
    except AuthConfigError as err:
        parser.error(str(err))

    if settings.workers == 1:
        asyncio.run(run(settings))
    else:
        sys.exit(asyncio.run(run_workers(settings)))


if __name__ == "__main__":
    main()
