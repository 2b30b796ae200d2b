"""The embedder interface used by the rest of the service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt


class EmbeddingError(Exception):
    """The embedding model or its tokenizer could not be loaded."""


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    @property
    def dim(self) -> int:
        """Length of every vector."""
        ...

    async def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One unit-norm float32 row per text: shape ``(len(texts), dim)``."""
        ...

    async def aclose(self) -> None:
        """Release the model; later calls to :meth:`embed` raise RuntimeError."""
        ...
