"""The asyncio client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

import grpc

from memrpc.client import _requests as req
from memrpc.client._auth import BearerToken, Token, async_interceptors, describe
from memrpc.client._service_config import channel_options
from memrpc.v1 import (
    administration_pb2_grpc,
    checkpoints_pb2_grpc,
    event_log_pb2_grpc,
    long_term_memory_pb2_grpc,
    namespace_settings_pb2_grpc,
    portability_pb2_grpc,
    working_memory_pb2_grpc,
)
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import long_term_memory_pb2 as ltm
from memrpc.v1 import working_memory_pb2 as wm


class AsyncMemoryClient:
    """memrpc over a grpc.aio channel, bound to one namespace."""

    def __init__(
        self,
        target: str = "127.0.0.1:50051",
        *,
        namespace: str,
        credentials: grpc.ChannelCredentials | None = None,
        token: Token | None = None,
        timeout: float | None = 10.0,
        options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        """`token`, an API key or a JWT (or a function returning the current
        one), goes with every call as `authorization: Bearer <token>`; a call
        whose own metadata has `authorization` sends that instead. `options`
        are gRPC channel options, e.g. `("grpc.ssl_target_name_override", name)`;
        unless they set `grpc.service_config`, the published service config
        (`memrpc.client.SERVICE_CONFIG`) retries the reads on `UNAVAILABLE`."""
        self.target = target
        self.namespace = namespace
        self.timeout = timeout
        self._token = None if token is None else BearerToken(token)
        options = channel_options(options)
        interceptors = None if self._token is None else async_interceptors(self._token)
        self.channel = (
            grpc.aio.secure_channel(target, credentials, options, interceptors=interceptors)
            if credentials
            else grpc.aio.insecure_channel(target, options, interceptors=interceptors)
        )
        self.working = working_memory_pb2_grpc.WorkingMemoryStub(self.channel)
        self.long_term = long_term_memory_pb2_grpc.LongTermMemoryStub(self.channel)
        self.events = event_log_pb2_grpc.EventLogStub(self.channel)
        self.namespaces = namespace_settings_pb2_grpc.NamespacesStub(self.channel)
        self.administration = administration_pb2_grpc.AdministrationStub(self.channel)
        self.portability = portability_pb2_grpc.PortabilityStub(self.channel)
        self.checkpoints = checkpoints_pb2_grpc.CheckpointsStub(self.channel)

    async def get_session(self, thread_id: str) -> wm.Session | None:
        """The thread's session, or None when it does not exist."""
        request = wm.GetSessionRequest(namespace=self.namespace, thread_id=thread_id)
        try:
            return (await self.working.GetSession(request, timeout=self.timeout)).session
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    async def get_context(
        self,
        thread_id: str,
        query: str | Sequence[float] | None = None,
        *,
        filter: ltm.MemoryFilter | None = None,
        limit: int = 10,
        max_distance: float | None = None,
    ) -> wm.GetContextResponse:
        """What the agent needs before calling its model, in one call: the
        thread's session (`session`, unset when there is none) and the
        memories nearest to `query` (`matches`, nearest first; none without a
        query), searched as `recall` searches but, unless `filter` names users,
        only among the memories of the session's user."""
        request = req.get_context(
            self.namespace,
            thread_id,
            query,
            filter=filter,
            limit=limit,
            max_distance=max_distance,
        )
        return await self.working.GetContext(request, timeout=self.timeout)

    async def update_session(
        self,
        thread_id: str,
        *,
        goal: str | None = None,
        scratchpad: str | None = None,
        metadata: Mapping[str, str] | None = None,
        user_id: str | None = None,
        expected_version: int | None = None,
        ttl: float | None = None,
    ) -> wm.Session:
        """Writes the given fields (None leaves a field as it is)."""
        request = req.update_session(
            self.namespace,
            thread_id,
            goal=goal,
            scratchpad=scratchpad,
            metadata=metadata,
            user_id=user_id,
            expected_version=expected_version,
            ttl=ttl,
        )
        return (await self.working.UpdateSession(request, timeout=self.timeout)).session

    async def append_turns(
        self,
        thread_id: str,
        turns: Iterable[req.TurnLike],
        *,
        max_window_turns: int = 0,
        user_id: str = "",
        ttl: float | None = None,
        request_id: str = "",
        form_memories: bool | None = None,
    ) -> wm.AppendTurnsResponse:
        """Appends turns (`TurnInput`s or (role, content) pairs) to the window.
        Send the same `request_id` (such as a UUID) when retrying an append
        whose outcome is unknown: the server appends the turns only once
        (`replayed` is set on the retry's response). `form_memories` turns
        memory formation on or off for this thread from now on, whatever the
        namespace's setting (None: the thread's earlier choice stands)."""
        request = req.append_turns(
            self.namespace,
            thread_id,
            turns,
            max_window_turns=max_window_turns,
            user_id=user_id,
            ttl=ttl,
            request_id=request_id,
            form_memories=form_memories,
        )
        return await self.working.AppendTurns(request, timeout=self.timeout)

    async def remember(
        self,
        *memories: ltm.MemoryInput | str,
        dedup_max_distance: float | None = None,
        request_id: str = "",
    ) -> list[ltm.CreateMemoryResult]:
        """Stores memories, deduplicated; one result per memory. Send the same
        `request_id` when retrying a create whose outcome is unknown: the
        server creates them (and grows hit counts) only once."""
        request = req.create_memories(
            self.namespace, memories, dedup_max_distance=dedup_max_distance, request_id=request_id
        )
        return list((await self.long_term.CreateMemories(request, timeout=self.timeout)).results)

    async def recall(
        self,
        query: str | Sequence[float],
        *,
        filter: ltm.MemoryFilter | None = None,
        limit: int = 10,
        max_distance: float | None = None,
    ) -> list[ltm.MemoryMatch]:
        """The memories nearest to a text or vector, nearest first."""
        request = req.search_memories(
            self.namespace, query, filter=filter, limit=limit, max_distance=max_distance
        )
        return list((await self.long_term.SearchMemories(request, timeout=self.timeout)).matches)

    async def append_events(
        self, thread_id: str, events: Iterable[req.EventLike], *, request_id: str = ""
    ) -> list[str]:
        """Appends events ((type, bytes | dict) pairs or `EventInput`s); their ids.
        Send the same `request_id` (such as a UUID) when retrying an append
        whose outcome is unknown: the server appends it only once."""
        request = req.append_events(self.namespace, thread_id, events, request_id)
        return list((await self.events.AppendEvents(request, timeout=self.timeout)).event_ids)

    async def tail(
        self,
        cursors: Mapping[str, str] | Iterable[str],
        *,
        heartbeat_interval: float | None = None,
    ) -> AsyncIterator[ev.TailEventsResponse]:
        """Follows threads live; stop iterating (or close the client) to cancel."""
        request = req.tail_events(self.namespace, cursors, heartbeat_interval=heartbeat_interval)
        call = self.events.TailEvents(request)
        try:
            async for message in call:
                yield message
        finally:
            call.cancel()

    def __repr__(self) -> str:
        return describe(self, self.target, self.namespace, self._token)

    async def close(self) -> None:
        """Closes the channel."""
        await self.channel.close()

    async def __aenter__(self) -> AsyncMemoryClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
