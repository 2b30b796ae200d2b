"""Conversions shared by the servicers: clock, timestamps, recall modes."""

from __future__ import annotations

import time

from google.protobuf import duration_pb2, timestamp_pb2

from memrpc.namespace_defaults import RecallMode
from memrpc.v1 import long_term_memory_pb2 as ltm_pb

# Each `memrpc.v1.RecallMode` number but `RECALL_MODE_UNSPECIFIED`, and the
# mode it names.
RECALL_MODES: dict[int, RecallMode] = {
    ltm_pb.RecallMode.Value(f"RECALL_MODE_{mode.name}"): mode for mode in RecallMode
}
# Each mode's `memrpc.v1.RecallMode` number.
RECALL_MODE_NUMBERS: dict[RecallMode, int] = {mode: n for n, mode in RECALL_MODES.items()}


def now_ms() -> int:
    """Wall-clock time in milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def timestamp(ms: int) -> timestamp_pb2.Timestamp:
    """A Timestamp from milliseconds since the epoch."""
    return timestamp_pb2.Timestamp(seconds=ms // 1000, nanos=(ms % 1000) * 1_000_000)


def set_timestamp(target: timestamp_pb2.Timestamp, ms: int) -> None:
    """Sets a message's Timestamp field in place (cheaper than building one)."""
    target.seconds = ms // 1000
    target.nanos = (ms % 1000) * 1_000_000


def timestamp_ms(value: timestamp_pb2.Timestamp) -> int:
    """Milliseconds since the epoch of a Timestamp."""
    return value.seconds * 1000 + value.nanos // 1_000_000


def duration(ms: int) -> duration_pb2.Duration:
    """A Duration from milliseconds."""
    return duration_pb2.Duration(seconds=ms // 1000, nanos=(ms % 1000) * 1_000_000)
