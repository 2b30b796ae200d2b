"""The bare gRPC echo floor: a grpc.aio server whose one method,
`/bench.Echo/Echo`, returns the request bytes.

Same Python, grpcio, event loop and server options as memrpc, one process,
no proto (a generic handler without (de)serializers). Run it with
`python -m bench.echo --listen 127.0.0.1:PORT`; it serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

import grpc

from memrpc.config import Settings

# The message size memrpc serves with by default (`--max-message-bytes`).
MAX_MESSAGE_BYTES = Settings().max_message_bytes

SERVICE = "bench.Echo"
METHOD = f"/{SERVICE}/Echo"


async def _echo(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
    return request


async def serve(listen: str) -> None:
    """Serves the echo method on `listen` until SIGTERM or SIGINT."""
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
        ]
    )
    handler = grpc.method_handlers_generic_handler(
        SERVICE, {"Echo": grpc.unary_unary_rpc_method_handler(_echo)}
    )
    server.add_generic_rpc_handlers((handler,))
    if server.add_insecure_port(listen) == 0:
        raise OSError(f"cannot listen on {listen}")
    await server.start()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    await server.stop(1.0)


def echo_call(channel: grpc.aio.Channel) -> grpc.aio.UnaryUnaryMultiCallable[bytes, bytes]:
    """The echo method on `channel`, bytes in and bytes out."""
    return channel.unary_unary(METHOD)


def main() -> None:
    """Entry point of `python -m bench.echo`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listen", required=True, help="host:port to serve on")
    asyncio.run(serve(parser.parse_args().listen))


if __name__ == "__main__":
    main()
