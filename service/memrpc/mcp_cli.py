"""`memrpc mcp`: memrpc memory for MCP clients (Claude Desktop, IDE agents),
the tools of `memrpc.mcp_tools` served over stdio (the default: the client
starts the command) or streamable HTTP (`--transport streamable-http
--listen HOST:PORT`, endpoint `/mcp`).

It is a memrpc client: it reaches the memrpc at `--target` with the
credential of `--key-file` or `MEMRPC_KEY` (`memrpc.remote`), in the
namespace of `--namespace` and for the user of `--user-id`, which the model
cannot change. Over HTTP, as memrpc itself does, it serves beyond loopback
only with a bearer token that every request must carry
(`--mcp-token-file`, else `MEMRPC_MCP_TOKEN`); on loopback the token is
optional.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import os
import socket
import sys
from pathlib import Path
from typing import Any

from memrpc import remote
from memrpc.listening import listening_socket

COMMANDS = ("mcp",)
DEFAULT_LISTEN = "127.0.0.1:8765"
TOKEN_ENV = "MEMRPC_MCP_TOKEN"
# The path of the MCP endpoint over streamable HTTP.
MCP_PATH = "/mcp"


def add_parsers(commands: Any) -> None:
    """The `mcp` command."""
    mcp = commands.add_parser(
        "mcp",
        help="serve memrpc memory to MCP clients",
        description="Serve the tools remember, recall, get_context, append_turns, "
        "list_memories, forget_memory and recent_events to Model Context Protocol clients, "
        "on the memrpc at --target, in --namespace and for --user-id (the model chooses "
        "neither). Over stdio by default (for Claude Desktop and the like); "
        "--transport streamable-http serves http://LISTEN/mcp.",
    )
    remote.add_arguments(mcp)
    mcp.add_argument(
        "--user-id",
        default="",
        help="the user whose memories the tools store and search (default: none)",
    )
    mcp.add_argument(
        "--transport",
        choices=("stdio", "streamable-http"),
        default="stdio",
        help="stdio (default) or streamable-http",
    )
    mcp.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        help=f"streamable-http: the address to serve, HOST:PORT (default {DEFAULT_LISTEN}; "
        "port 0 picks a free one)",
    )
    mcp.add_argument(
        "--mcp-token-file",
        type=Path,
        help="streamable-http: a file holding the token every request must send as "
        f"`Authorization: Bearer <token>` (env {TOKEN_ENV} holds the token itself); "
        "required beyond loopback",
    )
    mcp.set_defaults(subparser=mcp)


def _token(args: argparse.Namespace) -> str | None:
    """The HTTP bearer token of `args`, if any."""
    if args.mcp_token_file is not None:
        found = remote.read(args.mcp_token_file).decode().strip()
        if not found:
            raise remote.UsageError(f"{args.mcp_token_file} is empty")
        return found
    return os.environ.get(TOKEN_ENV, "").strip() or None


class BearerToken:
    """ASGI middleware: a request without `Authorization: Bearer <token>`
    gets 401, with the JSON-RPC error an MCP client reads."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            sent = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(sent, self._expected):
                body = (
                    b'{"jsonrpc":"2.0","id":null,"error":{"code":-32001,'
                    b'"message":"unauthenticated: send Authorization: Bearer <token>"}}'
                )
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"www-authenticate", b"Bearer"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _client(args: argparse.Namespace) -> Any:
    """The async memrpc client of `args` (made in the running loop)."""
    from memrpc.client import AsyncMemoryClient

    credentials, options = remote.reach(args)
    return AsyncMemoryClient(
        args.target,
        namespace=args.namespace,
        credentials=credentials,
        token=remote.key(args),
        options=options,
    )


async def _serve(args: argparse.Namespace, token: str | None, listen: socket.socket | None) -> None:
    import uvicorn

    from memrpc import mcp_tools

    async with _client(args) as client:
        server = mcp_tools.build(client, args.user_id)
        if listen is None:
            await server.run_stdio_async()
            return
        host, port = listen.getsockname()[:2]
        app: Any = server.streamable_http_app(streamable_http_path=MCP_PATH, host=host)
        if token is not None:
            app = BearerToken(app, token)
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        url = f"http://{host if ':' not in host else f'[{host}]'}:{port}{MCP_PATH}"
        print(f"memrpc mcp: serving {url} (memrpc at {args.target}; Ctrl-C stops)", flush=True)
        await uvicorn.Server(config).serve(sockets=[listen])


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Serves until the client goes (stdio) or until interrupted (HTTP)."""
    from memrpc.auth.policy import is_local

    listen = None
    try:
        # Read now: a bad file is a usage error before anything is served.
        remote.key(args)
        token = _token(args)
    except remote.UsageError as err:
        parser.error(str(err))
    if args.transport == "streamable-http":
        if token is None and not is_local(args.listen):
            parser.error(
                f"refusing to serve {args.listen} without a token: it is reachable beyond this "
                f"machine; set --mcp-token-file (or {TOKEN_ENV})"
            )
        try:
            listen = listening_socket(args.listen)
        except (OSError, ValueError) as err:
            parser.error(f"--listen {args.listen}: {err}")
    elif token is not None:
        print(f"{parser.prog}: the MCP token is for streamable-http only", file=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args, token, listen))
