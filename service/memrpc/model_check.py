"""Refusing to start with another embedding model than the one that made
the stored vectors.

Vectors of two models are not comparable: a search or a dedup with a query
of one model against the memories of another would return nonsense without
an error. So every `memrpc serve` (each of its `--workers`, and their parent
first) and every `memrpc worker` compares its model with the record in
Redis (`store/model_record.py`) before it touches the index, and the first
to start against a Redis records its own. A model of another dimension or
fingerprint ends the start with one line naming both models, the
`--model-dir` given and what to do (exit status 2, as a bad setting); the
same files under another name are the same model (logged).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from memrpc.config import Settings, SettingsError, redacted_url
from memrpc.embedding import ModelIdentity
from memrpc.store import keys
from memrpc.store.model_record import MalformedRecord, claim
from memrpc.store.redis_mux import RedisMux

log = logging.getLogger("memrpc.server")

# Where the documentation says what to do about a refusal.
DOCS = "docs/deployment.md#model-identity"


async def check_model(
    redis: RedisMux, identity: ModelIdentity, settings: Settings, url: str
) -> None:
    """Records `identity` as the model of the stored vectors in the Redis of
    `redis` (at `url`, as logged) unless one is recorded; raises
    `SettingsError` (one line) when the recorded model is another."""
    where = redacted_url(url)
    try:
        record = await claim(redis, identity, now_ms=time.time_ns() // 1_000_000)
    except MalformedRecord as err:
        raise SettingsError(
            f"Redis at {where}: {err}; if the memories there were embedded by {identity}, "
            f"delete {keys.model()} and start again to record it ({DOCS})"
        ) from None
    recorded = record.identity
    if record.recorded_now:
        log.info(
            "recorded the embedding model %s in Redis at %s (%s)", identity, where, keys.model()
        )
    elif not identity.same_vectors(recorded):
        given = settings.model_dir or "unset (the packaged model)"
        when = datetime.fromtimestamp(record.recorded_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        raise SettingsError(
            f"--model-dir {given} is the model {identity}, but the memories in Redis at "
            f"{where} were embedded by {recorded}, recorded {when}: start with the --model-dir "
            f"of that model; moving memories to another model (re-embedding) is not available "
            f"yet ({DOCS})"
        )
    elif identity.name != recorded.name:
        log.info(
            "the embedding model %s has the files of the recorded %s: the same vectors",
            identity,
            recorded.name,
        )
