"""WorkingMemory.GetContext end to end: the session and the memories an
agent needs before its model call, in one call, against the real Redis and
model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import grpc
import pytest

from memrpc.limits import MAX_CONTENT_CHARS, MAX_PAGE_BYTES
from memrpc.v1 import long_term_memory_pb2 as ltm_pb
from memrpc.v1 import working_memory_pb2 as pb
from support import assert_invalid
from test_long_term_memory import DARK_MODE, DIM, create, item, unit_vectors

if TYPE_CHECKING:
    from memrpc.v1.long_term_memory_pb2_grpc import LongTermMemoryAsyncStub
    from memrpc.v1.working_memory_pb2_grpc import WorkingMemoryAsyncStub

pytestmark = [pytest.mark.genuine_redis, pytest.mark.on_cluster]

THREAD = "thread-1"
# Far enough for every memory of a test to count, whatever its distance.
ANY_DISTANCE = 2.0


def query(vector: Any) -> ltm_pb.Vector:
    return ltm_pb.Vector(values=list(vector))


async def context(
    wm: WorkingMemoryAsyncStub, ns: str, thread: str = THREAD, **fields: Any
) -> pb.GetContextResponse:
    request = pb.GetContextRequest(namespace=ns, thread_id=thread, **fields)
    return await wm.GetContext(request)


async def start_session(
    wm: WorkingMemoryAsyncStub, ns: str, user: str = "", thread: str = THREAD
) -> None:
    """A session with a goal and two turns, of `user` ('' for none)."""
    await wm.UpdateSession(
        pb.UpdateSessionRequest(
            namespace=ns,
            thread_id=thread,
            session=pb.SessionInput(goal="plan a trip", user_id=user),
        )
    )
    turns = [pb.TurnInput(role="user", content="hi"), pb.TurnInput(role="assistant", content="yo")]
    await wm.AppendTurns(pb.AppendTurnsRequest(namespace=ns, thread_id=thread, turns=turns))


async def remember(ltm: LongTermMemoryAsyncStub, ns: str, *users: str) -> dict[str, str]:
    """One memory of each of `users` ('' for no user), with random vectors;
    their ids by user."""
    vectors = unit_vectors(len(users), seed=len(users))
    items = [
        item(f"memory of {user or 'nobody'}", user_id=user, embedding=list(vector))
        for user, vector in zip(users, vectors, strict=True)
    ]
    results = await create(ltm, ns, *items)
    return {user: result.memory.id for user, result in zip(users, results, strict=True)}


def found(response: pb.GetContextResponse) -> set[str]:
    return {match.memory.id for match in response.matches}


async def session_of(wm: WorkingMemoryAsyncStub, ns: str, thread: str = THREAD) -> pb.Session:
    return (await wm.GetSession(pb.GetSessionRequest(namespace=ns, thread_id=thread))).session


@pytest.mark.parametrize("user", ["alice", "ünï {x} | @user:{*}"])
async def test_the_search_is_scoped_to_the_sessions_user(
    wm: WorkingMemoryAsyncStub, ltm: LongTermMemoryAsyncStub, ns: str, user: str
) -> None:
    await start_session(wm, ns, user=user)
    ids = await remember(ltm, ns, user, "bob", "")
    response = await context(
        wm, ns, vector=query(unit_vectors(1, seed=99)[0]), max_distance=ANY_DISTANCE
    )
    assert found(response) == {ids[user]}
    # The session comes back whole: goal, window and all, as GetSession reads it.
    assert response.session == await session_of(wm, ns)
    assert response.session.goal == "plan a trip"
    assert [t.content for t in response.session.turns] == ["hi", "yo"]


async def test_a_filter_naming_users_wins_over_the_sessions_user(
    wm: WorkingMemoryAsyncStub, ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    await start_session(wm, ns, user="alice")
    ids = await remember(ltm, ns, "alice", "bob", "carol")
    response = await context(
        wm,
        ns,
        vector=query(unit_vectors(1, seed=99)[0]),
        filter=ltm_pb.MemoryFilter(user_ids=["bob", "carol"]),
        max_distance=ANY_DISTANCE,
    )
    assert found(response) == {ids["bob"], ids["carol"]}
    assert response.session.user_id == "alice"


async def test_without_a_session_the_namespace_is_searched(
    wm: WorkingMemoryAsyncStub, ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    ids = await remember(ltm, ns, "alice", "bob")
    response = await context(
        wm, ns, "no-such-thread", vector=query(unit_vectors(1, seed=99)[0]), max_distance=2.0
    )
    assert not response.HasField("session")
    assert found(response) == set(ids.values())


async def test_a_session_without_a_user_searches_the_namespace(
    wm: WorkingMemoryAsyncStub, ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    await start_session(wm, ns)
    ids = await remember(ltm, ns, "alice", "")
    response = await context(
        wm, ns, vector=query(unit_vectors(1, seed=99)[0]), max_distance=ANY_DISTANCE
    )
    assert response.session.user_id == ""
    assert found(response) == set(ids.values())


async def test_without_a_query_nothing_is_searched(
    wm: WorkingMemoryAsyncStub, ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    await start_session(wm, ns, user="alice")
    await remember(ltm, ns, "alice")
    response = await context(wm, ns, max_distance=ANY_DISTANCE)
    assert response.session == await session_of(wm, ns)
    assert not response.matches
    empty = await context(wm, ns, "no-such-thread")
    assert empty == pb.GetContextResponse()


async def test_a_text_query_finds_what_search_memories_finds(
    wm: WorkingMemoryAsyncStub, ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    await start_session(wm, ns, user="alice")
    await create(
        ltm,
        ns,
        item(DARK_MODE, user_id="alice"),
        item("Alice flies to Lisbon on 3 March.", user_id="alice"),
        item(DARK_MODE, user_id="bob"),
    )
    response = await context(wm, ns, text="Which editor theme does the user like?")
    searched = await ltm.SearchMemories(
        ltm_pb.SearchMemoriesRequest(
            namespace=ns,
            text="Which editor theme does the user like?",
            filter=ltm_pb.MemoryFilter(user_ids=["alice"]),
        )
    )
    assert [m.memory.text for m in response.matches] == [DARK_MODE]
    assert list(response.matches) == list(searched.matches)


async def test_a_text_query_with_a_filter_naming_users_searches_theirs(
    wm: WorkingMemoryAsyncStub, ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    await start_session(wm, ns, user="alice")
    await create(ltm, ns, item(DARK_MODE, user_id="alice"), item(DARK_MODE, user_id="bob"))
    response = await context(wm, ns, text=DARK_MODE, filter=ltm_pb.MemoryFilter(user_ids=["bob"]))
    assert [m.memory.user_id for m in response.matches] == ["bob"]
    assert response.session.user_id == "alice"


async def test_limit_and_max_distance_apply(
    wm: WorkingMemoryAsyncStub, ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    await start_session(wm, ns, user="alice")
    vectors = unit_vectors(3, seed=5)
    await create(
        ltm, ns, *(item(f"m{i}", user_id="alice", embedding=list(v)) for i, v in enumerate(vectors))
    )
    nearest = await context(wm, ns, vector=query(vectors[1]), limit=1, max_distance=ANY_DISTANCE)
    assert [m.memory.text for m in nearest.matches] == ["m1"]
    assert nearest.matches[0].distance == pytest.approx(0, abs=1e-5)
    # Random vectors are about orthogonal: only the query's own is this near.
    close = await context(wm, ns, vector=query(vectors[2]), max_distance=0.1)
    assert [m.memory.text for m in close.matches] == ["m2"]


async def test_the_session_and_matches_stay_within_the_response_budget(
    wm: WorkingMemoryAsyncStub, ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    # About 1.7 MB of session, and memories of about 240 KB each (metadata).
    content = "x" * MAX_CONTENT_CHARS
    turns = [pb.TurnInput(role="user", content=content) for _ in range(26)]
    await wm.AppendTurns(
        pb.AppendTurnsRequest(
            namespace=ns, thread_id=THREAD, turns=turns, max_window_turns=100, user_id="alice"
        )
    )
    vectors = unit_vectors(8, seed=3)
    metadata = {f"k{i}": "v" * 4000 for i in range(60)}
    for i, vector in enumerate(vectors):
        await create(
            ltm, ns, item(f"big {i}", user_id="alice", embedding=list(vector), metadata=metadata)
        )
    request: dict[str, Any] = {"vector": query(vectors[0]), "max_distance": ANY_DISTANCE}
    searched = await ltm.SearchMemories(ltm_pb.SearchMemoriesRequest(namespace=ns, **request))
    response = await context(wm, ns, **request)
    assert response.session == await session_of(wm, ns)
    assert response.ByteSize() <= MAX_PAGE_BYTES
    # The farthest are left out, the nearest kept, in order.
    assert 0 < len(response.matches) < len(searched.matches) == len(vectors)
    assert list(response.matches) == list(searched.matches)[: len(response.matches)]
    assert response.matches[0].memory.text == "big 0"


async def test_a_session_filling_the_budget_leaves_no_room_for_matches(
    wm: WorkingMemoryAsyncStub, ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    content = "x" * MAX_CONTENT_CHARS
    turns = [pb.TurnInput(role="user", content=content) for _ in range(48)]
    await wm.AppendTurns(
        pb.AppendTurnsRequest(namespace=ns, thread_id=THREAD, turns=turns, max_window_turns=100)
    )
    await remember(ltm, ns, "alice")
    response = await context(
        wm, ns, vector=query(unit_vectors(1, seed=99)[0]), max_distance=ANY_DISTANCE
    )
    assert response.session.ByteSize() > MAX_PAGE_BYTES
    assert len(response.session.turns) == 48
    assert not response.matches


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"namespace": ""}, "namespace"),
        ({"namespace": "bad ns"}, "namespace"),
        ({"thread_id": ""}, "thread_id"),
        ({"thread_id": "a\nb"}, "thread_id"),
        ({"text": ""}, "text"),
        ({"text": "x" * 8193}, "text"),
        ({"vector": ltm_pb.Vector(values=[1.0] * (DIM - 1))}, "vector.values"),
        ({"vector": ltm_pb.Vector(values=[0.0] * DIM)}, "vector.values"),
        ({"vector": ltm_pb.Vector(values=[float("nan")] * DIM)}, "vector.values"),
        ({"text": "q", "limit": -1}, "limit"),
        ({"text": "q", "limit": 101}, "limit"),
        ({"text": "q", "max_distance": 2.5}, "max_distance"),
        ({"text": "q", "max_distance": -0.1}, "max_distance"),
        ({"filter": ltm_pb.MemoryFilter(user_ids=["a"] * 1000)}, "filter.user_ids"),
        ({"filter": ltm_pb.MemoryFilter(user_ids=["a\tb"])}, "filter.user_ids[0]"),
        ({"filter": ltm_pb.MemoryFilter(topics=[""])}, "filter.topics[0]"),
    ],
)
async def test_invalid_requests_name_their_field(
    wm: WorkingMemoryAsyncStub, ns: str, fields: dict[str, Any], field: str
) -> None:
    request = pb.GetContextRequest(**{"namespace": ns, "thread_id": THREAD, **fields})
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await wm.GetContext(request)
    assert_invalid(caught.value, field)
