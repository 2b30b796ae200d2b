"""Helpers shared by the tests."""

from __future__ import annotations

import asyncio
import os
import threading
import warnings
from collections.abc import Callable, Sequence

import grpc
import numpy as np
import numpy.typing as npt
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from hypothesis import HealthCheck, settings

# Property tests that run the same examples every time (derandomized, no
# example database), however slow a call to the server is.
REPRODUCIBLE = settings(
    deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)

# CI sets it: a test whose toolchain (Go, a language's compiler) is missing
# fails instead of skipping.
REQUIRE_ALL_LANGS = os.environ.get("MEMRPC_REQUIRE_ALL_LANGS") == "1"


def skip_or_fail(reason: str) -> None:
    """A missing toolchain: a loud skip, or a failure under MEMRPC_REQUIRE_ALL_LANGS=1."""
    if REQUIRE_ALL_LANGS:
        pytest.fail(f"{reason} (MEMRPC_REQUIRE_ALL_LANGS=1 forbids skipping)")
    warnings.warn(f"SKIPPED LANGUAGE: {reason}", stacklevel=2)
    pytest.skip(f"SKIPPED LANGUAGE: {reason}")


def bad_request_fields(err: grpc.aio.AioRpcError) -> list[str]:
    """The fields named by the `BadRequest` detail of an error, if any."""
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    fields: list[str] = []
    if status is None:
        return fields
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields.extend(v.field for v in bad.field_violations)
    return fields


def assert_invalid(err: grpc.aio.AioRpcError, field: str) -> None:
    """Asserts that an error is INVALID_ARGUMENT naming `field`."""
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, (err.code(), err.details())
    assert field in bad_request_fields(err), (field, bad_request_fields(err), err.details())


class Gate:
    """Stands in for ``OnnxModel.embed``: records each batch and can hold the worker."""

    def __init__(self, embed: Callable[[Sequence[str]], npt.NDArray[np.float32]]) -> None:
        self._embed = embed
        self.batches: list[list[str]] = []
        self.entered = threading.Event()
        self.open = threading.Event()
        self.open.set()

    def __call__(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.batches.append(list(texts))
        self.entered.set()
        self.open.wait(timeout=30)
        return self._embed(texts)

    async def wait_entered(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 30)
