"""The servicer context of a call that grpcio does not carry (HTTP), for
the handlers of `rpc/pipeline.py`.

A handler reads from its context the call's metadata, peer and deadline,
and writes to it the call's status and trailing metadata, aborting the call
with `abort`/`abort_with_status` as grpcio's context does (`AbortError`,
which the servicers and interceptors already treat as the end of a call).
The transport reads the outcome back: `code()`, `details()` and
`trailing_metadata()` (the status details are in `grpc-status-details-bin`,
as on the wire).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NoReturn

import grpc

from memrpc.rpc.pipeline import Metadata

# Trailing metadata as a handler gives it.
Trailers = grpc.aio.Metadata | Sequence[tuple[str, str | bytes]]


class DetachedContext(grpc.aio.ServicerContext[Any, Any]):
    """The context of one call: its `metadata`, `peer` (`ipv4:10.0.0.7:5123`)
    and deadline (`timeout_s` from now, None for none)."""

    def __init__(self, metadata: Metadata, peer: str, timeout_s: float | None) -> None:
        self._metadata = metadata
        self._peer = peer
        self._deadline = None if timeout_s is None else time.monotonic() + timeout_s
        self._code: grpc.StatusCode | None = None
        self._details: str | None = None
        self._trailers: tuple[tuple[str, Any], ...] = ()

    # -- what the call carries
    def invocation_metadata(self) -> grpc.aio.Metadata:
        return grpc.aio.Metadata(*self._metadata)

    def peer(self) -> str:
        return self._peer

    # grpcio's own answers None too (no deadline, no status yet); its stubs
    # say otherwise.
    def time_remaining(self) -> float | None:  # type: ignore[override]
        return None if self._deadline is None else max(0.0, self._deadline - time.monotonic())

    # -- how the call ends
    def set_code(self, code: Any) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode | None:  # type: ignore[override]
        return self._code

    def set_details(self, details: str) -> None:
        self._details = details

    def details(self) -> str | None:  # type: ignore[override]
        return self._details

    def set_trailing_metadata(self, trailing_metadata: Trailers) -> None:
        self._trailers = tuple(trailing_metadata)

    def trailing_metadata(self) -> grpc.aio.Metadata:
        return grpc.aio.Metadata(*self._trailers)

    async def abort(
        self,
        code: grpc.StatusCode,
        details: str = "",
        trailing_metadata: Trailers = (),
    ) -> NoReturn:
        if code is grpc.StatusCode.OK:
            raise ValueError("a call cannot be aborted with OK")
        self._code, self._details = code, details
        # The status's metadata joins what the call set (its correlation id).
        set_keys = {key for key, _ in trailing_metadata}
        kept = tuple(pair for pair in self._trailers if pair[0] not in set_keys)
        self._trailers = kept + tuple(trailing_metadata)
        raise grpc.aio.AbortError()

    async def abort_with_status(self, status: grpc.Status) -> NoReturn:
        await self.abort(status.code, status.details, status.trailing_metadata)

    # -- what only grpcio's transport has: not used by memrpc's handlers
    async def read(self) -> NoReturn:
        raise NotImplementedError("a detached call's requests come as its handler's argument")

    async def write(self, message: Any) -> NoReturn:
        raise NotImplementedError("a detached call's responses are its handler's results")

    async def send_initial_metadata(self, initial_metadata: Any) -> None:
        """Nothing to send: the transport sends its headers with the response."""

    def set_compression(self, compression: grpc.Compression) -> None:
        """The transport chooses its own compression."""

    def disable_next_message_compression(self) -> None:
        """The transport chooses its own compression."""

    def auth_context(self) -> dict[str, Iterable[bytes]]:
        return {}

    def peer_identities(self) -> Iterable[bytes] | None:
        return None

    def peer_identity_key(self) -> str | None:
        return None

    def add_done_callback(self, callback: Callable[[Any], None]) -> None:
        raise NotImplementedError("a detached call has no done callbacks")

    def cancelled(self) -> bool:
        return False

    def done(self) -> bool:
        return self._code is not None
