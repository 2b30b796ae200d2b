"""What hybrid recall weighs besides distance and words, end to end against
the real Redis and model: the neighbours (memories written next to a match
in its thread, field `q`), the time a query names against each memory's
event time, and BM25 counted within the namespace searched
(`store/recall.py`, `store/keyword_scores.py`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import redis.asyncio

from memrpc.limits import NEIGHBOR_DECAY, NEIGHBOR_WEIGHT, TIME_WEIGHT
from memrpc.store import keys, memory_document
from memrpc.v1 import long_term_memory_pb2 as pb

HYBRID, KEYWORD = pb.RECALL_MODE_HYBRID, pb.RECALL_MODE_KEYWORD
# A question in one turn, its answer in the next: the answer shares no word
# with a later question about it, and is far from it by meaning.
QUESTION_TURN = "Ann: Did you ever sort out the problem with the boiler in the cellar?"
ANSWER_TURN = "Bob: Yes, a plumber replaced the pressure valve on Tuesday."
OTHER_TURNS = [
    "Ann: The choir rehearsal moved to the church hall.",
    "Bob: My cousin bakes sourdough every Sunday.",
    "Ann: The library extended its opening hours.",
]


async def create(ltm, ns: str, items: list[pb.MemoryInput]) -> list[str]:
    reply = await ltm.CreateMemories(
        pb.CreateMemoriesRequest(namespace=ns, memories=items, dedup_max_distance=0.0)
    )
    return [result.memory.id for result in reply.results]


async def search(ltm, ns: str, text: str, **fields: object) -> list[pb.MemoryMatch]:
    request = pb.SearchMemoriesRequest(namespace=ns, text=text, mode=HYBRID, **fields)
    return list((await ltm.SearchMemories(request)).matches)


def item(text: str, *, thread: str = "", when: datetime | None = None) -> pb.MemoryInput:
    memory = pb.MemoryInput(text=text, thread_id=thread)
    if when is not None:
        memory.event_time.FromDatetime(when)
    return memory


async def test_each_written_memory_takes_the_next_number_of_its_namespace(
    ltm, ns: str, redis_client: redis.asyncio.Redis
) -> None:
    first = await create(ltm, ns, [item("one fact"), item("another fact")])
    # An exact repeat is a hit on the first memory: it takes no number.
    repeat = await create(ltm, ns, [item("one fact"), item("a third fact")])
    assert repeat[0] == first[0]

    async def seq(memory_id: str) -> int:
        found = await redis_client.hget(keys.memory(ns, memory_id), memory_document.SEQ)
        return int(found)

    assert [await seq(i) for i in (*first, repeat[1])] == [1, 2, 3]
    assert int(await redis_client.get(keys.memory_sequence(ns))) == 3


async def test_the_turn_after_a_match_is_recalled_as_its_neighbour(ltm, ns: str) -> None:
    await create(ltm, ns, [item(t) for t in [QUESTION_TURN, ANSWER_TURN, *OTHER_TURNS]])
    question = "What happened with the boiler in the cellar?"
    alone = await search(ltm, ns, question, neighbor_weight=0.0)
    assert ANSWER_TURN not in [m.memory.text for m in alone]
    found = await search(ltm, ns, question)
    texts = [m.memory.text for m in found]
    assert texts[:2] == [QUESTION_TURN, ANSWER_TURN]
    # The answer holds no word of the question, and is beyond max_distance:
    # it is a match as the question turn's neighbour.
    answer = found[1]
    assert answer.keyword_score == 0
    assert answer.distance > 0.55
    # Its score: its own, plus the weight times its neighbours' fused
    # scores: the better of those one apart (the question turn, the turn
    # after), `NEIGHBOR_DECAY` times that of the one two apart.
    fused = {
        m.memory.text: m.score
        for m in await search(ltm, ns, question, neighbor_weight=0.0, max_distance=2.0)
    }
    assert set(fused) == {QUESTION_TURN, ANSWER_TURN, *OTHER_TURNS}
    lift = max(fused[QUESTION_TURN], fused[OTHER_TURNS[0]])
    lift += NEIGHBOR_DECAY * fused[OTHER_TURNS[1]]
    weight = NEIGHBOR_WEIGHT.default
    assert answer.score == pytest.approx(fused[ANSWER_TURN] + weight * lift, abs=1e-4)


async def test_neighbours_are_of_the_same_thread(ltm, ns: str) -> None:
    turns = [
        item(QUESTION_TURN, thread="a"),
        item(ANSWER_TURN, thread="b"),
        *(item(t, thread="a") for t in OTHER_TURNS),
    ]
    await create(ltm, ns, turns)
    found = await search(ltm, ns, "What happened with the boiler in the cellar?")
    assert ANSWER_TURN not in [m.memory.text for m in found]


async def test_an_unrelated_query_finds_no_neighbour_either(ltm, ns: str) -> None:
    await create(ltm, ns, [item(t) for t in [QUESTION_TURN, ANSWER_TURN, *OTHER_TURNS]])
    assert await search(ltm, ns, "quantum chromodynamics lattice", neighbor_weight=5.0) == []


async def test_the_time_a_query_names_raises_the_memories_of_that_time(ltm, ns: str) -> None:
    hikes = {
        "June": "We hiked up to the lake and camped by the water.",
        "August": "We hiked along the ridge and camped under the stars.",
    }
    await create(
        ltm,
        ns,
        [
            item(hikes["June"], when=datetime(2023, 6, 10, 15, tzinfo=UTC)),
            item(hikes["August"], when=datetime(2023, 8, 12, 9, tzinfo=UTC)),
            item("Camping gear is in the garage."),
        ],
    )

    async def first(question: str, **fields: object) -> pb.MemoryMatch:
        return (await search(ltm, ns, question, neighbor_weight=0.0, **fields))[0]

    for month, text in hikes.items():
        for question in (f"Where did we camp in {month}?", f"Where did we camp in {month} 2023?"):
            match = await first(question)
            assert match.memory.text == text, question
            unweighted = await first(question, time_weight=0.0)
            assert match.score == pytest.approx(
                unweighted.score + TIME_WEIGHT.default
                if unweighted.memory.text == text
                else match.score,
                abs=1e-4,
            )
    day = await first("Where did we camp on 12 August, 2023?", time_weight=5.0)
    assert day.memory.text == hikes["August"]
    # Another year names neither.
    other = "Where did we camp in June 2022?"
    found = await search(ltm, ns, other, neighbor_weight=0.0)
    plain = await search(ltm, ns, other, neighbor_weight=0.0, time_weight=0.0)
    assert [m.score for m in found] == pytest.approx([m.score for m in plain], abs=1e-6)


async def test_keyword_scores_count_words_in_the_namespace_searched(ltm, ns: str) -> None:
    texts = ["The greyhound sleeps by the fire.", "The parrot repeats every word."]
    await create(ltm, ns, [item(t) for t in texts])
    before = {m.memory.text: m.keyword_score for m in await search(ltm, ns, "greyhound parrot")}
    # Another namespace full of greyhounds changes nothing here.
    await create(ltm, f"{ns}-other", [item(f"Greyhound number {n} runs.") for n in range(60)])
    after = {m.memory.text: m.keyword_score for m in await search(ltm, ns, "greyhound parrot")}
    assert after == pytest.approx(before, rel=1e-6)
    keyword = await ltm.SearchMemories(
        pb.SearchMemoriesRequest(namespace=ns, text="greyhound parrot", mode=KEYWORD)
    )
    assert {m.memory.text: m.keyword_score for m in keyword.matches} == pytest.approx(before)
