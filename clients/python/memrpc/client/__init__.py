"""Python client for memrpc, the gRPC memory service for AI agents.

`MemoryClient` (blocking) and `AsyncMemoryClient` (asyncio) bind a channel to
one namespace and offer the calls an agent makes on every step; the raw
generated stubs are there for everything else (`client.working`,
`client.long_term`, `client.events`, `client.namespaces`,
`client.checkpoints`, and for administrators `client.administration` and
`client.portability`). `memrpc.integrations.langgraph_checkpoint` (the
`langgraph` extra) is a LangGraph checkpointer on `client.checkpoints`. Against
a server with authentication on, pass `token=` (an API key or a JWT, or a
function returning the current one): it goes with every call as
`authorization: Bearer <token>`. The reads
are retried on `UNAVAILABLE` (the published service config, `SERVICE_CONFIG`);
`error_reason(err)` and `error_metadata(err)` (`memrpc.client.errors`) tell
why a call failed.

    with MemoryClient("127.0.0.1:50051", namespace="acme") as memory:
        context = memory.get_context("thread-1", "Book me a flight to Oslo")
        ...  # the model call, with context.session and context.matches
        memory.append_turns("thread-1", [("user", "Book me a flight to Oslo")])
"""

from memrpc.client._async import AsyncMemoryClient
from memrpc.client._service_config import SERVICE_CONFIG
from memrpc.client._sync import MemoryClient
from memrpc.client.errors import ErrorInfo, error_info, error_metadata, error_reason
from memrpc.v1.error_reason_pb2 import ErrorReason

__all__ = [
    "SERVICE_CONFIG",
    "AsyncMemoryClient",
    "ErrorInfo",
    "ErrorReason",
    "MemoryClient",
    "error_info",
    "error_metadata",
    "error_reason",
]
