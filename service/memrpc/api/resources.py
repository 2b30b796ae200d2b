"""The resources errors name: each one's `ResourceInfo` and reason, made
once here for every servicer."""

from __future__ import annotations

from memrpc.rpc.errors import ApiError, Resource
from memrpc.v1.error_reason_pb2 import ErrorReason


def session(ns: str, thread: str) -> Resource:
    """A thread's session."""
    return Resource("memrpc.v1.Session", f"namespaces/{ns}/threads/{thread}/session")


def memory(ns: str, memory_id: str) -> Resource:
    """A long-term memory."""
    return Resource("memrpc.v1.Memory", f"namespaces/{ns}/memories/{memory_id}")


def group(ns: str, name: str) -> Resource:
    """A consumer group of a namespace's feed."""
    return Resource("memrpc.v1.ConsumerGroup", f"namespaces/{ns}/groups/{name}")


def session_not_found(ns: str, thread: str) -> ApiError:
    return ApiError.not_found(
        ErrorReason.ERROR_REASON_SESSION_NOT_FOUND,
        session(ns, thread),
        f"session of thread {thread!r} in namespace {ns!r}",
        namespace=ns,
        threadId=thread,
    )


def memory_not_found(ns: str, memory_id: str) -> ApiError:
    return ApiError.not_found(
        ErrorReason.ERROR_REASON_MEMORY_NOT_FOUND,
        memory(ns, memory_id),
        f"memory {memory_id}",
        namespace=ns,
        memoryId=memory_id,
    )


def group_not_found(ns: str, name: str) -> ApiError:
    return ApiError.not_found(
        ErrorReason.ERROR_REASON_CONSUMER_GROUP_NOT_FOUND,
        group(ns, name),
        f"consumer group {name!r} of namespace {ns!r}",
        namespace=ns,
        group=name,
    )


def group_exists(ns: str, name: str) -> ApiError:
    return ApiError.already_exists(
        ErrorReason.ERROR_REASON_CONSUMER_GROUP_ALREADY_EXISTS,
        group(ns, name),
        f"consumer group {name!r} of namespace {ns!r} already exists",
        namespace=ns,
        group=name,
    )


def memory_duplicate(ns: str, memory_id: str, duplicate_id: str, distance: float) -> ApiError:
    """An update of `memory_id` whose new text repeats `duplicate_id`, at
    cosine `distance` (0 for the same normalised text)."""
    return ApiError.already_exists(
        ErrorReason.ERROR_REASON_MEMORY_DUPLICATE,
        memory(ns, duplicate_id),
        f"the new text repeats memory {duplicate_id} (cosine distance {distance:.9g}); "
        "nothing was changed",
        namespace=ns,
        memoryId=memory_id,
        duplicateMemoryId=duplicate_id,
        distance=f"{distance:.9g}",
    )


def checkpoint(ns: str, thread: str, cpns: str, checkpoint_id: str) -> Resource:
    """A checkpoint of a thread (the latest when `checkpoint_id` is empty)."""
    return Resource(
        "memrpc.v1.ThreadCheckpoint",
        f"namespaces/{ns}/threads/{thread}/checkpointNamespaces/{cpns}/checkpoints/"
        f"{checkpoint_id or '-'}",
    )


def checkpoint_not_found(ns: str, thread: str, cpns: str, checkpoint_id: str) -> ApiError:
    what = f"checkpoint {checkpoint_id!r}" if checkpoint_id else "checkpoint"
    return ApiError.not_found(
        ErrorReason.ERROR_REASON_CHECKPOINT_NOT_FOUND,
        checkpoint(ns, thread, cpns, checkpoint_id),
        f"{what} of thread {thread!r} (checkpoint namespace {cpns!r}) in namespace {ns!r}",
        namespace=ns,
        threadId=thread,
        checkpointNs=cpns,
        checkpointId=checkpoint_id,
    )


def memory_exists(ns: str, memory_id: str, field: str) -> ApiError:
    """A create's item (`field`) asking for the id of an existing memory."""
    return ApiError.already_exists(
        ErrorReason.ERROR_REASON_MEMORY_ALREADY_EXISTS,
        memory(ns, memory_id),
        f"memory {memory_id} already exists in namespace {ns!r} ({field}); nothing was "
        "created: choose another id, or set replace_existing to replace it",
        namespace=ns,
        memoryId=memory_id,
        field=field,
    )
