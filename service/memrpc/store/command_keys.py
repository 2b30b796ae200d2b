"""Which key a command is routed by on a Redis Cluster.

A cluster serves a command on the primary that owns the slot of the
command's keys (all of them must share one slot, or the node replies
`CROSSSLOT`), so the client needs the command's first key. Where it is
depends on the command; this table covers the commands memrpc sends
(`execute(` under `service/memrpc`):

| commands                                                 | first key             |
|----------------------------------------------------------|-----------------------|
| `EVAL`, `EVALSHA`, `FCALL` (and their `_RO` forms)       | after `numkeys`       |
| `XREAD`, `XREADGROUP`                                    | after `STREAMS`       |
| `XGROUP`, `XINFO`, `OBJECT`, `MEMORY` (subcommand first) | at 2                  |
| `FT.*` but `FT._LIST` (the index name is the key)        | at 1                  |
| `KEYLESS` (`PING`, `INFO`, `CLUSTER`, `FT._LIST`, ...)   | none                  |
| any other (`HGET`, `XADD`, `SSCAN`, `SET`, ...)          | at 1                  |

A script with `numkeys` 0 is keyless too. A keyless command goes to any
primary; one that must reach every primary (`SCRIPT LOAD`, `FT.CREATE` of a
per-node index) is the caller's to send to each (`ClusterMux.execute_on`).
"""

from __future__ import annotations

from memrpc.store.redis_mux import Arg

KEYLESS = frozenset(
    {
        "PING", "INFO", "CONFIG", "CLUSTER", "CLIENT", "SCRIPT", "FT._LIST", "COMMAND",
        "TIME", "ECHO", "WAIT", "WAITAOF", "FUNCTION",
    }
)  # fmt: skip
_SCRIPTS = frozenset({"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"})
_STREAM_READS = frozenset({"XREAD", "XREADGROUP"})
_SUBCOMMAND_FIRST = frozenset({"XGROUP", "XINFO", "OBJECT", "MEMORY"})


def _name(arg: Arg) -> str:
    return (arg.decode() if isinstance(arg, bytes) else str(arg)).upper()


def key_of(args: tuple[Arg, ...]) -> Arg | None:
    """The first key of the command `args`, None for a keyless one."""
    command = _name(args[0])
    if command in KEYLESS:
        return None
    if command in _SCRIPTS:
        return args[3] if len(args) > 3 and int(args[2]) > 0 else None
    if command in _STREAM_READS:
        words = [_name(arg) if isinstance(arg, str | bytes) else "" for arg in args]
        at = words.index("STREAMS") + 1 if "STREAMS" in words else len(args)
        return args[at] if at < len(args) else None
    at = 2 if command in _SUBCOMMAND_FIRST else 1
    return args[at] if at < len(args) else None
