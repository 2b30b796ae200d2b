"""`memrpc export` and `memrpc import`: a namespace's data (or one user's)
to and from a JSON Lines file, one `ExportRecord` a line in the proto3 JSON
mapping, the header first and the trailer last (`Portability`).

Both stream: an export writes each response's records as they come, an
import reads the file a batch of lines at a time as gRPC asks for the next
request, so neither holds the file. `-` is stdout or stdin. Exit status 0
once done, 1 when the server refuses or fails (one line: the status, the
reason and the message), 2 for a usage error (a file that cannot be read or
a line that is no record).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import grpc
from google.protobuf import json_format
from google.rpc import error_details_pb2, status_pb2

from memrpc.v1 import portability_pb2 as pb
from memrpc.v1 import portability_pb2_grpc

# Records one import request carries.
RECORDS_PER_REQUEST = 100
# A response may hold a record of up to the server's message size.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


class UsageError(Exception):
    """A problem of the command line or the file (exit status 2)."""


def add_parsers(commands: Any) -> None:
    """The `export` and `import` commands."""
    export = commands.add_parser(
        "export",
        help="export a namespace's data (or one user's) to a JSON Lines file",
        description="Export a namespace's settings, sessions, users' threads, events and "
        "memories (with --user: one user's) as JSON Lines, one ExportRecord a line, the "
        "header first and the trailer last. Needs admin access to the namespace.",
    )
    _client_options(export)
    export.add_argument("--user", default="", help="export only this user's data")
    export.add_argument("--output", required=True, help="the file to write; - for stdout")
    restore = commands.add_parser(
        "import",
        help="restore an export into an empty namespace",
        description="Restore a file written by memrpc export into a namespace that holds no "
        "sessions, events or memories, on a server of the same embedding model. Needs admin "
        "access to the namespace.",
    )
    _client_options(restore)
    restore.add_argument("--input", required=True, help="the file to read; - for stdin")


def _client_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--target", required=True, help="the server, HOST:PORT")
    command.add_argument("--namespace", required=True, help="the namespace")
    command.add_argument(
        "--key-file",
        type=Path,
        help="a file holding the API key (or JWT), sent as `authorization: Bearer <key>`",
    )
    command.add_argument(
        "--tls-ca-file",
        type=Path,
        help="connect with TLS, trusting this CA bundle (PEM); unset: plaintext",
    )
    command.add_argument(
        "--tls-server-name", default="", help="the name the server's certificate must have"
    )


def _channel(args: argparse.Namespace) -> grpc.Channel:
    options: list[tuple[str, Any]] = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ]
    if args.tls_server_name:
        options.append(("grpc.ssl_target_name_override", args.tls_server_name))
    if args.tls_ca_file is None:
        return grpc.insecure_channel(args.target, options=options)
    credentials = grpc.ssl_channel_credentials(_read(args.tls_ca_file))
    return grpc.secure_channel(args.target, credentials, options=options)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None


def _metadata(args: argparse.Namespace) -> tuple[tuple[str, str | bytes], ...]:
    if args.key_file is None:
        return ()
    key = _read(args.key_file).decode().strip()
    if not key:
        raise UsageError(f"{args.key_file} is empty")
    return (("authorization", f"Bearer {key}"),)


def _describe(err: grpc.RpcError) -> str:
    """A failed call in one line: its code, its reason, its message."""
    call: Any = err
    code = call.code().name if hasattr(call, "code") else "UNKNOWN"
    details = call.details() if hasattr(call, "details") else str(err)
    reason = ""
    trailing: Any = call.trailing_metadata() if hasattr(call, "trailing_metadata") else ()
    for key, value in trailing or ():
        if key == "grpc-status-details-bin" and isinstance(value, bytes):
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info):
                    reason = f" {info.reason}"
    return f"{code}{reason}: {details}"


def _open(name: str, mode: str, stack: ExitStack) -> IO[str]:
    if name == "-":
        return sys.stdout if "w" in mode else sys.stdin
    try:
        return stack.enter_context(open(name, mode, encoding="utf-8"))
    except OSError as err:
        raise UsageError(f"cannot open {name}: {err.strerror}") from None


def export(args: argparse.Namespace) -> str:
    """Writes the export; returns the summary line."""
    request = pb.ExportDataRequest(namespace=args.namespace, user_id=args.user)
    with ExitStack() as stack:
        out = _open(args.output, "w", stack)
        channel = stack.enter_context(_channel(args))
        stub = portability_pb2_grpc.PortabilityStub(channel)
        counts = None
        for response in stub.ExportData(request, metadata=_metadata(args)):
            for record in response.records:
                out.write(json_format.MessageToJson(record, indent=None))
                out.write("\n")
                if record.WhichOneof("record") == "trailer":
                    counts = record.trailer.counts
        out.flush()
    if counts is None:
        raise UsageError("the server's export ended without its trailer")
    return f"exported {_counts(counts)}"


def _counts(counts: pb.ExportCounts) -> str:
    return (
        f"{counts.settings} settings, {counts.sessions} sessions, {counts.user_threads} "
        f"users' threads, {counts.events} events, {counts.memories} memories"
    )


def _requests(lines: IO[str], ns: str) -> Iterator[pb.ImportDataRequest]:
    """The requests of the file's records, read as gRPC asks for them."""
    request = pb.ImportDataRequest(namespace=ns)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            request.records.append(json_format.Parse(line, pb.ExportRecord()))
        except json_format.ParseError as err:
            raise UsageError(f"line {number} is no export record: {err}") from None
        if len(request.records) >= RECORDS_PER_REQUEST:
            yield request
            request = pb.ImportDataRequest()
    if request.records or request.namespace:
        yield request


def restore(args: argparse.Namespace) -> str:
    """Sends the file's records; returns the summary line."""
    with ExitStack() as stack:
        lines = _open(args.input, "r", stack)
        channel = stack.enter_context(_channel(args))
        stub = portability_pb2_grpc.PortabilityStub(channel)
        response = stub.ImportData(_requests(lines, args.namespace), metadata=_metadata(args))
    skipped = f", {response.skipped_expired} expired skipped" if response.skipped_expired else ""
    return f"imported {_counts(response.imported)}{skipped}"


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Runs `export` or `import`; exits 1 on a refusal, 2 on a usage error."""
    try:
        summary = export(args) if args.command == "export" else restore(args)
    except UsageError as err:
        parser.error(str(err))
    except grpc.RpcError as err:
        parser.exit(1, f"{parser.prog}: error: {_describe(err)}\n")
    to_stdout = args.command == "export" and args.output == "-"
    print(summary, file=sys.stderr if to_stdout else sys.stdout)
