"""WorkingMemory end to end: sessions, versions, the turn window, update
masks, request ids, listing and its page tokens, expiry."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.protobuf import duration_pb2, field_mask_pb2

from memrpc.store import keys
from memrpc.store.working import LIST_SCAN_BUDGET
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import working_memory_pb2 as pb
from support import assert_invalid, error_info

pytestmark = [pytest.mark.genuine_redis, pytest.mark.on_cluster]

HOSTILE = ["a}b", "{x}", "a|b", "@user", "*", '"q"', "it's", "sp ace", "ünï €", "-x", "a,b", "a\\b"]


def turn(content: str, role: str = "user", **metadata: str) -> pb.TurnInput:
    return pb.TurnInput(role=role, content=content, metadata=metadata)


async def update(wm, ns: str, thread: str, **kwargs) -> pb.Session:  # type: ignore[no-untyped-def]
    mask = kwargs.pop("mask", None)
    expected = kwargs.pop("expected_version", None)
    ttl = kwargs.pop("ttl", None)
    request = pb.UpdateSessionRequest(
        namespace=ns, thread_id=thread, session=pb.SessionInput(**kwargs)
    )
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
    # The default hour from the write on, the same at every read.
    lifetime = session.expire_time.ToMilliseconds() - session.update_time.ToMilliseconds()
    assert lifetime == 3600_000
    assert (await get(wm, ns, "t1")).expire_time == session.expire_time


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
    session = await get(wm, ns, "t")
    lifetime = session.expire_time.ToMilliseconds() - session.update_time.ToMilliseconds()
    assert lifetime == 100_000


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
                namespace="n", thread_id="t", session=pb.SessionInput(goal="x" * 4097)
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
                namespace="n", thread_id="t", session=pb.SessionInput(metadata={"": "empty key"})
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
        assert_invalid(err.value, "page_token", "PAGE_TOKEN_INVALID")
        assert error_info(err.value).reason == "ERROR_REASON_PAGE_TOKEN_INVALID"


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


# -- Update masks ---------------------------------------------------------------------


async def test_a_star_mask_replaces_every_session_input_field_and_keeps_the_window(wm, ns):
    await update(wm, ns, "t", goal="g", scratchpad="s", user_id="u", metadata={"a": "1"})
    await wm.AppendTurns(pb.AppendTurnsRequest(namespace=ns, thread_id="t", turns=[turn("a")]))
    after = await update(wm, ns, "t", mask=["*"], goal="g2")
    assert (after.goal, after.scratchpad, after.user_id, dict(after.metadata)) == ("g2", "", "", {})
    assert [t.content for t in after.turns] == ["a"]
    listed = await wm.ListSessions(pb.ListSessionsRequest(namespace=ns, user_id="u"))
    assert list(listed.sessions) == []  # no user any more: out of u's listing


async def test_an_empty_mask_writes_the_populated_fields_only(wm, ns):
    await update(wm, ns, "t", goal="g", scratchpad="s", metadata={"a": "1"})
    after = await update(wm, ns, "t", metadata={"b": "2"})
    assert (after.goal, after.scratchpad, dict(after.metadata)) == ("g", "s", {"b": "2"})
    touched = await update(wm, ns, "t")  # nothing set: nothing written but the version
    assert (touched.goal, touched.version) == ("g", after.version + 1)


async def test_the_turns_path_empties_the_window_and_keeps_the_rest(wm, ns):
    await update(wm, ns, "t", goal="g")
    await wm.AppendTurns(pb.AppendTurnsRequest(namespace=ns, thread_id="t", turns=[turn("a")]))
    after = await update(wm, ns, "t", mask=["turns"], goal="ignored")
    assert (list(after.turns), after.goal, after.turn_count) == ([], "g", 1)


@pytest.mark.parametrize("paths", [["*", "goal"], ["ttl"], ["session.goal"], ["turns.role"]])
async def test_other_masks_are_invalid(wm, ns, paths):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await update(wm, ns, "t", mask=paths, goal="g")
    assert_invalid(err.value, "update_mask")
    assert error_info(err.value).reason == "ERROR_REASON_FIELD_INVALID"
    with pytest.raises(grpc.aio.AioRpcError):
        await get(wm, ns, "t")  # nothing written


# -- Versions -------------------------------------------------------------------------


async def test_a_version_mismatch_says_the_current_version(wm, ns):
    await update(wm, ns, "t", goal="g")
    await update(wm, ns, "t", goal="h")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await update(wm, ns, "t", goal="x", expected_version=1)
    assert err.value.code() == grpc.StatusCode.ABORTED
    info = error_info(err.value)
    assert info.reason == "ERROR_REASON_VERSION_MISMATCH"
    assert dict(info.metadata) == {"expectedVersion": "1", "currentVersion": "2"}
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await wm.AppendTurns(
            pb.AppendTurnsRequest(
                namespace=ns, thread_id="new", turns=[turn("a")], expected_version=3
            )
        )
    assert dict(error_info(err.value).metadata)["currentVersion"] == "0"


def _delete(ns: str, thread: str, expected: int | None = None) -> pb.DeleteSessionRequest:
    request = pb.DeleteSessionRequest(namespace=ns, thread_id=thread)
    if expected is not None:
        request.expected_version = expected
    return request


async def test_delete_session_at_an_expected_version(wm, ns):
    await update(wm, ns, "t", goal="g")
    await update(wm, ns, "t", goal="h")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await wm.DeleteSession(_delete(ns, "t", expected=1))
    assert err.value.code() == grpc.StatusCode.ABORTED
    assert dict(error_info(err.value).metadata)["currentVersion"] == "2"
    assert (await get(wm, ns, "t")).goal == "h"  # still there
    await wm.DeleteSession(_delete(ns, "t", expected=2))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await get(wm, ns, "t")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    # Gone: with an expected version, the version mismatch (current 0), as
    # UpdateSession says; without, NOT_FOUND.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await wm.DeleteSession(_delete(ns, "t", expected=2))
    assert err.value.code() == grpc.StatusCode.ABORTED
    info = error_info(err.value)
    assert (info.reason, info.metadata["currentVersion"]) == ("ERROR_REASON_VERSION_MISMATCH", "0")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await wm.DeleteSession(_delete(ns, "t"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert error_info(err.value).reason == "ERROR_REASON_SESSION_NOT_FOUND"


async def test_delete_session_expects_a_version_from_1(wm, ns):
    await update(wm, ns, "t", goal="g")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await wm.DeleteSession(_delete(ns, "t", expected=0))
    assert_invalid(err.value, "expected_version")
    assert (await get(wm, ns, "t")).goal == "g"


# -- Request ids ----------------------------------------------------------------------


def _append(ns: str, thread: str, *contents: str, **fields) -> pb.AppendTurnsRequest:  # type: ignore[no-untyped-def]
    return pb.AppendTurnsRequest(
        namespace=ns, thread_id=thread, turns=[turn(c) for c in contents], **fields
    )


async def _logged(events, ns: str, thread: str) -> list[str]:  # type: ignore[no-untyped-def]
    listed = await events.ListEvents(ev.ListEventsRequest(namespace=ns, thread_id=thread))
    return [e.json["content"] for e in listed.events]


async def test_a_replayed_append_returns_the_first_response_and_changes_nothing(
    wm, events, ns, redis_client
):
    first = await wm.AppendTurns(
        _append(ns, "t", "a", "b", "c", request_id="r-1", max_window_turns=2)
    )
    assert (first.replayed, first.evicted_turn_count, first.turn_count) == (False, 1, 3)
    before = await get(wm, ns, "t")
    ttl_before = await redis_client.pttl(keys.session(ns, "t"))
    # A retry with another window size, TTL and user: only the turns count.
    again = await wm.AppendTurns(
        _append(
            ns,
            "t",
            *("a", "b", "c"),
            request_id="r-1",
            max_window_turns=5,
            user_id="x",
            ttl=duration_pb2.Duration(seconds=7),
        )
    )
    assert again.replayed
    again.replayed = False
    assert again == first
    assert await get(wm, ns, "t") == before  # no version, time, window or TTL change
    assert await redis_client.pttl(keys.session(ns, "t")) <= ttl_before
    assert await _logged(events, ns, "t") == ["a", "b", "c"]
    remembered = await redis_client.pttl(keys.turns_request(ns, "r-1", "t"))
    assert 23 * 3600_000 < remembered <= 24 * 3600_000


async def test_a_request_id_reused_for_other_turns_is_refused(wm, events, ns):
    await wm.AppendTurns(_append(ns, "t", "a", request_id="r-1"))
    for contents in (("b",), ("a", "a"), ("A",)):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await wm.AppendTurns(_append(ns, "t", *contents, request_id="r-1"))
        assert_invalid(err.value, "request_id", "REQUEST_ID_REUSED")
        info = error_info(err.value)
        assert info.reason == "ERROR_REASON_REQUEST_ID_REUSED"
        assert info.metadata["requestId"] == "r-1"
    assert await _logged(events, ns, "t") == ["a"]
    assert (await get(wm, ns, "t")).turn_count == 1


async def test_a_replay_after_other_appends_replays_even_with_a_stale_expected_version(
    wm, events, ns
):
    first = await wm.AppendTurns(_append(ns, "t", "a", request_id="r-1", expected_version=0))
    await wm.AppendTurns(_append(ns, "t", "b"))
    await wm.AppendTurns(_append(ns, "t", "c", request_id="r-2"))
    again = await wm.AppendTurns(_append(ns, "t", "a", request_id="r-1", expected_version=0))
    assert (again.replayed, again.version, again.event_ids) == (True, 1, first.event_ids)
    assert await _logged(events, ns, "t") == ["a", "b", "c"]
    session = await get(wm, ns, "t")
    assert (session.version, session.turn_count) == (3, 3)


async def test_concurrent_appends_with_one_request_id_append_once(wm, events, ns):
    responses = await asyncio.gather(
        *(wm.AppendTurns(_append(ns, "t", "a", "b", request_id="r-1")) for _ in range(10))
    )
    assert sorted(r.replayed for r in responses) == [False] + [True] * 9
    assert len({tuple(r.event_ids) for r in responses}) == 1
    assert await _logged(events, ns, "t") == ["a", "b"]
    assert (await get(wm, ns, "t")).turn_count == 2


async def test_a_replay_after_the_session_was_deleted_does_not_recreate_it(wm, events, ns):
    first = await wm.AppendTurns(_append(ns, "t", "a", request_id="r-1"))
    await wm.DeleteSession(_delete(ns, "t"))
    again = await wm.AppendTurns(_append(ns, "t", "a", request_id="r-1"))
    assert (again.replayed, again.event_ids) == (True, first.event_ids)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await get(wm, ns, "t")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert await _logged(events, ns, "t") == ["a"]  # the log keeps the turn, once


async def test_request_ids_are_per_thread_and_apart_from_append_events(wm, events, ns):
    await wm.AppendTurns(_append(ns, "t", "a", request_id="r-1"))
    other = await wm.AppendTurns(_append(ns, "u", "a", request_id="r-1"))
    assert not other.replayed
    appended = await events.AppendEvents(
        ev.AppendEventsRequest(
            namespace=ns, thread_id="t", events=[ev.EventInput(type="note")], request_id="r-1"
        )
    )
    assert not appended.replayed
    assert await _logged(events, ns, "u") == ["a"]


@pytest.mark.parametrize("request_id", ["a:b", "{x}", "x" * 65, "sp ace"])
async def test_a_malformed_request_id_is_invalid(wm, ns, request_id):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await wm.AppendTurns(_append(ns, "t", "a", request_id=request_id))
    assert_invalid(err.value, "request_id")


# -- Page tokens ----------------------------------------------------------------------


async def test_a_page_token_is_bound_to_its_user_and_view_but_not_its_page_size(wm, ns):
    for i in range(4):
        await update(wm, ns, f"t{i}", goal="g", user_id="u")
        await asyncio.sleep(0.002)
    first = await wm.ListSessions(pb.ListSessionsRequest(namespace=ns, user_id="u", page_size=1))
    token = first.next_page_token
    assert token
    for other in (
        pb.ListSessionsRequest(namespace=ns, user_id="v", page_token=token),
        pb.ListSessionsRequest(namespace=ns, page_token=token),
        pb.ListSessionsRequest(
            namespace=ns, user_id="u", view=pb.SESSION_VIEW_FULL, page_token=token
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await wm.ListSessions(other)
        assert_invalid(err.value, "page_token", "PAGE_TOKEN_INVALID")
        assert error_info(err.value).reason == "ERROR_REASON_PAGE_TOKEN_INVALID"
    rest = await wm.ListSessions(
        pb.ListSessionsRequest(namespace=ns, user_id="u", page_size=10, page_token=token)
    )
    assert [s.thread_id for s in rest.sessions] == ["t2", "t1", "t0"]
    assert rest.next_page_token == ""
