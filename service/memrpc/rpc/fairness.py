"""The server interceptor that keeps one tenant from starving the others:
per-tenant call rates and calls in progress (`tenant_quotas`), refused at
once with `RESOURCE_EXHAUSTED` rather than queued.

The tenant of a call is the subject of its credential when authentication
is on (`caller.subject()`: the authentication interceptor sets it, and must
come before this one in the server's list), and the `namespace` of its
request otherwise, so that under authentication a caller is one tenant
whichever namespaces it uses. Like authentication's namespace check, the
quota is applied in the handler's behavior, where the request is decoded
(`DecodingInterceptor` comes first, so it is). Health and reflection pass.

A unary call takes a token and counts in progress until it ends. A server
stream (TailEvents) takes a token when it starts and is not counted in
progress: the tail caps bound open streams. A refusal carries a
`QuotaFailure` (subject: the tenant, as `namespace:<ns>` or
`credential:<subject>`) and a `RetryInfo` saying when to try again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

import grpc

from memrpc import metrics
from memrpc.config import Settings
from memrpc.rpc.caller import tenant_of
from memrpc.rpc.decoding import PREFIX
from memrpc.rpc.errors import ApiError, Context, retry_info
from memrpc.rpc.handlers import WrappingInterceptor, rebuild
from memrpc.rpc.tenant_quotas import OverQuota, TenantQuotas
from memrpc.v1.error_reason_pb2 import ErrorReason

if TYPE_CHECKING:
    from memrpc.rpc.handlers import Handler

log = logging.getLogger("memrpc.fairness")


def refusal(over: OverQuota) -> ApiError:
    """The `RESOURCE_EXHAUSTED` a call over its tenant's quota gets (counted
    in the metrics by the setting that refused it)."""
    metrics.refused(over.setting)
    reason = (
        ErrorReason.ERROR_REASON_TENANT_CONCURRENCY_EXCEEDED
        if over.setting == "tenant_max_in_flight"
        else ErrorReason.ERROR_REASON_TENANT_RATE_EXCEEDED
    )
    return ApiError.exhausted(
        reason,
        over.what,
        over.limit,
        over.setting,
        "retry after the RetryInfo delay",
        retry_info(over.retry_after_s),
        subject=over.tenant,
    )


class FairnessInterceptor(WrappingInterceptor):
    """Refuses the calls of a tenant over its rate or its calls in progress."""

    def __init__(self, quotas: TenantQuotas) -> None:
        self.quotas = quotas

    @classmethod
    def from_settings(cls, settings: Settings) -> FairnessInterceptor | None:
        """The interceptor for `--tenant-rate`, `--tenant-burst` and
        `--tenant-max-in-flight`, or None when both limits are off."""
        if not settings.tenant_rate and not settings.tenant_max_in_flight:
            return None
        return cls(
            TenantQuotas(
                rate=settings.tenant_rate,
                burst=settings.tenant_burst,
                max_in_flight=settings.tenant_max_in_flight,
            )
        )

    def wrap(self, handler: Handler, call: grpc.HandlerCallDetails) -> Handler:
        if not call.method.startswith(PREFIX) or handler.request_streaming:
            return handler
        if handler.response_streaming:
            return rebuild(handler, self._limited_stream(handler))
        return rebuild(handler, self._limited(handler))

    async def _admit(self, request: Any, context: Context, *, in_flight: bool) -> str:
        """The call's tenant, once admitted; aborts the call otherwise."""
        tenant = tenant_of(request)
        try:
            self.quotas.admit(tenant, in_flight=in_flight)
        except OverQuota as over:
            log.debug("refused a call of %s: %s", tenant, over.what)
            await context.abort_with_status(refusal(over).to_status())
        return tenant

    def _limited(self, handler: Handler) -> Callable[..., Any]:
        unary = cast(Callable[[Any, Context], Awaitable[Any]], handler.unary_unary)

        async def limited(request: Any, context: Context) -> Any:
            tenant = await self._admit(request, context, in_flight=True)
            try:
                return await unary(request, context)
            finally:
                self.quotas.release(tenant)

        return limited

    def _limited_stream(self, handler: Handler) -> Callable[..., AsyncIterator[Any]]:
        stream = cast(Callable[[Any, Context], AsyncGenerator[Any, None]], handler.unary_stream)

        async def limited_stream(request: Any, context: Context) -> AsyncIterator[Any]:
            await self._admit(request, context, in_flight=False)
            async with contextlib.aclosing(stream(request, context)) as responses:
                async for response in responses:
                    yield response

        return limited_stream
