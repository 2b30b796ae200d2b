"""api/update_masks.py: the update-mask rules every Update method shares."""

from __future__ import annotations

import pytest
from google.protobuf import duration_pb2
from google.protobuf.field_mask_pb2 import FieldMask

from memrpc.api import update_masks
from memrpc.rpc.errors import ApiError
from memrpc.v1 import working_memory_pb2 as pb
from memrpc.v1.error_reason_pb2 import ErrorReason

ALLOWED = ("user_id", "goal", "scratchpad", "metadata", "turns")
FULL = ("user_id", "goal", "scratchpad", "metadata")


def resolve(paths: list[str], populated: set[str] | None = None) -> frozenset[str]:
    return update_masks.paths_to_write(
        FieldMask(paths=paths), allowed=ALLOWED, full_replace=FULL, populated=populated or set()
    )


def test_populated_names_the_set_fields_only():
    session = pb.SessionInput(goal="g", metadata={"k": "v"})
    assert update_masks.populated(session) == {"goal", "metadata"}
    assert update_masks.populated(pb.SessionInput()) == set()
    request = pb.UpdateSessionRequest(ttl=duration_pb2.Duration())  # present, though zero
    assert update_masks.populated(request) == {"ttl"}


def test_an_empty_mask_writes_the_populated_fields():
    assert resolve([], {"goal", "metadata"}) == {"goal", "metadata"}
    assert resolve([]) == set()


def test_star_alone_writes_the_full_replace_set():
    assert resolve(["*"], {"goal"}) == set(FULL)


def test_named_paths_are_written_once_each():
    assert resolve(["turns", "goal", "goal"]) == {"turns", "goal"}


@pytest.mark.parametrize(
    ("paths", "populated", "says"),
    [
        (["title"], set(), "unknown path 'title'"),
        (["metadata.k"], set(), "unknown path 'metadata.k'"),
        ([""], set(), "unknown path ''"),
        (["*", "goal"], set(), "'*' must be the only path"),
        ([], {"goal", "kind"}, "kind cannot be updated"),
    ],
)
def test_other_masks_are_invalid_on_update_mask(paths, populated, says):
    with pytest.raises(ApiError) as raised:
        resolve(paths, populated)
    assert raised.value.reason == ErrorReason.ERROR_REASON_FIELD_INVALID
    assert raised.value.metadata["field"] == "update_mask"
    assert says in raised.value.message
