"""The Lua scripts in `memrpc/lua/`, run by `EVALSHA`, and how their
arguments are declared.

Each script has one typed argument builder (`store/script_args.py`): a
dataclass subclassing `Call`, whose fields are, in order, the script's KEYS
(annotated `Key`, or `Keys` for a variadic last one) and then its ARGV (any
other annotation; `Groups` for a variadic tail of argument groups). The order
is written there once; the script's header (`-- KEYS[1] name: ...`,
`-- ARGV[1] name: ...`) states the same names, which
`tests/test_lua_scripts.py` checks. `load` reads a builder's layout once, so a
call only gathers attributes.

A script is preceded by `lua/lib/args.lua` (the argument checks every script
runs before its first write) and by the helpers of `lua/lib/` it names; they
are prepended to its source so that every script stays one atomic `EVALSHA`.
A Redis that does not know a script yet (first use, or after a restart) is
sent it with `SCRIPT LOAD` (every primary of a Redis Cluster is), and the
call is repeated once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import operator
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from memrpc.store.redis_errors import NoScriptError
from memrpc.store.redis_mux import Arg, RedisClient

LUA_DIR = Path(__file__).resolve().parent.parent / "lua"
# The helpers every script starts with.
COMMON_LIBS = ("args",)
# A name routed to each primary (`keys_per_primary`) to load a script there;
# never a key.
SCRIPT_LOAD_KEY = "memrpc:script"

_KEY, _KEYS, _GROUPS = "key", "keys", "groups"
# A field that is one of KEYS.
Key = Annotated[str, _KEY]
# The last key field: any number of KEYS.
Keys = Annotated[Sequence[str], _KEYS]
# The last ARGV field: any number of groups of arguments, flattened in order.
Groups = Annotated[Sequence[Sequence[Arg]], _GROUPS]


class Call:
    """The arguments of one call of the script `lua/<LUA>.lua`, preceded by
    `lua/lib/<lib>.lua` for each of `LIBS`. Subclasses are dataclasses:
    see the module docstring."""

    __slots__ = ()
    LUA: ClassVar[str]
    LIBS: ClassVar[tuple[str, ...]] = ()


C = TypeVar("C", bound=Call)


@dataclass(frozen=True)
class Layout:
    """The field names of a `Call` class as KEYS and ARGV, each possibly
    ending in a variadic field."""

    keys: tuple[str, ...]
    args: tuple[str, ...]
    variadic_keys: bool
    variadic_args: bool

    @classmethod
    def of(cls, call: type[Call]) -> Layout:
        """The layout of a `Call` dataclass, from its fields' annotations."""
        hints = typing.get_type_hints(call, include_extras=True)
        keys: list[str] = []
        args: list[str] = []
        kinds: list[str] = []
        for field in dataclasses.fields(call):  # type: ignore[arg-type]
            kind = next(iter(getattr(hints[field.name], "__metadata__", ())), "")
            is_key = kind in (_KEY, _KEYS)
            if _GROUPS in kinds or (is_key and (_KEYS in kinds or args)):
                raise TypeError(
                    f"{call.__name__}.{field.name}: KEYS, then ARGV, each variadic last"
                )
            (keys if is_key else args).append(field.name)
            kinds.append(kind)
        return cls(tuple(keys), tuple(args), _KEYS in kinds, _GROUPS in kinds)


def _gather(names: tuple[str, ...], tail: str | None) -> Callable[[Any], list[Arg]]:
    """A function of a call that lists the values of the fields `names`,
    then those of the variadic field `tail`: a sequence of keys
    (`Keys`) or of argument groups (`Groups`, flattened)."""
    fixed = names[:-1] if tail else names
    if len(fixed) == 1:
        one = operator.attrgetter(fixed[0])
        head: Callable[[Any], Sequence[Any]] = lambda call: (one(call),)  # noqa: E731
    elif fixed:
        head = operator.attrgetter(*fixed)
    else:
        head = lambda _: ()  # noqa: E731
    if tail is None:
        return lambda call: [*head(call)]
    values = operator.attrgetter(names[-1])
    if tail == _KEYS:
        return lambda call: [*head(call), *values(call)]
    chain = itertools.chain.from_iterable
    return lambda call: [*head(call), *chain(values(call))]


class Script(Generic[C]):
    """One script, called as `await script(call)` with its typed arguments."""

    def __init__(self, redis: RedisClient, name: str, source: str, layout: Layout) -> None:
        self._redis = redis
        self.name = name  # `lua/<name>.lua`
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()
        self.layout = layout
        self._keys = _gather(layout.keys, _KEYS if layout.variadic_keys else None)
        self._args = _gather(layout.args, _GROUPS if layout.variadic_args else None)

    async def __call__(self, call: C) -> Any:
        keys = self._keys(call)
        args = self._args(call)
        with contextlib.suppress(NoScriptError):
            return await self._redis.execute(
                "EVALSHA", self.sha, len(keys), *keys, *args, script=self.name
            )
        # On every primary: each node of a cluster has its own script cache,
        # and the `EVALSHA` may have been redirected (a slot that moved) to
        # a node the client's slot map does not name yet.
        for key in await self._redis.keys_per_primary(f"{SCRIPT_LOAD_KEY}:{self.name}"):
            await self._redis.execute_at(key, "SCRIPT", "LOAD", self.source)
        return await self._redis.execute(
            "EVALSHA", self.sha, len(keys), *keys, *args, script=self.name
        )


def source(call: type[Call]) -> str:
    """The source `EVALSHA` runs for a `Call` class: its libraries, then its script."""
    libs = [*COMMON_LIBS, *call.LIBS]
    parts = [(LUA_DIR / "lib" / f"{lib}.lua").read_text() for lib in libs]
    parts.append((LUA_DIR / f"{call.LUA}.lua").read_text())
    return "\n".join(parts)


def load(redis: RedisClient, call: type[C]) -> Script[C]:
    """The script of a `Call` class, ready to be called with its instances."""
    return Script(redis, call.LUA, source(call), Layout.of(call))
