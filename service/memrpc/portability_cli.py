"""`memrpc export` and `memrpc import`: a namespace's data (or one user's)
to and from a JSON Lines file, one `ExportRecord` a line in the proto3 JSON
mapping, the header first and the trailer last (`Portability`).

Both stream: an export writes each response's records as they come, an
import reads the file a batch of lines at a time as gRPC asks for the next
request, so neither holds the file. `-` is stdout or stdin. The flags that
reach the server, and the exit status, are `remote`'s.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from typing import IO, Any

from google.protobuf import json_format

from memrpc import remote
from memrpc.v1 import portability_pb2 as pb
from memrpc.v1 import portability_pb2_grpc

# Records one import request carries.
RECORDS_PER_REQUEST = 100


COMMANDS = ("export", "import")


def add_parsers(commands: Any) -> None:
    """The `export` and `import` commands."""
    export = commands.add_parser(
        "export",
        help="export a namespace's data (or one user's) to a JSON Lines file",
        description="Export a namespace's settings, sessions, users' threads, events, "
        "memories and checkpoints (with --user: one user's) as JSON Lines, one ExportRecord a "
        "line, the header first and the trailer last. Needs admin access to the namespace.",
    )
    remote.add_arguments(export)
    export.add_argument("--user", default="", help="export only this user's data")
    export.add_argument("--output", required=True, help="the file to write; - for stdout")
    restore = commands.add_parser(
        "import",
        help="restore an export into an empty namespace",
        description="Restore a file written by memrpc export into a namespace that holds no "
        "sessions, events, memories or checkpoints, on a server of the same embedding model. "
        "Needs admin access to the namespace.",
    )
    remote.add_arguments(restore)
    restore.add_argument("--input", required=True, help="the file to read; - for stdin")
    for name in COMMANDS:
        commands.choices[name].set_defaults(subparser=commands.choices[name])


def _open(name: str, mode: str, stack: ExitStack) -> IO[str]:
    if name == "-":
        return sys.stdout if "w" in mode else sys.stdin
    try:
        return stack.enter_context(open(name, mode, encoding="utf-8"))
    except OSError as err:
        raise remote.UsageError(f"cannot open {name}: {err.strerror}") from None


def export(args: argparse.Namespace) -> str:
    """Writes the export; returns the summary line."""
    request = pb.ExportDataRequest(namespace=args.namespace, user_id=args.user)
    with ExitStack() as stack:
        out = _open(args.output, "w", stack)
        channel = stack.enter_context(remote.channel(args))
        stub = portability_pb2_grpc.PortabilityStub(channel)
        counts = None
        for response in stub.ExportData(request, metadata=remote.metadata(args)):
            for record in response.records:
                out.write(json_format.MessageToJson(record, indent=None))
                out.write("\n")
                if record.WhichOneof("record") == "trailer":
                    counts = record.trailer.counts
        out.flush()
    if counts is None:
        raise remote.UsageError("the server's export ended without its trailer")
    return f"exported {_counts(counts)}"


def _counts(counts: pb.ExportCounts) -> str:
    return (
        f"{counts.settings} settings, {counts.sessions} sessions, {counts.user_threads} "
        f"users' threads, {counts.events} events, {counts.memories} memories, "
        f"{counts.checkpoints} checkpoints"
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
            raise remote.UsageError(f"line {number} is no export record: {err}") from None
        if len(request.records) >= RECORDS_PER_REQUEST:
            yield request
            request = pb.ImportDataRequest()
    if request.records or request.namespace:
        yield request


def restore(args: argparse.Namespace) -> str:
    """Sends the file's records; returns the summary line."""
    with ExitStack() as stack:
        lines = _open(args.input, "r", stack)
        channel = stack.enter_context(remote.channel(args))
        stub = portability_pb2_grpc.PortabilityStub(channel)
        response = stub.ImportData(_requests(lines, args.namespace), metadata=remote.metadata(args))
    skipped = f", {response.skipped_expired} expired skipped" if response.skipped_expired else ""
    return f"imported {_counts(response.imported)}{skipped}"


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Runs `export` or `import` (`remote.run`)."""
    if args.command == "export":
        remote.run(parser, lambda: export(args), to_stderr=args.output == "-")
    else:
        remote.run(parser, lambda: restore(args), to_stderr=False)
