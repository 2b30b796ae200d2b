"""What the framework adapters share: one connection to memrpc used from
blocking and asyncio code alike, and the helpers of their mapping.

An adapter writes each operation once, as a *plan*: a generator that
yields `(method, request)` calls of the `LongTermMemory` service and
receives each response (or has the call's `grpc.RpcError` thrown in), and
returns the operation's result. `Connection.run` drives a plan over the
blocking client, `Connection.arun` over the asyncio one, so the sync and
async methods of an adapter are the same code.

An adapter's memories are values a framework put by key, which memrpc's
background jobs must not change: they are written pinned (`PINNED`: the
namespace's forgetting policy never forgets them, consolidation never
merges them away) and read with `include_superseded` (`KEEP_SUPERSEDED`:
one that consolidation's language model found contradicted by a newer
memory is still found)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypedDict, TypeVar, Unpack

import grpc
from google.protobuf.message import Message

from memrpc.client import AsyncMemoryClient, MemoryClient
from memrpc.client._auth import Token

T = TypeVar("T")
# A call of the LongTermMemory service: its method name and request.
Call = tuple[str, Message]
Plan = Generator[Call, Any, T]
# A call's response, or the error it failed with.
Outcome = tuple[Any, grpc.RpcError | None]
# How many memories one CreateMemories may hold (the server's default
# `max_batch_items`).
CREATE_BATCH = 100
# The most memories a search returns (the server's default limit).
MAX_SEARCH = 100
# The largest page of ListMemories.
MAX_PAGE = 1000
# How the adapters write and filter their memories (see above).
PINNED = True
KEEP_SUPERSEDED = True
# The most metadata entries of a memory.
MAX_METADATA_ENTRIES = 64


class Settings(TypedDict, total=False):
    """How an adapter reaches memrpc (the keyword arguments of each
    adapter's constructor after its own), as `MemoryClient` takes it:
    `credentials` for TLS, `token` (an API key or a JWT, or a function
    returning the current one), `timeout` of each call in seconds (10 by
    default), `options` of the gRPC channel."""

    credentials: grpc.ChannelCredentials | None
    token: Token | None
    timeout: float | None
    options: Sequence[tuple[str, Any]]


class Connection:
    """A memrpc target and namespace, with a blocking client made on first
    use and an asyncio one per event loop."""

    def __init__(self, target: str, *, namespace: str, **settings: Unpack[Settings]) -> None:
        self.target = target
        self.namespace = namespace
        self._settings = settings
        self._client: MemoryClient | None = None
        self._async: tuple[asyncio.AbstractEventLoop, AsyncMemoryClient] | None = None

    def client(self) -> MemoryClient:
        if self._client is None:
            self._client = MemoryClient(self.target, namespace=self.namespace, **self._settings)
        return self._client

    def async_client(self) -> AsyncMemoryClient:
        """The asyncio client of the running loop (a grpc.aio channel
        belongs to the loop it was made in)."""
        loop = asyncio.get_running_loop()
        if self._async is None or self._async[0] is not loop:
            self._async = (
                loop,
                AsyncMemoryClient(self.target, namespace=self.namespace, **self._settings),
            )
        return self._async[1]

    def run(self, plan: Plan[T]) -> T:
        """Drives `plan` with blocking calls."""
        client = self.client()
        step = _resume(plan)
        while not isinstance(step, _Done):
            method = getattr(client.long_term, step[0])
            step = _resume(plan, *_outcome(method, step[1], client.timeout))
        return step.value

    async def arun(self, plan: Plan[T]) -> T:
        """Drives `plan` with asyncio calls."""
        client = self.async_client()
        step = _resume(plan)
        while not isinstance(step, _Done):
            method = getattr(client.long_term, step[0])
            step = _resume(plan, *await _aoutcome(method, step[1], client.timeout))
        return step.value

    def close(self) -> None:
        """Closes the blocking client (the asyncio one with `aclose`)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        """Closes both clients."""
        self.close()
        if self._async is not None:
            await self._async[1].close()
            self._async = None


@dataclass(frozen=True)
class _Done(Generic[T]):
    """What a plan returned."""

    value: T


def _resume(
    plan: Plan[T], response: Any = None, error: grpc.RpcError | None = None
) -> Call | _Done[T]:
    """Starts `plan` or hands it its last call's response (or throws in the
    error that call failed with): its next call, or what it returned."""
    try:
        return plan.send(response) if error is None else plan.throw(error)
    except StopIteration as done:
        return _Done(done.value)


def _outcome(method: Any, request: Message, seconds: float | None) -> Outcome:
    try:
        return method(request, timeout=seconds), None
    except grpc.RpcError as err:
        return None, err


async def _aoutcome(method: Any, request: Message, seconds: float | None) -> Outcome:
    try:
        return await method(request, timeout=seconds), None
    except grpc.RpcError as err:
        return None, err


def not_found(err: grpc.RpcError) -> bool:
    """Whether a call failed because its memory does not exist."""
    code: grpc.StatusCode = err.code()
    return code == grpc.StatusCode.NOT_FOUND


def digest_id(prefix: str, *parts: object) -> str:
    """A client-chosen memory id for keys that may hold any character:
    `prefix`, then 40 hex digits of the SHA-256 of `parts` as JSON (the
    memory id grammar: lower-case letters, digits and hyphens)."""
    encoded = json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode()
    return f"{prefix}-{hashlib.sha256(encoded).hexdigest()[:40]}"


def dumps(value: Any, *, canonical: bool = False) -> str:
    """`value` as compact JSON, which `json.loads` reads back equal, its
    dicts in their order (`canonical`: sorted, for values compared as
    text)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=canonical)


# Characters of a value's JSON per metadata entry.
PIECE = 4000


def value_metadata(value: str, *, entries: int) -> dict[str, str]:
    """A value's JSON as metadata entries: `v` (how many pieces) and `v.<i>`
    (pieces of `PIECE` characters), within the `entries` a memory has
    left (`ValueError` when it takes more)."""
    pieces = [value[at : at + PIECE] for at in range(0, len(value), PIECE)] or [""]
    if len(pieces) + 1 > entries:
        raise ValueError(
            f"a value of {len(value)} characters of JSON is too large for one memrpc "
            f"memory's metadata (at most {(entries - 1) * PIECE})"
        )
    return {"v": str(len(pieces))} | {f"v.{i}": piece for i, piece in enumerate(pieces)}


def metadata_value(metadata: Mapping[str, str]) -> str:
    """The JSON of a value that `value_metadata` wrote."""
    return "".join(metadata[f"v.{i}"] for i in range(int(metadata["v"])))
