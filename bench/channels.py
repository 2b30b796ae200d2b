"""A few gRPC channels to one target, each its own connection."""

from __future__ import annotations

import asyncio

import grpc

CONNECT_S = 10.0


class ChannelPool:
    """`size` insecure channels to `target`. Each has its own subchannel
    pool, so each is its own TCP connection (SO_REUSEPORT workers then get
    connections of their own)."""

    def __init__(self, target: str, size: int) -> None:
        self.target = target
        self.channels = [
            grpc.aio.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
            for _ in range(size)
        ]

    def pick(self, number: int) -> grpc.aio.Channel:
        """The channel for call `number` (round robin)."""
        return self.channels[number % len(self.channels)]

    async def ready(self) -> None:
        """Waits until every channel is connected (at most `CONNECT_S` seconds)."""
        async with asyncio.timeout(CONNECT_S):
            await asyncio.gather(*(channel.channel_ready() for channel in self.channels))

    async def close(self) -> None:
        """Closes every channel."""
        await asyncio.gather(*(channel.close() for channel in self.channels))
