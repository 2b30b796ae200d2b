"""Local sentence embeddings: all-MiniLM-L6-v2 (384-d) on onnxruntime."""

from __future__ import annotations

from pathlib import Path

from memrpc.embedding.base import Embedder, EmbeddingError, EmbeddingQueueFull
from memrpc.embedding.batcher import BatchingEmbedder
from memrpc.embedding.identity import ModelIdentity
from memrpc.embedding.onnx_model import OnnxModel

__all__ = [
    "BatchingEmbedder",
    "Embedder",
    "EmbeddingError",
    "EmbeddingQueueFull",
    "ModelIdentity",
    "OnnxModel",
    "load_default_embedder",
]


def load_default_embedder(
    model_dir: Path | None = None,
    *,
    threads: int = 1,
    cache_size: int = 4096,
    max_batch: int = 64,
    max_queue: int | None = None,
) -> BatchingEmbedder:
    """Load the model (the packaged default when ``model_dir`` is None) behind a
    batcher queueing at most ``max_queue`` texts (None: unbounded).

    Raises :class:`EmbeddingError` if the model or tokenizer cannot be loaded.
    """
    return BatchingEmbedder(
        OnnxModel(model_dir, threads=threads),
        max_batch=max_batch,
        cache_size=cache_size,
        max_queue=max_queue,
    )
