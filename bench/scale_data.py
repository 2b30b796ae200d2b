"""The scale bench's memories, rebuilt from a seed: memory number i's text,
user, metadata and vector (random unit vectors, batch by batch), and the
exact nearest neighbours of query vectors among the first n memories."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bench.corpus import DIM, memory_text

Vectors = npt.NDArray[np.float32]

BATCH = 100  # the most memories one CreateMemories takes
# Metadata every memory carries, as the bench's seeded memories do (plus its number).
METADATA = {"channel": "web", "locale": "en-GB", "plan": "pro"}
NUMBER_KEY = "n"
# A second fact per text, far enough in the corpus to differ from the first.
_SECOND_FACT = 40_009


def unit_vectors(rng: np.random.Generator, count: int) -> Vectors:
    """`count` random unit vectors of `DIM` float32 values."""
    vectors = rng.standard_normal((count, DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def parse_count(text: str) -> int:
    """`10k`, `1M` or `2500` as an integer."""
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * scale)


@dataclass(frozen=True)
class Layout:
    """Where memory number i goes: one namespace, `users` users (dedup scopes)
    taking turns; the same `seed` gives the same memories."""

    namespace: str
    users: int
    seed: int

    def user(self, number: int) -> str:
        return f"user-{number % self.users:05d}"

    def text(self, number: int) -> str:
        """~150 characters of words, distinct for every number."""
        first, second = memory_text(number), memory_text(number + _SECOND_FACT)
        return f"{first} Later: {second} Memory {number}."

    def metadata(self, number: int) -> dict[str, str]:
        return {**METADATA, NUMBER_KEY: str(number)}

    def batch_vectors(self, batch: int) -> Vectors:
        """The vectors of memories `batch` * BATCH onwards (BATCH of them)."""
        return unit_vectors(np.random.default_rng([self.seed, batch]), BATCH)


def exact_neighbours(
    layout: Layout, loaded: int, queries: Vectors, users: list[str], k: int
) -> tuple[list[set[int]], list[set[int]]]:
    """The numbers of the `k` memories nearest each query among memories
    0 to `loaded` - 1 (cosine: the largest dot products of unit vectors),
    over all of them and over those of the query's user; in numpy, the
    vectors rebuilt from the seed a block of batches at a time."""
    count = len(queries)
    best = np.full((count, k), -np.inf, dtype=np.float32)
    best_ids = np.full((count, k), -1, dtype=np.int64)
    own = np.full((count, k), -np.inf, dtype=np.float32)
    own_ids = np.full((count, k), -1, dtype=np.int64)
    wanted = np.array([int(user.rsplit("-", 1)[1]) for user in users])
    block = 100  # batches per block: 10,000 vectors
    batches = -(-loaded // BATCH)
    for first in range(0, batches, block):
        numbers = np.arange(first * BATCH, min(first + block, batches) * BATCH)
        vectors = np.concatenate(
            [layout.batch_vectors(b) for b in range(first, min(first + block, batches))]
        )[: max(0, loaded - first * BATCH)]
        numbers = numbers[: len(vectors)]
        scores = queries @ vectors.T
        _merge(best, best_ids, scores, numbers)
        same_user = (numbers % layout.users)[None, :] == wanted[:, None]
        _merge(own, own_ids, np.where(same_user, scores, -np.inf), numbers)
    return _as_sets(best, best_ids), _as_sets(own, own_ids)


def _merge(
    best: Vectors, ids: npt.NDArray[np.int64], scores: Vectors, numbers: npt.NDArray[np.int64]
) -> None:
    """Keeps in `best`/`ids` the top scores of both (in place)."""
    k = best.shape[1]
    all_scores = np.concatenate([best, scores], axis=1)
    all_ids = np.concatenate([ids, np.broadcast_to(numbers, scores.shape)], axis=1)
    top = np.argpartition(-all_scores, k - 1, axis=1)[:, :k]
    best[:] = np.take_along_axis(all_scores, top, axis=1)
    ids[:] = np.take_along_axis(all_ids, top, axis=1)


def _as_sets(scores: Vectors, ids: npt.NDArray[np.int64]) -> list[set[int]]:
    """Each row's numbers that scored (a user may have fewer than k)."""
    return [
        {int(n) for n, s in zip(row, row_scores, strict=True) if s > -np.inf}
        for row, row_scores in zip(ids, scores, strict=True)
    ]
