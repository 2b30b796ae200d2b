"""Which access each RPC needs, and which RPCs need no credential.

Every method of the memrpc services is listed: a method missing here is
denied (tests/test_auth.py checks the table against the service descriptors).
Consumer-group calls that move a group's position (ReceiveEvents,
AcknowledgeEvents) change state, so they need write access. Changing a
namespace's settings changes how every call of the namespace behaves, so it
needs admin access; reading them, read access. Erasing, deleting, exporting
and importing a namespace's data, and reading its audit log, need admin
access too.
"""

from __future__ import annotations

from collections.abc import Mapping

from memrpc.auth.credentials import Access

READ, WRITE, ADMIN = Access.READ, Access.WRITE, Access.ADMIN

_RULES: Mapping[str, Mapping[str, Access]] = {
    "memrpc.v1.WorkingMemory": {
        "GetSession": READ,
        "UpdateSession": WRITE,
        "AppendTurns": WRITE,
        "DeleteSession": WRITE,
        "ListSessions": READ,
        "GetContext": READ,
    },
    "memrpc.v1.LongTermMemory": {
        "CreateMemories": WRITE,
        "SearchMemories": READ,
        "ListMemories": READ,
        "GetMemory": READ,
        "UpdateMemory": WRITE,
        "DeleteMemory": WRITE,
        "DeleteMemories": WRITE,
    },
    "memrpc.v1.EventLog": {
        "AppendEvents": WRITE,
        "ListEvents": READ,
        "TrimEvents": WRITE,
        "TailEvents": READ,
        "CreateConsumerGroup": WRITE,
        "DeleteConsumerGroup": WRITE,
        "ReceiveEvents": WRITE,
        "AcknowledgeEvents": WRITE,
    },
    "memrpc.v1.Namespaces": {
        "GetNamespaceSettings": READ,
        "UpdateNamespaceSettings": ADMIN,
    },
    "memrpc.v1.Administration": {
        "EraseUser": ADMIN,
        "DeleteNamespace": ADMIN,
        "ListAuditRecords": ADMIN,
    },
    "memrpc.v1.Portability": {
        "ExportData": ADMIN,
        "ImportData": ADMIN,
    },
    "memrpc.v1.Checkpoints": {
        "PutCheckpoint": WRITE,
        "GetCheckpoint": READ,
        "ListCheckpoints": READ,
        "PutCheckpointWrites": WRITE,
        "DeleteCheckpointThread": WRITE,
        "CopyCheckpointThread": WRITE,
        "PruneCheckpoints": WRITE,
        "DeleteCheckpointRuns": WRITE,
    },
}

# Access needed by each method, by its full name (`/package.Service/Method`).
METHOD_ACCESS: Mapping[str, Access] = {
    f"/{service}/{method}": access
    for service, methods in _RULES.items()
    for method, access in methods.items()
}

# Health checks and server reflection answer without a credential.
_PUBLIC_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def is_public(method: str) -> bool:
    """Whether `method` (full name) is served without a credential."""
    return method.startswith(_PUBLIC_PREFIXES)
