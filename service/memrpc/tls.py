"""TLS and mutual TLS for the gRPC server, with certificates reloaded from disk.

`server_credentials(settings)` gives the credentials for `add_secure_port`
(or None for plaintext). gRPC asks them for the certificate on every new
handshake; `CertificateReloader` answers from the files: the same
configuration while the files are unchanged (a few `stat` calls), a new one
once they change and load. A replacement that does not load (a half-written
file, a key that does not match the certificate) is logged and the previous
certificate stays in use until the files change again. Connections already
established are never touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc

from memrpc.config import Settings, SettingsError
from memrpc.file_signature import Signature, signature, signature_or_unreadable

log = logging.getLogger("memrpc.tls")


class TlsConfigError(SettingsError):
    """TLS files the server cannot use; the message says which and why."""


def _reloader(settings: Settings) -> CertificateReloader | None:
    """The files of the settings, loaded; None when TLS is not configured.
    (`Settings.validate()` has checked that the settings go together.)"""
    if settings.tls_cert_file is None or settings.tls_key_file is None:
        return None
    return CertificateReloader(
        settings.tls_cert_file, settings.tls_key_file, settings.tls_client_ca_file
    )


def check_files(settings: Settings) -> None:
    """Raises `TlsConfigError` unless the TLS files of the settings load."""
    _reloader(settings)


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """The server's TLS credentials, reloading their files on change; None
    when TLS is not configured. Raises `TlsConfigError` for files that do
    not load."""
    reloader = _reloader(settings)
    if reloader is None:
        return None
    return grpc.dynamic_ssl_server_credentials(
        reloader.configuration,
        # grpc accepts None ("unchanged") although its stubs do not say so.
        reloader,  # type: ignore[arg-type]
        require_client_authentication=settings.tls_client_ca_file is not None,
    )


def transport_name(settings: Settings) -> str:
    """How the server with these settings talks: for its log."""
    if settings.tls_client_ca_file is not None:
        return "mutual TLS"
    return "plaintext" if settings.tls_cert_file is None else "TLS"


def http_ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context of the HTTP door (`--http-listen`): the files of the
    gRPC server's, reloaded on change the same way (each handshake picks the
    context of the files as they are); None when TLS is not configured."""
    reloader = _reloader(settings)
    if reloader is None:
        return None

    def pick(connection: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
        reloader()
        connection.context = reloader.ssl_context

    outer = reloader.ssl_context
    outer.sni_callback = pick
    return outer


@dataclass(frozen=True)
class _Loaded:
    """One version of the files, checked and ready for gRPC and for HTTP."""

    signature: Signature
    digest: str
    configuration: grpc.ServerCertificateConfiguration
    ssl_context: ssl.SSLContext


class CertificateReloader:
    """The certificate configuration of the files, for gRPC's
    `certificate_configuration_fetcher`: call it to get a new configuration
    when the files changed, or None when they did not."""

    def __init__(self, cert_file: Path, key_file: Path, client_ca_file: Path | None) -> None:
        """Loads the files; raises `TlsConfigError` when they do not load."""
        self._files = tuple(p for p in (cert_file, key_file, client_ca_file) if p is not None)
        self._lock = threading.Lock()
        try:
            loaded = self._load()
        except OSError as err:
            raise TlsConfigError(f"cannot read a TLS file: {err}") from err
        if loaded is None:
            raise TlsConfigError(f"TLS files changed while being read: {self._names()}")
        self._current = loaded
        # The files as last seen, loaded or not: a bad version is reported once.
        self._seen = loaded.signature

    @property
    def configuration(self) -> grpc.ServerCertificateConfiguration:
        """The configuration in use."""
        return self._current.configuration

    @property
    def ssl_context(self) -> ssl.SSLContext:
        """The configuration in use, for an HTTP server."""
        return self._current.ssl_context

    def __call__(self) -> grpc.ServerCertificateConfiguration | None:
        """A new configuration if the files changed and load, else None.

        Called by gRPC on every handshake, on one of its threads; files that
        do not load are logged, not raised (that would fail the handshake)."""
        with self._lock:
            current = signature_or_unreadable(self._files)
            if current == self._seen:
                return None
            try:
                loaded = self._load()
            except (OSError, TlsConfigError) as err:
                self._seen = current
                log.error("TLS files not reloaded, still serving the previous certificate: %s", err)
                return None
            if loaded is None:  # changing under our feet: try again next handshake
                return None
            self._seen = loaded.signature
            if loaded.digest == self._current.digest:
                return None
            self._current = loaded
            log.info("TLS certificate reloaded from %s", self._names())
            return loaded.configuration

    def _load(self) -> _Loaded | None:
        """Checks and reads the files; None when they changed meanwhile."""
        before = signature(self._files)
        _check_files(*self._files)
        contents = [path.read_bytes() for path in self._files]
        if signature(self._files) != before:
            return None
        cert, key, *client_ca = contents
        configuration = grpc.ssl_server_certificate_configuration(
            [(key, cert)], root_certificates=client_ca[0] if client_ca else None
        )
        digest = hashlib.sha256(b"\0".join(contents)).hexdigest()
        return _Loaded(
            before, digest, configuration, _ssl_context(self._files[0], self._files[1], *client_ca)
        )

    def _names(self) -> str:
        return ", ".join(os.fspath(path) for path in self._files)


def _ssl_context(cert_file: Path, key_file: Path, *client_ca: bytes) -> ssl.SSLContext:
    """A server context with the certificate, requiring client certificates
    of the CA (`client_ca`, PEM) if given."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file, password=_no_password)
    context.set_alpn_protocols(["http/1.1"])
    for authorities in client_ca:
        context.load_verify_locations(cadata=authorities.decode("ascii"))
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def _check_files(cert_file: Path, key_file: Path, client_ca_file: Path | None = None) -> None:
    """Raises `TlsConfigError` unless the files hold a PEM certificate chain,
    its unencrypted private key and (if given) PEM CA certificates."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with _refusing(f"{cert_file} is not a PEM certificate chain"):
        context.load_verify_locations(cadata=cert_file.read_text("ascii"))
    with _refusing(
        f"{key_file} is not an unencrypted PEM private key matching the certificate in {cert_file}"
    ):
        context.load_cert_chain(cert_file, key_file, password=_no_password)
    if client_ca_file is not None:
        with _refusing(f"{client_ca_file} is not a PEM CA certificate bundle"):
            context.load_verify_locations(cadata=client_ca_file.read_text("ascii"))


@contextlib.contextmanager
def _refusing(problem: str) -> Iterator[None]:
    """Turns a failure to parse into a `TlsConfigError` saying `problem`."""
    try:
        yield
    except (ssl.SSLError, ValueError) as err:  # ValueError: empty, not ASCII
        raise TlsConfigError(f"{problem} ({err})") from err


def _no_password() -> bytes:
    """Refuses encrypted keys instead of letting OpenSSL prompt on the terminal."""
    raise ValueError("encrypted private keys are not supported")
