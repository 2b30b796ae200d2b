"""The embedder interface used by the rest of the service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from memrpc.embedding.identity import ModelIdentity


class EmbeddingError(Exception):
    """The embedding model or its tokenizer could not be loaded."""


class EmbeddingQueueFull(Exception):
    """An embed request refused at once, because its texts would take the
    queue of texts waiting for the model past its limit: `waiting` texts
    wait, `limit` is the most that may, and `drain_s` estimates the seconds
    the model needs to embed those waiting (the time to wait before trying
    again)."""

    def __init__(self, waiting: int, limit: int, drain_s: float) -> None:
        super().__init__(f"embedding queue full: {waiting} texts waiting, the limit is {limit}")
        self.waiting = waiting
        self.limit = limit
        self.drain_s = drain_s


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    @property
    def dim(self) -> int:
        """Length of every vector."""
        ...

    @property
    def identity(self) -> ModelIdentity:
        """Which model makes the vectors: its name, dimension and fingerprint."""
        ...

    async def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One unit-norm float32 row per text: shape ``(len(texts), dim)``.
        Raises :class:`EmbeddingQueueFull` rather than queue past a bound
        (never in the :meth:`background` view)."""
        ...

    def background(self) -> Embedder:
        """The same embedder for the background jobs: their texts never count
        against a queue bound (never `EmbeddingQueueFull`) and wait behind the
        interactive ones. Its :meth:`aclose` leaves this embedder open."""
        ...

    async def aclose(self) -> None:
        """Release the model; later calls to :meth:`embed` raise RuntimeError."""
        ...
