"""The plans (see `_calls`) the adapters share: a memory read or deleted
by id, memories written by id, every memory of a filter listed."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from memrpc.integrations._calls import CREATE_BATCH, MAX_PAGE, Plan, not_found
from memrpc.v1 import long_term_memory_pb2 as ltm


def get_memory(namespace: str, memory_id: str) -> Plan[ltm.Memory | None]:
    """The memory of `memory_id`; None when it does not exist."""
    request = ltm.GetMemoryRequest(namespace=namespace, memory_id=memory_id)
    try:
        response = yield ("GetMemory", request)
    except grpc.RpcError as err:
        if not_found(err):
            return None
        raise
    memory: ltm.Memory = response.memory
    return memory


def delete_memory(namespace: str, memory_id: str) -> Plan[None]:
    """Deletes the memory of `memory_id` (a missing one ignored)."""
    request = ltm.DeleteMemoryRequest(namespace=namespace, memory_id=memory_id)
    try:
        yield ("DeleteMemory", request)
    except grpc.RpcError as err:
        if not not_found(err):
            raise


def put_memories(namespace: str, memories: Sequence[ltm.MemoryInput]) -> Plan[None]:
    """Writes memories of client-chosen ids, `CREATE_BATCH` a call, dedup off
    and replace on: each stores exactly its input, replacing the memory of
    its id."""
    for first in range(0, len(memories), CREATE_BATCH):
        yield (
            "CreateMemories",
            ltm.CreateMemoriesRequest(
                namespace=namespace,
                memories=memories[first : first + CREATE_BATCH],
                dedup_mode=ltm.DEDUP_MODE_OFF,
                replace_existing=True,
            ),
        )


def list_memories(namespace: str, flt: ltm.MemoryFilter) -> Plan[list[ltm.Memory]]:
    """Every memory `flt` keeps, newest first, read page after page."""
    memories: list[ltm.Memory] = []
    token = ""
    while True:
        request = ltm.ListMemoriesRequest(
            namespace=namespace, filter=flt, page_size=MAX_PAGE, page_token=token
        )
        response = yield ("ListMemories", request)
        memories += response.memories
        token = response.next_page_token
        if not token:
            return memories
