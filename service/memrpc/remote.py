"""How the administrative commands (`memrpc erase-user`, `delete-namespace`,
`audit`, `export`, `import`) reach a running server: the flags they share,
the channel they open, and the metadata that carries the credential.

`--target` defaults to `127.0.0.1:50051` (`MEMRPC_TARGET`); the credential,
an API key or a JWT with admin access to the namespace, comes from
`--token-file` (its first line) or `MEMRPC_TOKEN`, never from a flag's value
(which other users of the machine could read in the process list); `--tls-ca`
(with `--tls-server-name` when the certificate names another host) turns TLS
on. A failed call ends the command with its status, reason and message.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import grpc

from memrpc.client.errors import error_info

T = TypeVar("T")
DEFAULT_TARGET = "127.0.0.1:50051"
TARGET_ENV = "MEMRPC_TARGET"
TOKEN_ENV = "MEMRPC_TOKEN"


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The flags of a command that calls a running server."""
    reach = command.add_argument_group("server")
    reach.add_argument(
        "--target",
        default=os.environ.get(TARGET_ENV, DEFAULT_TARGET),
        help=f"the server's address (default {DEFAULT_TARGET}; env {TARGET_ENV})",
    )
    reach.add_argument(
        "--token-file",
        type=Path,
        help=f"a file whose first line is an API key or JWT with admin access (env {TOKEN_ENV} "
        "holds the token itself)",
    )
    reach.add_argument(
        "--tls-ca", type=Path, help="CA certificate(s) to verify the server by (TLS)"
    )
    reach.add_argument("--tls-server-name", help="the name the server's certificate holds")


def _token(args: argparse.Namespace) -> str | None:
    if args.token_file is not None:
        lines = args.token_file.read_text().splitlines()
        return lines[0].strip() if lines else ""
    return os.environ.get(TOKEN_ENV) or None


class Remote:
    """A channel to the server of `args`, and the metadata of each call."""

    def __init__(self, args: argparse.Namespace) -> None:
        token = _token(args)
        self.metadata: tuple[tuple[str, str], ...] = (
            () if token is None else (("authorization", f"Bearer {token}"),)
        )
        options = []
        if args.tls_server_name:
            options.append(("grpc.ssl_target_name_override", args.tls_server_name))
        self.channel = (
            grpc.aio.secure_channel(
                args.target,
                grpc.ssl_channel_credentials(args.tls_ca.read_bytes()),
                options,
            )
            if args.tls_ca is not None
            else grpc.aio.insecure_channel(args.target, options)
        )

    async def __aenter__(self) -> Remote:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.channel.close()


def failure(err: grpc.aio.AioRpcError) -> str:
    """A failed call as one line: code, reason, message."""
    info = error_info(err)
    shown = f" ({info.reason})" if info is not None else ""
    return f"{err.code().name}{shown}: {err.details()}"


def run_command(parser: argparse.ArgumentParser, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Runs `work`; a failed call or an unreadable token file ends the
    command with status 1 and one line saying why."""
    try:
        return asyncio.run(work())
    except grpc.aio.AioRpcError as err:
        parser.exit(1, f"{parser.prog}: error: {failure(err)}\n")
    except OSError as err:
        parser.exit(1, f"{parser.prog}: error: {err}\n")
