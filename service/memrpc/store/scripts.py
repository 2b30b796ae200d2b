"""Loads the Lua scripts in `memrpc/lua/` as redis-py script objects.

A script can start with shared helpers from `lua/lib/`; they are prepended to
its source so that every script stays one atomic `EVALSHA`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

LUA_DIR = Path(__file__).resolve().parent.parent / "lua"


def load(redis: Redis, name: str, *, libs: Sequence[str] = ()) -> AsyncScript:
    """The script `lua/<name>.lua`, preceded by `lua/lib/<lib>.lua` for each lib."""
    parts = [(LUA_DIR / "lib" / f"{lib}.lua").read_text() for lib in libs]
    parts.append((LUA_DIR / f"{name}.lua").read_text())
    return redis.register_script("\n".join(parts))
