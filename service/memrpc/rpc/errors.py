"""gRPC statuses for every failure, with details a caller can act on.

Servicers raise `ApiError`; `translate_errors` turns it, and any Redis
failure, into a status on the wire. No stack trace ever reaches a client.
Every status carries a `google.rpc.ErrorInfo` (domain `memrpc.dev`) whose
reason is an `ErrorReason` of the proto, with the metadata the proto names
for it (`error_reason.proto`); `NOT_FOUND` and `ALREADY_EXISTS` carry a
`ResourceInfo`, `RESOURCE_EXHAUSTED` a `QuotaFailure`. A status with a
`RetryInfo` also carries its delay in the `grpc-retry-pushback-ms` trailer,
which gRPC's own retry policies honour (gRFC A6).
"""

from __future__ import annotations

import collections
import functools
import inspect
import logging
import math
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, TypeVar

import grpc
import redis.exceptions
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from memrpc.config import flag
from memrpc.rpc import correlation
from memrpc.store.redis_errors import RedisUnavailable
from memrpc.store.replica_ack import NotReplicatedError
from memrpc.v1.error_reason_pb2 import ErrorReason

# The `ErrorInfo.domain` of every error the server returns.
DOMAIN = "memrpc.dev"

log = logging.getLogger("memrpc.api")

# The trailer in which a server tells gRPC's retry machinery how long to wait.
PUSHBACK_KEY = "grpc-retry-pushback-ms"
# The context every RPC handler receives.
Context = grpc.aio.ServicerContext[Any, Any]
# A servicer class: its public methods are RPC handlers.
S = TypeVar("S", bound=type)


class ApiError(Exception):
    """A failure to report to the caller as a gRPC status: its code, its
    `ErrorReason` with that reason's metadata, a message for people, and
    further details."""

    def __init__(
        self,
        code: grpc.StatusCode,
        reason: ErrorReason.ValueType,
        message: str,
        *details: Message,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.metadata = dict(metadata or {})

    @property
    def reason_name(self) -> str:
        """The reason as the `ErrorInfo` carries it, e.g. `ERROR_REASON_INTERNAL`."""
        return ErrorReason.Name(self.reason)

    @classmethod
    def invalid(
        cls,
        field: str,
        description: str,
        reason: ErrorReason.ValueType = ErrorReason.ERROR_REASON_FIELD_INVALID,
        **metadata: str,
    ) -> ApiError:
        """`INVALID_ARGUMENT` naming the offending field in a `BadRequest`
        (and in the metadata, as `field`)."""
        violation = error_details_pb2.BadRequest.FieldViolation(
            field=field, description=description
        )
        return cls(
            grpc.StatusCode.INVALID_ARGUMENT,
            reason,
            f"{field}: {description}",
            error_details_pb2.BadRequest(field_violations=[violation]),
            metadata={"field": field, **metadata},
        )

    @classmethod
    def not_found(
        cls,
        reason: ErrorReason.ValueType,
        resource: Resource,
        what: str,
        **metadata: str,
    ) -> ApiError:
        """`NOT_FOUND` for a resource, described as `what`."""
        return cls(
            grpc.StatusCode.NOT_FOUND,
            reason,
            f"{what} not found",
            resource.info("not found"),
            metadata=metadata,
        )

    @classmethod
    def already_exists(
        cls,
        reason: ErrorReason.ValueType,
        resource: Resource,
        message: str,
        **metadata: str,
    ) -> ApiError:
        """`ALREADY_EXISTS` for a resource, with `message`."""
        return cls(
            grpc.StatusCode.ALREADY_EXISTS,
            reason,
            message,
            resource.info(message),
            metadata=metadata,
        )

    @classmethod
    def version_mismatch(cls, what: str, expected: int, current: int) -> ApiError:
        """`ABORTED`: `what` is at version `current` (0: it does not exist),
        not the `expected` one."""
        now = f"is at version {current}" if current else "does not exist"
        return cls(
            grpc.StatusCode.ABORTED,
            ErrorReason.ERROR_REASON_VERSION_MISMATCH,
            f"{what} {now}, not at the expected version {expected}: "
            "read it again and retry with its version",
            metadata={"expectedVersion": str(expected), "currentVersion": str(current)},
        )

    @classmethod
    def exhausted(
        cls,
        reason: ErrorReason.ValueType,
        what: str,
        limit: float,
        setting: str,
        advice: str,
        *details: Message,
        subject: str = "",
        **metadata: str,
    ) -> ApiError:
        """`RESOURCE_EXHAUSTED` naming the cap that was hit, its value and
        the server setting that sets it (in the message, the metadata and a
        `QuotaFailure` about `subject`), with `details` such as `retry_info`."""
        shown = f"{limit:g}" if isinstance(limit, float) else str(limit)
        violation = error_details_pb2.QuotaFailure.Violation(
            subject=subject, description=f"{what} (server setting {flag(setting)})"
        )
        return cls(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            reason,
            f"{what}, the limit is {shown} (server setting {flag(setting)}); {advice}",
            error_details_pb2.QuotaFailure(violations=[violation]),
            *details,
            metadata={"limit": shown, "setting": flag(setting), **metadata},
        )

    def to_status(self) -> grpc.Status:
        """The status with its details packed, ready to abort with: the
        `ErrorInfo` first."""
        info = error_details_pb2.ErrorInfo(
            reason=self.reason_name, domain=DOMAIN, metadata=self.metadata
        )
        packed = []
        for detail in (info, *self.details):
            box = any_pb2.Any()
            box.Pack(detail)
            packed.append(box)
        proto = status_pb2.Status(code=self.code.value[0], message=self.message, details=packed)
        status: grpc.Status = rpc_status.to_status(proto)
        trailers = [*status.trailing_metadata]
        delays = [d for d in self.details if isinstance(d, error_details_pb2.RetryInfo)]
        if delays:
            trailers.append((PUSHBACK_KEY, str(delays[0].retry_delay.ToMilliseconds())))
        # Aborting replaces the trailers the call set: the id goes again.
        if (call_id := correlation.current()) is not None:
            trailers.append((correlation.HEADER, call_id))
        return _Status(status.code, status.details, tuple(trailers))


class _Status(
    collections.namedtuple("_Status", ("code", "details", "trailing_metadata")), grpc.Status
):
    """A status to abort with (grpc.Status is an interface without a constructor)."""


class Resource:
    """A resource named in a `ResourceInfo`: its type (the proto message's
    full name) and its name (`namespace/id` style)."""

    __slots__ = ("name", "type")

    def __init__(self, type_: str, name: str) -> None:
        self.type = type_
        self.name = name

    def info(self, description: str) -> error_details_pb2.ResourceInfo:
        return error_details_pb2.ResourceInfo(
            resource_type=self.type, resource_name=self.name, description=description
        )


def retry_info(seconds: float) -> error_details_pb2.RetryInfo:
    """A `RetryInfo` detail asking the caller to wait `seconds` (rounded up
    to the millisecond) before trying again."""
    delay = error_details_pb2.RetryInfo()
    delay.retry_delay.FromMilliseconds(math.ceil(seconds * 1000))
    return delay


def as_api_error(exc: Exception) -> ApiError:
    """Maps a failure while serving to the status the caller should see: by
    type (`store/redis_errors.py` classifies Redis's replies), never by text."""
    if isinstance(exc, ApiError):
        return exc
    unavailable = (
        RedisUnavailable | redis.exceptions.ConnectionError | redis.exceptions.TimeoutError
    )
    if isinstance(exc, unavailable):
        return redis_unavailable(exc)
    if isinstance(exc, NotReplicatedError):
        return ApiError(
            grpc.StatusCode.UNAVAILABLE,
            ErrorReason.ERROR_REASON_NOT_REPLICATED,
            f"the call's writes were applied on the primary, but {exc} (server setting "
            f"{flag('durability')} replica): they may be lost if the primary fails over "
            "now. Retry (with the same request_id where the call has one)",
            metadata={
                "replicas": str(exc.confirmed),
                "required": str(exc.required),
                "timeoutMs": str(round(exc.timeout_s * 1000)),
            },
        )
    incident = uuid.uuid4().hex[:12]
    log.error("internal error %s", incident, exc_info=exc)
    return ApiError(
        grpc.StatusCode.INTERNAL,
        ErrorReason.ERROR_REASON_INTERNAL,
        f"internal error (incident {incident} in server log)",
        metadata={"incident": incident},
    )


def redis_unavailable(exc: Exception) -> ApiError:
    """`UNAVAILABLE`: Redis cannot serve now (`exc` says why)."""
    return ApiError(
        grpc.StatusCode.UNAVAILABLE,
        ErrorReason.ERROR_REASON_REDIS_UNAVAILABLE,
        f"Redis cannot serve now, retry later: {exc}",
    )


def _wrap(method: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.isasyncgenfunction(method):

        @functools.wraps(method)
        async def stream(self: Any, request: Any, context: Context) -> AsyncIterator[Any]:
            try:
                async for item in method(self, request, context):
                    yield item
            except grpc.aio.AbortError:
                raise
            except Exception as exc:
                await context.abort_with_status(as_api_error(exc).to_status())

        return stream

    @functools.wraps(method)
    async def unary(self: Any, request: Any, context: Context) -> Any:
        try:
            return await method(self, request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await context.abort_with_status(as_api_error(exc).to_status())

    return unary


def translate_errors(cls: S) -> S:
    """Class decorator: every RPC handler of a servicer reports failures as statuses."""
    for name, method in list(vars(cls).items()):
        is_handler = inspect.iscoroutinefunction(method) or inspect.isasyncgenfunction(method)
        if is_handler and not name.startswith("_"):
            setattr(cls, name, _wrap(method))
    return cls
