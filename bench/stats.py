"""Latency percentiles and throughput of one measured phase."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Summary:
    """One phase of one operation: successful calls, failed calls, latency
    percentiles of the successful calls (µs) and calls per second over the
    phase's wall time. `items_per_s` counts the items the calls carried
    (texts embedded, for example); it equals `throughput_per_s` for one
    item per call."""

    concurrency: int
    count: int
    errors: int
    elapsed_s: float
    p50_us: float
    p90_us: float
    p99_us: float
    mean_us: float
    max_us: float
    throughput_per_s: float
    items_per_s: float
    first_error: str = ""

    def to_json(self) -> dict[str, Any]:
        """The summary as a JSON object."""
        return asdict(self)


def percentile(ordered: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0-100) of sorted values, by linear interpolation."""
    if not ordered:
        return 0.0
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def percentiles_ms(samples_s: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99, mean and max of durations in seconds, in milliseconds
    (not rounded), with their count `n`."""
    ordered = sorted(s * 1000.0 for s in samples_s)
    count = len(ordered)
    return {
        "n": count,
        "p50_ms": percentile(ordered, 50),
        "p90_ms": percentile(ordered, 90),
        "p99_ms": percentile(ordered, 99),
        "mean_ms": sum(ordered) / count if count else 0.0,
        "max_ms": ordered[-1] if count else 0.0,
    }


def summarize(
    latencies_ns: Sequence[int],
    *,
    concurrency: int,
    elapsed_s: float,
    errors: int = 0,
    items_per_call: int = 1,
    first_error: str = "",
) -> Summary:
    """The summary of a phase from the latencies of its successful calls."""
    ordered = sorted(ns / 1000.0 for ns in latencies_ns)
    count = len(ordered)
    rate = count / elapsed_s if elapsed_s > 0 else 0.0
    return Summary(
        concurrency=concurrency,
        count=count,
        errors=errors,
        elapsed_s=round(elapsed_s, 4),
        p50_us=round(percentile(ordered, 50), 1),
        p90_us=round(percentile(ordered, 90), 1),
        p99_us=round(percentile(ordered, 99), 1),
        mean_us=round(sum(ordered) / count, 1) if count else 0.0,
        max_us=round(ordered[-1], 1) if count else 0.0,
        throughput_per_s=round(rate, 1),
        items_per_s=round(rate * items_per_call, 1),
        first_error=first_error,
    )
