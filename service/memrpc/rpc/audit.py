"""Recording destructive and administrative calls in the audit log
(`store/audit_log.py`).

`AUDITED` lists them: every call that removes data in bulk, moves a
namespace's data in or out, or changes how a namespace behaves. Calls that
remove one item (DeleteMemory, DeleteSession, TrimEvents, and
DeleteCheckpointThread, one thread's checkpoints) are the routine work of an
agent, and are in the access log only. When a call ends,
succeeded or failed, the `AuditInterceptor` appends one record: the
credential's id, the method, the namespace, the status code and reason,
and as details the request (a client stream's: its namespace and how many
requests it sent) and the response (a server stream's: how many responses),
each user id and thread id in them replaced by a digest
(`audit_log.user_digest`). A call whose namespace is missing or invalid is
recorded in the server-wide log (`*`). A call refused before it is served (no
credential, no access, over a quota) is not recorded: the server log says
why it was refused.

A record that cannot be written (Redis down) is logged as an error with
its content: the call's outcome stands.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from memrpc.client.errors import error_info
from memrpc.rpc import caller, validate
from memrpc.rpc.correlation import ended_status
from memrpc.rpc.errors import Context
from memrpc.rpc.handlers import WrappingInterceptor, behavior, rebuild, responses
from memrpc.store.audit_log import SERVER_WIDE, AuditEntry, AuditLog, user_digest

if TYPE_CHECKING:
    from memrpc.rpc.handlers import Handler

log = logging.getLogger("memrpc.audit")

_PACKAGE = "/memrpc.v1."
AUDITED = frozenset(
    f"{_PACKAGE}{method}"
    for method in (
        "Administration/EraseUser",
        "Administration/DeleteNamespace",
        "Portability/ExportData",
        "Portability/ImportData",
        "Namespaces/UpdateNamespaceSettings",
        "LongTermMemory/DeleteMemories",
        "Checkpoints/PruneCheckpoints",
        "Checkpoints/DeleteCheckpointRuns",
    )
)
# The credential of calls to a server without authentication.
ANONYMOUS = "anonymous"
# Fields whose values name a person or their conversations: recorded as digests.
_DIGESTED = frozenset({"user_id", "user_ids", "thread_id", "thread_ids"})


def _scrubbed(value: Any, namespace: str) -> Any:
    """`value` (a message as a dict) with every id of `_DIGESTED` digested."""
    if isinstance(value, dict):
        return {
            name: (_digested(item, namespace) if name in _DIGESTED else _scrubbed(item, namespace))
            for name, item in value.items()
        }
    if isinstance(value, list):
        return [_scrubbed(item, namespace) for item in value]
    return value


def _digested(value: Any, namespace: str) -> Any:
    if isinstance(value, list):
        return [user_digest(namespace, str(item)) for item in value]
    return user_digest(namespace, str(value))


def _as_dict(message: Message, namespace: str) -> dict[str, Any]:
    fields = json_format.MessageToDict(message, preserving_proto_field_name=True)
    fields.pop("namespace", None)
    scrubbed: dict[str, Any] = _scrubbed(fields, namespace)
    return scrubbed


def _reason(context: Context) -> str:
    """The `ErrorInfo` reason in a failed call's status details, else ''
    (read from the call's trailing metadata, as a client reads its error's)."""
    info = error_info(cast(grpc.RpcError, context))
    return "" if info is None else info.reason


class AuditInterceptor(WrappingInterceptor):
    """Records each call of `AUDITED` in `audit` when it ends."""

    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit

    def wrap(self, handler: Handler, call: grpc.HandlerCallDetails) -> Handler:
        if call.method not in AUDITED:
            return handler
        if handler.response_streaming:
            return rebuild(handler, self._streamed(handler, call.method))
        if handler.request_streaming:
            return rebuild(handler, self._collected(handler, call.method))
        return rebuild(handler, self._unary(handler, call.method))

    async def _record(
        self, method: str, namespace: str, context: Context, details: dict[str, Any]
    ) -> None:
        code = ended_status(context)
        entry = AuditEntry(
            credential=caller.credential_id() or ANONYMOUS,
            operation=method,
            namespace=namespace if validate.is_namespace(namespace) else SERVER_WIDE,
            code=code.name,
            reason="" if code is grpc.StatusCode.OK else _reason(context),
            details=details,
        )
        try:
            await self._audit.append(entry)
        except Exception as exc:  # the call's outcome stands; the log keeps the record
            log.error("audit record not written (%s): %s", exc, entry)

    def _unary(self, handler: Handler, method: str) -> Callable[..., Awaitable[Any]]:
        serve = cast(Callable[[Any, Context], Awaitable[Any]], handler.unary_unary)

        async def audited(request: Any, context: Context) -> Any:
            namespace = request.namespace
            details: dict[str, Any] = {"request": _as_dict(request, namespace)}
            try:
                response = await serve(request, context)
                details["response"] = _as_dict(response, namespace)
                return response
            finally:
                await self._record(method, namespace, context, details)

        return audited

    def _streamed(self, handler: Handler, method: str) -> Callable[..., AsyncIterator[Any]]:
        serve = behavior(handler)

        async def audited_stream(request: Any, context: Context) -> AsyncIterator[Any]:
            namespace = request.namespace
            sent = 0
            try:
                async for response in responses(serve(request, context)):
                    sent += 1
                    yield response
            finally:
                details = {"request": _as_dict(request, namespace), "responses": sent}
                await self._record(method, namespace, context, details)

        return audited_stream

    def _collected(self, handler: Handler, method: str) -> Callable[..., Awaitable[Any]]:
        serve = cast(Callable[[AsyncIterator[Any], Context], Awaitable[Any]], handler.stream_unary)

        async def audited_requests(requests: AsyncIterator[Any], context: Context) -> Any:
            namespace, count = "", 0

            async def counted() -> AsyncIterator[Any]:
                nonlocal namespace, count
                async for request in requests:
                    count += 1
                    namespace = namespace or request.namespace
                    yield request

            details: dict[str, Any] = {}
            try:
                response = await serve(counted(), context)
                details["response"] = _as_dict(response, namespace)
                return response
            finally:
                details["requests"] = count
                await self._record(method, namespace, context, details)

        return audited_requests
