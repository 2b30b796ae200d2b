"""`memrpc demo`: serves the browser demo (`memrpc.demo`) on loopback, for
the memrpc at `--target`, or for one it starts itself with an embedded Redis
in `--data-dir` when no target is given. Ctrl-C stops both."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
from pathlib import Path
from typing import Any

from memrpc import remote
from memrpc.listening import listening_socket

COMMANDS = ("demo",)
DEFAULT_LISTEN = "127.0.0.1:8080"


def add_parsers(commands: Any) -> None:
    """The `demo` command."""
    demo = commands.add_parser(
        "demo",
        help="the agent-memory demo in a browser",
        description="Serve a web page that sends turns through memrpc and shows working "
        "memory, recall, deduplication, the live event log, the long-term memories and the "
        "background jobs. Without --target it starts a memrpc with an embedded Redis.",
    )
    remote.add_arguments(
        demo,
        namespace=False,
        target=None,
        target_help=f"a running memrpc, HOST:PORT (env {remote.TARGET_ENV}); unset: start one",
    )
    demo.add_argument(
        "--listen", default=DEFAULT_LISTEN, help=f"the page's address (default {DEFAULT_LISTEN})"
    )
    demo.add_argument(
        "--data-dir",
        type=Path,
        default=Path("data"),
        help="the embedded Redis's data when memrpc is started here (default ./data)",
    )
    demo.set_defaults(subparser=demo)


async def _serve(args: argparse.Namespace, listen: socket.socket) -> None:
    from memrpc import demo
    from memrpc.config import Settings
    from memrpc.server import MemrpcServer

    async with contextlib.AsyncExitStack() as stack:
        target = args.target
        if target is None:
            server = MemrpcServer(Settings(listen="127.0.0.1:0", data_dir=args.data_dir))
            await server.start()
            stack.push_async_callback(server.stop)
            target = f"127.0.0.1:{server.port}"
        running = await demo.start(target, remote.key(args), listen)
        stack.push_async_callback(running.stop)
        print(f"memrpc demo: open {running.url} (memrpc at {target}; Ctrl-C stops)", flush=True)
        await asyncio.Event().wait()


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Serves until interrupted."""
    try:
        listen = listening_socket(args.listen)
    except (OSError, ValueError) as err:
        parser.error(f"--listen {args.listen}: {err}")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args, listen))
