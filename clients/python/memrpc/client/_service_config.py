"""The gRPC service config the clients use by default.

clients/service-config.json (a gRFC A6 service config, shipped in this
package as `service-config.json`) retries the idempotent reads (GetSession,
ListSessions, GetContext, GetMemory, SearchMemories, ListMemories, ListEvents,
GetNamespaceSettings) on
`UNAVAILABLE` with exponential backoff, and nothing else: a write is retried
safely only by the application, with the same `request_id`. Both clients
pass it as the `grpc.service_config` channel option unless their `options`
already hold one (give `("grpc.enable_retries", 0)` to turn retries off).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any

OPTION = "grpc.service_config"

SERVICE_CONFIG = resources.files(__package__).joinpath("service-config.json").read_text("utf-8")
"""The service config's JSON, for a channel of your own:
`grpc.insecure_channel(target, options=[("grpc.service_config", SERVICE_CONFIG)])`."""


def channel_options(options: Sequence[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """`options` with the default service config, unless they set one."""
    if any(name == OPTION for name, _ in options):
        return list(options)
    return [(OPTION, SERVICE_CONFIG), *options]
