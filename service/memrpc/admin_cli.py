"""`memrpc erase-user`, `memrpc delete-namespace` and `memrpc audit`: the
Administration service from a shell (flags and exit status: `remote`).

`erase-user` prints what was removed; `delete-namespace` calls
`DeleteNamespace` until the namespace is gone (each call a bounded amount of
work), printing the keys deleted; `audit` prints a namespace's audit
records, newest first, one JSON object a line (`*`: the server-wide ones).
"""

from __future__ import annotations

import argparse
from typing import Any

from google.protobuf import json_format

from memrpc import remote
from memrpc.v1 import administration_pb2 as pb
from memrpc.v1 import administration_pb2_grpc

COMMANDS = ("erase-user", "delete-namespace", "audit")
# Seconds one DeleteNamespace call may take.
DELETE_CALL_S = 30.0
# DeleteNamespace calls one `delete-namespace` makes, at most.
MAX_DELETE_CALLS = 100_000


def add_parsers(commands: Any) -> None:
    """The commands' parsers."""
    erase = commands.add_parser(
        "erase-user",
        help="erase one user from every tier of a namespace",
        description="Erase a user's sessions, thread logs, feed entries (pending ones too), "
        "memories and memory-change events from a namespace, and print what was removed. "
        "Needs admin access to the namespace; recorded in its audit log.",
    )
    remote.add_arguments(erase)
    erase.add_argument("--user", required=True, help="the user id to erase")
    delete = commands.add_parser(
        "delete-namespace",
        help="delete every key of a namespace",
        description="Delete a namespace's sessions, events, memories, settings and jobs' "
        "state, in bounded steps, until none is left. Needs admin access to the namespace; "
        "recorded in its audit log, which stays.",
    )
    remote.add_arguments(delete)
    audit = commands.add_parser(
        "audit",
        help="print a namespace's audit records",
        description="Print a namespace's audit records, newest first, one JSON object a "
        "line (--namespace '*': the server-wide records). Needs admin access.",
    )
    remote.add_arguments(audit)
    audit.add_argument("--limit", type=int, default=100, help="the most records (default 100)")
    for name in COMMANDS:
        commands.choices[name].set_defaults(subparser=commands.choices[name])


def erase_user(args: argparse.Namespace) -> str:
    """Erases the user; returns what was removed."""
    request = pb.EraseUserRequest(namespace=args.namespace, user_id=args.user)
    with remote.channel(args) as channel:
        erased = (
            administration_pb2_grpc.AdministrationStub(channel)
            .EraseUser(request, metadata=remote.metadata(args))
            .erased
        )
    counts = json_format.MessageToDict(
        erased, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    return "erased " + ", ".join(f"{count} {name}" for name, count in counts.items())


def delete_namespace(args: argparse.Namespace) -> str:
    """Deletes the namespace, call after call; returns how many keys went."""
    request = pb.DeleteNamespaceRequest(namespace=args.namespace)
    deleted = 0
    with remote.channel(args) as channel:
        stub = administration_pb2_grpc.AdministrationStub(channel)
        for _ in range(MAX_DELETE_CALLS):
            done = stub.DeleteNamespace(
                request, metadata=remote.metadata(args), timeout=DELETE_CALL_S
            )
            deleted += done.deleted_keys
            if done.done:
                return f"deleted namespace {args.namespace!r}: {deleted} keys"
    raise remote.UsageError(f"still deleting after {MAX_DELETE_CALLS} calls; run it again")


def audit(args: argparse.Namespace) -> str:
    """Prints the records; returns how many."""
    if not 1 <= args.limit <= 100_000:
        raise remote.UsageError("--limit must be between 1 and 100000")
    printed, token = 0, ""
    with remote.channel(args) as channel:
        stub = administration_pb2_grpc.AdministrationStub(channel)
        while printed < args.limit:
            page = stub.ListAuditRecords(
                pb.ListAuditRecordsRequest(
                    namespace=args.namespace,
                    page_size=min(1000, args.limit - printed),
                    page_token=token,
                ),
                metadata=remote.metadata(args),
            )
            for record in page.records:
                print(json_format.MessageToJson(record, indent=None))
            printed += len(page.records)
            token = page.next_page_token
            if not token:
                break
    return f"{printed} audit records of {args.namespace!r}"


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Runs one of `COMMANDS` (`remote.run`)."""
    work = {"erase-user": erase_user, "delete-namespace": delete_namespace, "audit": audit}
    remote.run(parser, lambda: work[args.command](args), to_stderr=args.command == "audit")
