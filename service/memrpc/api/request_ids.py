"""Request ids (AIP-155) as requests carry them: the one place for their
rules on the API side. A servicer whose request has a `request_id` field
calls `parse` with the messages that make up the request's content, hands
the `RequestId` to its store (`store/request_ids.py`: how long it is
remembered, how a script is told), and answers `RequestIdReused` with
`reused`.

- Format: empty (no request id), or 1 to `MAX_REQUEST_ID_CHARS` characters
  of `[A-Za-z0-9._-]`, such as a UUID: no `:`, so a request key's parts
  cannot shift.
- Fingerprint: a hash of the content's messages in their deterministic
  encoding (map entries sorted), each prefixed with its length, so that a
  retry matches whatever order its client wrote map entries in and no two
  different contents hash alike by running into each other. Only what the
  request adds counts (events, turns, memories): options such as
  `expected_version` or a TTL may differ in a retry, which still replays.
- Lifetime: `REQUEST_ID_TTL_HOURS` (memrpc/limits.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from google.protobuf.message import Message

from memrpc.limits import MAX_REQUEST_ID_CHARS, REQUEST_ID_TTL_HOURS
from memrpc.rpc.errors import ApiError
from memrpc.store.request_ids import RequestId
from memrpc.v1.error_reason_pb2 import ErrorReason

FIELD = "request_id"
_FORMAT = re.compile(rf"[A-Za-z0-9._-]{{1,{MAX_REQUEST_ID_CHARS}}}")


def parse(value: str, content: Iterable[Message]) -> RequestId | None:
    """The request id in `value` with the fingerprint of `content`, or None
    when `value` is empty; `INVALID_ARGUMENT` on `request_id` when it is
    not a request id."""
    if not value:
        return None
    if not _FORMAT.fullmatch(value):
        raise ApiError.invalid(
            FIELD, f"must be 1 to {MAX_REQUEST_ID_CHARS} of [A-Za-z0-9._-], such as a UUID"
        )
    return RequestId(value, fingerprint(content))


def fingerprint(content: Iterable[Message]) -> str:
    """A hash of messages, in order (see the module docstring)."""
    digest = hashlib.sha256()
    for message in content:
        encoded = message.SerializeToString(deterministic=True)
        digest.update(len(encoded).to_bytes(8, "big"))
        digest.update(encoded)
    return digest.hexdigest()


def reused(request_id: str, scope: str, content: str) -> ApiError:
    """`INVALID_ARGUMENT` (`ERROR_REASON_REQUEST_ID_REUSED`): `request_id`
    named an earlier request `scope` (e.g. "in this thread") whose
    `content` (e.g. "turns") differed."""
    return ApiError.invalid(
        FIELD,
        f"already used {scope} for other {content} within {REQUEST_ID_TTL_HOURS} hours: "
        f"a retry must send the same {content}; new {content} need a new request id",
        ErrorReason.ERROR_REASON_REQUEST_ID_REUSED,
        requestId=request_id,
    )
