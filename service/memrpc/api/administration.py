"""The Administration service: erasing a user (`store/erasure.py`),
deleting a namespace (`store/namespace_deletion.py`) and reading the audit
log (`store/audit_log.py`; `rpc/audit.py` writes it).

A namespace's deletion works until the call's deadline is near: it stops
`_DEADLINE_MARGIN` of the time left before it (the server's default call
timeout when the call carries no deadline), and answers `done` false.
"""

from __future__ import annotations

import re

from google.protobuf import struct_pb2

from memrpc.api import page_tokens
from memrpc.api.convert import set_timestamp
from memrpc.limits import AUDIT_PAGE_SIZE
from memrpc.rpc import validate
from memrpc.rpc.errors import Context, translate_errors
from memrpc.store.audit_log import SERVER_WIDE, AuditLog, StoredAuditEntry
from memrpc.store.erasure import Eraser
from memrpc.store.namespace_deletion import NamespaceDeleter
from memrpc.v1 import administration_pb2 as pb
from memrpc.v1 import administration_pb2_grpc

LIST_AUDIT_RECORDS = "ListAuditRecords"
# The share of a call's time left that a namespace's deletion leaves unused,
# to answer in time.
_DEADLINE_MARGIN = 0.2
_ENTRY_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")


def _audit_namespace(value: str) -> str:
    """A namespace, or `*` for the server-wide records."""
    return value if value == SERVER_WIDE else validate.namespace(value)


def _before(request: pb.ListAuditRecordsRequest) -> str | None:
    """The id of the record the page starts after (older), from its token."""
    position = page_tokens.decode(LIST_AUDIT_RECORDS, request)
    if position is None:
        return None
    match position:
        case [str(entry_id)] if _ENTRY_ID.fullmatch(entry_id):
            return entry_id
    raise page_tokens.invalid(LIST_AUDIT_RECORDS)


def _record(stored: StoredAuditEntry) -> pb.AuditRecord:
    entry = stored.entry
    details = struct_pb2.Struct()
    details.update(entry.details)
    record = pb.AuditRecord(
        id=stored.id,
        credential_id=entry.credential,
        operation=entry.operation,
        namespace=entry.namespace,
        code=entry.code,
        reason=entry.reason,
        details=details,
    )
    set_timestamp(record.time, stored.time_ms)
    return record


@translate_errors
class AdministrationServicer(administration_pb2_grpc.AdministrationServicer):
    """Erases users and namespaces, lists audit records. A call without a
    deadline may run `call_timeout_s` (the server's default call timeout)."""

    def __init__(
        self,
        eraser: Eraser,
        deleter: NamespaceDeleter,
        audit: AuditLog,
        *,
        call_timeout_s: float,
    ) -> None:
        self._eraser = eraser
        self._deleter = deleter
        self._audit = audit
        self._call_timeout_s = call_timeout_s

    async def EraseUser(
        self, request: pb.EraseUserRequest, context: Context
    ) -> pb.EraseUserResponse:
        ns = validate.namespace(request.namespace)
        user = validate.user_id(request.user_id, required=True)
        erased = await self._eraser.erase(ns, user)
        return pb.EraseUserResponse(erased=pb.ErasureCounts(**erased.as_dict()))

    async def DeleteNamespace(
        self, request: pb.DeleteNamespaceRequest, context: Context
    ) -> pb.DeleteNamespaceResponse:
        ns = validate.namespace(request.namespace)
        left = context.time_remaining()
        seconds = (self._call_timeout_s if left is None else left) * (1 - _DEADLINE_MARGIN)
        deletion = await self._deleter.delete(ns, seconds=seconds)
        return pb.DeleteNamespaceResponse(done=deletion.done, deleted_keys=deletion.deleted_keys)

    async def ListAuditRecords(
        self, request: pb.ListAuditRecordsRequest, context: Context
    ) -> pb.ListAuditRecordsResponse:
        ns = _audit_namespace(request.namespace)
        size = validate.count(request.page_size, "page_size", AUDIT_PAGE_SIZE)
        entries = await self._audit.page(ns, _before(request), size + 1)
        response = pb.ListAuditRecordsResponse(records=[_record(e) for e in entries[:size]])
        if len(entries) > size:
            response.next_page_token = page_tokens.encode(
                LIST_AUDIT_RECORDS, request, [entries[size - 1].id]
            )
        return response
