"""Whether authentication is on, decided from the settings before binding.

- `--auth-keys-file` and/or `--jwks-file` set: on, wherever the server listens.
- Neither, listening (gRPC, and HTTP with `--http-listen`) on loopback
  (127.0.0.0/8, ::1, localhost) or a unix socket only: off, with a warning
  (the local development default).
- Neither, either listening beyond loopback: the server refuses to start, unless
  `--allow-unauthenticated` says to serve without credentials (warned about).

When on, the key and JWKS files are loaded now, a bad one refusing the
settings, and reloaded whenever they change (`reloading.py`).
"""

from __future__ import annotations

import functools
import ipaddress
import logging
from collections.abc import Callable

import grpc

from memrpc.auth import reloading
from memrpc.auth.interceptor import AuthInterceptor
from memrpc.auth.jwt import JwtVerifier
from memrpc.auth.keys import KeyRing
from memrpc.auth.reloading import Reloading
from memrpc.config import Settings, SettingsError

log = logging.getLogger("memrpc.auth")

_ENABLE = (
    "set --auth-keys-file (make keys with `memrpc keys new`) or --jwks-file with "
    "--jwt-issuer and --jwt-audience"
)


class AuthConfigError(SettingsError):
    """Settings the server must not start with; the message says what to change."""


def is_local(listen: str) -> bool:
    """Whether a listen address is reachable only from this machine."""
    if listen.startswith(("unix:", "unix-abstract:")):
        return True
    host = listen.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _listening(settings: Settings) -> str:
    """Where the server listens, for its messages."""
    return " and ".join(address for address in (settings.listen, settings.http_listen) if address)


def requires_auth(settings: Settings) -> bool:
    """Whether calls need credentials; raises AuthConfigError for settings
    that must not serve. (`Settings.validate()` has checked that the
    settings do not contradict each other.)"""
    if settings.auth_keys_file is not None or settings.jwks_file is not None:
        return True
    exposed = [
        address
        for address in (settings.listen, settings.http_listen)
        if address is not None and not is_local(address)
    ]
    if settings.allow_unauthenticated or not exposed:
        return False
    raise AuthConfigError(
        f"refusing to serve {exposed[0]} without authentication: it is reachable beyond "
        f"this machine. To require credentials, {_ENABLE}; or pass --allow-unauthenticated "
        "to let anyone who reaches the port read and write every namespace"
    )


# Called with each version of the API key file loaded (`on_keys`).
KeysLoaded = Callable[[KeyRing], None]


def _interceptor(settings: Settings, on_keys: KeysLoaded | None = None) -> AuthInterceptor | None:
    if not requires_auth(settings):
        return None
    interval = reloading.CHECK_INTERVAL_S
    load_jwks = functools.partial(
        JwtVerifier.load, issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )
    try:
        key_ring = (
            Reloading(settings.auth_keys_file, KeyRing.load, interval=interval, on_load=on_keys)
            if settings.auth_keys_file
            else None
        )
        jwts = (
            Reloading(settings.jwks_file, load_jwks, interval=interval)
            if settings.jwks_file
            else None
        )
    except ValueError as err:
        raise AuthConfigError(str(err)) from None
    return AuthInterceptor(key_ring, jwts)


def check_settings(settings: Settings) -> None:
    """Raises AuthConfigError if the server would refuse these settings
    (including unreadable or invalid key and JWKS files)."""
    _interceptor(settings)


def auth_interceptors(
    settings: Settings, on_keys: KeysLoaded | None = None
) -> list[grpc.aio.ServerInterceptor]:
    """The interceptors that enforce authentication: none when it is off
    (logged as a warning). Raises AuthConfigError like `check_settings`.
    Each version of the API key file loaded is handed to `on_keys`."""
    interceptor = _interceptor(settings, on_keys)
    if interceptor is not None:
        log.info("authentication on: every call needs a credential")
        return [interceptor]
    if settings.allow_unauthenticated:
        log.warning(
            "authentication is OFF (--allow-unauthenticated): anyone who can reach %s can "
            "read and write every namespace",
            _listening(settings),
        )
    else:
        log.warning(
            "authentication is off: %s is loopback-only, so any local process can read and "
            "write every namespace; %s to require credentials",
            _listening(settings),
            _ENABLE,
        )
    return []
