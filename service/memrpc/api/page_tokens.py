"""Page tokens (AIP-158): one opaque codec for every `List*` method.

A token is URL-safe base64 (unpadded) of the JSON array
`[method, fingerprint, position]`:

- `method`: the RPC that made it, so that a token of one list is refused by
  another;
- `fingerprint`: a hash of the request's parameters, every field but
  `page_token` and `page_size` (the only ones that may change between
  pages), so that a token is refused with a request it was not made for;
- `position`: where the next page starts, in each method's own terms (a
  JSON list of strings and numbers the method checks itself).

Tokens are not secret nor signed: a forged position can only name another
place in a listing the caller may read anyway, and each method checks its
shape before use. A token that does not decode, or does not match, gets
`INVALID_ARGUMENT` with `ERROR_REASON_PAGE_TOKEN_INVALID`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from google.protobuf.message import Message

from memrpc.rpc.errors import ApiError
from memrpc.v1.error_reason_pb2 import ErrorReason

# The request fields that may change between the pages of one listing.
_PAGING_FIELDS = ("page_token", "page_size")


def _fingerprint(request: Message) -> str:
    """A hash of the request's parameters, paging fields left out."""
    params = type(request)()
    params.CopyFrom(request)
    for name in _PAGING_FIELDS:
        params.ClearField(name)
    return hashlib.blake2b(params.SerializeToString(deterministic=True), digest_size=8).hexdigest()


def encode(method: str, request: Message, position: list[Any]) -> str:
    """The token of the page of `request` (a `method` request) that starts
    at `position`."""
    raw = json.dumps([method, _fingerprint(request), position], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(method: str, request: Message) -> list[Any] | None:
    """The position in `request.page_token` (None for the first page);
    `INVALID_ARGUMENT` when it is not a token `encode` made for `method`
    and a request with the same parameters."""
    token: str = getattr(request, "page_token")  # noqa: B009 (every List request has one)
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        made_by, fingerprint, position = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise invalid(method) from None
    if made_by != method or not isinstance(position, list):
        raise invalid(method)
    if fingerprint != _fingerprint(request):
        raise invalid(
            method,
            "it was made for a request with other parameters: only page_size may change "
            "between pages",
        )
    return position


def invalid(method: str, why: str = "") -> ApiError:
    """`INVALID_ARGUMENT`: the page token is not one `method` made (`why`);
    also for a position that does not have the shape the method makes."""
    description = f"must be a next_page_token returned by {method}"
    return ApiError.invalid(
        "page_token",
        f"{description}; {why}" if why else description,
        ErrorReason.ERROR_REASON_PAGE_TOKEN_INVALID,
    )
