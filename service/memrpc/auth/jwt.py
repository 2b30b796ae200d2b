"""JWTs signed by a key of a local JWKS file.

Settings: `jwks_file` (a local JSON Web Key Set, reloaded when it changes by
`reloading.py`, never fetched), `jwt_issuer` and `jwt_audience` (the `iss` a
token must have and a value its `aud` must hold). A token names its key with
the `kid` header and is checked with that key's algorithm only (its `alg`,
or the default of its type: RS256 for RSA, ES256/384/512 by EC curve, EdDSA
for Ed25519), so `alg: none` and HMAC tokens are never accepted. `exp`,
`iss` and `aud` are required; clocks may differ by `LEEWAY_S`.

The scope is in two claims:

- `memrpc_namespaces`: a list of namespaces, or `["*"]` for every namespace;
- `memrpc_access`: `"read"`, `"write"` or `"admin"` (write, and namespace settings).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jwt

from memrpc.auth.credentials import (
    Credential,
    by_name,
    parse_scope,
    permission_denied,
    unauthenticated,
)
from memrpc.v1.error_reason_pb2 import ErrorReason

NAMESPACES_CLAIM = "memrpc_namespaces"
ACCESS_CLAIM = "memrpc_access"
# Public-key algorithms a JWKS key may use.
ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
# Seconds of clock difference tolerated on exp, nbf and iat.
LEEWAY_S = 30
# JWK members that only a private key has.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "k"})


class JwtVerifier:
    """Checks JWTs against the keys of a JWKS file, by `kid`."""

    def __init__(self, keys: dict[str, jwt.PyJWK], *, issuer: str, audience: str) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience

    @classmethod
    def load(cls, path: Path, *, issuer: str | None, audience: str | None) -> JwtVerifier:
        """Reads a JWKS file; raises ValueError naming the file and key at fault."""
        if not issuer or not audience:
            raise ValueError("--jwks-file needs --jwt-issuer and --jwt-audience")
        try:
            document = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise ValueError(f"JWKS file {path}: {err}") from None
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list) or not entries:
            raise ValueError(f'JWKS file {path}: expected {{"keys": [...]}} with at least one key')
        keys = by_name(entries, _parse_key, where=f"JWKS file {path}", name="kid")
        return cls(keys, issuer=issuer, audience=audience)

    def authenticate(self, token: str) -> Credential:
        """The credential of a JWT; raises `UNAUTHENTICATED` for a token this
        server cannot trust, `PERMISSION_DENIED` for one without a scope."""
        claims = self._verify(token)
        try:
            namespaces, access = parse_scope(claims.get(NAMESPACES_CLAIM), claims.get(ACCESS_CLAIM))
        except ValueError as err:
            raise permission_denied(
                ErrorReason.ERROR_REASON_SCOPE_MISSING,
                f"the JWT grants no memrpc scope ({NAMESPACES_CLAIM}, {ACCESS_CLAIM}): {err}",
            ) from None
        subject = str(claims.get("sub", "?"))
        return Credential(f"JWT of {subject!r}", namespaces, access, f"jwt:{subject}")

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError:
            raise unauthenticated(
                ErrorReason.ERROR_REASON_CREDENTIAL_MISSING,
                "malformed token: expected an API key (mrk_<id>_<secret>) or a JWT",
            ) from None
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise unauthenticated(
                ErrorReason.ERROR_REASON_CREDENTIAL_INVALID,
                "the JWT's kid names no key of the server's JWKS file",
            )
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm_name],
                issuer=self._issuer,
                audience=self._audience,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise unauthenticated(
                ErrorReason.ERROR_REASON_CREDENTIAL_EXPIRED, "the JWT has expired: get a new one"
            ) from None
        except jwt.InvalidIssuerError:
            raise unauthenticated(
                ErrorReason.ERROR_REASON_CREDENTIAL_INVALID,
                "the JWT's iss is not the server's --jwt-issuer",
            ) from None
        except jwt.InvalidAudienceError:
            raise unauthenticated(
                ErrorReason.ERROR_REASON_CREDENTIAL_INVALID,
                "the JWT's aud does not hold the server's --jwt-audience",
            ) from None
        except jwt.InvalidAlgorithmError:
            raise unauthenticated(
                ErrorReason.ERROR_REASON_CREDENTIAL_INVALID,
                f"the JWT's alg must be {key.algorithm_name}, the algorithm of its key",
            ) from None
        except jwt.InvalidTokenError as err:
            raise unauthenticated(
                ErrorReason.ERROR_REASON_CREDENTIAL_INVALID, f"invalid JWT: {err}"
            ) from None
        return claims


def _parse_key(entry: object) -> tuple[str, jwt.PyJWK]:
    if not isinstance(entry, dict):
        raise ValueError("must be a JSON object")
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ValueError("needs a kid (tokens name their key by it)")
    if _PRIVATE_MEMBERS & entry.keys():
        raise ValueError(f"kid {kid!r} is a private or shared key: list only public keys")
    try:
        key = jwt.PyJWK(entry)
    except jwt.PyJWTError as err:
        raise ValueError(f"kid {kid!r}: {err}") from None
    if key.algorithm_name not in ALGORITHMS:
        raise ValueError(
            f"kid {kid!r}: algorithm {key.algorithm_name} is not one of {sorted(ALGORITHMS)}"
        )
    return kid, key
