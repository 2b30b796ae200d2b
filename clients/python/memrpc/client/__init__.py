"""Python client for memrpc, the gRPC memory service for AI agents.

`MemoryClient` (blocking) and `AsyncMemoryClient` (asyncio) bind a channel to
one namespace and offer the calls an agent makes on every step; the raw
generated stubs are there for everything else (`client.working`,
`client.long_term`, `client.events`). Against a server with authentication
on, pass `token=` (an API key or a JWT, or a function returning the current
one): it goes with every call as `authorization: Bearer <token>`.

    with MemoryClient("127.0.0.1:50051", namespace="acme") as memory:
        memory.append_turns("thread-1", [("user", "Book me a flight to Oslo")])
        for match in memory.recall("travel preferences"):
            print(match.distance, match.memory.text)
"""

from memrpc.client._async import AsyncMemoryClient
from memrpc.client._sync import MemoryClient

__all__ = ["AsyncMemoryClient", "MemoryClient"]
