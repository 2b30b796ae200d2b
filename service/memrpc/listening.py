"""The listening sockets of memrpc's HTTP servers (the HTTP door, `memrpc
mcp`'s streamable HTTP, `memrpc demo`), bound before they serve so that a
bad address is refused at once and port 0 tells its port."""

from __future__ import annotations

import socket


def listening_socket(listen: str, *, reuse_port: bool = False) -> socket.socket:
    """A TCP socket listening on `listen` (`host:port`, `[v6]:port`, `:port`
    for 127.0.0.1; port 0: any free one), shared with other processes when
    `reuse_port`. Raises `OSError` (or `ValueError` for a port that is not a
    number) when it cannot.

    The socket names TCP as its protocol: asyncio turns Nagle's algorithm off
    only on such sockets' connections, and an HTTP response is several writes
    (its head, its body, the end of a chunked body), each of which would
    otherwise wait for the ACK of the one before (40 ms of delayed ACK)."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, int(port)))
        sock.listen(socket.SOMAXCONN)
    except (OSError, ValueError):
        sock.close()
        raise
    return sock
