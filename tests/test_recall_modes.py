"""Recall modes end to end (`RecallMode`): vector, keyword (BM25) and hybrid
search through `SearchMemories` and `GetContext`, against the real Redis and
model; the words a query text becomes (`store/keywords.py`); an index made
before the keyword fields."""

from __future__ import annotations

import asyncio
import dataclasses
import math
from pathlib import Path

import grpc
import pytest
import redis.asyncio
from prometheus_client import REGISTRY

from memrpc import metrics
from memrpc.access_recorder import AccessRecorder
from memrpc.api.memory_search import MemorySearch
from memrpc.config import Settings
from memrpc.embedded_redis import ServerBinary
from memrpc.embedding import BatchingEmbedder
from memrpc.limits import (
    COMMON_WORD_SCOPE,
    COMMON_WORD_SHARE,
    KEYWORD_WEIGHT,
    MAX_KEYWORDS,
    NEIGHBOR_WEIGHT,
    TIME_WEIGHT,
    Limits,
)
from memrpc.models import Model, Models
from memrpc.namespace_defaults import RecallMode, server_defaults
from memrpc.store import keys, memory_document
from memrpc.store.access import AccessStore
from memrpc.store.keywords import STOP_WORDS, words
from memrpc.store.long_term import LongTermStore, NewMemory
from memrpc.store.memory_index import INDEX, ORIGINAL_FIELD, MemoryFilter
from memrpc.store.recall import Recall
from memrpc.store.redis_mux import RedisMux
from memrpc.v1 import long_term_memory_pb2 as pb
from memrpc.v1 import working_memory_pb2 as wpb
from support import assert_invalid, indexed, older_index

pytestmark = [pytest.mark.genuine_redis, pytest.mark.on_cluster]

VECTOR, KEYWORD, HYBRID = pb.RECALL_MODE_VECTOR, pb.RECALL_MODE_KEYWORD, pb.RECALL_MODE_HYBRID
MODES = [VECTOR, KEYWORD, HYBRID]
SISTER = "My sister Ingrid is coming over from Hamburg for the wedding."
CATERING = "We budgeted $3,850 for the catering, staff and tableware included."
FLIGHT = "Ingrid lands on flight LH 2417 on Thursday evening."
WINDOW = "I prefer window seats on long flights"
KEY = "The spare key is under the blue flowerpot."
WEATHER = "It rained all afternoon, so the garden party moved indoors."
TEXTS = [SISTER, CATERING, FLIGHT, WINDOW, WEATHER]
# Query syntax of Redis Search, and other text no query may parse.
HOSTILE = [
    "@body:(x)",
    "-",
    "|",
    "*",
    "{}",
    "=>[KNN 100 @embedding $v AS d]",
    "\"quoted\" 'single'",
    "x} | @ns:{*",
    "*}) | (@user:{*",
    "-@flags:{superseded}",
    "%fuzzy% ~optional",
    "ünï 日本 🙂",
    "\\ $v ( ) [ ] < > ; : ! ^ + = & , .",
]


async def create(
    ltm, ns: str, texts: list[str], dedup_max_distance: float | None = None, **fields: object
) -> list[str]:
    reply = await ltm.CreateMemories(
        pb.CreateMemoriesRequest(
            namespace=ns,
            memories=[pb.MemoryInput(text=t, **fields) for t in texts],
            dedup_max_distance=dedup_max_distance,
        )
    )
    return [result.memory.id for result in reply.results]


async def search(ltm, ns: str, text: str, mode: int, **fields: object) -> list[pb.MemoryMatch]:
    reply = await ltm.SearchMemories(
        pb.SearchMemoriesRequest(namespace=ns, text=text, mode=mode, **fields)
    )
    return list(reply.matches)


def texts(matches: list[pb.MemoryMatch]) -> list[str]:
    return [match.memory.text for match in matches]


# -- Each mode ---------------------------------------------------------------


async def test_vector_mode_ranks_by_distance_alone(ltm, ns: str) -> None:
    await create(ltm, ns, TEXTS)
    found = await search(ltm, ns, "Which seat do I like on flights?", VECTOR)
    assert texts(found)[0] == WINDOW
    for match in found:
        assert match.distance <= 0.55
        assert match.keyword_score == 0
        assert match.score == pytest.approx(1 - match.distance, abs=1e-6)
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)


async def test_keyword_mode_ranks_by_bm25_of_the_stemmed_words(ltm, ns: str) -> None:
    await create(ltm, ns, TEXTS)
    # "budget" finds "budgeted": words are matched stemmed.
    found = await search(ltm, ns, "How much did we budget for catering?", KEYWORD)
    assert texts(found) == [CATERING]
    [match] = found
    assert match.distance == 0
    assert match.keyword_score > 0
    assert match.score == match.keyword_score
    # Two memories hold "Ingrid", two "flight" (one as "flights"): the one
    # holding both ranks first.
    both = await search(ltm, ns, "Ingrid's flight?", KEYWORD)
    assert texts(both)[0] == FLIGHT
    assert set(texts(both)[1:]) == {SISTER, WINDOW}
    assert both[0].keyword_score > max(m.keyword_score for m in both[1:]) > 0
    # max_distance does not apply.
    assert texts(await search(ltm, ns, "catering", KEYWORD, max_distance=0.0)) == [CATERING]


async def test_hybrid_mode_fuses_vector_and_keyword_scores(ltm, ns: str) -> None:
    await create(ltm, ns, TEXTS)
    question = "How much did we budget for catering?"
    assert texts(await search(ltm, ns, question, HYBRID))[0] == CATERING
    # The fusion alone (neighbours: test_recall_signals.py).
    found = await search(ltm, ns, question, HYBRID, neighbor_weight=0.0)
    vector = {m.memory.id: m for m in await search(ltm, ns, question, VECTOR, max_distance=2.0)}
    keyword = {m.memory.id: m for m in await search(ltm, ns, question, KEYWORD)}
    best = max(m.keyword_score for m in keyword.values())
    for match in found:
        mid = match.memory.id
        # Vector matches within max_distance, keyword matches at any distance.
        assert match.distance <= 0.55 or mid in keyword
        assert match.distance == pytest.approx(vector[mid].distance, abs=1e-5)
        words_score = keyword[mid].keyword_score if mid in keyword else 0.0
        assert match.keyword_score == pytest.approx(words_score, rel=1e-6)
        fused = 1 - match.distance + KEYWORD_WEIGHT.default * words_score / best
        assert match.score == pytest.approx(fused, abs=1e-5)
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)
    # A keyword match far from the query by meaning is found all the same.
    far = await search(ltm, ns, "Hamburg", HYBRID, max_distance=0.05, neighbor_weight=0.0)
    assert texts(far) == [SISTER]
    assert far[0].distance > 0.05
    # The weight moves the keyword match above the nearer memory.
    weighted = await search(ltm, ns, "flight Ingrid", HYBRID, keyword_weight=10.0, limit=1)
    unweighted = await search(
        ltm, ns, "flight Ingrid", HYBRID, keyword_weight=0.0, neighbor_weight=0.0, limit=1
    )
    assert texts(weighted) == [FLIGHT]
    assert unweighted[0].score == pytest.approx(1 - unweighted[0].distance, abs=1e-6)


async def test_a_keyword_match_beyond_the_vector_candidates_gets_its_distance(ltm, ns: str) -> None:
    travel = [
        "We flew to Rome on holiday last spring.",
        "Our plane to Lisbon was delayed by two hours.",
        "I booked seats on the morning plane to Oslo.",
        "The airport train was packed on Friday.",
        "We took a night bus across the border.",
        "The cruise stopped at four islands.",
    ]
    await create(ltm, ns, [*travel, KEY])
    question = "journeys overseas via aircraft and airliners flowerpot"
    # The nearest memories are about travel; the key's text alone holds a
    # word of the question.
    nearest = await search(ltm, ns, question, VECTOR, max_distance=2.0, limit=3)
    assert all(text in travel for text in texts(nearest))
    assert texts(await search(ltm, ns, question, KEYWORD)) == [KEY]
    [match] = await search(
        ltm, ns, question, HYBRID, limit=1, keyword_weight=10.0, neighbor_weight=0.0
    )
    assert match.memory.text == KEY
    everything = await search(ltm, ns, question, VECTOR, max_distance=2.0, limit=10)
    [by_vector] = [m for m in everything if m.memory.id == match.memory.id]
    assert match.distance == pytest.approx(by_vector.distance, abs=1e-5)
    assert match.score == pytest.approx(1 - match.distance + 10.0, abs=1e-5)


async def test_the_seed_preference_is_still_recalled_in_hybrid_mode(ltm, ns: str) -> None:
    await create(ltm, ns, TEXTS)
    question = "Which seat do I like on flights?"
    [nearest, *_] = await search(ltm, ns, question, VECTOR)
    assert nearest.memory.text == WINDOW
    assert nearest.distance < 0.55
    assert texts(await search(ltm, ns, question, HYBRID))[0] == WINDOW


async def test_an_unrelated_query_finds_nothing_in_every_mode(ltm, ns: str) -> None:
    await create(ltm, ns, TEXTS)
    for mode in MODES:
        assert await search(ltm, ns, "quantum chromodynamics lattice", mode) == [], mode
    # A query of only stop words has no word to look for.
    assert await search(ltm, ns, "What is it? Where was I?", KEYWORD) == []


async def test_searches_are_counted_by_mode(ltm, ns: str) -> None:
    def count(mode: str) -> float:
        return REGISTRY.get_sample_value("memrpc_searches_total", {"mode": mode}) or 0.0

    before = {mode: count(mode) for mode in ("vector", "keyword", "hybrid")}
    metrics.enable()
    try:
        for mode in (HYBRID, HYBRID, KEYWORD):
            await search(ltm, ns, "catering", mode)
    finally:
        metrics.disable()
    after = {mode: count(mode) - before[mode] for mode in before}
    assert after == {"vector": 0, "keyword": 1, "hybrid": 2}


async def test_get_context_recalls_by_words_for_the_sessions_user(wm, ltm, ns: str) -> None:
    alice = wpb.SessionInput(user_id="alice")
    await wm.UpdateSession(wpb.UpdateSessionRequest(namespace=ns, thread_id="t", session=alice))
    await create(ltm, ns, [CATERING], user_id="alice")
    await create(ltm, ns, [CATERING], user_id="bob")
    for mode in (KEYWORD, HYBRID):
        reply = await wm.GetContext(
            wpb.GetContextRequest(namespace=ns, thread_id="t", text="catering budget", mode=mode)
        )
        assert reply.session.user_id == "alice"
        assert [(m.memory.user_id, m.memory.text) for m in reply.matches] == [("alice", CATERING)]


# -- Safety: user text is never query syntax ---------------------------------


async def test_hostile_text_is_words_only_and_stays_in_its_namespace(ltm, ns: str) -> None:
    other = f"{ns}x"
    await create(ltm, ns, ["The parcel left the depot.", WEATHER])
    # Every word the hostile texts hold, in another namespace's memory.
    await create(ltm, other, [" ".join(w for text in HOSTILE for w in words(text))])
    for text in HOSTILE:
        for mode in (KEYWORD, HYBRID):
            assert await search(ltm, ns, text, mode) == [], (text, mode)
    # Syntax around a word is not syntax: the word is looked for.
    for text in ["@body:(parcel)", "-parcel", "parcel*", "{parcel} | x", '"parcel"']:
        assert texts(await search(ltm, ns, text, KEYWORD)) == ["The parcel left the depot."]


def test_words_are_lower_case_letters_and_digits_once_without_stop_words() -> None:
    assert words("What's my sister's NAME? Sister Ingrid!") == ("sister", "name", "ingrid")
    found = ("flight", "lh", "2417", "lands", "6", "35", "pm")
    assert words("flight LH 2417, lands 6:35 pm") == found
    assert words("the what is my when did you") == ()
    assert words("Ünïcödé 日本語 x_y") == ("ünïcödé", "日本語")
    assert words(" ".join(f"w{i}" for i in range(100))) == tuple(
        f"w{i}" for i in range(MAX_KEYWORDS)
    )
    for text in HOSTILE:
        for word in words(text):
            assert word.isalnum(), word
            assert word == word.lower(), word
            assert word not in STOP_WORDS, word
    # Redis Search's own default stop words are all ours.
    redis_stop_words = "a is the an and are as at be but by for if in into it no not of on or"
    redis_stop_words += " such that their then there these they this to was will with"
    assert set(redis_stop_words.split()) <= STOP_WORDS


async def test_words_most_of_the_scope_holds_are_left_out(ltm, ns: str) -> None:
    # Ann says every turn of a long conversation; two turns name a greyhound.
    said = [f"Ann: item {n} of my packing list is sock pair {n}." for n in range(COMMON_WORD_SCOPE)]
    dogs = ["Ann: I adopted a greyhound.", "Bob: The greyhound next door barks."]
    await create(ltm, ns, said + dogs, dedup_max_distance=0.0)
    assert COMMON_WORD_SHARE * (len(said) + 2) < len(said)
    # "ann" is too common to tell turns apart: only the greyhound turns match
    # (in hybrid mode, neighbours aside).
    for mode in (KEYWORD, HYBRID):
        found = await search(ltm, ns, "Ann's greyhound", mode, max_distance=0.0, neighbor_weight=0)
        assert sorted(texts(found)) == sorted(dogs)
    # A query of common words only keeps them.
    assert len(await search(ltm, ns, "Ann", KEYWORD)) == 10


async def test_a_small_scope_keeps_every_word(ltm, ns: str) -> None:
    dogs = ["Ann: I adopted a greyhound.", "Bob: The greyhound next door barks.", "Ann: Hello."]
    await create(ltm, ns, dogs, dedup_max_distance=0.0)
    assert sorted(texts(await search(ltm, ns, "Ann's greyhound", KEYWORD))) == sorted(dogs)


# -- Filters, namespaces, supersession ----------------------------------------


async def test_filters_and_namespaces_bound_the_keyword_part(ltm, ns: str) -> None:
    other = f"{ns}x"
    await create(ltm, other, [CATERING])
    await create(ltm, ns, [CATERING], user_id="alice", thread_id="t1", topics=["food"])
    await create(ltm, ns, [CATERING], user_id="bob", thread_id="t2")
    await create(ltm, ns, [CATERING], user_id="carol", kind=pb.MEMORY_KIND_EPISODIC)
    cases = [
        (pb.MemoryFilter(user_ids=["alice"]), ["alice"]),
        (pb.MemoryFilter(thread_ids=["t2"]), ["bob"]),
        (pb.MemoryFilter(topics=["food"]), ["alice"]),
        (pb.MemoryFilter(kinds=[pb.MEMORY_KIND_EPISODIC]), ["carol"]),
        (pb.MemoryFilter(), ["alice", "bob", "carol"]),
    ]
    for mode in (KEYWORD, HYBRID):
        for flt, users in cases:
            found = await search(ltm, ns, "catering", mode, filter=flt)
            assert sorted(m.memory.user_id for m in found) == users, (mode, flt)
            assert {m.memory.namespace for m in found} == {ns}


async def test_superseded_memories_are_left_out_unless_asked_for(
    ltm, redis_client: redis.asyncio.Redis, ns: str
) -> None:
    [old, new] = await create(ltm, ns, [CATERING, "The catering budget grew to $4,100."])
    await redis_client.execute_command(
        "HSET", keys.memory(ns, old), memory_document.FLAGS, "superseded"
    )
    for mode in MODES:
        found = await search(ltm, ns, "catering budget", mode)
        assert [m.memory.id for m in found] == [new], mode
        history = await search(
            ltm, ns, "catering budget", mode, filter=pb.MemoryFilter(include_superseded=True)
        )
        assert sorted(m.memory.id for m in history) == sorted([old, new]), mode


# -- The request's fields -----------------------------------------------------


async def test_word_modes_need_a_text_and_the_weight_its_range(ltm, ns: str) -> None:
    vector = pb.Vector(values=[1.0] * 384)
    for mode in (KEYWORD, HYBRID):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await ltm.SearchMemories(
                pb.SearchMemoriesRequest(namespace=ns, vector=vector, mode=mode)
            )
        assert_invalid(err.value, "mode")
        assert "text" in (err.value.details() or "")
    for field in ("keyword_weight", "neighbor_weight", "time_weight"):
        for weight in (-0.1, 10.5, math.nan, math.inf):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await search(ltm, ns, "catering", HYBRID, **{field: weight})
            assert_invalid(err.value, field)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await search(ltm, ns, "catering", 9)
    assert_invalid(err.value, "mode")
    # A vector query in vector mode is fine.
    await ltm.SearchMemories(pb.SearchMemoriesRequest(namespace=ns, vector=vector, mode=VECTOR))


async def test_mode_and_weight_fall_back_on_the_namespace_then_the_server(
    mux: RedisMux, embedder: BatchingEmbedder
) -> None:
    limits = Limits.from_settings(Settings())
    recorder = AccessRecorder(AccessStore(mux))
    model = Model(embedder, ORIGINAL_FIELD)
    search = MemorySearch(
        LongTermStore(mux, dim=embedder.dim), Models(mux, model), limits, recorder
    )
    server = server_defaults(limits)
    namespace = dataclasses.replace(
        server,
        recall_mode=RecallMode.KEYWORD,
        keyword_weight=2.0,
        neighbor_weight=0.0,
        time_weight=1.5,
    )
    text = pb.SearchMemoriesRequest(namespace="n", text="catering")
    weights = ("keyword_weight", "neighbor_weight", "time_weight")

    def parsed(request: pb.SearchMemoriesRequest, defaults: object) -> tuple[object, ...]:
        query = search.parse(request, defaults, model)  # type: ignore[arg-type]
        return (query.mode, *(getattr(query, name) for name in weights))

    assert parsed(text, server) == (
        RecallMode.HYBRID,
        KEYWORD_WEIGHT.default,
        NEIGHBOR_WEIGHT.default,
        TIME_WEIGHT.default,
    )
    assert parsed(text, namespace) == (RecallMode.KEYWORD, 2.0, 0.0, 1.5)
    given = pb.SearchMemoriesRequest(namespace="n", text="x", neighbor_weight=0.25, time_weight=0.0)
    assert parsed(given, namespace) == (RecallMode.KEYWORD, 2.0, 0.25, 0.0)
    asked = pb.SearchMemoriesRequest(namespace="n", text="x", mode=KEYWORD, keyword_weight=0.5)
    assert (
        search.parse(asked, namespace, model).mode,
        search.parse(asked, namespace, model).keyword_weight,
    ) == (
        RecallMode.KEYWORD,
        0.5,
    )
    # A vector query left to a namespace's word mode is searched by vector.
    vector = pb.SearchMemoriesRequest(namespace="n", vector=pb.Vector(values=[1.0] * 384))
    assert search.parse(vector, namespace, model).mode is RecallMode.VECTOR


# -- An index made before the keyword fields ----------------------------------

KEYWORD_FIELDS = ("body", "flags", "recalled")


async def test_an_older_index_gets_the_keyword_fields_and_finds_its_memories(
    tmp_path: Path, server_binary: ServerBinary, embedder: BatchingEmbedder
) -> None:
    async with older_index(tmp_path, server_binary, embedder.dim, KEYWORD_FIELDS) as client:
        store = LongTermStore(client, dim=embedder.dim)
        vectors = await embedder.embed(TEXTS)
        news = [NewMemory(text, vector) for text, vector in zip(TEXTS, vectors, strict=True)]
        made = await store.create("ns", news, max_distance=0.2)
        added = await asyncio.gather(store.ensure_index(), store.ensure_index())
        assert sorted(added, key=len)[-1] == list(KEYWORD_FIELDS)
        assert await store.ensure_index() == []
        await indexed(client)
        wanted = Recall(RecallMode.KEYWORD, 5, 0.55, words=words("catering budget"))
        [match] = await store.recall("ns", MemoryFilter(), wanted)
        assert match.memory.id == made[1].memory_id
        # `flags` and `recalled` are queryable on the old documents too.
        found = await client.execute("FT.SEARCH", INDEX, "-@flags:{pinned}", "NOCONTENT")
        assert found[0] == len(TEXTS)
        # No search returned them yet: none has a recall time.
        found = await client.execute("FT.SEARCH", INDEX, "-@recalled:[0 +inf]", "NOCONTENT")
        assert found[0] == len(TEXTS)
