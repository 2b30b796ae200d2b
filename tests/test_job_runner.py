"""The background-job runner (memrpc/jobs/runner.py) on a real Redis of its
own: one run per thread and batch, acknowledgement of what is done, claims
of what a crashed consumer left, dead letters for entries whose job keeps
failing, two runners sharing a feed, and the reserved group names. The
reads by slot of a Redis Cluster (`jobs/feed_reads.py`), here on one Redis:
a read that ends leaves the others waiting, and past `JOB_FEED_READS` slots the
reads do not wait (on a cluster: tests/test_cluster_jobs.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest
from prometheus_client import REGISTRY

import memrpc.jobs.runner
from memrpc import metrics
from memrpc.config import Settings
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.jobs import feed_reads
from memrpc.jobs.base import group_of
from memrpc.jobs.feed_reads import FeedReads
from memrpc.jobs.runner import JobRunner, RunnerPolicy
from memrpc.limits import JOB_DEAD_MAX_LEN
from memrpc.store import keys
from memrpc.store.events import EventContent, EventStore, Retention
from memrpc.store.job_feeds import JobFeeds, feed_slot
from memrpc.store.namespaces import NamespaceSet
from memrpc.store.redis_mux import RedisMux
from memrpc.v1 import event_log_pb2 as el
from memrpc.v1 import event_log_pb2_grpc
from support import assert_invalid, started
from test_faults import eventually

TURN = "memrpc.turn"
# Claimed again fast, given up on after three deliveries.
POLICY = RunnerPolicy(claim_idle_s=0.2, max_deliveries=3)


class Recorder:
    """A job that records its runs, and fails on the threads it is told to."""

    event_types = frozenset({TURN})

    def __init__(self, fail: set[str] | None = None) -> None:
        self.name = f"test-{uuid.uuid4().hex[:8]}"
        self.runs: list[tuple[str, str]] = []
        self.fail = fail or set()

    async def run(self, ns: str, thread: str) -> None:
        self.runs.append((ns, thread))
        if thread in self.fail:
            raise RuntimeError(f"cannot run on {thread}")

    def threads_run(self, *namespaces: str) -> list[tuple[str, str]]:
        """Its runs in `namespaces` (the module's other tests wrote others)."""
        return sorted(run for run in self.runs if run[0] in namespaces)


@pytest.fixture(scope="module")
def jobs_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    """A Redis of this module's own: its namespace set holds only its tests'."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("jobs-redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def mux(jobs_redis: EmbeddedRedis) -> AsyncIterator[RedisMux]:
    client = RedisMux(jobs_redis.url)
    yield client
    await client.aclose()


@pytest.fixture(autouse=True)
def fast_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runners look for new namespaces every 50 ms instead of every 2 s."""
    monkeypatch.setattr(memrpc.jobs.runner, "JOB_NAMESPACES_REFRESH_S", 0.05)


def feeds_of(mux: RedisMux, job: Recorder) -> JobFeeds:
    return JobFeeds(mux, group_of(job), dead_max_len=JOB_DEAD_MAX_LEN)


@contextlib.asynccontextmanager
async def running(
    mux: RedisMux,
    job: Recorder,
    consumer: str | None = None,
    policy: RunnerPolicy = POLICY,
    *,
    by_slot: bool = False,
) -> AsyncIterator[JobRunner]:
    namespaces = NamespaceSet(mux)
    runner = JobRunner(
        job, feeds_of(mux, job), namespaces, policy, consumer=consumer, by_slot=by_slot
    )
    async with started(runner):
        yield runner


async def append(mux: RedisMux, ns: str, thread: str, *types: str) -> list[str]:
    await NamespaceSet(mux).note(ns)
    store = EventStore(mux, Retention(log_max_len=1000, feed_max_len=1000))
    appended = await store.append(ns, thread, [EventContent(type=t, json="{}") for t in types])
    return appended.ids


async def pending(mux: RedisMux, ns: str, job: Recorder) -> int:
    stats = await feeds_of(mux, job).stats(ns)
    return -1 if stats is None else stats.pending


async def settled(mux: RedisMux, ns: str, job: Recorder) -> bool:
    """Whether the job's group has every entry of the feed delivered and acknowledged."""
    stats = await feeds_of(mux, job).stats(ns)
    return stats is not None and stats.lag == 0 and stats.pending == 0


async def test_one_run_per_thread_and_batch_and_every_entry_acknowledged(mux: RedisMux) -> None:
    job = Recorder()
    a, b = f"a{uuid.uuid4().hex[:8]}", f"b{uuid.uuid4().hex[:8]}"
    # Written before the runner starts: its group reads the feeds from the start.
    await append(mux, a, "t1", TURN, TURN, TURN)
    await append(mux, a, "t2", TURN, "agent.step")
    await append(mux, b, "t1", TURN)
    await append(mux, b, "t3", "agent.step")
    async with running(mux, job):
        await eventually(lambda: settled(mux, a, job), "namespace a done")
        await eventually(lambda: settled(mux, b, job), "namespace b done")
    # One batch: one run per thread with turns; t3 had none.
    assert job.threads_run(a, b) == sorted([(a, "t1"), (a, "t2"), (b, "t1")])


def test_a_runner_rests_in_proportion_to_its_share_of_the_time() -> None:
    assert RunnerPolicy(1.0, 1, work_share=0.5).rest_after(0.2) == pytest.approx(0.2)
    assert RunnerPolicy(1.0, 1, work_share=0.25).rest_after(0.1) == pytest.approx(0.3)
    assert RunnerPolicy(1.0, 1).rest_after(5.0) == 0
    settings = Settings(jobs_share=0.3)
    assert RunnerPolicy.from_settings(settings, in_server=True).work_share == 0.3
    assert RunnerPolicy.from_settings(settings, in_server=False).work_share == 1.0


async def test_a_runner_rests_after_each_batch_it_ran_jobs_in(
    mux: RedisMux, monkeypatch: pytest.MonkeyPatch
) -> None:
    rests: list[float] = []
    rest_after = RunnerPolicy.rest_after

    def rest(policy: RunnerPolicy, worked_s: float) -> float:
        rests.append(rest_after(policy, worked_s))
        return rests[-1]

    monkeypatch.setattr(RunnerPolicy, "rest_after", rest)
    job = Recorder()
    ns = f"r{uuid.uuid4().hex[:8]}"
    await append(mux, ns, "t1", TURN, TURN)
    await append(mux, ns, "t2", "agent.step")
    async with running(mux, job, policy=RunnerPolicy(1.0, 3, work_share=0.5)):
        await eventually(lambda: settled(mux, ns, job), "the feed done")
    # One batch ran the job (on t1): one rest, as long as its runs took.
    assert len(rests) == 1
    assert rests[0] > 0


async def test_entries_a_crashed_consumer_left_are_claimed_and_run(mux: RedisMux) -> None:
    job = Recorder()
    ns = f"c{uuid.uuid4().hex[:8]}"
    await append(mux, ns, "t1", TURN)
    feeds = feeds_of(mux, job)
    await feeds.ensure_group(ns)
    # A consumer reads the entry, then dies without acknowledging it.
    async with feeds.reader(ns) as reader:
        taken = await feeds.read(reader, [ns], "crashed", count=10, block_ms=1)
    assert [entry.thread for entry in taken] == ["t1"]
    assert await pending(mux, ns, job) == 1
    async with running(mux, job):
        await eventually(lambda: settled(mux, ns, job), "the entry claimed and run")
    assert job.threads_run(ns) == [(ns, "t1")]


async def test_an_entry_whose_job_keeps_failing_is_dead_lettered_and_others_go_on(
    mux: RedisMux,
) -> None:
    job = Recorder(fail={"bad"})
    ns = f"d{uuid.uuid4().hex[:8]}"
    [bad] = await append(mux, ns, "bad", TURN)
    # A poison entry: a turn's feed entry without a thread, written by hand.
    poison = (
        await mux.execute("XADD", keys.feed(ns), "*", "type", TURN, "event_id", "1-0")
    ).decode()
    async with running(mux, job):
        await eventually(lambda: settled(mux, ns, job), "both given up on")
        # Later entries still run.
        await append(mux, ns, "good", TURN)
        await eventually(lambda: (ns, "good") in job.runs, "a later entry run")
        await eventually(lambda: settled(mux, ns, job), "the later entry acknowledged")
    assert job.runs.count((ns, "bad")) == POLICY.max_deliveries
    dead = await mux.execute("XRANGE", keys.dead_letters(ns), "-", "+")
    letters = {
        fields[b"event_id"].decode(): fields
        for _, flat in dead
        for fields in [dict(zip(flat[::2], flat[1::2], strict=True))]
    }
    assert set(letters) == {bad, "1-0"}
    assert letters[bad][b"job"] == group_of(job).encode()
    assert letters[bad][b"deliveries"] == str(POLICY.max_deliveries).encode()
    assert b"RuntimeError: cannot run on bad" in letters[bad][b"error"]
    assert letters[bad][b"thread"] == b"bad"
    assert letters["1-0"][b"error"] == b"a feed entry without a thread"
    assert poison != bad


async def test_two_runners_share_a_feed_and_leave_their_groups_on_stop(mux: RedisMux) -> None:
    job = Recorder()
    ns = f"e{uuid.uuid4().hex[:8]}"
    async with running(mux, job, "one"), running(mux, job, "two"):
        for i in range(20):
            await append(mux, ns, f"t{i % 5}", TURN)
        await eventually(lambda: settled(mux, ns, job), "every entry done")
    assert {thread for _, thread in job.threads_run(ns)} == {f"t{i}" for i in range(5)}
    # Stopped runners holding nothing leave the group.
    consumers = await mux.execute("XINFO", "CONSUMERS", keys.feed(ns), group_of(job))
    assert consumers == []


async def test_runs_failures_dead_letters_and_lag_are_counted(
    own_redis: EmbeddedRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A Redis of its own: the job sees this test's entries only.
    monkeypatch.setattr(memrpc.jobs.runner, "JOB_SAMPLE_S", 0.05)
    mux = RedisMux(own_redis.url)
    job = Recorder(fail={"bad"})
    ns = f"m{uuid.uuid4().hex[:8]}"

    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, {"job_name": job.name, **labels}) or 0.0

    metrics.enable()
    try:
        await append(mux, ns, "good", TURN)
        await append(mux, ns, "bad", TURN)
        async with running(mux, job) as runner:
            await eventually(lambda: settled(mux, ns, job), "done and given up on")
            await eventually(lambda: runner.state.lag == 0 and runner.state.pending == 0, "sampled")
        assert value("memrpc_job_dead_letters_total") == 1
        assert value("memrpc_job_runs_total", outcome="failed") == POLICY.max_deliveries
        assert value("memrpc_job_runs_total", outcome="done") == 1
        assert value("memrpc_job_duration_seconds_count") == POLICY.max_deliveries + 1
        assert value("memrpc_job_lag_events") == 0
        assert value("memrpc_job_pending_entries") == 0
    finally:
        metrics.disable()
        await mux.aclose()


def of_distinct_slots(count: int) -> list[str]:
    """`count` fresh namespaces whose feeds are in distinct slots."""
    found: dict[int, str] = {}
    for _ in range(1000):
        ns = f"s{uuid.uuid4().hex[:8]}"
        found.setdefault(feed_slot(ns), ns)
        if len(found) == count:
            return list(found.values())
    raise AssertionError(f"no {count} namespaces of distinct slots")


async def waiting(mux: RedisMux, count: int) -> bool:
    """Whether `count` clients of Redis wait in an `XREADGROUP`."""
    listing = (await mux.execute("CLIENT", "LIST")).decode()
    lines = listing.splitlines()
    return sum("cmd=xreadgroup" in line and "flags=b" in line for line in lines) == count


async def test_a_read_by_slot_that_ends_leaves_the_others_waiting(
    mux: RedisMux, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reads that wait longer than the test: only an entry or an interrupt
    # ends them.
    monkeypatch.setattr(feed_reads, "_BLOCK_MS", 600_000)
    job = Recorder()
    feeds = feeds_of(mux, job)
    namespaces = of_distinct_slots(3)
    for ns in namespaces:
        await feeds.ensure_group(ns)
    reads = FeedReads(feeds, "reader", by_slot=True, pause=asyncio.sleep)
    async with asyncio.timeout(30), reads.open():
        read = asyncio.ensure_future(reads.read(namespaces))
        await eventually(lambda: waiting(mux, 3), "a read per slot waiting")
        await append(mux, namespaces[1], "t1", TURN)
        assert [(entry.ns, entry.thread) for entry in await read] == [(namespaces[1], "t1")]
        # The other two still wait in Redis: an entry of theirs is the next
        # read's, which sends one read, of the slot that ended.
        assert await waiting(mux, 2)
        await append(mux, namespaces[2], "t2", TURN)
        found = await reads.read(namespaces)
        assert [(entry.ns, entry.thread) for entry in found] == [(namespaces[2], "t2")]
        # A runner's stop ends them all, on the same connections.
        read = asyncio.ensure_future(reads.read(namespaces))
        await eventually(lambda: waiting(mux, 3), "the reads waiting again")
        await reads.interrupt()
        assert await read == []


async def test_past_the_bound_the_reads_by_slot_do_not_wait(
    mux: RedisMux, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed_reads, "JOB_FEED_READS", 2)
    job = Recorder()
    namespaces = of_distinct_slots(3)
    for ns in namespaces:
        await append(mux, ns, "t1", TURN)
    async with running(mux, job, by_slot=True):
        for ns in namespaces:
            await eventually(lambda ns=ns: settled(mux, ns, job), f"{ns} done")
        # Found by a later read, after a wait.
        await append(mux, namespaces[0], "t2", TURN)
        await eventually(lambda: settled(mux, namespaces[0], job), "a later entry done")
        assert await waiting(mux, 0)
    expected = [(ns, "t1") for ns in namespaces] + [(namespaces[0], "t2")]
    assert job.threads_run(*namespaces) == sorted(expected)


@pytest.mark.parametrize(
    "call",
    ["CreateConsumerGroup", "DeleteConsumerGroup", "ReceiveEvents", "AcknowledgeEvents"],
)
async def test_group_names_of_the_jobs_are_reserved(
    events: event_log_pb2_grpc.EventLogStub, ns: str, call: str
) -> None:
    requests = {
        "CreateConsumerGroup": el.CreateConsumerGroupRequest(
            namespace=ns, group="memrpc.summaries"
        ),
        "DeleteConsumerGroup": el.DeleteConsumerGroupRequest(
            namespace=ns, group="memrpc.summaries"
        ),
        "ReceiveEvents": el.ReceiveEventsRequest(
            namespace=ns, group="memrpc.summaries", consumer="c"
        ),
        "AcknowledgeEvents": el.AcknowledgeEventsRequest(
            namespace=ns, group="memrpc.summaries", delivery_ids=["1-0"]
        ),
    }
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await getattr(events, call)(requests[call])
    assert_invalid(caught.value, "group")
    # A name merely containing it is the client's.
    if call == "CreateConsumerGroup":
        await events.CreateConsumerGroup(
            el.CreateConsumerGroupRequest(namespace=ns, group="app.memrpc.summaries")
        )


def test_worker_refuses_bad_settings_in_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "memrpc.cli", "worker", "--job-max-deliveries", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("MEMRPC_")},
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "memrpc worker: error: --job-max-deliveries must be 1 to 1,000, not 0 "
        "(see memrpc worker --help)"
    )
