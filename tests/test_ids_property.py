"""Arbitrary strings in every identifier field get a clean answer: a result,
or INVALID_ARGUMENT (NOT_FOUND / ALREADY_EXISTS where the id is valid but
unknown or taken), never an internal error."""

from __future__ import annotations

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import long_term_memory_pb2 as lpb
from memrpc.v1 import working_memory_pb2 as wm

CLEAN = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS,
}
# Any Unicode text protobuf can carry (valid UTF-8: no lone surrogates),
# biased towards the characters that break query syntaxes and key layouts.
ids = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=140),
    st.text(st.sampled_from("{}|@*\"' -,.:\\()[]~$%^&=<>!?/\t\n\x00é€"), max_size=12),
)

pytestmark = pytest.mark.on_cluster
VECTOR = lpb.Vector(values=[1.0] + [0.0] * 383)


def calls(stubs: tuple, value: str, ns: str) -> list:  # type: ignore[type-arg]
    w, m, e = stubs
    return [
        w.UpdateSession(wm.UpdateSessionRequest(namespace=value, thread_id="t")),
        w.UpdateSession(
            wm.UpdateSessionRequest(
                namespace=ns, thread_id=value, session=wm.SessionInput(user_id=value)
            )
        ),
        w.GetSession(wm.GetSessionRequest(namespace=ns, thread_id=value)),
        w.ListSessions(wm.ListSessionsRequest(namespace=ns, user_id=value)),
        w.ListSessions(wm.ListSessionsRequest(namespace=ns, page_token=value)),
        m.SearchMemories(
            lpb.SearchMemoriesRequest(
                namespace=ns,
                vector=VECTOR,
                filter=lpb.MemoryFilter(user_ids=[value], topics=[value], thread_ids=[value]),
            )
        ),
        m.GetMemory(lpb.GetMemoryRequest(namespace=ns, memory_id=value)),
        m.DeleteMemories(
            lpb.DeleteMemoriesRequest(namespace=ns, filter=lpb.MemoryFilter(user_ids=[value]))
        ),
        e.AppendEvents(
            ev.AppendEventsRequest(
                namespace=ns, thread_id=value, events=[ev.EventInput(type=value)]
            )
        ),
        e.ListEvents(ev.ListEventsRequest(namespace=ns, thread_id="t", start_event_id=value)),
        e.ListEvents(ev.ListEventsRequest(namespace=ns, thread_id="t", page_token=value)),
        e.TrimEvents(ev.TrimEventsRequest(namespace=ns, thread_id="t", min_event_id=value)),
        e.CreateConsumerGroup(ev.CreateConsumerGroupRequest(namespace=ns, group=value)),
        e.ReceiveEvents(ev.ReceiveEventsRequest(namespace=ns, group="g", consumer=value)),
        e.AcknowledgeEvents(
            ev.AcknowledgeEventsRequest(namespace=ns, group="g", delivery_ids=[value])
        ),
    ]


@pytest.fixture(scope="module")
def property_ns() -> str:
    return "property"


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=ids)
async def test_every_id_field_gets_a_clean_status(wm, ltm, events, property_ns, value):
    codes = []
    for call in calls((wm, ltm, events), value, property_ns):
        try:
            await call
            codes.append((grpc.StatusCode.OK, ""))
        except grpc.aio.AioRpcError as err:
            codes.append((err.code(), err.details()))
    unclean = [(code, details) for code, details in codes if code not in CLEAN]
    assert not unclean, (value, unclean)
