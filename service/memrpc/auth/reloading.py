"""Credentials files reloaded when they change, without a restart.

`Reloading` wraps what a file loads into (a `KeyRing`, a `JwtVerifier`) and
authenticates with its latest good version. At most once per `interval`
seconds (monotonic clock), a call `stat`s the file (`memrpc.file_signature`);
only when the signature differs from the one last seen is the file read
again, so between changes a call costs a clock read. A removed or rotated
key is refused from the first check after the change on.

A replacement that does not load (bad TOML or JSON, a bad entry, an
unreadable or missing file) is logged as an error once per change, and the
previous version stays in use until the file changes again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from memrpc.auth.credentials import Credential
from memrpc.file_signature import signature_or_unreadable

log = logging.getLogger("memrpc.auth")

# Seconds between two checks of a credentials file for changes: how long a
# revoked key may still be accepted.
CHECK_INTERVAL_S = 1.0


class Authenticator(Protocol):
    """Turns a token into a credential, or raises an `ApiError`."""

    def authenticate(self, token: str) -> Credential:
        """The credential of `token`."""
        ...


A = TypeVar("A", bound=Authenticator)


class Reloading(Generic[A]):
    """An authenticator loaded from a file, reloaded when the file changes."""

    def __init__(
        self,
        path: Path,
        load: Callable[[Path], A],
        *,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        on_load: Callable[[A], None] | None = None,
    ) -> None:
        """Loads `path` with `load`, which raises ValueError saying what is
        wrong (raised from here too: a bad file at start is fatal). Each
        version loaded, the first one too, is handed to `on_load`."""
        self._path = path
        self._load = load
        self._interval = interval
        self._clock = clock
        self._on_load = on_load
        # The file as last seen, loaded or not: a bad version is reported once.
        self._seen = signature_or_unreadable((path,))
        self._current = load(path)
        self._next_check = clock() + interval
        if on_load is not None:
            on_load(self._current)

    def authenticate(self, token: str) -> Credential:
        """The credential of `token` under the latest good version of the file."""
        return self.current().authenticate(token)

    def current(self) -> A:
        """The latest good version, after checking the file if it is time to."""
        now = self._clock()
        if now >= self._next_check:
            self._next_check = now + self._interval
            self._reload_if_changed()
        return self._current

    def _reload_if_changed(self) -> None:
        seen = signature_or_unreadable((self._path,))
        if seen == self._seen:
            return
        # Seen before reading: a change made while reading is loaded next time.
        self._seen = seen
        try:
            self._current = self._load(self._path)
        except ValueError as err:
            log.error("credentials not reloaded, the previous ones stay in use: %s", err)
            return
        log.info("credentials reloaded from %s", self._path)
        if self._on_load is not None:
            self._on_load(self._current)
