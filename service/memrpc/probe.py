"""`python -m memrpc.probe [ADDRESS]`: exit 0 if a memrpc server answers
SERVING on the gRPC health service, 1 otherwise; the container image's
HEALTHCHECK.

The address defaults to the server's own `--listen` address as the
environment sets it (`MEMRPC_LISTEN`), with a wildcard host (`0.0.0.0`,
`[::]`) replaced by loopback, so the probe running beside the server in the
container needs no argument. Health is public (no credentials), but the probe
speaks plaintext: a server configured for TLS needs its own health command.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from memrpc.config import Settings

_TIMEOUT_SECONDS = 5.0
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]", "": "127.0.0.1"}


def local_address(listen: str) -> str:
    """The address to reach a server listening on `listen` from the same host."""
    host, _, port = listen.rpartition(":")
    return f"{_WILDCARDS.get(host, host)}:{port}"


def serving(address: str, timeout: float = _TIMEOUT_SECONDS) -> bool:
    """Whether the server at `address` answers SERVING (overall health)."""
    with grpc.insecure_channel(address) as channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout
            )
        except grpc.RpcError as exc:
            print(f"memrpc probe: {address}: {exc.code().name}", file=sys.stderr)
            return False
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    if response.status != health_pb2.HealthCheckResponse.SERVING:
        print(f"memrpc probe: {address}: {status}", file=sys.stderr)
        return False
    return True


def main(argv: Sequence[str] = sys.argv[1:]) -> int:
    if len(argv) > 1:
        print("usage: python -m memrpc.probe [ADDRESS]", file=sys.stderr)
        return 2
    address = argv[0] if argv else local_address(os.environ.get("MEMRPC_LISTEN", Settings.listen))
    return 0 if serving(address) else 1


if __name__ == "__main__":
    sys.exit(main())
