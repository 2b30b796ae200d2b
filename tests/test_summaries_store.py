"""The running summary's store: the turns that leave a window, folded by
event id exactly once, whatever interleaves.

The summarizer here is deterministic and checkable: it appends the folded
turns' event ids to the summary, so the summary text *is* the list of the
turns it covers. The appends go through the server (`wm`); the folds use a
`SummaryStore` on the same Redis, as the fold job does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
import redis.asyncio
from google.protobuf import field_mask_pb2

from memrpc.limits import FOLD_MAX_TURNS
from memrpc.store import keys
from memrpc.store.events import Retention
from memrpc.store.redis_mux import RedisMux
from memrpc.store.summaries import FoldWork, SummaryStore
from memrpc.store.working import WorkingStore
from memrpc.summaries.base import FoldTurn
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import working_memory_pb2 as pb

pytestmark = [pytest.mark.genuine_redis, pytest.mark.on_cluster]

SUMMARIZER = "ids"
NOW_MS = 1_700_000_000_000
# The most fold steps one drain takes: far more than any test needs.
MAX_STEPS = 1000


def fold_ids(summary: str, turns: Sequence[FoldTurn]) -> str:
    """The test's summarizer: the summary so far, then the turns' ids."""
    return ",".join([*([summary] if summary else []), *(t.event_id for t in turns)])


@pytest.fixture
def store(mux: RedisMux) -> SummaryStore:
    return SummaryStore(mux)


async def fold(store: SummaryStore, work: FoldWork) -> bool:
    text = fold_ids(work.summary, work.turns)
    return await store.write(work, text=text, summarizer=SUMMARIZER, now_ms=NOW_MS)


async def drain(
    store: SummaryStore, ns: str, thread: str, *, max_turns: int = FOLD_MAX_TURNS
) -> int:
    """Folds until nothing is pending; returns the steps written."""
    written = 0
    for _ in range(MAX_STEPS):
        work = await store.next_fold(ns, thread, min_turns=1, max_turns=max_turns)
        if work is None:
            return written
        written += await fold(store, work)
    raise AssertionError("the backlog never drained")


async def append(wm, ns: str, thread: str, contents: Sequence[str], window: int = 20) -> list[str]:
    reply = await wm.AppendTurns(
        pb.AppendTurnsRequest(
            namespace=ns,
            thread_id=thread,
            turns=[pb.TurnInput(role="user", content=c) for c in contents],
            max_window_turns=window,
        )
    )
    return list(reply.event_ids)


async def session(wm, ns: str, thread: str) -> pb.Session:
    return (await wm.GetSession(pb.GetSessionRequest(namespace=ns, thread_id=thread))).session


def covered(summary: pb.SessionSummary) -> list[str]:
    return summary.text.split(",") if summary.text else []


async def test_sixty_turns_into_a_twenty_turn_window_fold_the_forty_evicted(
    wm, store: SummaryStore, ns: str
) -> None:
    ids: list[str] = []
    for i in range(20):
        ids += await append(wm, ns, "t", [f"turn {3 * i + j}" for j in range(3)])
        if i % 6 == 5:
            await drain(store, ns, "t", max_turns=7)
    before = await session(wm, ns, "t")
    assert before.summary.pending_turn_count > 0
    await drain(store, ns, "t", max_turns=7)
    after = await session(wm, ns, "t")
    summary = after.summary
    assert covered(summary) == ids[:40]
    assert (summary.first_event_id, summary.last_event_id) == (ids[0], ids[39])
    assert (summary.turn_count, summary.skipped_turn_count, summary.pending_turn_count) == (
        40,
        0,
        0,
    )
    assert summary.summarizer == SUMMARIZER
    assert summary.update_time.ToMilliseconds() == NOW_MS
    assert [t.event_id for t in after.turns] == ids[40:]
    # A fold changes neither the version nor the time to live.
    assert (after.version, after.expire_time) == (before.version, before.expire_time)


async def test_no_summary_until_turns_leave_the_window(wm, store: SummaryStore, ns: str) -> None:
    ids = await append(wm, ns, "t", ["a", "b"])
    got = await session(wm, ns, "t")
    assert not got.HasField("summary")
    assert [t.event_id for t in got.turns] == ids
    assert await store.next_fold(ns, "t", min_turns=1) is None
    assert await store.next_fold(ns, "nobody", min_turns=1) is None


async def test_a_fold_waits_for_min_turns(wm, store: SummaryStore, ns: str) -> None:
    ids = await append(wm, ns, "t", ["a", "b", "c", "d"], window=1)
    assert await store.next_fold(ns, "t", min_turns=4) is None
    work = await store.next_fold(ns, "t", min_turns=3)
    assert work is not None
    assert ([t.event_id for t in work.turns], work.pending) == (ids[:3], 3)
    assert [(t.role, t.content) for t in work.turns] == [
        ("user", "a"),
        ("user", "b"),
        ("user", "c"),
    ]


async def test_folds_racing_appends_cover_every_evicted_turn_once(
    wm, store: SummaryStore, ns: str
) -> None:
    ids: list[str] = []
    done = asyncio.Event()

    async def appender() -> None:
        for i in range(40):
            ids.extend(await append(wm, ns, "t", [f"{i}.{j}" for j in range(1 + i % 3)], 5))
        done.set()

    async def folder(max_turns: int) -> int:
        written = 0
        for _ in range(MAX_STEPS):
            if done.is_set():
                break
            work = await store.next_fold(ns, "t", min_turns=1, max_turns=max_turns)
            if work is not None:
                written += await fold(store, work)
            await asyncio.sleep(0)
        return written

    _, *written = await asyncio.gather(appender(), folder(2), folder(3), folder(100))
    await drain(store, ns, "t")
    got = await session(wm, ns, "t")
    assert covered(got.summary) == ids[:-5]
    assert got.summary.turn_count == len(ids) - 5
    assert got.summary.pending_turn_count == 0
    assert sum(written) > 0  # folds raced the appends


async def test_a_stale_fold_writes_nothing(wm, store: SummaryStore, ns: str) -> None:
    await append(wm, ns, "t", ["a", "b", "c"], window=1)
    first = await store.next_fold(ns, "t", min_turns=1)
    second = await store.next_fold(ns, "t", min_turns=1)
    assert first is not None
    assert second is not None
    # Another fold first.
    assert await fold(store, first)
    assert not await fold(store, second)
    got = await session(wm, ns, "t")
    assert got.summary.turn_count == 2
    # The session deleted and created again: the fold read before is stale.
    await append(wm, ns, "t", ["d"], window=1)
    stale = await store.next_fold(ns, "t", min_turns=1)
    assert stale is not None
    await wm.DeleteSession(pb.DeleteSessionRequest(namespace=ns, thread_id="t"))
    assert not await fold(store, stale)
    new_ids = await append(wm, ns, "t", ["e", "f"], window=1)
    assert not await fold(store, stale)
    await drain(store, ns, "t")
    assert covered((await session(wm, ns, "t")).summary) == new_ids[:1]
    # Deleted: nothing to fold, nothing written.
    await wm.DeleteSession(pb.DeleteSessionRequest(namespace=ns, thread_id="t"))
    assert await store.next_fold(ns, "t", min_turns=1) is None


async def test_an_earlier_session_of_the_thread_is_never_folded(
    wm, store: SummaryStore, ns: str
) -> None:
    await append(wm, ns, "t", [f"old {i}" for i in range(30)], window=5)
    await wm.DeleteSession(pb.DeleteSessionRequest(namespace=ns, thread_id="t"))
    new_ids = await append(wm, ns, "t", [f"new {i}" for i in range(10)], window=5)
    await drain(store, ns, "t")
    assert covered((await session(wm, ns, "t")).summary) == new_ids[:5]
    # Created by UpdateSession this time.
    await wm.DeleteSession(pb.DeleteSessionRequest(namespace=ns, thread_id="t"))
    await wm.UpdateSession(
        pb.UpdateSessionRequest(namespace=ns, thread_id="t", session=pb.SessionInput(goal="g"))
    )
    newer = await append(wm, ns, "t", [f"newer {i}" for i in range(7)], window=5)
    await drain(store, ns, "t")
    assert covered((await session(wm, ns, "t")).summary) == newer[:2]


async def test_emptying_the_window_counts_its_turns_as_left(
    wm, store: SummaryStore, ns: str
) -> None:
    ids = await append(wm, ns, "t", ["a", "b", "c"], window=2)
    reply = await wm.UpdateSession(
        pb.UpdateSessionRequest(
            namespace=ns, thread_id="t", update_mask=field_mask_pb2.FieldMask(paths=["turns"])
        )
    )
    assert not reply.session.turns
    assert reply.session.summary.pending_turn_count == 3
    more = await append(wm, ns, "t", ["d", "e"], window=2)
    await drain(store, ns, "t")
    got = await session(wm, ns, "t")
    assert covered(got.summary) == ids
    assert [t.event_id for t in got.turns] == more


async def test_turns_trimmed_from_the_log_are_counted_as_skipped(
    wm, events, store: SummaryStore, ns: str
) -> None:
    ids = await append(wm, ns, "t", [f"{i}" for i in range(30)], window=5)
    await events.TrimEvents(ev.TrimEventsRequest(namespace=ns, thread_id="t", min_event_id=ids[10]))
    await drain(store, ns, "t", max_turns=4)
    summary = (await session(wm, ns, "t")).summary
    assert covered(summary) == ids[10:25]
    assert (summary.first_event_id, summary.last_event_id) == (ids[10], ids[24])
    assert (summary.turn_count, summary.skipped_turn_count, summary.pending_turn_count) == (
        15,
        10,
        0,
    )
    # Every pending turn trimmed: counted, the summary kept.
    more = await append(wm, ns, "t", ["x", "y", "z"], window=5)
    await events.TrimEvents(ev.TrimEventsRequest(namespace=ns, thread_id="t", min_event_id=more[0]))
    work = await store.next_fold(ns, "t", min_turns=1)
    assert work is not None
    assert (work.turns, work.skipped, work.through) == ([], 3, ids[27])
    assert await fold(store, work)
    summary = (await session(wm, ns, "t")).summary
    assert covered(summary) == ids[10:25]
    assert (summary.last_event_id, summary.skipped_turn_count) == (ids[24], 13)
    # The next turns to leave: two trimmed (skipped), then one folded.
    await append(wm, ns, "t", ["u", "v", "w"], window=5)
    await drain(store, ns, "t")
    summary = (await session(wm, ns, "t")).summary
    assert covered(summary) == [*ids[10:25], more[0]]
    assert (summary.turn_count, summary.skipped_turn_count) == (16, 15)


async def test_other_events_of_the_thread_are_not_folded(
    wm, events, store: SummaryStore, ns: str
) -> None:
    ids: list[str] = []
    for i in range(4):
        ids += await append(wm, ns, "t", [f"{i}"], window=1)
        await events.AppendEvents(
            ev.AppendEventsRequest(
                namespace=ns, thread_id="t", events=[ev.EventInput(type="tool", data=b"x")]
            )
        )
    await drain(store, ns, "t")
    assert covered((await session(wm, ns, "t")).summary) == ids[:3]


async def test_a_session_written_before_turn_ids_starts_its_summary_afresh(
    wm, redis_client: redis.asyncio.Redis, store: SummaryStore, ns: str
) -> None:
    await append(wm, ns, "t", ["a", "b", "c"], window=3)
    key = keys.session(ns, "t")
    await redis_client.hdel(key, "turn_ids", "folded_through")
    got = await session(wm, ns, "t")
    assert [t.event_id for t in got.turns] == ["", "", ""]
    new = await append(wm, ns, "t", ["d", "e"], window=3)
    got = await session(wm, ns, "t")
    # The old turns that left are not counted (their ids are unknown).
    assert [t.event_id for t in got.turns] == ["", *new]
    assert not got.HasField("summary")
    newest = await append(wm, ns, "t", ["f", "g"], window=3)
    await drain(store, ns, "t")
    got = await session(wm, ns, "t")
    assert covered(got.summary) == new[:1]
    assert [t.event_id for t in got.turns] == [new[1], *newest]


async def test_the_basic_listing_leaves_out_the_summary_text(
    wm, store: SummaryStore, ns: str
) -> None:
    ids = await append(wm, ns, "t", ["a", "b"], window=1)
    await drain(store, ns, "t")
    for view, text in ((pb.SESSION_VIEW_BASIC, ""), (pb.SESSION_VIEW_FULL, ids[0])):
        listed = await wm.ListSessions(pb.ListSessionsRequest(namespace=ns, view=view))
        (summary,) = [s.summary for s in listed.sessions]
        assert (summary.text, summary.first_event_id, summary.turn_count) == (text, ids[0], 1)


async def test_the_users_threads_outlive_their_sessions(
    wm, redis_client: redis.asyncio.Redis, mux: RedisMux, ns: str
) -> None:
    working = WorkingStore(mux, Retention(log_max_len=1000, feed_max_len=1000))
    await wm.AppendTurns(
        pb.AppendTurnsRequest(
            namespace=ns, thread_id="t1", user_id="ann", turns=[pb.TurnInput(role="r")]
        )
    )
    for thread in ("t2", "t3"):
        await wm.UpdateSession(
            pb.UpdateSessionRequest(
                namespace=ns, thread_id=thread, session=pb.SessionInput(user_id="ann")
            )
        )
    await wm.UpdateSession(
        pb.UpdateSessionRequest(namespace=ns, thread_id="t4", session=pb.SessionInput(goal="g"))
    )
    # Expired, deleted, given to another user: still Ann's threads.
    await redis_client.delete(keys.session(ns, "t1"))  # as its TTL would
    await wm.DeleteSession(pb.DeleteSessionRequest(namespace=ns, thread_id="t2"))
    await wm.UpdateSession(
        pb.UpdateSessionRequest(
            namespace=ns,
            thread_id="t3",
            session=pb.SessionInput(user_id="bob"),
            update_mask=field_mask_pb2.FieldMask(paths=["user_id"]),
        )
    )
    assert await redis_client.ttl(keys.user_threads(ns, "ann")) == -1
    pages: list[list[tuple[str, int]]] = []
    after = None
    for _ in range(5):
        page = await working.user_threads(ns, "ann", after=after, count=2)
        if not page:
            break
        pages.append(page)
        after = page[-1][0]
    assert [[thread for thread, _ in page] for page in pages] == [["t1", "t2"], ["t3"]]
    seen = [ms for page in pages for _, ms in page]
    assert seen == sorted(seen)
    assert seen[0] > 0
    assert [t for t, _ in await working.user_threads(ns, "bob", after=None, count=10)] == ["t3"]
    assert not await working.user_threads(ns, "", after=None, count=10)
