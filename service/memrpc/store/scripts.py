"""The Lua scripts in `memrpc/lua/`, run by `EVALSHA`.

A script can start with shared helpers from `lua/lib/`; they are prepended to
its source so that every script stays one atomic `EVALSHA`. A Redis that does
not know a script yet (first use, or after a restart) is sent it with
`SCRIPT LOAD`, and the call is repeated once.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memrpc.store.redis_errors import NoScriptError
from memrpc.store.redis_mux import Arg, RedisMux

LUA_DIR = Path(__file__).resolve().parent.parent / "lua"


class Script:
    """One script, called as `await script(keys=[...], args=[...])`."""

    def __init__(self, redis: RedisMux, source: str) -> None:
        self._redis = redis
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    async def __call__(self, *, keys: Sequence[Arg], args: Sequence[Arg] = ()) -> Any:
        with contextlib.suppress(NoScriptError):
            return await self._redis.execute("EVALSHA", self.sha, len(keys), *keys, *args)
        await self._redis.execute("SCRIPT", "LOAD", self.source)
        return await self._redis.execute("EVALSHA", self.sha, len(keys), *keys, *args)


def load(redis: RedisMux, name: str, *, libs: Sequence[str] = ()) -> Script:
    """The script `lua/<name>.lua`, preceded by `lua/lib/<lib>.lua` for each lib."""
    parts = [(LUA_DIR / "lib" / f"{lib}.lua").read_text() for lib in libs]
    parts.append((LUA_DIR / f"{name}.lua").read_text())
    return Script(redis, "\n".join(parts))
