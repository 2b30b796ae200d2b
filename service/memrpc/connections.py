"""The gRPC options that keep connections healthy in a service mesh, from
the `connections` settings (docs/deployment.md explains the defaults).

- **Keepalive.** The server pings every connection every
  `--keepalive-time`, with or without calls, and drops one whose ping
  goes unanswered for `--keepalive-timeout`: a vanished client frees its
  tails.
- **Client pings.** grpc-core accepts a client's ping without data at most
  every 5 min by default, and after two early ones sends GOAWAY
  `too_many_pings`, which ended quiet tails of clients pinging every
  10 s as Go, Java and Envoy keepalive configurations do. The server
  accepts pings every `--min-client-ping-interval` instead.
- **Age and idleness.** GOAWAY after `--max-connection-age` (grpc-core
  adds ±10% jitter), so load balancers spread long-lived connections; the
  calls in flight continue for `--max-connection-age-grace`, unlimited by
  default, so no tail is cut (a grace needs a shorter
  `--max-tail-lifetime`, `Settings.validate()` checks). GOAWAY after
  `--max-connection-idle` without calls. 0 leaves each of these unset:
  never.
"""

from __future__ import annotations

from memrpc.config import Settings


def server_options(settings: Settings) -> list[tuple[str, int]]:
    """The gRPC server options of the connection settings."""
    options = [
        ("grpc.keepalive_time_ms", _ms(settings.keepalive_time)),
        ("grpc.keepalive_timeout_ms", _ms(settings.keepalive_timeout)),
        # grpc-core (1.85) waits this long for a ping's ack, whatever
        # `keepalive_timeout_ms` says (default 60 s): without it, a client
        # gone silent held its connection and tails for a minute or more.
        ("grpc.http2.ping_timeout_ms", _ms(settings.keepalive_timeout)),
        ("grpc.keepalive_permit_without_calls", int(settings.keepalive_permit_without_calls)),
        ("grpc.http2.min_ping_interval_without_data_ms", _ms(settings.min_client_ping_interval)),
        # Keep pinging a connection that carries no data (a quiet tail).
        ("grpc.http2.max_pings_without_data", 0),
    ]
    for name, seconds in (
        ("grpc.max_connection_age_ms", settings.max_connection_age),
        ("grpc.max_connection_age_grace_ms", settings.max_connection_age_grace),
        ("grpc.max_connection_idle_ms", settings.max_connection_idle),
    ):
        if seconds:
            options.append((name, _ms(seconds)))
    return options


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
