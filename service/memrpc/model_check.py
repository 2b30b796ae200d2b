"""Refusing to start with another embedding model than the one that made
the stored vectors, and the start of a move to another one.

Vectors of two models are not comparable: a search or a dedup with a query
of one model against the memories of another would return nonsense without
an error. So every `memrpc serve` (each of its `--workers`, and their parent
first) and every `memrpc worker` compares its model with the records in
Redis (`store/model_record.py`) before it touches the index, and the first
to start against a Redis records its own. The same files under another
name are the same model (logged).

A process started with `--model-dir B --previous-model-dir A` moves the
memories from A to B (`store/reembed.py`): it accepts a default A (and
records B as the model moved to, unless recorded), a default A moving to
B, or a default B (the move is over: A is unused, logged). Any other start
ends with one line naming the models, the flags to start with and the
section of the docs (exit status 2, as a bad setting): a model neither
recorded; `--model-dir A` alone while the memories move to B; `--model-dir
B` alone while A is the default; a move while the memories of storage
schema 2 are still migrating (`store/migration.py`: the old index knows
only the first model's field, and the re-embed job's steps see only the
memories already converted).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

from memrpc.config import Settings, SettingsError, redacted_url
from memrpc.embedding import ModelIdentity
from memrpc.store import keys
from memrpc.store.legacy_search import legacy_index_exists
from memrpc.store.memory_index import LEGACY_INDEX
from memrpc.store.model_record import MalformedRecord, RecordedModel, claim
from memrpc.store.redis_mux import RedisClient

log = logging.getLogger("memrpc.server")

# Where the documentation says what to do about a refusal.
DOCS = "docs/deployment.md#model-identity"
# Where it says how to move the memories to another model.
MOVE_DOCS = "docs/deployment.md#moving-to-another-model"


def _dir(model_dir: Path | None) -> str:
    """A model's directory as a refusal suggests it for a flag."""
    return str(model_dir) if model_dir else "<a directory of the packaged model's files>"


async def check_model(
    redis: RedisClient,
    identity: ModelIdentity,
    settings: Settings,
    url: str,
    previous: ModelIdentity | None = None,
) -> RecordedModel:
    """Records `identity` (`previous`, when given) as the model of the
    stored vectors in the Redis of `redis` (at `url`, as logged) unless one
    is recorded, and with a `previous` model `identity` as the model moved
    to unless a move is recorded; returns the records. Raises
    `SettingsError` (one line) when they are not the process's models."""
    where = redacted_url(url)
    if previous is not None and await legacy_index_exists(redis.execute):
        raise SettingsError(
            f"--previous-model-dir {settings.previous_model_dir} would move the memories in "
            f"Redis at {where} to {identity}, but they are still migrating from storage "
            f"schema 2 ({LEGACY_INDEX} exists): start without --previous-model-dir, and "
            f"move them once the migration is done ({MOVE_DOCS})"
        )
    try:
        record = await claim(
            redis,
            previous or identity,
            now_ms=time.time_ns() // 1_000_000,
            next=identity if previous is not None else None,
        )
    except MalformedRecord as err:
        raise SettingsError(
            f"Redis at {where}: {err}; if the memories there were embedded by {identity}, "
            f"delete {keys.model()} and start again to record it ({DOCS})"
        ) from None
    recorded, next = record.identity, record.next
    given = settings.model_dir or "unset (the packaged model)"
    previous_dir = settings.previous_model_dir
    moving_to = next.identity if next is not None else None
    if record.recorded_now:
        log.info(
            "recorded the embedding model %s in Redis at %s (%s)", recorded, where, keys.model()
        )
    if previous is None:
        if identity.same_vectors(recorded):
            if moving_to is not None:
                raise SettingsError(
                    f"--model-dir {given} is the model {identity}, but the memories in Redis "
                    f"at {where} are moving from it to {moving_to}: start with --model-dir "
                    f"<the directory of {moving_to.name}> --previous-model-dir "
                    f"{_dir(settings.model_dir)} ({MOVE_DOCS})"
                )
        elif moving_to is not None and identity.same_vectors(moving_to):
            raise SettingsError(
                f"--model-dir {given} is the model {identity}, to which the memories in Redis "
                f"at {where} are moving from {recorded}: start with --model-dir {given} "
                f"--previous-model-dir <the directory of {recorded.name}> ({MOVE_DOCS})"
            )
        else:
            when = datetime.fromtimestamp(record.recorded_ms / 1000, UTC)
            raise SettingsError(
                f"--model-dir {given} is the model {identity}, but the memories in Redis at "
                f"{where} were embedded by {recorded}, recorded "
                f"{when.strftime('%Y-%m-%dT%H:%M:%SZ')}: start with the --model-dir of that "
                f"model, or move the memories to this one with --model-dir {given} "
                f"--previous-model-dir <the directory of {recorded.name}> ({MOVE_DOCS})"
            )
    elif identity.same_vectors(recorded) and moving_to is None:
        log.info(
            "the memories in Redis at %s are embedded by %s: the move from %s is over, "
            "--previous-model-dir %s is unused",
            where,
            identity,
            previous,
            previous_dir,
        )
    elif not (
        previous.same_vectors(recorded)
        and moving_to is not None
        and identity.same_vectors(moving_to)
    ):
        state = f"embedded by {recorded}" + (
            "" if moving_to is None else f" and moving to {moving_to}"
        )
        raise SettingsError(
            f"--model-dir {given} is the model {identity} and --previous-model-dir "
            f"{previous_dir} the model {previous}, but the memories in Redis at {where} are "
            f"{state}: start with --previous-model-dir of the model they are embedded by "
            f"and --model-dir of the one they move to ({MOVE_DOCS})"
        )
    else:
        log.info("the memories in Redis at %s are moving from %s to %s", where, previous, identity)
    if identity.name != recorded.name and identity.same_vectors(recorded):
        log.info(
            "the embedding model %s has the files of the recorded %s: the same vectors",
            identity,
            recorded.name,
        )
    return record
