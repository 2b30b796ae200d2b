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
    # About how many events a thread's event log keeps: the `max_len` of an
    # AppendEvents that sets none, and of the turns AppendTurns records.
    event_log_max_len: int = 1000
    # Logging level name.
    log_level: str = "INFO"
    # Server processes sharing the listen address (SO_REUSEPORT); 1 serves
    # in this process.
    workers: int = 1
    # TLS (docs/security.md): the PEM certificate chain the server presents
    # and its unencrypted PEM key; both set serves TLS, neither plaintext.
    # Replaced files are picked up by new connections without a restart.
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    # PEM CA certificate(s); set, clients must present a certificate signed
    # by one of them (mutual TLS). Reloaded like the certificate.
    tls_client_ca_file: Path | None = None
    # Authentication (docs/security.md): a TOML file of hashed API keys
    # (`memrpc keys new` makes entries) ...
    auth_keys_file: Path | None = None
    # ... and/or a local JWKS file whose keys sign accepted JWTs, which must
    # carry this issuer and audience.
    jwks_file: Path | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    # Serve without credentials even beyond loopback (never the default).
    allow_unauthenticated: bool = False
    # Limits (memrpc/limits.py; docs/security.md lists each one). The
    # largest gRPC message received or sent, in bytes.
    max_message_bytes: int = 16 * 1024 * 1024
    # Memories per CreateMemories, events per AppendEvents, turns per AppendTurns.
    max_batch_items: int = 100
    # Characters of a memory's text and of a search's query text.
    max_text_chars: int = 8192
    # UTF-8 bytes of one metadata or attributes map, keys and values together.
    max_metadata_bytes: int = 256 * 1024
    # The most memories one SearchMemories returns (its `limit`).
    max_search_limit: int = 100
    # Open TailEvents calls per client connection, and per server process.
    max_tails_per_connection: int = 100
    max_tails: int = 2000
    # Events a tail may lag behind one of its threads before it is ended.
    tail_max_lag_events: int = 10_000
