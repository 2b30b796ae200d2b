"""Why a call failed, as a program can read it.

Every error status the memrpc server returns carries, in its
`grpc-status-details-bin` trailer (a `google.rpc.Status`), a
`google.rpc.ErrorInfo` of domain `memrpc.dev` whose `reason` names a
`memrpc.v1.ErrorReason` value and whose `metadata` holds that reason's values
(`currentVersion` on a version mismatch, `field` on an invalid field, ...;
see proto/memrpc/v1/error_reason.proto). These helpers read it from a failed
call of the blocking or the asyncio API alike:

    try:
        memory.long_term.UpdateMemory(request)
    except grpc.RpcError as err:
        if error_reason(err) == ErrorReason.ERROR_REASON_VERSION_MISMATCH:
            current = int(error_metadata(err)["currentVersion"])

A status without that ErrorInfo (one made by the gRPC library itself, such as
a deadline that expired in transit) has reason `ERROR_REASON_UNSPECIFIED`
and no metadata; so does a reason newer than this client: act on the status
code alone then.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.rpc import status_pb2
from google.rpc.error_details_pb2 import ErrorInfo

from memrpc.v1.error_reason_pb2 import ErrorReason

__all__ = [
    "DOMAIN",
    "ErrorInfo",
    "ErrorReason",
    "error_info",
    "error_metadata",
    "error_reason",
    "status_details",
]

DOMAIN = "memrpc.dev"
"""The `ErrorInfo.domain` of the reasons the memrpc server gives."""

_STATUS_DETAILS_KEY = "grpc-status-details-bin"


def status_details(err: grpc.RpcError) -> list[Any]:
    """The details (`google.protobuf.Any`) of the error's `google.rpc.Status`,
    empty when it carries none. Works for `grpc.RpcError` and
    `grpc.aio.AioRpcError` alike."""
    trailing_metadata = getattr(err, "trailing_metadata", None)
    trailers: Any = trailing_metadata() if trailing_metadata is not None else None
    for key, value in trailers or ():
        if key == _STATUS_DETAILS_KEY and isinstance(value, bytes):
            return list(status_pb2.Status.FromString(value).details)
    return []


def error_info(err: grpc.RpcError) -> ErrorInfo | None:
    """The error's `ErrorInfo` of domain `memrpc.dev`, or None."""
    for detail in status_details(err):
        if detail.Is(ErrorInfo.DESCRIPTOR):
            info: ErrorInfo = ErrorInfo()
            detail.Unpack(info)
            if info.domain == DOMAIN:
                return info
    return None


def error_reason(err: grpc.RpcError) -> ErrorReason.ValueType:
    """The error's reason; `ERROR_REASON_UNSPECIFIED` when it gives none, or
    one this client does not know."""
    info = error_info(err)
    known = None if info is None else ErrorReason.DESCRIPTOR.values_by_name.get(info.reason)
    if known is None:
        return ErrorReason.ERROR_REASON_UNSPECIFIED
    return ErrorReason.ValueType(known.number)


def error_metadata(err: grpc.RpcError) -> dict[str, str]:
    """The metadata of the error's reason (lowerCamelCase keys), empty when
    it gives none."""
    info = error_info(err)
    return {} if info is None else dict(info.metadata)
