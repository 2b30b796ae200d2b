"""A second embedding model for the re-embed tests: MiniLM's vectors through
a fixed random projection to another dimension, normalised. A real vector
space of its own (another dimension, other distances), made from the one
real model there is here; not product code."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from memrpc.embedding import Embedder, ModelIdentity

DIM = 64
_SEED = 17


class ProjectedEmbedder:
    """An `Embedder` whose vectors are `inner`'s times a fixed `DIM`-column
    matrix, normalised to unit length."""

    def __init__(self, inner: Embedder, matrix: npt.NDArray[np.float32] | None = None) -> None:
        self._inner = inner
        rng = np.random.default_rng(_SEED)
        self._matrix = (
            matrix
            if matrix is not None
            else rng.standard_normal((inner.dim, DIM)).astype(np.float32)
        )

    @property
    def dim(self) -> int:
        return DIM

    @property
    def identity(self) -> ModelIdentity:
        return ModelIdentity(f"projected-{DIM}", DIM, f"{_SEED:04x}" + "5eed" * 3)

    def project(self, vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """`inner`'s vectors in this model's space."""
        projected = vectors @ self._matrix
        norms = np.linalg.norm(projected, axis=1, keepdims=True)
        return (projected / norms).astype(np.float32)

    async def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self.project(await self._inner.embed(texts))

    def background(self) -> Embedder:
        return ProjectedEmbedder(self._inner.background(), self._matrix)

    async def aclose(self) -> None:
        """The inner model is the caller's to close."""
