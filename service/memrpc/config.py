"""Server settings, from flags and `MEMRPC_*` environment variables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to start; see `memrpc serve --help`."""

    # host:port the gRPC server listens on.
    listen: str = "127.0.0.1:50051"
    # External Redis 8 / Redis Stack URL; None starts an embedded one.
    redis_url: str | None = None
    # Where the embedded Redis keeps its files (AOF, log, socket).
    data_dir: Path = Path("data")
    # A sentence-transformers ONNX export (model.onnx + tokenizer.json);
    # None uses the packaged all-MiniLM-L6-v2 int8 model.
    model_dir: Path | None = None
    # onnxruntime intra-op threads for the embedding model.
    embed_threads: int = 1
    # Texts whose embeddings are kept in memory (LRU); 0 disables the cache.
    embed_cache_size: int = 4096
    # Seconds in-flight calls and tails get to finish on shutdown.
    shutdown_grace: float = 10.0
    # About how many events a namespace feed keeps for consumer groups.
    feed_max_len: int = 100_000
    # Logging level name.
    log_level: str = "INFO"
    # Server processes sharing the listen address (SO_REUSEPORT); 1 serves
    # in this process.
    workers: int = 1
