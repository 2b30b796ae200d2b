"""A LangGraph checkpointer on memrpc: `MemrpcSaver`.

Threads resume on any worker, after restarts: each checkpoint, its
metadata and its pending writes are stored by memrpc's `Checkpoints`
service (`proto/memrpc/v1/checkpoints.proto`) in the client's namespace,
serialized with the saver's `serde` (LangGraph's `JsonPlusSerializer`
unless another is given). Install with the extra:
`pip install 'memrpc-client[langgraph]'`.

    from memrpc.client import AsyncMemoryClient, MemoryClient
    from memrpc.integrations.langgraph_checkpoint import MemrpcSaver

    saver = MemrpcSaver(
        MemoryClient(target, namespace="acme"),              # for invoke, stream
        aclient=AsyncMemoryClient(target, namespace="acme"),  # for ainvoke, astream
    )
    graph = builder.compile(checkpointer=saver)

Either client may be left out: the methods of the other kind then raise.
Each checkpoint is stored whole (its channel values included), so its
serialized state must fit memrpc's limit (3 MiB). `list` needs a config
naming a thread (memrpc lists one thread's checkpoint namespace at a time)
and reads the root checkpoint namespace unless the config names another;
`filter` matches top-level metadata keys by JSON equality.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import grpc
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
    get_serializable_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from memrpc.client import AsyncMemoryClient, MemoryClient
from memrpc.v1 import checkpoints_pb2 as pb

__all__ = ["MemrpcSaver"]

# `prune` strategies, as LangGraph names them.
_STRATEGIES = {
    "keep_latest": pb.PRUNE_STRATEGY_KEEP_LATEST,
    "delete": pb.PRUNE_STRATEGY_DELETE_ALL,
}
# The most checkpoints one ListCheckpoints page holds.
_MAX_PAGE = 1000


def _where(config: RunnableConfig) -> tuple[str, str]:
    """The thread id and checkpoint namespace a config names."""
    configurable = config.get("configurable") or {}
    if "thread_id" not in configurable:
        raise ValueError("MemrpcSaver needs a config whose 'configurable' names a 'thread_id'")
    return str(configurable["thread_id"]), str(configurable.get("checkpoint_ns") or "")


def _config(thread: str, cpns: str, checkpoint_id: str) -> RunnableConfig:
    return {
        "configurable": {
            "thread_id": thread,
            "checkpoint_ns": cpns,
            "checkpoint_id": checkpoint_id,
        }
    }


class MemrpcSaver(BaseCheckpointSaver[int]):
    """A LangGraph checkpointer storing checkpoints in memrpc: the blocking
    methods through `client`, the asyncio ones through `aclient`, in their
    namespace (both must name the same one)."""

    def __init__(
        self,
        client: MemoryClient | None = None,
        *,
        aclient: AsyncMemoryClient | None = None,
        serde: SerializerProtocol | None = None,
    ) -> None:
        super().__init__(serde=serde)
        if client is None and aclient is None:
            raise ValueError("MemrpcSaver needs a MemoryClient, an AsyncMemoryClient, or both")
        if client is not None and aclient is not None and client.namespace != aclient.namespace:
            raise ValueError("client and aclient must be bound to the same namespace")
        self.client = client
        self.aclient = aclient
        self.namespace = (client or aclient).namespace  # type: ignore[union-attr]

    # -- requests and replies, shared by the blocking and asyncio methods ----

    def _sync(self) -> MemoryClient:
        if self.client is None:
            raise RuntimeError("MemrpcSaver was built without a MemoryClient (client=)")
        return self.client

    def _async(self) -> AsyncMemoryClient:
        if self.aclient is None:
            raise RuntimeError("MemrpcSaver was built without an AsyncMemoryClient (aclient=)")
        return self.aclient

    def _value(self, value: Any) -> pb.SerializedValue:
        encoding, data = self.serde.dumps_typed(value)
        return pb.SerializedValue(encoding=encoding, data=data)

    def _loaded(self, value: pb.SerializedValue) -> Any:
        return self.serde.loads_typed((value.encoding, value.data))

    def _get_request(self, config: RunnableConfig) -> pb.GetCheckpointRequest:
        thread, cpns = _where(config)
        return pb.GetCheckpointRequest(
            namespace=self.namespace,
            thread_id=thread,
            checkpoint_ns=cpns,
            checkpoint_id=get_checkpoint_id(config) or "",
        )

    def _tuple(self, stored: pb.ThreadCheckpoint) -> CheckpointTuple:
        thread, cpns = stored.thread_id, stored.checkpoint_ns
        parent = stored.parent_checkpoint_id
        return CheckpointTuple(
            config=_config(thread, cpns, stored.checkpoint_id),
            checkpoint=self._loaded(stored.state),
            metadata=json.loads(stored.metadata or "{}"),
            parent_config=_config(thread, cpns, parent) if parent else None,
            pending_writes=[
                (write.task_id, write.channel, self._loaded(write.value))
                for write in stored.pending_writes
            ],
        )

    def _list_request(
        self,
        config: RunnableConfig | None,
        filter: dict[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> tuple[pb.ListCheckpointsRequest, str, int | None]:
        """A listing's first request, the one checkpoint id its config names
        ('' for all) and how many checkpoints it may return (None: all)."""
        if config is None:
            raise ValueError(
                "MemrpcSaver lists the checkpoints of one thread: pass a config naming a thread_id"
            )
        thread, cpns = _where(config)
        request = pb.ListCheckpointsRequest(
            namespace=self.namespace,
            thread_id=thread,
            checkpoint_ns=cpns,
            before_checkpoint_id=(get_checkpoint_id(before) or "") if before else "",
            metadata_filter={key: json.dumps(value) for key, value in (filter or {}).items()},
            page_size=min(limit, _MAX_PAGE) if limit else 0,
        )
        return request, get_checkpoint_id(config) or "", limit

    def _page(
        self, page: pb.ListCheckpointsResponse, only: str, left: int | None
    ) -> tuple[list[CheckpointTuple], int | None]:
        """A page's tuples (of `only` when set, at most `left` when set),
        and how many the listing may still return."""
        found: list[CheckpointTuple] = []
        for stored in page.checkpoints:
            if left is not None and len(found) == left:
                break
            if not only or stored.checkpoint_id == only:
                found.append(self._tuple(stored))
        return found, None if left is None else left - len(found)

    def _put_request(
        self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata
    ) -> pb.PutCheckpointRequest:
        thread, cpns = _where(config)
        stored = get_serializable_checkpoint_metadata(config, metadata)
        run = stored.get("run_id")
        return pb.PutCheckpointRequest(
            namespace=self.namespace,
            thread_id=thread,
            checkpoint_ns=cpns,
            checkpoint_id=checkpoint["id"],
            parent_checkpoint_id=get_checkpoint_id(config) or "",
            run_id=str(run) if run else "",
            state=self._value(checkpoint),
            metadata=json.dumps(stored, ensure_ascii=False),
        )

    def _writes_request(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
    ) -> pb.PutCheckpointWritesRequest:
        thread, cpns = _where(config)
        checkpoint_id = get_checkpoint_id(config)
        if not checkpoint_id:
            raise ValueError("put_writes needs a config naming the checkpoint_id")
        return pb.PutCheckpointWritesRequest(
            namespace=self.namespace,
            thread_id=thread,
            checkpoint_ns=cpns,
            checkpoint_id=checkpoint_id,
            writes=[
                pb.CheckpointWrite(
                    task_id=task_id,
                    index=WRITES_IDX_MAP.get(channel, index),
                    channel=channel,
                    value=self._value(value),
                    task_path=task_path,
                )
                for index, (channel, value) in enumerate(writes)
            ],
        )

    def _prune_request(
        self, thread_ids: Sequence[str], strategy: str
    ) -> pb.PruneCheckpointsRequest:
        if strategy not in _STRATEGIES:
            raise ValueError(f"unknown prune strategy {strategy!r}: one of {sorted(_STRATEGIES)}")
        return pb.PruneCheckpointsRequest(
            namespace=self.namespace, thread_ids=thread_ids, strategy=_STRATEGIES[strategy]
        )

    def _copy_request(self, source: str, target: str) -> pb.CopyCheckpointThreadRequest:
        return pb.CopyCheckpointThreadRequest(
            namespace=self.namespace, source_thread_id=source, target_thread_id=target
        )

    # -- blocking ------------------------------------------------------------

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint the config names, or its thread's latest; None when
        there is none."""
        client = self._sync()
        try:
            reply = client.checkpoints.GetCheckpoint(
                self._get_request(config), timeout=client.timeout
            )
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise
        return self._tuple(reply.checkpoint)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """The thread's checkpoints, newest first."""
        client = self._sync()
        request, only, left = self._list_request(config, filter, before, limit)
        while True:
            page = client.checkpoints.ListCheckpoints(request, timeout=client.timeout)
            tuples, left = self._page(page, only, left)
            yield from tuples
            if left == 0 or not page.next_page_token:
                return
            request.page_token = page.next_page_token

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Stores a checkpoint; returns the config that names it."""
        client = self._sync()
        request = self._put_request(config, checkpoint, metadata)
        client.checkpoints.PutCheckpoint(request, timeout=client.timeout)
        return _config(request.thread_id, request.checkpoint_ns, request.checkpoint_id)

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Records a task's writes against the config's checkpoint."""
        if writes:
            client = self._sync()
            request = self._writes_request(config, writes, task_id, task_path)
            client.checkpoints.PutCheckpointWrites(request, timeout=client.timeout)

    def delete_thread(self, thread_id: str) -> None:
        """Deletes every checkpoint and write of the thread."""
        client = self._sync()
        request = pb.DeleteCheckpointThreadRequest(namespace=self.namespace, thread_id=thread_id)
        client.checkpoints.DeleteCheckpointThread(request, timeout=client.timeout)

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Deletes the checkpoints (and writes) of the runs."""
        if run_ids:
            client = self._sync()
            request = pb.DeleteCheckpointRunsRequest(namespace=self.namespace, run_ids=run_ids)
            client.checkpoints.DeleteCheckpointRuns(request, timeout=client.timeout)

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copies every checkpoint and write of a thread to another."""
        client = self._sync()
        request = self._copy_request(source_thread_id, target_thread_id)
        client.checkpoints.CopyCheckpointThread(request, timeout=client.timeout)

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Keeps the latest checkpoint of each checkpoint namespace of the
        threads (`keep_latest`), or deletes them all (`delete`)."""
        request = self._prune_request(thread_ids, strategy)
        if thread_ids:
            client = self._sync()
            client.checkpoints.PruneCheckpoints(request, timeout=client.timeout)

    # -- asyncio -------------------------------------------------------------

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """As `get_tuple`."""
        client = self._async()
        try:
            reply = await client.checkpoints.GetCheckpoint(
                self._get_request(config), timeout=client.timeout
            )
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise
        return self._tuple(reply.checkpoint)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """As `list`."""
        client = self._async()
        request, only, left = self._list_request(config, filter, before, limit)
        while True:
            page = await client.checkpoints.ListCheckpoints(request, timeout=client.timeout)
            tuples, left = self._page(page, only, left)
            for found in tuples:
                yield found
            if left == 0 or not page.next_page_token:
                return
            request.page_token = page.next_page_token

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """As `put`."""
        client = self._async()
        request = self._put_request(config, checkpoint, metadata)
        await client.checkpoints.PutCheckpoint(request, timeout=client.timeout)
        return _config(request.thread_id, request.checkpoint_ns, request.checkpoint_id)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """As `put_writes`."""
        if writes:
            client = self._async()
            request = self._writes_request(config, writes, task_id, task_path)
            await client.checkpoints.PutCheckpointWrites(request, timeout=client.timeout)

    async def adelete_thread(self, thread_id: str) -> None:
        """As `delete_thread`."""
        client = self._async()
        request = pb.DeleteCheckpointThreadRequest(namespace=self.namespace, thread_id=thread_id)
        await client.checkpoints.DeleteCheckpointThread(request, timeout=client.timeout)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """As `delete_for_runs`."""
        if run_ids:
            client = self._async()
            request = pb.DeleteCheckpointRunsRequest(namespace=self.namespace, run_ids=run_ids)
            await client.checkpoints.DeleteCheckpointRuns(request, timeout=client.timeout)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """As `copy_thread`."""
        client = self._async()
        request = self._copy_request(source_thread_id, target_thread_id)
        await client.checkpoints.CopyCheckpointThread(request, timeout=client.timeout)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """As `prune`."""
        request = self._prune_request(thread_ids, strategy)
        if thread_ids:
            client = self._async()
            await client.checkpoints.PruneCheckpoints(request, timeout=client.timeout)
