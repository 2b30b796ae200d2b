"""Refusing to start on memories stored in another schema than this code
reads (`store/storage_schema.py`): every `memrpc serve` (each of its
`--workers`, and their parent first) and every `memrpc worker` claims the
record before it touches the memories, and one that cannot read them ends
its start with one line (exit status 2, as a bad setting).
"""

from __future__ import annotations

from memrpc.config import SettingsError, redacted_url
from memrpc.store import storage_schema
from memrpc.store.redis_mux import RedisClient

# Where the documentation says what to do about a refusal.
DOCS = "docs/deployment.md#upgrading-stored-data"


async def check_schema(redis: RedisClient, url: str) -> None:
    """Records this code's storage schema in the Redis of `redis` (at `url`,
    as logged) unless one is; raises `SettingsError` (one line) when the
    recorded one is another, or is not a schema."""
    where = redacted_url(url)
    try:
        await storage_schema.claim(redis)
    except storage_schema.OtherSchema as err:
        raise SettingsError(f"Redis at {where} {err} ({DOCS})") from None
    except ValueError:
        raise SettingsError(
            f"Redis at {where}: the storage schema record is not a number; set it to the "
            f"schema of the memories there ({DOCS})"
        ) from None
