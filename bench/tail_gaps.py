"""A slow tail on a trimmed log: does it lose events silently, or is it told?

The scenario of issue 13: one thread's log kept at about `--max-len` events
(`AppendEvents.max_len`), a TailEvents client that reads slowly (it sleeps
`--read-delay-ms` after each message), and `--events` of `--payload-bytes`
appended meanwhile in batches of 100 (larger payloads leave less of the
stream in gRPC's buffers). Counts the events appended and received, the silent gaps
(places where the tail went on past events it never sent, without saying
so) and the events skipped in them, and how the tail ended: caught up (a
checkpoint at the last event), or with which status and `ErrorInfo`.

Starts `memrpc serve` (embedded Redis, a temporary data dir) unless given
`--address` and `--redis-url`; every loop is bounded in count and time.

    .venv/bin/python -m bench.tail_gaps
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import grpc
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from bench.servers import add_target_arguments, given_or_embedded_memrpc, parse_with_target
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import event_log_pb2_grpc

BATCH = 100
# How long the tail may take in all before the run gives up on it.
RUN_TIMEOUT_S = 120.0
HEARTBEAT_S = 0.5


@dataclass
class Outcome:
    """What the tail received of what was appended, and how it ended."""

    appended: int = 0
    received: int = 0
    silent_gaps: int = 0
    skipped_silently: int = 0
    ended: str = ""
    error_info: dict[str, Any] = field(default_factory=dict)
    prefix_then_told: bool = False


def _ended_with(err: grpc.aio.AioRpcError) -> tuple[str, dict[str, Any]]:
    """A status as text, and its `ErrorInfo` (reason and metadata)."""
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    info = error_details_pb2.ErrorInfo()
    for detail in status.details if status else ():
        if detail.Unpack(info):
            return err.code().name, {"reason": info.reason, **info.metadata}
    return err.code().name, {}


async def _append_all(stub: Any, ns: str, args: argparse.Namespace, ids: list[str]) -> None:
    payload = ev.EventInput(type="bench", data=b"x" * args.payload_bytes)
    for _ in range(args.events // BATCH):
        reply = await stub.AppendEvents(
            ev.AppendEventsRequest(
                namespace=ns, thread_id="t", events=[payload] * BATCH, max_len=args.max_len
            )
        )
        ids += reply.event_ids
        await asyncio.sleep(0.005)


async def _read_slowly(
    call: Any, delay_s: float, ids: list[str], done: asyncio.Event, outcome: Outcome
) -> list[str]:
    """The event ids a tail sends until it ends or reaches the last appended
    event (once every append is done)."""
    received: list[str] = []
    try:
        while (message := await call.read()) is not grpc.aio.EOF:
            if message.HasField("event"):
                received.append(message.event.id)
                await asyncio.sleep(delay_s)
            elif done.is_set() and ids and message.checkpoint.cursors[0].after_event_id == ids[-1]:
                outcome.ended = "caught up (OK)"
                break
    except grpc.aio.AioRpcError as err:
        outcome.ended, outcome.error_info = _ended_with(err)
    return received


async def run(args: argparse.Namespace) -> Outcome:
    outcome = Outcome()
    ns = f"bench-gaps-{uuid.uuid4().hex[:8]}"
    async with (
        given_or_embedded_memrpc(args.address, args.redis_url) as target,
        grpc.aio.insecure_channel(target.address) as channel,
    ):
        stub = event_log_pb2_grpc.EventLogStub(channel)
        first = await stub.AppendEvents(
            ev.AppendEventsRequest(namespace=ns, thread_id="t", events=[ev.EventInput(type="b")])
        )
        heartbeat = duration_pb2.Duration()
        heartbeat.FromMilliseconds(round(HEARTBEAT_S * 1000))
        call = stub.TailEvents(
            ev.TailEventsRequest(
                namespace=ns,
                cursors=[ev.ThreadCursor(thread_id="t", after_event_id=first.event_ids[0])],
                heartbeat_interval=heartbeat,
            )
        )
        await call.read()  # the first checkpoint: the tail is open
        ids: list[str] = []
        done = asyncio.Event()
        async with asyncio.timeout(RUN_TIMEOUT_S):
            reading = asyncio.create_task(
                _read_slowly(call, args.read_delay_ms / 1000, ids, done, outcome)
            )
            await _append_all(stub, ns, args, ids)
            done.set()
            received = await reading
        call.cancel()
    _count(outcome, ids, received)
    return outcome


def _count(outcome: Outcome, appended: Sequence[str], received: Sequence[str]) -> None:
    """Fills in the counts: a silent gap is a received event that is not the
    one appended right after the one received before it."""
    place = {event_id: i for i, event_id in enumerate(appended)}
    outcome.appended, outcome.received = len(appended), len(received)
    before = -1
    for event_id in received:
        at = place[event_id]
        if at != before + 1:
            outcome.silent_gaps += 1
            outcome.skipped_silently += at - before - 1
        before = at
    told = outcome.error_info.get("reason") == "ERROR_REASON_EVENTS_TRIMMED"
    outcome.prefix_then_told = told and outcome.silent_gaps == 0


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=12_000, help="events to append")
    parser.add_argument("--max-len", type=int, default=1000, help="the log's max_len")
    parser.add_argument("--payload-bytes", type=int, default=256, help="bytes per event")
    parser.add_argument("--read-delay-ms", type=float, default=1.0, help="sleep per message")
    add_target_arguments(parser)
    outcome = asyncio.run(run(parse_with_target(parser, argv)))
    print(json.dumps(asdict(outcome), indent=2))


if __name__ == "__main__":
    main()
