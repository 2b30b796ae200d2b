"""The measurement method: warm-up, latency at concurrency 1, throughput at
higher concurrency; every loop bounded in count and in time."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

from bench.stats import Summary, percentiles_ms, summarize

# One call of an operation; the argument is a number unique to the call, so
# that operations can write distinct keys or texts.
Call = Callable[[int], Awaitable[object]]


@dataclass(frozen=True)
class Plan:
    """How long and how often each phase runs."""

    warmup_s: float
    latency_max_samples: int
    latency_max_s: float
    throughput_s: float
    throughput_max_calls: int
    concurrencies: tuple[int, ...] = (16, 64)


@dataclass
class Operation:
    """A named operation: `call` does one request carrying `items` items.
    `concurrencies` None runs the plan's; () runs the latency phase alone
    (else only the plan's concurrencies listed here run)."""

    name: str
    call: Call
    items: int = 1
    concurrencies: tuple[int, ...] | None = None
    note: str = ""
    _numbers: Iterator[int] = field(default_factory=itertools.count)

    def next_number(self) -> int:
        """A number never handed to this operation's `call` before."""
        return next(self._numbers)


@dataclass(frozen=True)
class Result:
    """Every phase measured of one operation."""

    latency: Summary
    throughput: dict[int, Summary]


async def _run(
    op: Operation, concurrency: int, seconds: float, max_calls: int, record: bool
) -> Summary:
    """`concurrency` workers call `op` back to back until `seconds` pass or
    `max_calls` calls have started."""
    latencies: list[int] = []
    errors = 0
    first_error = ""
    started = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors, first_error, started
        while started < max_calls and time.perf_counter() < deadline:
            started += 1
            number = op.next_number()
            begin = time.perf_counter_ns()
            try:
                await op.call(number)
            except Exception as exc:
                errors += 1
                first_error = first_error or f"{type(exc).__name__}: {exc}"[:300]
                continue
            if record:
                latencies.append(time.perf_counter_ns() - begin)

    begin = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - begin
    return summarize(
        latencies,
        concurrency=concurrency,
        elapsed_s=elapsed,
        errors=errors,
        items_per_call=op.items,
        first_error=first_error,
    )


async def throughput(op: Operation, plan: Plan, concurrency: int) -> Summary:
    """Warm up, then throughput with `concurrency` workers."""
    await _run(op, concurrency, plan.warmup_s, plan.throughput_max_calls, record=False)
    return await _run(op, concurrency, plan.throughput_s, plan.throughput_max_calls, record=True)


async def latency(op: Operation, plan: Plan) -> Summary:
    """Warm up, then latency at concurrency 1."""
    await _run(op, 1, plan.warmup_s, plan.latency_max_samples, record=False)
    return await _run(op, 1, plan.latency_max_s, plan.latency_max_samples, record=True)


async def measure(ops: list[Operation], plan: Plan) -> list[Result]:
    """Latency at concurrency 1, then throughput at each concurrency, of each
    operation, phase by phase: the operations take turns, in alternating
    order (A B, B A, A B...), so that state they both grow (an index) does
    not favour one of them."""
    latencies: dict[int, Summary] = {}
    rates: dict[int, dict[int, Summary]] = {index: {} for index in range(len(ops))}
    order = list(range(len(ops)))
    for index in order:
        latencies[index] = await latency(ops[index], plan)
    for concurrency in plan.concurrencies:
        order.reverse()
        for index in order:
            op = ops[index]
            if op.concurrencies is None or concurrency in op.concurrencies:
                rates[index][concurrency] = await throughput(op, plan, concurrency)
    return [Result(latencies[index], rates[index]) for index in range(len(ops))]


async def interleaved(
    calls: dict[str, dict[str, Call]], count: int
) -> dict[str, dict[str, dict[str, float]]]:
    """Per operation and target (`calls[target][operation]`), the latency
    percentiles (`stats.percentiles_ms`) of `count` calls one at a time,
    the targets' calls interleaved (which goes first rotates), so that both
    see the same moments of a noisy machine."""
    targets = list(calls)
    results: dict[str, dict[str, dict[str, float]]] = {}
    for operation in calls[targets[0]]:
        samples: dict[str, list[float]] = {target: [] for target in targets}
        for number in range(count):
            shift = number % len(targets)
            for target in targets[shift:] + targets[:shift]:
                start = time.perf_counter()
                await calls[target][operation](number)
                samples[target].append(time.perf_counter() - start)
        results[operation] = {target: percentiles_ms(samples[target]) for target in targets}
    return results


async def concurrently(call: Call, count: int, concurrency: int) -> dict[str, float]:
    """`count` calls of `call` by `concurrency` callers at once: their
    latency percentiles (`stats.percentiles_ms`) and calls per second."""
    samples: list[float] = []
    numbers = iter(range(count))

    async def caller() -> None:
        for number in numbers:
            start = time.perf_counter()
            await call(number)
            samples.append(time.perf_counter() - start)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return {**percentiles_ms(samples), "calls_per_s": count / (time.perf_counter() - started)}


def compared_line(operation: str, by_target: dict[str, dict[str, float]]) -> str:
    """One line of `interleaved`'s results for an operation: each target's
    p50 and p99 (ms), then the last one's ratio to the first."""
    found_by = list(by_target.values())
    first, last = found_by[0], found_by[-1]
    parts = [
        f"{target} p50 {found['p50_ms']:.2f} p99 {found['p99_ms']:.2f}"
        for target, found in by_target.items()
    ]
    ratio = (
        f"x{last['p50_ms'] / first['p50_ms']:.2f} p50, x{last['p99_ms'] / first['p99_ms']:.2f} p99"
    )
    return f"  {operation:15} {' | '.join(parts)} | {ratio}"


def rate_line(target: str, found: dict[str, float]) -> str:
    """One line of `concurrently`'s results for a target."""
    return (
        f"  {target:7} {found['calls_per_s']:7.0f} calls/s,"
        f" p50 {found['p50_ms']:.2f} p99 {found['p99_ms']:.2f} ms"
    )
