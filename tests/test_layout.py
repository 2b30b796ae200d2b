"""The layering of `service/memrpc`, checked from the imports of each module.

- `store/` talks to Redis and knows nothing of gRPC or of the layers above;
- `tails/` runs the tail fan-out on the store, without gRPC either;
- `rpc/` is the plumbing that `api/` and `auth/` share, and needs neither;
- `http/` carries calls over HTTP through `rpc/`'s pipeline: it knows no
  servicer, store or credential, only the handlers it is given;
- `auth/` decides who may call, without the servicers or Redis;
- `api/` maps requests onto the stores and does not know Redis itself;
- `embedding/` runs the model, without gRPC or the layers that serve it;
- `llm/` calls the language model for the jobs, on the store, without gRPC
  or the layers that serve calls;
- `telemetry/` makes spans and log lines for every layer, and uses none of
  them (nor gRPC: the store and the embedder import its `tracing`);
- `config.py` and `limits.py` are read by every layer and read none, but
  `config.py` reads `limits.py` (fixed limits bound some settings);
- `metrics.py` holds the metrics that every layer counts into, and knows
  none of them (nor gRPC, nor Redis).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parent.parent / "service" / "memrpc"
# The server's layers, which its low-level parts never import.
LAYERS = (
    "memrpc.api",
    "memrpc.rpc",
    "memrpc.auth",
    "memrpc.store",
    "memrpc.tails",
    "memrpc.server",
)
# What each part of the server may not import (module prefixes).
FORBIDDEN = {
    "store": ("grpc", "memrpc.api", "memrpc.rpc", "memrpc.auth", "memrpc.tails", "memrpc.server"),
    "tails": ("grpc", "memrpc.api", "memrpc.rpc", "memrpc.auth", "memrpc.server"),
    "rpc": ("memrpc.api", "memrpc.auth", "memrpc.tails", "memrpc.server"),
    "auth": ("memrpc.api", "memrpc.store", "memrpc.tails", "memrpc.server", "redis"),
    "api": ("redis", "hiredis", "memrpc.server"),
    "http": ("memrpc.api", "memrpc.auth", "memrpc.store", "memrpc.tails", "memrpc.server", "redis"),
    "embedding": ("grpc", *LAYERS),
    "llm": ("grpc", "memrpc.api", "memrpc.rpc", "memrpc.auth", "memrpc.tails", "memrpc.server"),
    "telemetry": ("grpc", *LAYERS, "memrpc.embedding"),
    "config.py": (*LAYERS, "memrpc.tls", "memrpc.embedding"),
    "limits.py": ("memrpc.api", "memrpc.rpc", "memrpc.auth", "memrpc.store", "memrpc.tails"),
    "metrics.py": ("grpc", "redis", *LAYERS, "memrpc.embedding", "memrpc.config"),
}


def _imports(path: Path) -> set[str]:
    """The modules a source file imports, at any depth of its code."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _part(path: Path) -> str:
    relative = path.relative_to(SERVICE)
    return relative.parts[0]


def _sources() -> list[Path]:
    return sorted(
        path
        for path in SERVICE.rglob("*.py")
        if _part(path) in FORBIDDEN and "v1" not in path.relative_to(SERVICE).parts
    )


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_every_part_has_modules() -> None:
    assert {_part(path) for path in _sources()} == set(FORBIDDEN)


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(SERVICE)))
def test_a_module_imports_only_what_its_layer_may(path: Path) -> None:
    forbidden = FORBIDDEN[_part(path)]
    wrong = sorted(m for m in _imports(path) if any(_within(m, f) for f in forbidden))
    assert not wrong, f"{path.relative_to(SERVICE)} imports {wrong}"
