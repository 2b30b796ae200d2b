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
        ("--log-level", "LOG_LEVEL", str, DEFAULTS.log_level, "DEBUG, INFO, WARNING or ERROR"),
        (
            "--workers",
            "WORKERS",
            int,
            DEFAULTS.workers,
            "server processes sharing --listen (SO_REUSEPORT) and one Redis; a worker "
            "that dies is restarted",
        ),
    ]
    for flag, env, kind, default, text in options:
        serve.add_argument(
            flag, type=kind, default=_env(env, default, kind), help=f"{text} [MEMRPC_{env}]"
        )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `memrpc` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = Settings(**{field.name: getattr(args, field.name) for field in fields(Settings)})
    from memrpc.server import run
    from memrpc.workers import run_workers

    if settings.workers == 1:
        asyncio.run(run(settings))
    else:
        sys.exit(asyncio.run(run_workers(settings)))


if __name__ == "__main__":
    main()
