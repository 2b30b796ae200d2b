"""Memory formation under a steady turn load: how many turns and memories
the formation job forms per second, how far it lags behind the appends,
side by side with the summary job, and what it costs the appends.

A fresh `memrpc serve` with its own embedded Redis, default settings (the
background jobs in-process, at most `--jobs-share` 0.5 of its time) and
metrics on. Two namespaces of `threads` threads each: `formation-on`
(formation on, the default) and `formation-off` (`formation.enabled`
false); both keep the running summary. Every thread first gets a full
20-turn window, so that from then on each append of two turns (the bench's
`AppendTurns`: user ~90 characters, assistant ~330) pushes two out. Then
`rounds` rounds of `round_s` seconds, the namespaces taking turns in the
order on, off, off, on, on, off, ... (so that drift favours neither): in a
round, `rate` appends per second go to that round's namespace, open loop
(on a fixed schedule, round robin over its threads, at most
`MAX_IN_FLIGHT` at once: a call due while that many wait is counted as
missed). After the last round the jobs get at most `drain_s` to catch up.

Measured:
- the appends' latency (client-side, Python grpc.aio, as the rest of the
  bench) in the rounds of each side: p50/p99 with formation on against
  off, the same server and rate;
- the lag of each turn that left a window, from the append that evicted it
  (the time in its event id) to the write that covered it: the memory
  holding it (`formation`) and the fold of the summary (`summary`). A
  sampler reads every thread's counters in its session Hash
  (`formed_turns`, `summary_turns`, ...) every `sample_s`; a turn counts as
  covered at the first sample that shows it, so a lag is late by at most
  one sample period. A turn waits in the window's backlog until
  `turns_per_memory` have left (a whole chunk): `formation_from_chunk` is
  the lag from the append that completed its chunk, the job's own part;
- the turns and memories formed per second over the rounds (of both sides:
  the on side's turns leave at half the rate over that time), against the
  turns that left; the memories created and the duplicates (a chunk that
  repeated a live memory, which gained a hit) and the texts the model
  embedded, from the server's metrics, from the first round to the end of
  the drain.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import redis.asyncio
import redis.exceptions
from google.protobuf import field_mask_pb2

from bench import job_lag
from bench.channels import ChannelPool
from bench.servers import embedded_memrpc, free_port
from bench.stats import percentiles_ms, summarize
from bench.workloads import WINDOW_TURNS, turn_pair
from memrpc.limits import FORMATION_TURNS_PER_MEMORY
from memrpc.store import keys
from memrpc.store.formation import event_ms
from memrpc.v1 import namespace_settings_pb2, namespace_settings_pb2_grpc, working_memory_pb2_grpc
from memrpc.v1 import working_memory_pb2 as wm

SIDES = ("on", "off")
NAMESPACES = {"on": "formation-on", "off": "formation-off"}
PER_MEMORY = int(FORMATION_TURNS_PER_MEMORY.default)
MAX_IN_FLIGHT = 32
JOB_GROUPS = {job_lag.GROUP, "memrpc.formation"}
JOBS_FOUND_S = 30.0
CHANNELS = 4
USER = "bench-user"
# The session Hash's counters (store/working.py): turns that left the
# window, and those the jobs covered (done or trimmed before they could be).
EVICTED = "evicted_count"
COVERED = {
    "summary": ("summary_turns", "summary_skipped"),
    "formation": ("formed_turns", "formed_skipped"),
}
METRICS = {
    "embedded_texts": "memrpc_embed_batch_texts_sum",
    "formation_job_s": 'memrpc_job_duration_seconds_sum{job_name="formation"}',
    "summary_job_s": 'memrpc_job_duration_seconds_sum{job_name="summaries"}',
    "memories_created": 'memrpc_formed_memories_total{outcome="created"}',
    "memories_duplicate": 'memrpc_formed_memories_total{outcome="duplicate"}',
}


@dataclass(frozen=True)
class Sizes:
    """The load: `rate` appends per second over `threads` threads per side,
    `rounds` rounds of `round_s` seconds; at most `drain_s` for the jobs to
    catch up; the counters read every `sample_s`."""

    rate: float
    threads: int
    rounds: int
    round_s: float
    drain_s: float
    sample_s: float


FULL = Sizes(rate=6.0, threads=16, rounds=6, round_s=8.0, drain_s=60.0, sample_s=0.05)
SMOKE = Sizes(rate=8.0, threads=2, rounds=2, round_s=1.5, drain_s=20.0, sample_s=0.05)


@dataclass
class Thread:
    """One thread of a side: its appends are one at a time (so the turns
    leave in order), and when each of its evicted turns left (ms)."""

    ns: str
    thread_id: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    evicted_ms: list[int] = field(default_factory=list)

    def request(self, number: int) -> wm.AppendTurnsRequest:
        """An append of two turns, distinct for every `number`."""
        return wm.AppendTurnsRequest(
            namespace=self.ns,
            thread_id=self.thread_id,
            user_id=USER,
            max_window_turns=WINDOW_TURNS,
            turns=turn_pair(number),
        )


@dataclass
class Sample:
    """The counters of every thread (in the order of `Counters`' threads)
    at `at_ms` (wall clock, ms): turns that left its window, and those each
    job covered."""

    at_ms: float
    evicted: list[int]
    covered: dict[str, list[int]]


@dataclass(frozen=True)
class Rounds:
    """The rounds: the counters before and after, and how long they took."""

    start: Sample
    end: Sample
    seconds: float


class Counters:
    """Reads every thread's counters every `period` seconds until stopped."""

    def __init__(self, client: redis.asyncio.Redis, threads: list[Thread], period: float) -> None:
        self._client = client
        self._threads = threads
        self._period = period
        self.samples: list[Sample] = []
        self._task: asyncio.Task[None] | None = None

    async def sample(self) -> Sample:
        """One reading of every thread's counters, recorded."""
        fields = [EVICTED, *(name for names in COVERED.values() for name in names)]
        async with self._client.pipeline(transaction=False) as pipe:
            for thread in self._threads:
                pipe.hmget(keys.session(thread.ns, thread.thread_id), fields)
            replies = await pipe.execute()
        at_ms = time.time() * 1000
        values = [dict(zip(fields, (int(v or 0) for v in reply), strict=True)) for reply in replies]
        reading = Sample(
            at_ms,
            [v[EVICTED] for v in values],
            {job: [sum(v[n] for n in names) for v in values] for job, names in COVERED.items()},
        )
        self.samples.append(reading)
        return reading

    async def _run(self) -> None:
        while True:
            await self.sample()
            await asyncio.sleep(self._period)

    def start(self) -> None:
        """Starts sampling in a task."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stops sampling."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def covered_at(samples: list[Sample], job: str, index: int) -> list[float]:
    """When each turn that left thread `index`'s window was covered by
    `job`: the time of the first sample showing it, in the turns' order."""
    times: list[float] = []
    for sample in samples:
        times += [sample.at_ms] * (sample.covered[job][index] - len(times))
    return times


def lags(
    evicted_ms: list[int], covered: list[float], *, chunk: int = 1
) -> tuple[list[float], list[float]]:
    """The lag (s) of each covered turn from the append that evicted it,
    and from the append that evicted the last turn of its chunk of `chunk`."""
    from_turn, from_chunk = [], []
    for turn, at in enumerate(covered[: len(evicted_ms)]):
        from_turn.append((at - evicted_ms[turn]) / 1000)
        last = turn // chunk * chunk + chunk - 1
        if last < len(evicted_ms):
            from_chunk.append((at - evicted_ms[last]) / 1000)
    return from_turn, from_chunk


def _scrape(port: int) -> dict[str, float]:
    """The `METRICS` on the server's metrics endpoint (0 when absent)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        text = reply.read().decode()
    found = dict.fromkeys(METRICS, 0.0)
    by_line = {
        line.rsplit(" ", 1)[0]: line.rsplit(" ", 1)[1]
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    for name, series in METRICS.items():
        if series in by_line:
            found[name] = float(by_line[series])
    return found


def side_of(round_: int) -> str:
    """The side of a round: on, off, off, on, on, off, ..."""
    return SIDES[(round_ + 1) // 2 % 2]


class FormationLoad:
    """One measurement: the load, its samples and its report section."""

    def __init__(
        self, target: str, client: redis.asyncio.Redis, metrics_port: int, sizes: Sizes
    ) -> None:
        self._pool = ChannelPool(target, CHANNELS)
        self._client = client
        self._metrics_port = metrics_port
        self._sizes = sizes
        self._threads = {
            side: [Thread(ns, f"f-{i:03d}") for i in range(sizes.threads)]
            for side, ns in NAMESPACES.items()
        }
        self._all = [thread for side in SIDES for thread in self._threads[side]]
        self._numbers: Iterator[int] = itertools.count()
        self._latencies: dict[str, list[int]] = {side: [] for side in SIDES}
        self._errors: dict[str, int] = dict.fromkeys(SIDES, 0)
        self._missed: dict[str, int] = dict.fromkeys(SIDES, 0)
        self._elapsed: dict[str, float] = dict.fromkeys(SIDES, 0.0)
        self._first_error = ""

    def _stub(self, number: int) -> Any:
        return working_memory_pb2_grpc.WorkingMemoryStub(self._pool.pick(number))

    async def _append(self, thread: Thread, latencies: list[int] | None) -> None:
        """One append to `thread`; its latency (ns) into `latencies`, when
        given, and the times its evicted turns left."""
        number = next(self._numbers)
        async with thread.lock:
            begin = time.perf_counter_ns()
            reply = await self._stub(number).AppendTurns(thread.request(number), timeout=30)
            if latencies is not None:
                latencies.append(time.perf_counter_ns() - begin)
            thread.evicted_ms += [event_ms(reply.event_ids[0])] * reply.evicted_turn_count

    async def prepare(self) -> None:
        """Formation off in the off namespace, and a full window in every thread."""
        await self._pool.ready()
        settings = namespace_settings_pb2_grpc.NamespacesStub(self._pool.pick(0))
        await settings.UpdateNamespaceSettings(
            namespace_settings_pb2.UpdateNamespaceSettingsRequest(
                namespace=NAMESPACES["off"],
                settings=namespace_settings_pb2.NamespaceSettings(
                    formation=namespace_settings_pb2.FormationPolicy(enabled=False)
                ),
                update_mask=field_mask_pb2.FieldMask(paths=["formation.enabled"]),
            )
        )
        for _ in range(WINDOW_TURNS // 2):
            await asyncio.gather(*(self._append(thread, None) for thread in self._all))
        await self._jobs_reading()

    async def _jobs_reading(self) -> None:
        """Waits (at most `JOBS_FOUND_S`) until both jobs' groups read both
        namespaces' feeds: the runners find new namespaces every 2 s, a wait
        that is no part of the lag measured."""
        deadline = time.monotonic() + JOBS_FOUND_S
        for ns in NAMESPACES.values():
            while True:
                with contextlib.suppress(redis.exceptions.ResponseError):  # no feed yet
                    groups = await self._client.xinfo_groups(keys.feed(ns))
                    if {group["name"].decode() for group in groups} >= JOB_GROUPS:
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the jobs' groups are not on the feed of {ns}")
                await asyncio.sleep(self._sizes.sample_s)

    async def _round(self, side: str) -> None:
        """`round_s` seconds of `rate` appends per second to the side's threads."""
        interval = 1.0 / self._sizes.rate
        calls = int(self._sizes.round_s * self._sizes.rate)
        threads = self._threads[side]
        began = time.perf_counter()
        running: set[asyncio.Task[None]] = set()
        for call in range(calls):
            await asyncio.sleep(max(0.0, began + call * interval - time.perf_counter()))
            if len(running) >= MAX_IN_FLIGHT:
                self._missed[side] += 1
                continue
            task = asyncio.create_task(self._measured(side, threads[call % len(threads)]))
            running.add(task)
            task.add_done_callback(running.discard)
        await asyncio.gather(*running)
        self._elapsed[side] += time.perf_counter() - began

    async def _measured(self, side: str, thread: Thread) -> None:
        try:
            await self._append(thread, self._latencies[side])
        except grpc.aio.AioRpcError as exc:
            self._errors[side] += 1
            self._first_error = self._first_error or f"{exc.code().name}: {exc.details()}"

    async def run(self) -> dict[str, Any]:
        """Prepares, runs the rounds and the drain; the report section."""
        sizes = self._sizes
        counters = Counters(self._client, self._all, sizes.sample_s)
        try:
            await self.prepare()
            counters.start()
            before = await asyncio.to_thread(_scrape, self._metrics_port)
            began = time.perf_counter()
            start = await counters.sample()
            for round_ in range(sizes.rounds):
                await self._round(side_of(round_))
            load = Rounds(start, await counters.sample(), time.perf_counter() - began)
            drained_s = await self._drain(counters, sizes.drain_s)
            after = await asyncio.to_thread(_scrape, self._metrics_port)
        finally:
            await counters.stop()
            await self._pool.close()
        section = self._section(counters.samples, load, drained_s)
        section["metrics"] = {name: round(after[name] - before[name], 3) for name in METRICS}
        return section

    async def _drain(self, counters: Counters, within_s: float) -> float | None:
        """Waits until the jobs covered every turn that left (formation:
        every whole chunk); the seconds it took, None if not within `within_s`."""
        began = time.perf_counter()
        while time.perf_counter() - began < within_s:
            if self._caught_up(await counters.sample()):
                return round(time.perf_counter() - began, 2)
            await asyncio.sleep(self._sizes.sample_s)
        return None

    def _caught_up(self, sample: Sample) -> bool:
        """Whether the summary covers every turn that left, and formation
        every whole chunk of the on side."""
        for index, thread in enumerate(self._all):
            evicted = len(thread.evicted_ms)
            if sample.covered["summary"][index] < evicted:
                return False
            formed = evicted // PER_MEMORY * PER_MEMORY if thread.ns == NAMESPACES["on"] else 0
            if sample.covered["formation"][index] < formed:
                return False
        return True

    def _section(
        self, samples: list[Sample], load: Rounds, drained_s: float | None
    ) -> dict[str, Any]:
        """The report's section from the samples and the rounds' records."""
        lag: dict[str, list[float]] = {"summary": [], "formation": [], "formation_from_chunk": []}
        formed_in_load = evicted_in_load = 0
        for index, thread in enumerate(self._all):
            summary, _ = lags(thread.evicted_ms, covered_at(samples, "summary", index))
            lag["summary"] += summary
            if thread.ns != NAMESPACES["on"]:
                continue
            turn, chunk = lags(
                thread.evicted_ms, covered_at(samples, "formation", index), chunk=PER_MEMORY
            )
            lag["formation"] += turn
            lag["formation_from_chunk"] += chunk
            formed_in_load += (
                load.end.covered["formation"][index] - load.start.covered["formation"][index]
            )
            evicted_in_load += load.end.evicted[index] - load.start.evicted[index]
        appends = {
            side: summarize(
                self._latencies[side],
                concurrency=MAX_IN_FLIGHT,
                elapsed_s=self._elapsed[side],
                errors=self._errors[side],
                first_error=self._first_error,
            ).to_json()
            | {"missed": self._missed[side]}
            for side in SIDES
        }
        on, off = appends["on"], appends["off"]
        load_s = load.seconds
        return {
            "status": "ok",
            "sizes": self._sizes.__dict__,
            "window_turns": WINDOW_TURNS,
            "turns_per_memory": PER_MEMORY,
            "max_in_flight": MAX_IN_FLIGHT,
            "load_s": round(load_s, 2),
            "drained_s": drained_s,
            "evicted_turns_on": evicted_in_load,
            "formed_turns_in_load": formed_in_load,
            "turns_formed_per_s": round(formed_in_load / load_s, 2),
            "memories_formed_per_s": round(formed_in_load / PER_MEMORY / load_s, 2),
            "turns_evicted_per_s_on": round(evicted_in_load / load_s, 2),
            "lag_s": {name: percentiles_ms(values) for name, values in lag.items()},
            "appends": appends,
            "p50_ratio": round(on["p50_us"] / off["p50_us"], 3) if off["p50_us"] else None,
            "p99_ratio": round(on["p99_us"] / off["p99_us"], 3) if off["p99_us"] else None,
        }


async def measure(sizes: Sizes) -> dict[str, Any]:
    """The section of the report (a server and Redis of its own)."""
    metrics_port = free_port()
    listen = ("--metrics-listen", f"127.0.0.1:{metrics_port}")
    async with embedded_memrpc(extra_args=listen) as server:
        client = redis.asyncio.from_url(server.redis_url)
        try:
            return await FormationLoad(server.target, client, metrics_port, sizes).run()
        finally:
            await client.aclose()


def _ms(lag: dict[str, float]) -> str:
    return f"p50 {lag['p50_ms'] / 1000:.2f} s, p99 {lag['p99_ms'] / 1000:.2f} s (n={lag['n']:,})"


def lines(section: dict[str, Any]) -> list[str]:
    """The section as text lines for the report table."""
    title = "Formation under a steady turn load"
    if section.get("status") != "ok":
        return [f"{title}: {section.get('status', 'not run')}"]
    sizes, lag, appends = section["sizes"], section["lag_s"], section["appends"]
    metrics = section["metrics"]
    return [
        f"{title}: {sizes['rate']:g} AppendTurns/s (2 turns) over {sizes['threads']} threads "
        f"per side, {sizes['rounds']} rounds of {sizes['round_s']:g} s, on/off alternating",
        f"  formed {section['turns_formed_per_s']:g} turns/s, "
        f"{section['memories_formed_per_s']:g} memories/s (on side's turns left at "
        f"{section['turns_evicted_per_s_on']:g}/s over the run); drained in "
        f"{section['drained_s']} s after the load",
        f"  formation lag from the turn's eviction: {_ms(lag['formation'])}",
        f"  formation lag from its chunk's last eviction: {_ms(lag['formation_from_chunk'])}",
        f"  summary lag from the turn's eviction: {_ms(lag['summary'])}",
        "  AppendTurns (µs): "
        + "; ".join(
            f"formation {side} p50 {entry['p50_us']:,.0f} p99 {entry['p99_us']:,.0f}"
            for side, entry in appends.items()
        )
        + f"; ratio on/off p50 {section['p50_ratio']}, p99 {section['p99_ratio']}",
        f"  memories created {metrics['memories_created']:g}, duplicates (a hit on a live "
        f"memory) {metrics['memories_duplicate']:g}; texts embedded {metrics['embedded_texts']:g}",
    ]


def main() -> None:
    """`python -m bench.formation_load [--smoke] [--out FILE]`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny run")
    parser.add_argument("--out", help="write the section as JSON to this file")
    args = parser.parse_args()
    section = asyncio.run(measure(SMOKE if args.smoke else FULL))
    print("\n".join(lines(section)))
    if args.out:
        with open(args.out, "w") as out:
            json.dump(section, out, indent=2)


if __name__ == "__main__":
    main()
