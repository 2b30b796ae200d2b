"""Redis memory as the benches read it."""

from __future__ import annotations

from memrpc.store.redis_mux import RedisMux


async def used_memory(mux: RedisMux) -> int:
    """`used_memory` of `INFO memory`: the bytes Redis has allocated."""
    info = (await mux.execute("INFO", "memory")).decode()
    return int(next(line for line in info.splitlines() if line.startswith("used_memory:"))[12:])
