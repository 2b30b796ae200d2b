"""How the administrative commands (`memrpc export`, `import`, `erase-user`,
`delete-namespace`, `audit`) reach a running server: the flags they share,
the channel they open, the credential they send, and how they end.

`--target` defaults to `127.0.0.1:50051` (or `MEMRPC_TARGET`). The
credential, an API key or a JWT with admin access to the namespace, is read
from `--key-file`, else from `MEMRPC_KEY`; never from a flag's value, which
other users of the machine could read in the process list. `--tls-ca-file`
turns TLS on (`--tls-server-name` when the certificate names another host).

Exit status: 0 once done; 1 when the server refuses or fails (one line: the
status, the reason and the message); 2 for a usage error (a file that
cannot be read, a line that is no record).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc

from memrpc.client.errors import error_info

DEFAULT_TARGET = "127.0.0.1:50051"
TARGET_ENV = "MEMRPC_TARGET"
KEY_ENV = "MEMRPC_KEY"
# A response may hold a record of up to the server's message size.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


class UsageError(Exception):
    """A problem of the command line or of a file (exit status 2)."""


def add_arguments(
    command: argparse.ArgumentParser,
    *,
    namespace: bool = True,
    target: str | None = DEFAULT_TARGET,
    target_help: str = f"the server, HOST:PORT (default {DEFAULT_TARGET}; env {TARGET_ENV})",
) -> None:
    """The flags of a command that calls a running server (about a
    `namespace`; `target` the default server, None for none)."""
    if namespace:
        command.add_argument("--namespace", required=True, help="the namespace")
    reach = command.add_argument_group("server")
    reach.add_argument("--target", default=os.environ.get(TARGET_ENV, target), help=target_help)
    reach.add_argument(
        "--key-file",
        type=Path,
        help="a file holding an API key or a JWT with admin access, sent as "
        f"`authorization: Bearer <key>` (env {KEY_ENV} holds the key itself)",
    )
    reach.add_argument(
        "--tls-ca-file",
        type=Path,
        help="connect with TLS, trusting this CA bundle (PEM); unset: plaintext",
    )
    reach.add_argument(
        "--tls-server-name", default="", help="the name the server's certificate must have"
    )


def read(path: Path) -> bytes:
    """A file's bytes; `UsageError` when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None


def reach(args: argparse.Namespace) -> tuple[grpc.ChannelCredentials | None, list[tuple[str, Any]]]:
    """How to reach the server of `args`: its TLS credentials (None:
    plaintext) and the channel options."""
    options: list[tuple[str, Any]] = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ]
    if args.tls_server_name:
        options.append(("grpc.ssl_target_name_override", args.tls_server_name))
    if args.tls_ca_file is None:
        return None, options
    return grpc.ssl_channel_credentials(read(args.tls_ca_file)), options


def channel(args: argparse.Namespace) -> grpc.Channel:
    """A channel to the server of `args`."""
    credentials, options = reach(args)
    if credentials is None:
        return grpc.insecure_channel(args.target, options=options)
    return grpc.secure_channel(args.target, credentials, options=options)


def key(args: argparse.Namespace) -> str | None:
    """The credential of `args` (`--key-file`, else `MEMRPC_KEY`), if any."""
    if args.key_file is not None:
        found = read(args.key_file).decode().strip()
        if not found:
            raise UsageError(f"{args.key_file} is empty")
        return found
    return os.environ.get(KEY_ENV, "").strip() or None


def metadata(args: argparse.Namespace) -> tuple[tuple[str, str | bytes], ...]:
    """The metadata of every call: the credential, when there is one."""
    found = key(args)
    return (("authorization", f"Bearer {found}"),) if found else ()


def describe(err: grpc.RpcError) -> str:
    """A failed call in one line: its code, its reason, its message."""
    call: Any = err
    info = error_info(err)
    reason = f" {info.reason}" if info is not None else ""
    return f"{call.code().name}{reason}: {call.details()}"


def run(parser: argparse.ArgumentParser, work: Callable[[], str], *, to_stderr: bool) -> None:
    """Runs `work` and prints the summary it returns (on stderr when the
    command's output goes to stdout); exits 1 on a refusal, 2 on a usage
    error."""
    try:
        summary = work()
    except UsageError as err:
        parser.error(str(err))
    except grpc.RpcError as err:
        parser.exit(1, f"{parser.prog}: error: {describe(err)}\n")
    print(summary, file=sys.stderr if to_stderr else sys.stdout)
