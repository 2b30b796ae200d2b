"""WorkingMemory end to end: sessions, versions, the turn window, listing, TTL."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.protobuf import duration_pb2, field_mask_pb2

from memrpc.store import keys
from memrpc.store.working import LIST_SCAN_BUDGET
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import working_memory_pb2 as pb
from support import assert_invalid

HOSTILE = ["a}b", "{x}", "a|b", "@user", "*", '"q"', "it's", "sp ace", "ünï €", "-x", "a,b", "a\\b"]


def turn(content: str, role: str = "user", **metadata: str) -> pb.Turn:
    return pb.Turn(role=role, content=content, metadata=metadata)


async def update(wm, ns: str, thread: str, **kwargs) -> pb.Session:  # type: ignore[no-untyped-def]
    mask = kwargs.pop("mask", None)
    expected = kwargs.pop("expected_version", None)
    ttl = kwargs.pop("ttl", None)
    request = pb.UpdateSessionRequest(namespace=ns, thread_id=thread, session=pb.Session(**kwargs))
    if mask is not None:
        request.update_mask.CopyFrom(field_mask_pb2.FieldMask(paths=mask))
    if expected is not None:
        request.expected_version = expected
    if ttl is not None:
        request.ttl.CopyFrom(ttl)
    return (await wm.UpdateSession(request)).session


async def get(wm, ns: str, thread: str) -> pb.Session:  # type: ignore[no-untyped-def]
    return (await wm.GetSession(pb.GetSessionRequest(namespace=ns, thread_id=thread))).session


async def test_get_missing_session_is_not_found(wm, ns):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await get(wm, ns, "nobody")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert "nobody" in err.value.details()


async def test_update_creates_then_get_reads_it_back(wm, ns):
    written = await update(
        wm, ns, "t1", goal="book a flight", scratchpad="notes", user_id="alice", metadata={"k": "v"}
    )
    assert written.version == 1
    assert written.create_time == written.update_time
    session = await get(wm, ns, "t1")
    assert (session.goal, session.scratchpad, session.user_id) == (
        "book a flight",
        "notes",
        "alice",
    )
    assert dict(session.metadata) == {"k": "v"}
    assert session.namespace == ns
    assert session.thread_id == "t1"
    assert session.version == 1
    assert 3590 <= session.ttl.seconds <= 3600


async def test_update_with_mask_clears_and_keeps_fields(wm, ns):
    await update(wm, ns, "t", goal="g", scratchpad="s", metadata={"a": "1"})
    after = await update(wm, ns, "t", mask=["goal", "metadata"])
    assert (after.goal, after.scratchpad, dict(after.metadata), after.version) == ("", "s", {}, 2)


async def test_update_without_mask_writes_only_populated_fields(wm, ns):
    await update(wm, ns, "t", goal="g", scratchpad="s")
    after = await update(wm, ns, "t", scratchpad="s2")
    assert (after.goal, after.scratchpad) == ("g", "s2")


async def test_expected_version_gives_optimistic_concurrency(wm, ns):
    await update(wm, ns, "t", goal="v1", expected_version=0)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await update(wm, ns, "t", goal="again", expected_version=0)
    assert err.value.code() == grpc.StatusCode.ABORTED
    results = await asyncio.gather(
        *(update(wm, ns, "t", goal=f"w{i}", expected_version=1) for i in range(10)),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, pb.Session)]
    losers = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(winners) == 1
    assert len(losers) == 9
    assert all(e.code() == grpc.StatusCode.ABORTED for e in losers)
    assert (await get(wm, ns, "t")).goal == winners[0].goal


async def test_append_turns_bounds_the_window_and_logs_every_turn(wm, events, ns):
    first = await wm.AppendTurns(
        pb.AppendTurnsRequest(
            namespace=ns,
            thread_id="t",
            user_id="bob",
            turns=[turn("hi"), turn("hello", role="assistant", model="m1")],
            max_window_turns=3,
        )
    )
    assert (first.version, first.evicted_turn_count, first.turn_count) == (1, 0, 2)
    second = await wm.AppendTurns(
        pb.AppendTurnsRequest(
            namespace=ns, thread_id="t", turns=[turn(f"m{i}") for i in range(3)], max_window_turns=3
        )
    )
    assert (second.version, second.evicted_turn_count, second.turn_count) == (2, 2, 5)
    session = await get(wm, ns, "t")
    assert [t.content for t in session.turns] == ["m0", "m1", "m2"]
    assert session.user_id == "bob"
    assert session.turn_count == 5
    assert all(t.create_time.seconds > 0 for t in session.turns)

    logged = await events.ListEvents(ev.ListEventsRequest(namespace=ns, thread_id="t"))
    assert [e.id for e in logged.events] == [*first.event_ids, *second.event_ids]
    assert [e.type for e in logged.events] == ["memrpc.turn"] * 5
    assert [e.json["content"] for e in logged.events] == ["hi", "hello", "m0", "m1", "m2"]
    assert logged.events[1].json["role"] == "assistant"
    assert dict(logged.events[1].json["metadata"]) == {"model": "m1"}


async def test_the_window_keeps_the_latest_turns_across_appends_clears_and_resizes(wm, ns):
    # Entries of uneven sizes, non-ASCII and JSON-hostile text, windows that
    # shrink and grow between calls: the window is always the last turns.
    hostile = 'é\u2028"],{'
    contents = [f"{i} {hostile * (i % 5)} ✓" for i in range(40)]
    expected: list[str] = []
    for start, window in [(0, 4), (4, 7), (9, 2), (12, 10), (20, 1), (21, 5)]:
        batch = contents[start : start + 3]
        await wm.AppendTurns(
            pb.AppendTurnsRequest(
                namespace=ns,
                thread_id="t",
                turns=[turn(c, model=c) for c in batch],
                max_window_turns=window,
            )
        )
        expected = (expected + batch)[-window:]
        session = await get(wm, ns, "t")
        assert [t.content for t in session.turns] == expected
        assert [t.metadata["model"] for t in session.turns] == expected
        if start == 12:
            await update(wm, ns, "t", mask=["turns"])
            expected = []


async def test_append_turns_respects_expected_version(wm, ns):
    await wm.AppendTurns(pb.AppendTurnsRequest(namespace=ns, thread_id="t", turns=[turn("a")]))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await wm.AppendTurns(
            pb.AppendTurnsRequest(
                namespace=ns, thread_id="t", turns=[turn("b")], expected_version=7
            )
        )
    assert err.value.code() == grpc.StatusCode.ABORTED
    assert [t.content for t in (await get(wm, ns, "t")).turns] == ["a"]


async def test_clearing_the_window_keeps_the_turn_count(wm, ns):
    await wm.AppendTurns(pb.AppendTurnsRequest(namespace=ns, thread_id="t", turns=[turn("a")]))
    cleared = await update(wm, ns, "t", mask=["turns"])
    assert list(cleared.turns) == []
    assert cleared.turn_count == 1
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await update(wm, ns, "t", mask=["turns"], turns=[turn("x")])
    assert_invalid(err.value, "session.turns")


async def test_delete_session(wm, ns):
    await update(wm, ns, "t", goal="g", user_id="u")
    await wm.DeleteSession(pb.DeleteSessionRequest(namespace=ns, thread_id="t"))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await get(wm, ns, "t")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await wm.DeleteSession(pb.DeleteSessionRequest(namespace=ns, thread_id="t"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    listed = await wm.ListSessions(pb.ListSessionsRequest(namespace=ns, user_id="u"))
    assert list(listed.sessions) == []


async def test_sessions_expire_and_are_never_listed(wm, ns):
    short = duration_pb2.Duration(seconds=1)
    await update(wm, ns, "brief", goal="g", user_id="u", ttl=short)
    await update(wm, ns, "lasting", goal="g", user_id="u")
    await asyncio.sleep(1.3)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await get(wm, ns, "brief")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    for user in ("", "u"):
        listed = await wm.ListSessions(pb.ListSessionsRequest(namespace=ns, user_id=user))
        assert [s.thread_id for s in listed.sessions] == ["lasting"]


async def test_every_write_refreshes_the_ttl(wm, ns):
    await update(wm, ns, "t", goal="g", ttl=duration_pb2.Duration(seconds=1))
    await wm.AppendTurns(
        pb.AppendTurnsRequest(
            namespace=ns, thread_id="t", turns=[turn("a")], ttl=duration_pb2.Duration(seconds=100)
        )
    )
    assert (await get(wm, ns, "t")).ttl.seconds > 90


async def test_list_sessions_pages_most_recent_first_and_filters_by_user(wm, ns):
    names = [f"t{i}" for i in range(7)]
    for i, name in enumerate(names):
        await update(
            wm, ns, name, goal=f"g{i}", scratchpad="big", user_id="even" if i % 2 == 0 else "odd"
        )
        await asyncio.sleep(0.002)
    seen: list[str] = []
    token = ""
    while True:
        page = await wm.ListSessions(
            pb.ListSessionsRequest(namespace=ns, page_size=3, page_token=token)
        )
        assert len(page.sessions) <= 3
        seen += [s.thread_id for s in page.sessions]
        assert all(s.scratchpad == "" for s in page.sessions)  # basic view
        token = page.next_page_token
        if not token:
            break
    assert seen == names[::-1]
    odd = await wm.ListSessions(
        pb.ListSessionsRequest(namespace=ns, user_id="odd", view=pb.SESSION_VIEW_FULL)
    )
    assert [s.thread_id for s in odd.sessions] == ["t5", "t3", "t1"]
    assert all(s.scratchpad == "big" and s.user_id == "odd" for s in odd.sessions)


async def test_changing_the_user_moves_the_session_between_user_listings(wm, ns):
    await update(wm, ns, "t", goal="g", user_id="a")
    await update(wm, ns, "t", user_id="b")
    for user, expected in (("a", []), ("b", ["t"])):
        listed = await wm.ListSessions(pb.ListSessionsRequest(namespace=ns, user_id=user))
        assert [s.thread_id for s in listed.sessions] == expected


@pytest.mark.parametrize("value", HOSTILE)
async def test_hostile_ids_round_trip_and_stay_isolated(wm, ns, value):
    await update(wm, ns, value, goal="mine", user_id=value)
    await update(wm, ns, value + "x", goal="other", user_id=value + "x")
    assert (await get(wm, ns, value)).goal == "mine"
    listed = await wm.ListSessions(pb.ListSessionsRequest(namespace=ns, user_id=value))
    assert [s.thread_id for s in listed.sessions] == [value]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await get(wm, ns + "b", value)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_namespaces_are_isolated(wm, ns):
    await update(wm, ns, "t", goal="a")
    other = ns + "-other"
    assert list((await wm.ListSessions(pb.ListSessionsRequest(namespace=other))).sessions) == []
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await get(wm, other, "t")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (pb.UpdateSessionRequest(namespace="", thread_id="t"), "namespace"),
        (pb.UpdateSessionRequest(namespace="bad ns", thread_id="t"), "namespace"),
        (pb.UpdateSessionRequest(namespace="n{x}", thread_id="t"), "namespace"),
        (pb.UpdateSessionRequest(namespace="n", thread_id=""), "thread_id"),
        (pb.UpdateSessionRequest(namespace="n", thread_id="a\nb"), "thread_id"),
        (pb.UpdateSessionRequest(namespace="n", thread_id=" padded"), "thread_id"),
        (pb.UpdateSessionRequest(namespace="n", thread_id="x" * 129), "thread_id"),
        (
            pb.UpdateSessionRequest(
                namespace="n",
                thread_id="t",
                update_mask=field_mask_pb2.FieldMask(paths=["version"]),
            ),
            "update_mask",
        ),
        (
            pb.UpdateSessionRequest(
                namespace="n", thread_id="t", session=pb.Session(goal="x" * 4097)
            ),
            "session.goal",
        ),
        (
            pb.UpdateSessionRequest(
                namespace="n", thread_id="t", ttl=duration_pb2.Duration(seconds=31 * 86400)
            ),
            "ttl",
        ),
        (
            pb.UpdateSessionRequest(
                namespace="n", thread_id="t", ttl=duration_pb2.Duration(seconds=-5)
            ),
            "ttl",
        ),
        (
            pb.UpdateSessionRequest(
                namespace="n", thread_id="t", session=pb.Session(metadata={"": "empty key"})
            ),
            "session.metadata[''] key",
        ),
    ],
)
async def test_update_rejects_bad_input_naming_the_field(wm, request_, field):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await wm.UpdateSession(request_)
    assert_invalid(err.value, field)


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (pb.AppendTurnsRequest(namespace="n", thread_id="t"), "turns"),
        (pb.AppendTurnsRequest(namespace="n", thread_id="t", turns=[turn("x")] * 101), "turns"),
        (
            pb.AppendTurnsRequest(namespace="n", thread_id="t", turns=[turn("x", role="")]),
            "turns[0].role",
        ),
        (
            pb.AppendTurnsRequest(
                namespace="n", thread_id="t", turns=[turn("ok"), turn("x" * 65537)]
            ),
            "turns[1].content",
        ),
        (
            pb.AppendTurnsRequest(
                namespace="n", thread_id="t", turns=[turn("x")], max_window_turns=1001
            ),
            "max_window_turns",
        ),
        (
            pb.AppendTurnsRequest(namespace="n", thread_id="t", turns=[turn("x")], user_id="\x00"),
            "user_id",
        ),
        (
            pb.AppendTurnsRequest(
                namespace="n", thread_id="t", turns=[turn("x")], expected_version=-1
            ),
            "expected_version",
        ),
    ],
)
async def test_append_rejects_bad_input_naming_the_field(wm, request_, field):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await wm.AppendTurns(request_)
    assert_invalid(err.value, field)


async def test_list_rejects_a_forged_page_token(wm, ns):
    for token in ("garbage!", "eyJ4Ijo1fQ=="):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await wm.ListSessions(pb.ListSessionsRequest(namespace=ns, page_token=token))
        assert_invalid(err.value, "page_token")


async def test_list_sessions_examines_at_most_its_budget_and_pages_through_dead_entries(
    wm, ns, redis_client
):
    live = [f"live{i}" for i in range(3)]
    for name in live:
        await update(wm, ns, name, goal="g")
        await asyncio.sleep(0.002)
    index = keys.session_index(ns)
    scores = [int(s) for _, s in await redis_client.zrange(index, 0, -1, withscores=True)]
    # 5,000 entries of sessions that no longer exist, most of them updated
    # after the live ones, some between them and some before.
    dead = 5000
    first = max(scores) + 4000 - dead
    await redis_client.zadd(index, {f"gone{i:05}": first + i for i in range(dead)})
    size = 2
    page = await wm.ListSessions(pb.ListSessionsRequest(namespace=ns, page_size=size))
    # The budget ran out among the dead entries: a short (empty) page, a
    # token to go on, and exactly the examined entries removed.
    assert list(page.sessions) == []
    assert page.next_page_token
    assert await redis_client.zcard(index) == len(live) + dead - LIST_SCAN_BUDGET
    seen = []
    token = page.next_page_token
    for _ in range(dead // LIST_SCAN_BUDGET + len(live) + 2):
        page = await wm.ListSessions(
            pb.ListSessionsRequest(namespace=ns, page_size=size, page_token=token)
        )
        assert len(page.sessions) <= size
        seen += [s.thread_id for s in page.sessions]
        token = page.next_page_token
        if not token:
            break
    else:
        pytest.fail("the listing never ended")
    assert seen == live[::-1]
    assert await redis_client.zcard(index) == len(live)


async def test_a_write_prunes_a_bounded_number_of_entries_past_the_longest_ttl(
    wm, ns, redis_client
):
    index = keys.session_index(ns)
    await redis_client.zadd(index, {f"ancient{i:03}": i for i in range(150)})
    await update(wm, ns, "t", goal="g")
    # 100 (lib/session.lua PRUNE_BATCH) of the 150 ancient entries, then the rest.
    assert await redis_client.zcard(index) == 150 - 100 + 1
    await update(wm, ns, "t", goal="h")
    assert await redis_client.zrange(index, 0, -1) == [b"t"]
