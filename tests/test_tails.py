"""The tail hub: one shared read per thread log fanned out to every
subscription, catch-up from history without gap or duplicate, no silent gap
when the log is trimmed past a cursor, bounded queues, reconnection, and
logs unwatched when their last tail leaves."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence

import pytest
import redis.asyncio
import redis.exceptions

from memrpc.embedded_redis import EmbeddedRedis
from memrpc.limits import TAIL_BATCH
from memrpc.store.events import EventContent, EventStore, EventsTrimmed, Retention, StoredEvent
from memrpc.store.redis_mux import RedisMux
from memrpc.tails import SubscriberTooSlow, Subscription, TailHub
from memrpc.tails import reader as tail_reader
from memrpc.tails import subscription as tail_subscription
from memrpc.tails.hub import READERS

# Generous bound on any single wait; tests never rely on it being tight.
TIMEOUT = 10.0


@contextlib.asynccontextmanager
async def event_store(url: str) -> AsyncIterator[EventStore]:
    mux = RedisMux(url)
    try:
        yield EventStore(mux, Retention(log_max_len=1000, feed_max_len=100_000))
    finally:
        await mux.aclose()


# Lag allowed unless a test says otherwise: more than any test appends.
MAX_LAG = 100_000


@contextlib.asynccontextmanager
async def tail_hub_on(store: EventStore, **options: int) -> AsyncIterator[TailHub]:
    hub = TailHub(store, **{"max_lag": MAX_LAG, **options})
    try:
        yield hub
    finally:
        await hub.aclose()


@pytest.fixture
async def store(redis_server: EmbeddedRedis) -> AsyncIterator[EventStore]:
    async with event_store(redis_server.url) as events:
        yield events


@pytest.fixture
async def hub(store: EventStore, redis_client: redis.asyncio.Redis) -> AsyncIterator[TailHub]:
    # The readers of earlier tests are gone (their closing is asynchronous).
    await wait_for_xread_clients(redis_client, 0)
    async with tail_hub_on(store) as tails:
        yield tails


@contextlib.asynccontextmanager
async def subscribed(
    hub: TailHub, ns: str, cursors: Sequence[Mapping[str, str]]
) -> AsyncIterator[list[Subscription]]:
    """A subscription for each of the cursors, all left when the block ends."""
    async with contextlib.AsyncExitStack() as stack:
        yield [await stack.enter_async_context(hub.subscribe(ns, c)) for c in cursors]


async def append(
    store: EventStore,
    ns: str,
    thread: str,
    n: int = 1,
    *,
    data: bytes | None = None,
    max_len: int = 100_000,
) -> list[str]:
    events = [EventContent(f"e{i}", data=data) for i in range(n)]
    return (await store.append(ns, thread, events, max_len=max_len)).ids


async def last_id(store: EventStore, ns: str, thread: str) -> str:
    return (await store.resolve(ns, {thread: ""}))[thread]


async def take(subscription: Subscription, n: int) -> list[StoredEvent]:
    """The next `n` events of a subscription."""
    got: list[StoredEvent] = []
    async with asyncio.timeout(TIMEOUT):
        while len(got) < n:
            got += await subscription.next(1.0) or []
    return got


async def take_until(subscription: Subscription, last: str) -> list[StoredEvent]:
    """The events of a subscription up to the one with id `last`."""
    got: list[StoredEvent] = []
    async with asyncio.timeout(TIMEOUT):
        while not got or got[-1].id != last:
            got += await subscription.next(1.0) or []
    return got


async def settled(subscriptions: Sequence[Subscription]) -> None:
    """Lets subscriptions with nothing to read check their cursors against
    their logs and go live (each thread does once it attached)."""
    for events in await asyncio.gather(*(s.next(0.1) for s in subscriptions)):
        assert events == []


def ids(events: Sequence[StoredEvent]) -> list[str]:
    return [event.id for event in events]


async def xread_clients(redis_client: redis.asyncio.Redis) -> list[dict[str, str]]:
    """The Redis clients whose last command was XREAD."""
    return [c for c in await redis_client.client_list() if c["cmd"] == "xread"]


async def wait_for_xread_clients(redis_client: redis.asyncio.Redis, count: int) -> None:
    """Waits until exactly `count` Redis clients last ran XREAD."""
    async with asyncio.timeout(TIMEOUT):
        while len(await xread_clients(redis_client)) != count:  # noqa: ASYNC110 - Redis has no event for this
            await asyncio.sleep(0.02)


async def xrange_calls(redis_client: redis.asyncio.Redis) -> int:
    """How many XRANGE commands Redis has run."""
    stats = await redis_client.info("commandstats")
    return int(stats.get("cmdstat_xrange", {}).get("calls", 0))


async def test_one_read_feeds_a_hundred_subscriptions(
    hub: TailHub, store: EventStore, redis_client: redis.asyncio.Redis, ns: str
) -> None:
    start = await last_id(store, ns, "t")
    async with subscribed(hub, ns, [{"t": start}] * 100) as subscriptions:
        await wait_for_xread_clients(redis_client, 1)
        # Settled when a round of them reads no history: on a busy machine a
        # subscription's first history read can outlast one round.
        for _ in range(50):
            reads = await xrange_calls(redis_client)
            await settled(subscriptions)
            if await xrange_calls(redis_client) == reads:
                break
        else:
            pytest.fail("the subscriptions kept reading history: never live")
        takers = [asyncio.create_task(take(s, 60)) for s in subscriptions]
        appended = []
        for size in (1, 7, 1, 1, 50):
            appended += await append(store, ns, "t", size)
        got = await asyncio.gather(*takers)
        assert len(await xread_clients(redis_client)) == 1
        # Live and keeping up: no history read, no check for gaps.
        assert await xrange_calls(redis_client) == reads
        for events in got:
            assert ids(events) == appended
            # Read and parsed once: every subscription has the same objects.
            assert all(mine is first for mine, first in zip(events, got[0], strict=True))
        assert await subscriptions[0].next(0.2) == []


async def test_late_subscriptions_catch_up_then_go_live(
    hub: TailHub, store: EventStore, ns: str
) -> None:
    history = await append(store, ns, "t", 250)
    last = history[-1]
    async with subscribed(hub, ns, [{"t": last}]) as (live,):

        async def keep_appending() -> list[str]:
            appended: list[str] = []
            for i in range(60):
                appended += await append(store, ns, "t", 1 + i % 3)
                await asyncio.sleep(0)
            return appended

        appending = asyncio.create_task(keep_appending())
        joined: list[tuple[str, list[StoredEvent]]] = []
        # Join while events come, from the start, the middle, the end.
        for cursor in ("0", history[99], history[200], last, "0-0"):
            async with hub.subscribe(ns, {"t": cursor}) as late:
                got = await take(late, 30)
            joined.append((cursor, got))
            await asyncio.sleep(0.01)
        appended = await appending
        everything = history + appended
        seen_live = await take_until(live, everything[-1])

    assert ids(seen_live) == appended
    for cursor, got in joined:
        after = 0 if cursor in ("0", "0-0") else everything.index(cursor) + 1
        assert ids(got) == everything[after : after + len(got)]


async def test_joining_subscriptions_catch_up_without_gap_while_events_come(
    hub: TailHub, store: EventStore, ns: str
) -> None:
    history = await append(store, ns, "t", 10)

    async def follow(cursor: str, stop_at: asyncio.Future[str]) -> list[StoredEvent]:
        async with hub.subscribe(ns, {"t": cursor}) as subscription:
            got: list[StoredEvent] = []
            async with asyncio.timeout(TIMEOUT):
                while not stop_at.done() or not got or got[-1].id != stop_at.result():
                    got += await subscription.next(0.05) or []
            return got

    last: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    followers = []
    appended: list[str] = []
    for i in range(40):
        cursor = history[i % len(history)] if i % 2 else (appended or history)[-1]
        followers.append((cursor, asyncio.create_task(follow(cursor, last))))
        appended += await append(store, ns, "t", 1 + i % 4)
    last.set_result(appended[-1])

    everything = history + appended
    for cursor, follower in followers:
        assert ids(await follower) == everything[everything.index(cursor) + 1 :]


@pytest.mark.parametrize(
    "limit", [("MAX_QUEUED", 10, None), ("MAX_QUEUED_BYTES", 10_000, b"x" * 1000)]
)
async def test_a_subscription_that_does_not_read_stays_bounded_and_loses_nothing(
    hub: TailHub,
    store: EventStore,
    ns: str,
    monkeypatch: pytest.MonkeyPatch,
    limit: tuple[str, int, bytes | None],
) -> None:
    # Either bound keeps at most 10 events queued.
    bound, value, data = limit
    monkeypatch.setattr(tail_subscription, bound, value)
    start = await last_id(store, ns, "t")
    async with subscribed(hub, ns, [{"t": start}, {"t": start}]) as (slow, fast):
        appended = []
        for _ in range(5):
            appended += await append(store, ns, "t", 20, data=data)
            # Once the fast one has them, the hub has handed them to the slow one.
            assert ids(await take(fast, 20)) == appended[-20:]
            assert slow.queued <= 10
        assert ids(await take(slow, 100)) == appended
        # Live again: new events come from the shared read.
        (new,) = await append(store, ns, "t")
        (fast_new,) = await take(fast, 1)
        (slow_new,) = await take(slow, 1)
        assert fast_new.id == new
        assert slow_new is fast_new


async def test_a_new_log_ends_the_read_in_flight(
    store: EventStore, redis_client: redis.asyncio.Redis, ns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One reader, blocking longer than the test waits: only an interrupt
    # makes it read the new log.
    monkeypatch.setattr(tail_reader, "READ_BLOCK_MS", 600_000)
    await wait_for_xread_clients(redis_client, 0)
    async with tail_hub_on(store, readers=1) as hub, hub.subscribe(ns, {"a": "0"}) as first:
        await wait_for_xread_clients(redis_client, 1)
        for thread in ("b", "c"):
            async with hub.subscribe(ns, {thread: "0"}) as joined:
                (new,) = await append(store, ns, thread)
                assert ids(await take(joined, 1)) == [new]
        assert hub.watched == {(ns, "a")}
        (new,) = await append(store, ns, "a")
        assert ids(await take(first, 1)) == [new]


async def test_reads_on_after_its_connection_is_killed(
    hub: TailHub, store: EventStore, redis_client: redis.asyncio.Redis, ns: str
) -> None:
    start = await last_id(store, ns, "t")
    async with subscribed(hub, ns, [{"t": start}] * 3) as subscriptions:
        appended: list[str] = []
        for _ in range(3):
            await wait_for_xread_clients(redis_client, 1)
            for _ in range(5):
                appended += await append(store, ns, "t", 2)
            (reader,) = await xread_clients(redis_client)
            await redis_client.client_kill_filter(_id=reader["id"])
            for _ in range(5):
                appended += await append(store, ns, "t", 2)
        for subscription in subscriptions:
            assert ids(await take(subscription, len(appended))) == appended
            assert await subscription.next(0.2) == []
        # Reading again, on a new connection.
        await wait_for_xread_clients(redis_client, 1)
        (reader_now,) = await xread_clients(redis_client)
        assert reader_now["id"] != reader["id"]


async def test_logs_are_unwatched_when_their_last_subscription_leaves(
    hub: TailHub, store: EventStore, redis_client: redis.asyncio.Redis, ns: str
) -> None:
    threads = [f"t{i}" for i in range(1000)]
    cursors = [dict.fromkeys(threads[i : i + 100], "0") for i in range(0, 1000, 100)]
    async with subscribed(hub, ns, cursors + cursors[:3]) as subscriptions:
        assert hub.watched == {(ns, thread) for thread in threads}
        # A bounded number of connections read the 1000 logs: every reader
        # has some of them.
        await wait_for_xread_clients(redis_client, READERS)
        for thread in ("t0", "t555", "t999"):
            (new,) = await append(store, ns, thread)
            reader = subscriptions[int(thread[1:]) // 100]
            assert [(e.thread, e.id) for e in await take(reader, 1)] == [(thread, new)]
        # A subscription cancelled while it waits leaves too.
        async with hub.subscribe(ns, {"extra": "0"}) as extra:
            waiting = asyncio.create_task(extra.next(TIMEOUT))
            await asyncio.sleep(0.05)
            waiting.cancel()
        assert (ns, "extra") not in hub.watched
    assert hub.watched == set()
    await wait_for_xread_clients(redis_client, 0)


async def drain(subscription: Subscription, received: list[StoredEvent]) -> None:
    """Takes a subscription's events into `received` until it fails."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            received += await subscription.next(1.0) or []


async def gap_of(subscription: Subscription) -> EventsTrimmed:
    """The gap a subscription fails with, once it has nothing else to hand out."""
    received: list[StoredEvent] = []
    with pytest.raises(EventsTrimmed) as failed:
        await drain(subscription, received)
    assert received == [], "events after the gap"
    return failed.value


def gap(thread: str, after: str, first: str) -> tuple[str, str, str]:
    return thread, after, first


def facts(trimmed: EventsTrimmed) -> tuple[str, str, str]:
    return trimmed.thread, trimmed.after, trimmed.first


async def test_history_trimmed_past_the_cursor_fails_instead_of_skipping(
    hub: TailHub, store: EventStore, redis_client: redis.asyncio.Redis, ns: str
) -> None:
    history = await append(store, ns, "t", 10)
    async with subscribed(hub, ns, [{"t": history[2]}, {"t": "0"}]) as (behind, everything):
        await store.trim(ns, "t", max_len=3)
        assert facts(await gap_of(behind)) == gap("t", history[2], history[7])
        assert hub.stats().failed == 1
        # `0` means "whatever is left": never a gap.
        assert ids(await take(everything, 3)) == history[-3:]
        await store.trim(ns, "t", max_len=0)
        # Past the emptied log without reading it over and over.
        reads = await xrange_calls(redis_client)
        assert await everything.next(0.3) == []
        assert await xrange_calls(redis_client) - reads <= 4
        # Live at the last event, trimmed with the rest: nothing after it
        # was lost, and the reader hands over what comes next.
        new = await append(store, ns, "t", 2)
        assert ids(await take(everything, 2)) == new


async def test_a_cursor_at_the_oldest_event_left_is_not_trimmed_past(
    hub: TailHub, store: EventStore, ns: str
) -> None:
    history = await append(store, ns, "t", 6)
    await store.trim(ns, "t", min_id=history[3])
    cursors = [{"t": history[3]}, {"t": history[2]}, {"t": history[1]}]
    async with subscribed(hub, ns, cursors) as (kept, boundary, lost):
        assert ids(await take(kept, 2)) == history[4:]
        # The cursor's own event was the last one trimmed: nothing after it
        # is lost, as the oldest event left says (its `prev` is the cursor).
        assert ids(await take(boundary, 3)) == history[3:]
        assert facts(await gap_of(lost)) == gap("t", history[1], history[3])


async def test_an_emptied_log_is_trimmed_past_the_cursors_below_its_last_event(
    hub: TailHub, store: EventStore, ns: str
) -> None:
    history = await append(store, ns, "t", 3)
    await store.trim(ns, "t", max_len=0)
    async with subscribed(hub, ns, [{"t": history[-1]}, {"t": history[1]}]) as (last, below):
        assert await last.next(0.2) == []
        assert facts(await gap_of(below)) == gap("t", history[1], "")
        new = await append(store, ns, "t")
        assert ids(await take(last, 1)) == new


async def test_only_the_thread_trimmed_past_fails_after_the_events_of_the_others(
    hub: TailHub, store: EventStore, ns: str
) -> None:
    a = await append(store, ns, "a", 10)
    b = await append(store, ns, "b", 10)
    await store.trim(ns, "a", max_len=3)
    async with subscribed(hub, ns, [{"a": a[2], "b": b[2]}]) as (subscription,):
        assert ids(await take(subscription, 7)) == b[3:]
        assert facts(await gap_of(subscription)) == gap("a", a[2], a[7])


async def test_a_subscription_overtaken_by_trimming_gets_every_event_before_the_gap(
    store: EventStore, ns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The scenario: a log kept at about 1,000 events, a tail that
    # reads slowly, many appends. Its queue overflows, it reads the history
    # from its last event, and the trimming gets there first.
    monkeypatch.setattr(tail_subscription, "MAX_QUEUED", 50)
    (start,) = await append(store, ns, "t")
    async with (
        tail_hub_on(store, max_lag=10_000) as hub,
        subscribed(hub, ns, [{"t": start}]) as (slow,),
    ):
        appended: list[str] = []
        received: list[StoredEvent] = []

        async def append_and_read_slowly() -> None:
            for i in range(60):  # 6,000 events, one read after each 300
                appended.extend(await append(store, ns, "t", 100, max_len=1000))
                if i % 3 == 2:
                    received.extend(await slow.next(TIMEOUT) or [])
            await drain(slow, received)

        with pytest.raises(EventsTrimmed) as failed:
            await append_and_read_slowly()
        # No silent gap: a prefix of what was appended, then the error
        # right after it.
        assert 0 < len(received) < len(appended)
        assert ids(received) == appended[: len(received)]
        oldest = (await store.range(ns, "t", "-", "+", descending=False, count=1))[0].id
        assert facts(failed.value) == gap("t", received[-1].id, oldest)


async def test_a_reader_overtaken_by_a_burst_puts_its_threads_behind(
    hub: TailHub, store: EventStore, ns: str
) -> None:
    # One append of many more events than the log keeps (100, a whole read),
    # while the reader waits at the log's end: the reader's position is
    # trimmed before it reads on.
    start = await append(store, ns, "t", 10)
    async with subscribed(hub, ns, [{"t": start[-1]}, {"t": start[-1]}]) as (one, other):
        await settled([one, other])  # live, the reader waiting at the log's end
        burst = await append(store, ns, "t", 4 * TAIL_BATCH, max_len=TAIL_BATCH)
        oldest = (await store.range(ns, "t", "-", "+", descending=False, count=1))[0].id
        assert oldest != burst[0]
        assert facts(await gap_of(one)) == gap("t", start[-1], oldest)
        assert facts(await gap_of(other)) == gap("t", start[-1], oldest)


async def test_a_burst_longer_than_a_read_reaches_live_tails_whole(
    hub: TailHub, store: EventStore, ns: str
) -> None:
    start = await last_id(store, ns, "t")
    async with subscribed(hub, ns, [{"t": start}]) as (subscription,):
        await settled([subscription])  # live, the reader waiting at the log's end
        burst = await append(store, ns, "t", 3 * TAIL_BATCH + 1)
        assert ids(await take(subscription, len(burst))) == burst


async def append_once_up(store: EventStore, ns: str, thread: str) -> str:
    """Appends an event, retrying while the shared connection finds Redis
    gone (a command sent before the loss is noticed fails)."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            try:
                (appended,) = await append(store, ns, thread)
                return appended
            except redis.exceptions.ConnectionError:
                await asyncio.sleep(0.05)


async def test_reads_on_across_a_redis_restart_and_fails_once_it_stays_down(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tail_reader, "GIVE_UP_S", TIMEOUT)
    redis_server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    redis_server.start()
    try:
        async with event_store(redis_server.url) as store, tail_hub_on(store) as hub:
            async with hub.subscribe("n", {"t": "0"}) as subscription:
                appended = [await append_once_up(store, "n", "t")]
                assert ids(await take(subscription, 1)) == appended
                redis_server.kill()
                redis_server.start()
                appended.append(await append_once_up(store, "n", "t"))
                assert ids(await take(subscription, 1)) == appended[-1:]

                monkeypatch.setattr(tail_reader, "GIVE_UP_S", 0.2)
                redis_server.kill()
                with pytest.raises(redis.exceptions.ConnectionError):
                    await take(subscription, 1)
            assert hub.watched == set()

            redis_server.start()
            async with hub.subscribe("n", {"t": appended[-1]}) as subscription:
                new = await append_once_up(store, "n", "t")
                assert ids(await take(subscription, 1)) == [new]
    finally:
        redis_server.stop()


async def test_a_subscription_lagging_more_than_max_lag_fails_and_frees_its_queue(
    store: EventStore, ns: str
) -> None:
    start = await last_id(store, ns, "t")
    async with (
        tail_hub_on(store, max_lag=100) as hub,
        subscribed(hub, ns, [{"t": start}, {"t": start}]) as (slow, fast),
    ):
        await settled([slow, fast])
        for n in (60, 40):
            await append(store, ns, "t", n)
            # Once the fast one has them, the hub has handed them to the slow one.
            await take(fast, n)
        # 100 behind, the limit: still queued.
        assert (slow.queued, hub.stats().queued_events) == (100, 100)
        await append(store, ns, "t")
        await take(fast, 1)
        assert (hub.stats().queued_events, hub.stats().queued_bytes) == (0, 0)
        assert hub.stats().failed == 1
        with pytest.raises(SubscriberTooSlow) as raised:
            await slow.next(TIMEOUT)
        assert (raised.value.lag, raised.value.limit) == (101, 100)
        assert str(raised.value) == "subscriber too slow: 101 events behind, the limit is 100"
        # Still followed by the fast one, which lags no more than it reads.
        more = await append(store, ns, "t", 100)
        assert ids(await take(fast, 100)) == more


async def test_lag_counts_from_what_a_subscription_delivered_even_from_history(
    store: EventStore, ns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its queue overflowing, the subscription reads the history; each read
    # makes up some lag.
    monkeypatch.setattr(tail_subscription, "MAX_QUEUED", 10)
    start = await last_id(store, ns, "t")
    async with (
        tail_hub_on(store, max_lag=250) as hub,
        subscribed(hub, ns, [{"t": start}, {"t": start}]) as (slow, fast),
    ):
        behind = await append(store, ns, "t", 240)
        await take(fast, 240)
        assert ids(await slow.next(TIMEOUT) or []) == behind[:100]  # one read of history
        behind += await append(store, ns, "t", 100)  # 240 behind again
        await take(fast, 100)
        assert ids(await take(slow, 240)) == behind[100:]

        # Trimmed past before it read on, it fails with the gap, not as too
        # slow: events trimmed unread are not lag.
        await append(store, ns, "t", 200)
        await take(fast, 200)
        await store.trim(ns, "t", max_len=0)
        assert facts(await gap_of(slow)) == gap("t", behind[-1], "")


# Every event says which came before it in its log.


async def test_each_event_records_the_one_before_it_across_appends_and_trims(
    store: EventStore, ns: str
) -> None:
    first = await append(store, ns, "t", 3)
    second = await append(store, ns, "t", 2)
    await store.trim(ns, "t", max_len=0)
    third = await append(store, ns, "t")
    await store.trim(ns, "t", max_len=0)
    # Read back what each append recorded, from a log kept whole.
    history = await append(store, ns, "u", 2)
    read = await store.read_after(ns, "u", "0", count=10)
    assert [(e.id, e.prev) for e in read] == [(history[0], "0-0"), (history[1], history[0])]
    # In "t", the last event appended after the log was emptied names the
    # last event appended before, which no longer exists.
    fourth = await append(store, ns, "t")
    [event] = await store.read_after(ns, "t", third[0], count=10)
    assert (event.id, event.prev) == (fourth[0], third[0])
    assert first[-1] < second[0] < third[0] < fourth[0]


class _Told:
    """A subscription that records what its watch tells it."""

    def __init__(self) -> None:
        self.overtaken_threads: list[str] = []
        self.offered: list[str] = []

    def overtaken(self, thread: str) -> None:
        self.overtaken_threads.append(thread)

    def offer(self, event: StoredEvent, order: object, size: int) -> None:
        self.offered.append(event.id)


def test_a_read_whose_first_event_follows_a_trimmed_one_puts_the_thread_back_behind() -> None:
    # The reader read up to 5-0; the next read finds 9-0, which came right
    # after 7-0: 6-0 and 7-0 were appended and trimmed between two reads
    # (a log kept under a batch, or a TrimEvents), so no full batch warned.
    watch = tail_reader.Watch((("ns", "t")), "5-0")
    watch.checking = False
    told = _Told()
    watch.subscriptions.add(told)  # type: ignore[arg-type]
    watch.take([StoredEvent("9-0", "t", EventContent("e"), prev="7-0")])
    assert (told.overtaken_threads, told.offered) == (["t"], ["9-0"])
    # An event right after the position, or one that does not say, does not.
    watch.take([StoredEvent("10-0", "t", EventContent("e"), prev="9-0")])
    watch.take([StoredEvent("11-0", "t", EventContent("e"))])
    assert (told.overtaken_threads, told.offered) == (["t"], ["9-0", "10-0", "11-0"])
