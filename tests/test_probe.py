"""`python -m memrpc.probe`, the container's HEALTHCHECK: SERVING is exit 0,
anything else (no server, NOT_SERVING) exit 1; the address defaults to
`MEMRPC_LISTEN` with a wildcard host turned into loopback."""

from __future__ import annotations

import asyncio
import socket

import pytest

from memrpc.probe import local_address, main, serving
from memrpc.server import MemrpcServer


@pytest.mark.parametrize(
    ("listen", "address"),
    [
        ("0.0.0.0:50051", "127.0.0.1:50051"),
        ("[::]:50051", "[::1]:50051"),
        (":50051", "127.0.0.1:50051"),
        ("127.0.0.1:7000", "127.0.0.1:7000"),
    ],
)
def test_a_wildcard_listen_address_is_probed_on_loopback(listen: str, address: str) -> None:
    assert local_address(listen) == address


async def test_a_serving_server_passes(memrpc_server: MemrpcServer) -> None:
    assert await asyncio.to_thread(serving, f"127.0.0.1:{memrpc_server.port}")


def test_no_server_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        # Bound but not listening: connections are refused.
        monkeypatch.setenv("MEMRPC_LISTEN", f"0.0.0.0:{port}")
        assert main([]) == 1
