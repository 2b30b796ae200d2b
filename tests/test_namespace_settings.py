"""Namespace settings (`memrpc.v1.Namespaces`) and the precedence request >
namespace > server, end to end against the real Redis and model.

Get on a fresh namespace; update and get; the update mask (leaf, message,
empty, `*`, unknown paths); every range refused naming its field, with
nothing changed; expected versions; admin access; each setting followed by
the calls that fall back on it (GetContext's search and the summary job
included), while a request's own value wins and other namespaces keep the
server's defaults; a second server on the same Redis
following a change within the cache's bound; the cache itself (hits cost no
Redis read, concurrent misses share one, a failed read serves the last
value for a bounded time).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator

import grpc
import numpy as np
import pytest
from google.protobuf import duration_pb2, field_mask_pb2

from conftest import make_settings, running
from memrpc import namespace_cache
from memrpc.api.convert import RECALL_MODE_NUMBERS
from memrpc.config import Settings
from memrpc.embedding import BatchingEmbedder
from memrpc.jobs.fold import FoldJob
from memrpc.jobs.formation import FormationJob
from memrpc.limits import (
    EPISODIC_TTL_S,
    FORMATION_MAX_CHARS,
    SUMMARY_MAX_CHARS,
    Limits,
    Range,
)
from memrpc.models import Model, Models
from memrpc.namespace_cache import NamespaceCache, as_settings, resolve
from memrpc.namespace_defaults import NamespaceDefaults, RecallMode, server_defaults
from memrpc.server import MemrpcServer
from memrpc.store.cluster_mux import client_for
from memrpc.store.formation import FormationStore
from memrpc.store.long_term import LongTermStore
from memrpc.store.memory_index import ORIGINAL_FIELD
from memrpc.store.namespace_settings import SETTINGS, NamespaceSettingsStore, StoredSettings
from memrpc.store.redis_mux import RedisMux
from memrpc.store.stream_ids import order_of
from memrpc.store.summaries import SummaryStore
from memrpc.summaries.extractive import ExtractiveSummarizer
from memrpc.v1 import long_term_memory_pb2 as ltm_pb
from memrpc.v1 import namespace_settings_pb2 as pb
from memrpc.v1 import namespace_settings_pb2_grpc
from memrpc.v1 import working_memory_pb2 as wm_pb
from support import assert_invalid, assert_reason
from test_auth import NS_A as AUTH_NS
from test_auth import auth, bearer, secured  # noqa: F401 (the auth server's fixtures)

pytestmark = [pytest.mark.genuine_redis, pytest.mark.on_cluster]

ABORTED = grpc.StatusCode.ABORTED
PERMISSION_DENIED = grpc.StatusCode.PERMISSION_DENIED
# How long a poll for another server's view waits at most: the cache's bound
# and a margin for a loaded machine.
FOLLOW_WAIT_S = namespace_cache.FRESH_S + 3.0


@pytest.fixture
def nss(channel: grpc.aio.Channel) -> namespace_settings_pb2_grpc.NamespacesStub:
    return namespace_settings_pb2_grpc.NamespacesStub(channel)


def secs(value: float) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=int(value), nanos=round(value % 1 * 1e9))


def mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


def setting(path: str, value: object) -> pb.NamespaceSettings:
    """Settings with the leaf at `path` set to `value`."""
    settings = pb.NamespaceSettings()
    group, name = path.split(".")
    parent = getattr(settings, group)
    if isinstance(value, duration_pb2.Duration):
        getattr(parent, name).CopyFrom(value)
    else:
        setattr(parent, name, value)
    return settings


async def update(
    nss: namespace_settings_pb2_grpc.NamespacesStub,
    ns: str,
    settings: pb.NamespaceSettings,
    *paths: str,
    **fields: object,
) -> pb.UpdateNamespaceSettingsResponse:
    request = pb.UpdateNamespaceSettingsRequest(
        namespace=ns, settings=settings, update_mask=mask(*paths), **fields
    )
    response: pb.UpdateNamespaceSettingsResponse = await nss.UpdateNamespaceSettings(request)
    return response


async def stored(nss: namespace_settings_pb2_grpc.NamespacesStub, ns: str) -> pb.NamespaceSettings:
    response = await nss.GetNamespaceSettings(pb.GetNamespaceSettingsRequest(namespace=ns))
    return response.settings


def server_effective(ns: str, server: MemrpcServer, version: int = 0) -> pb.NamespaceSettings:
    """The effective settings of a namespace with none of its own."""
    d = server.defaults.server
    return pb.NamespaceSettings(
        namespace=ns,
        version=version,
        sessions=pb.SessionDefaults(
            ttl=secs(d.session_ttl_s),
            max_window_turns=d.window_turns,
            max_window_bytes=d.window_bytes,
        ),
        memories=pb.MemoryDefaults(
            dedup_max_distance=d.dedup_distance,
            recall_max_distance=d.recall_distance,
            episodic_ttl=secs(d.episodic_ttl_s),
            recall_mode=RECALL_MODE_NUMBERS[d.recall_mode],
            keyword_weight=d.keyword_weight,
            neighbor_weight=d.neighbor_weight,
            time_weight=d.time_weight,
        ),
        summaries=pb.SummaryPolicy(
            enabled=d.summaries.enabled,
            max_chars=d.summaries.max_chars,
            min_fold_turns=d.summaries.min_fold_turns,
        ),
        formation=pb.FormationPolicy(
            enabled=d.formation.enabled,
            turns_per_memory=d.formation.turns_per_memory,
            max_chars=d.formation.max_chars,
            extract_facts=d.formation.extract_facts,
        ),
        consolidation=pb.ConsolidationPolicy(
            enabled=d.consolidation.enabled,
            max_distance=d.consolidation.max_distance,
            interval=secs(d.consolidation.interval_s),
        ),
        # `forget_unrecalled_after` unset: never (the server's default).
        forgetting=pb.ForgettingPolicy(
            enabled=d.forgetting.enabled,
            max_memories_per_user=d.forgetting.max_memories_per_user,
            interval=secs(d.forgetting.interval_s),
        ),
        language_model=pb.LanguageModelPolicy(
            enabled=d.language_model.enabled,
            max_calls_per_minute=d.language_model.max_calls_per_minute,
        ),
    )


# -- Get and Update -------------------------------------------------------------


async def test_a_fresh_namespace_has_no_settings_and_the_servers_defaults(nss, ns, memrpc_server):
    response = await nss.GetNamespaceSettings(pb.GetNamespaceSettingsRequest(namespace=ns))
    assert response.settings == pb.NamespaceSettings(namespace=ns, version=0)
    assert not response.settings.HasField("update_time")
    assert response.effective == server_effective(ns, memrpc_server)
    assert response.effective.sessions.ttl.seconds == 3600
    assert response.effective.memories.episodic_ttl.seconds == EPISODIC_TTL_S


async def test_update_then_get(nss, ns, memrpc_server):
    new = pb.NamespaceSettings(
        sessions=pb.SessionDefaults(max_window_turns=5, ttl=secs(90)),
        memories=pb.MemoryDefaults(dedup_max_distance=0.0),
        summaries=pb.SummaryPolicy(enabled=False),
        formation=pb.FormationPolicy(turns_per_memory=4),
    )
    before = time.time()
    updated = await update(nss, ns, new)
    got = await nss.GetNamespaceSettings(pb.GetNamespaceSettingsRequest(namespace=ns))
    assert got.settings == updated.settings
    assert got.effective == updated.effective
    settings = got.settings
    assert settings.version == 1
    assert settings.update_time.ToSeconds() >= int(before)
    assert settings.sessions == pb.SessionDefaults(max_window_turns=5, ttl=secs(90))
    assert settings.memories.HasField("dedup_max_distance")
    assert settings.memories.dedup_max_distance == 0.0
    assert not settings.memories.HasField("recall_max_distance")
    assert settings.summaries == pb.SummaryPolicy(enabled=False)
    assert settings.formation == pb.FormationPolicy(turns_per_memory=4)
    expected = server_effective(ns, memrpc_server, version=1)
    expected.update_time.CopyFrom(settings.update_time)
    expected.sessions.max_window_turns = 5
    expected.sessions.ttl.CopyFrom(secs(90))
    expected.memories.dedup_max_distance = 0.0
    expected.summaries.enabled = False
    expected.formation.turns_per_memory = 4
    assert got.effective == expected


async def test_an_unset_leaf_named_by_the_mask_is_cleared_and_others_kept(nss, ns):
    first = pb.NamespaceSettings(
        sessions=pb.SessionDefaults(max_window_turns=5, ttl=secs(90)),
        summaries=pb.SummaryPolicy(max_chars=500),
    )
    await update(nss, ns, first)
    # A leaf path: only that leaf, even though another is set in the input.
    only_ttl = pb.NamespaceSettings(sessions=pb.SessionDefaults(max_window_turns=9))
    after = (await update(nss, ns, only_ttl, "sessions.ttl")).settings
    assert after.sessions == pb.SessionDefaults(max_window_turns=5)
    assert after.summaries.max_chars == 500
    assert after.version == 2


async def test_a_message_path_writes_all_its_leaves(nss, ns):
    first = pb.NamespaceSettings(
        sessions=pb.SessionDefaults(max_window_turns=5, ttl=secs(90), max_window_bytes=4096),
        memories=pb.MemoryDefaults(recall_max_distance=0.3),
    )
    await update(nss, ns, first)
    new = pb.NamespaceSettings(sessions=pb.SessionDefaults(max_window_turns=7))
    after = (await update(nss, ns, new, "sessions")).settings
    assert after.sessions == pb.SessionDefaults(max_window_turns=7)
    assert after.memories.recall_max_distance == pytest.approx(0.3)


async def test_an_empty_mask_writes_the_set_fields(nss, ns):
    await update(nss, ns, pb.NamespaceSettings(sessions=pb.SessionDefaults(max_window_turns=5)))
    new = pb.NamespaceSettings(summaries=pb.SummaryPolicy(min_fold_turns=4))
    after = (await update(nss, ns, new)).settings
    assert after.sessions.max_window_turns == 5
    assert after.summaries.min_fold_turns == 4


async def test_a_star_mask_replaces_every_setting(nss, ns):
    first = pb.NamespaceSettings(
        sessions=pb.SessionDefaults(max_window_turns=5, ttl=secs(90)),
        memories=pb.MemoryDefaults(
            dedup_max_distance=0.1,
            episodic_ttl=secs(3600),
            recall_mode=ltm_pb.RECALL_MODE_KEYWORD,
            keyword_weight=1,
        ),
        summaries=pb.SummaryPolicy(max_chars=500, enabled=True),
        consolidation=pb.ConsolidationPolicy(enabled=False, interval=secs(600)),
        forgetting=pb.ForgettingPolicy(max_memories_per_user=5),
        language_model=pb.LanguageModelPolicy(enabled=True, max_calls_per_minute=3),
    )
    await update(nss, ns, first)
    new = pb.NamespaceSettings(summaries=pb.SummaryPolicy(enabled=False))
    await update(nss, ns, pb.NamespaceSettings(formation=pb.FormationPolicy(enabled=False)))
    after = (await update(nss, ns, new, "*")).settings
    assert after == pb.NamespaceSettings(
        namespace=ns,
        version=3,
        summaries=pb.SummaryPolicy(enabled=False),
        update_time=after.update_time,
    )


@pytest.mark.parametrize(
    "paths",
    [
        ["sessions.nope"],
        ["namespace"],
        ["version"],
        ["sessions.ttl.seconds"],
        ["*", "sessions"],
    ],
)
async def test_other_mask_paths_are_refused(nss, ns, paths):
    new = pb.NamespaceSettings(sessions=pb.SessionDefaults(max_window_turns=5))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await update(nss, ns, new, *paths)
    assert_invalid(err.value, "update_mask")
    assert (await stored(nss, ns)).version == 0


async def test_an_update_that_names_nothing_is_refused(nss, ns):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await update(nss, ns, pb.NamespaceSettings(namespace="ignored", version=4))
    assert_invalid(err.value, "settings")


def _out_of_range(budget: int) -> list[tuple[str, pb.NamespaceSettings]]:
    S, M, P, F = pb.SessionDefaults, pb.MemoryDefaults, pb.SummaryPolicy, pb.FormationPolicy
    day = 86_400
    year = 365.25 * day
    return [
        ("sessions.ttl", pb.NamespaceSettings(sessions=S(ttl=secs(0.5)))),
        ("sessions.ttl", pb.NamespaceSettings(sessions=S(ttl=secs(31 * 86_400)))),
        ("sessions.ttl", pb.NamespaceSettings(sessions=S(ttl=duration_pb2.Duration(seconds=-5)))),
        ("sessions.max_window_turns", pb.NamespaceSettings(sessions=S(max_window_turns=1001))),
        ("sessions.max_window_turns", pb.NamespaceSettings(sessions=S(max_window_turns=-1))),
        ("sessions.max_window_bytes", pb.NamespaceSettings(sessions=S(max_window_bytes=1023))),
        (
            "sessions.max_window_bytes",
            pb.NamespaceSettings(sessions=S(max_window_bytes=budget + 1)),
        ),
        ("memories.dedup_max_distance", pb.NamespaceSettings(memories=M(dedup_max_distance=1.5))),
        ("memories.dedup_max_distance", pb.NamespaceSettings(memories=M(dedup_max_distance=-0.1))),
        (
            "memories.recall_max_distance",
            pb.NamespaceSettings(memories=M(recall_max_distance=2.5)),
        ),
        (
            "memories.recall_max_distance",
            pb.NamespaceSettings(memories=M(recall_max_distance=float("nan"))),
        ),
        ("memories.episodic_ttl", pb.NamespaceSettings(memories=M(episodic_ttl=secs(0.5)))),
        ("memories.episodic_ttl", pb.NamespaceSettings(memories=M(episodic_ttl=secs(11 * year)))),
        ("summaries.max_chars", pb.NamespaceSettings(summaries=P(max_chars=199))),
        (
            "summaries.max_chars",
            pb.NamespaceSettings(summaries=P(max_chars=int(SUMMARY_MAX_CHARS.high) + 1)),
        ),
        ("summaries.min_fold_turns", pb.NamespaceSettings(summaries=P(min_fold_turns=101))),
        ("summaries.min_fold_turns", pb.NamespaceSettings(summaries=P(min_fold_turns=-3))),
        ("formation.turns_per_memory", pb.NamespaceSettings(formation=F(turns_per_memory=101))),
        ("formation.turns_per_memory", pb.NamespaceSettings(formation=F(turns_per_memory=-1))),
        ("formation.max_chars", pb.NamespaceSettings(formation=F(max_chars=199))),
        (
            "formation.max_chars",
            pb.NamespaceSettings(formation=F(max_chars=int(FORMATION_MAX_CHARS.high) + 1)),
        ),
        *(
            (path, setting(path, value))
            for path, value in [
                ("memories.keyword_weight", -0.5),
                ("memories.keyword_weight", 10.5),
                ("memories.keyword_weight", float("inf")),
                ("memories.neighbor_weight", -0.5),
                ("memories.neighbor_weight", 10.5),
                ("memories.time_weight", -0.5),
                ("memories.time_weight", float("nan")),
                ("memories.recall_mode", 4),  # not a RecallMode
                ("consolidation.max_distance", 1.01),
                ("consolidation.max_distance", -1),
                ("consolidation.interval", secs(59)),
                ("consolidation.interval", secs(8 * day)),
                ("forgetting.max_memories_per_user", 10_000_001),
                ("forgetting.max_memories_per_user", -1),
                ("forgetting.forget_unrecalled_after", secs(3599)),
                ("forgetting.forget_unrecalled_after", secs(11 * year)),
                ("forgetting.interval", secs(30)),
                ("forgetting.interval", secs(8 * day)),
                ("language_model.max_calls_per_minute", 100_001),
                ("language_model.max_calls_per_minute", -1),
            ]
        ),
    ]


async def test_every_range_is_refused_naming_its_field_and_nothing_changes(nss, ns, memrpc_server):
    budget = memrpc_server.defaults.server.window_bytes
    await update(nss, ns, pb.NamespaceSettings(summaries=pb.SummaryPolicy(max_chars=500)))
    for field, bad in _out_of_range(budget):
        bad.summaries.enabled = False  # a valid change in the same request
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await update(nss, ns, bad)
        assert_invalid(err.value, f"settings.{field}")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await update(nss, ns, bad, field)
        assert_invalid(err.value, f"settings.{field}")
    after = await stored(nss, ns)
    assert after.version == 1
    assert not after.summaries.HasField("enabled")


async def test_the_bounds_themselves_are_accepted(nss, ns, memrpc_server):
    budget = memrpc_server.defaults.server.window_bytes
    low = pb.NamespaceSettings(
        sessions=pb.SessionDefaults(ttl=secs(1), max_window_turns=1, max_window_bytes=1024),
        memories=pb.MemoryDefaults(
            dedup_max_distance=0,
            recall_max_distance=0,
            episodic_ttl=secs(1),
            recall_mode=ltm_pb.RECALL_MODE_KEYWORD,
            keyword_weight=0,
            neighbor_weight=0,
            time_weight=0,
        ),
        summaries=pb.SummaryPolicy(max_chars=200, min_fold_turns=1, enabled=False),
        formation=pb.FormationPolicy(
            enabled=False, turns_per_memory=1, max_chars=200, extract_facts=False
        ),
        consolidation=pb.ConsolidationPolicy(enabled=False, max_distance=0, interval=secs(60)),
        forgetting=pb.ForgettingPolicy(
            enabled=False, forget_unrecalled_after=secs(3600), interval=secs(60)
        ),
        language_model=pb.LanguageModelPolicy(enabled=False, max_calls_per_minute=1),
    )
    high = pb.NamespaceSettings(
        sessions=pb.SessionDefaults(
            ttl=secs(30 * 86_400), max_window_turns=1000, max_window_bytes=budget
        ),
        memories=pb.MemoryDefaults(
            dedup_max_distance=1,
            recall_max_distance=2,
            episodic_ttl=secs(10 * 365.25 * 86_400),
            recall_mode=ltm_pb.RECALL_MODE_HYBRID,
            keyword_weight=10,
            neighbor_weight=10,
            time_weight=10,
        ),
        summaries=pb.SummaryPolicy(
            max_chars=int(SUMMARY_MAX_CHARS.high), min_fold_turns=100, enabled=True
        ),
        formation=pb.FormationPolicy(
            enabled=True,
            turns_per_memory=100,
            max_chars=int(FORMATION_MAX_CHARS.high),
            extract_facts=True,
        ),
        consolidation=pb.ConsolidationPolicy(
            enabled=True, max_distance=1, interval=secs(7 * 86_400)
        ),
        forgetting=pb.ForgettingPolicy(
            enabled=True,
            max_memories_per_user=10_000_000,
            forget_unrecalled_after=secs(10 * 365.25 * 86_400),
            interval=secs(7 * 86_400),
        ),
        language_model=pb.LanguageModelPolicy(enabled=True, max_calls_per_minute=100_000),
    )
    for settings in (low, high):
        response = await update(nss, ns, settings, "*")
        settings.namespace = ns
        settings.version = response.settings.version
        settings.update_time.CopyFrom(response.settings.update_time)
        assert response.settings == settings
        assert response.effective == settings


async def test_a_value_the_mask_does_not_name_is_not_read(nss, ns):
    new = pb.NamespaceSettings(
        sessions=pb.SessionDefaults(max_window_turns=4, ttl=secs(0.5))  # ttl out of range
    )
    after = (await update(nss, ns, new, "sessions.max_window_turns")).settings
    assert after.sessions == pb.SessionDefaults(max_window_turns=4)


# Each setting of the policies of issue 15, a value other than the server's,
# and the field of the resolved defaults (`NamespaceDefaults`) it sets to
# what.
POLICY_LEAVES: list[tuple[str, object, str, object]] = [
    ("memories.recall_mode", ltm_pb.RECALL_MODE_VECTOR, "recall_mode", RecallMode.VECTOR),
    ("memories.keyword_weight", 2.5, "keyword_weight", 2.5),
    ("memories.neighbor_weight", 0.75, "neighbor_weight", 0.75),
    ("memories.time_weight", 1.25, "time_weight", 1.25),
    ("formation.extract_facts", False, "formation.extract_facts", False),
    ("consolidation.enabled", False, "consolidation.enabled", False),
    ("consolidation.max_distance", 0.125, "consolidation.max_distance", 0.125),
    ("consolidation.interval", secs(90.5), "consolidation.interval_s", 90.5),
    ("forgetting.enabled", False, "forgetting.enabled", False),
    ("forgetting.max_memories_per_user", 250, "forgetting.max_memories_per_user", 250),
    ("forgetting.forget_unrecalled_after", secs(2 * 86_400), "forgetting.unrecalled_s", 172_800),
    ("forgetting.interval", secs(600), "forgetting.interval_s", 600),
    ("language_model.enabled", False, "language_model.enabled", False),
    ("language_model.max_calls_per_minute", 7, "language_model.max_calls_per_minute", 7),
]


def resolved(defaults: NamespaceDefaults, path: str) -> object:
    """The field of `defaults` at a dotted `path`."""
    value: object = defaults
    for name in path.split("."):
        value = getattr(value, name)
    return value


@pytest.mark.parametrize("leaf", POLICY_LEAVES, ids=[leaf[0] for leaf in POLICY_LEAVES])
async def test_each_policy_setting_round_trips_applies_and_clears(nss, ns, memrpc_server, leaf):
    path, given, field, value = leaf
    settings = setting(path, given)
    group, name = path.split(".")
    server = memrpc_server.defaults.server
    assert resolved(server, field) != value  # the test sets something else
    updated = await update(nss, ns, settings, path)
    # Stored: that leaf alone; in effect: that leaf, the server's elsewhere.
    assert updated.settings == pb.NamespaceSettings(
        namespace=ns,
        version=1,
        update_time=updated.settings.update_time,
        **{group: getattr(settings, group)},
    )
    expected = server_effective(ns, memrpc_server, version=1)
    expected.update_time.CopyFrom(updated.settings.update_time)
    expected_group = getattr(expected, group)
    expected_group.ClearField(name)
    expected_group.MergeFrom(getattr(settings, group))
    assert updated.effective == expected
    got = await nss.GetNamespaceSettings(pb.GetNamespaceSettingsRequest(namespace=ns))
    assert (got.settings, got.effective) == (updated.settings, updated.effective)
    # Resolved for the calls and jobs of the namespace, not of others.
    assert resolved(await memrpc_server.defaults.defaults(ns), field) == value
    assert resolved(await memrpc_server.defaults.defaults(f"o{ns}"), field) != value
    # Named by the mask but unset: cleared, the server's again.
    cleared = await update(nss, ns, pb.NamespaceSettings(), path)
    assert cleared.settings == pb.NamespaceSettings(
        namespace=ns, version=2, update_time=cleared.settings.update_time
    )
    assert resolved(await memrpc_server.defaults.defaults(ns), field) == resolved(server, field)


@pytest.mark.parametrize("group", ["consolidation", "forgetting", "language_model"])
async def test_a_policy_message_path_writes_all_its_leaves(nss, ns, group):
    whole = pb.NamespaceSettings()
    for path, given, _, _ in POLICY_LEAVES:
        if path.startswith(f"{group}."):
            whole.MergeFrom(setting(path, given))
    await update(nss, ns, whole)
    assert getattr(await stored(nss, ns), group) == getattr(whole, group)
    one = pb.NamespaceSettings()
    getattr(one, group).enabled = True
    after = await update(nss, ns, one, group)
    assert getattr(after.settings, group) == getattr(one, group)
    cleared = (await update(nss, ns, pb.NamespaceSettings(), group)).settings
    assert cleared == pb.NamespaceSettings(namespace=ns, version=3, update_time=cleared.update_time)


async def test_expected_version(nss, ns):
    new = pb.NamespaceSettings(sessions=pb.SessionDefaults(max_window_turns=4))
    assert (await update(nss, ns, new, expected_version=0)).settings.version == 1
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await update(nss, ns, new, expected_version=0)
    found = assert_reason(err.value, ABORTED, "VERSION_MISMATCH")
    assert found == {"expectedVersion": "0", "currentVersion": "1"}
    assert (await update(nss, ns, new, expected_version=1)).settings.version == 2
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await update(nss, ns, new, expected_version=-1)
    assert_invalid(err.value, "expected_version")
    assert (await stored(nss, ns)).version == 2


# -- Admin access -----------------------------------------------------------------


async def test_only_an_admin_credential_may_update_and_a_reader_may_get(auth, secured):  # noqa: F811
    stub = namespace_settings_pb2_grpc.NamespacesStub(secured)
    request = pb.UpdateNamespaceSettingsRequest(
        namespace=AUTH_NS,
        settings=pb.NamespaceSettings(sessions=pb.SessionDefaults(max_window_turns=6)),
    )
    for role in ("reader", "writer"):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.UpdateNamespaceSettings(request, metadata=bearer(auth.tokens[role]))
        found = assert_reason(err.value, PERMISSION_DENIED, "METHOD_FORBIDDEN")
        assert found == {"method": "/memrpc.v1.Namespaces/UpdateNamespaceSettings"}
        assert "needs admin access" in (err.value.details() or "")
    admin = bearer(auth.tokens["admin"])
    updated = await stub.UpdateNamespaceSettings(request, metadata=admin)
    assert updated.settings.sessions.max_window_turns == 6
    get = pb.GetNamespaceSettingsRequest(namespace=AUTH_NS)
    read = await stub.GetNamespaceSettings(get, metadata=bearer(auth.tokens["reader"]))
    assert read.settings == updated.settings
    other = pb.UpdateNamespaceSettingsRequest(namespace=f"x{AUTH_NS}", settings=request.settings)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.UpdateNamespaceSettings(other, metadata=admin)
    assert_reason(err.value, PERMISSION_DENIED, "NAMESPACE_FORBIDDEN")


# -- Precedence: request > namespace > server -----------------------------------------


def turns(count: int, content: str = "hello") -> list[wm_pb.TurnInput]:
    return [wm_pb.TurnInput(role="user", content=f"{content} {i}") for i in range(count)]


async def window_of(wm, ns: str, thread: str) -> int:
    response = await wm.GetSession(wm_pb.GetSessionRequest(namespace=ns, thread_id=thread))
    return len(response.session.turns)


async def test_window_turns_follow_the_namespace_unless_the_request_sets_them(nss, wm, ns):
    other = f"o{ns}"
    await update(nss, ns, pb.NamespaceSettings(sessions=pb.SessionDefaults(max_window_turns=3)))
    await wm.AppendTurns(wm_pb.AppendTurnsRequest(namespace=ns, thread_id="t", turns=turns(5)))
    assert await window_of(wm, ns, "t") == 3
    await wm.AppendTurns(
        wm_pb.AppendTurnsRequest(namespace=ns, thread_id="t", turns=turns(5), max_window_turns=4)
    )
    assert await window_of(wm, ns, "t") == 4
    await wm.AppendTurns(wm_pb.AppendTurnsRequest(namespace=other, thread_id="t", turns=turns(5)))
    assert await window_of(wm, other, "t") == 5


async def test_the_window_byte_budget_follows_the_namespace(nss, wm, ns):
    await update(nss, ns, pb.NamespaceSettings(sessions=pb.SessionDefaults(max_window_bytes=1024)))
    request = wm_pb.AppendTurnsRequest(namespace=ns, thread_id="t", turns=turns(10, "x" * 200))
    appended = await wm.AppendTurns(request)
    assert appended.evicted_turn_count > 0
    assert 0 < await window_of(wm, ns, "t") < 10
    big = wm_pb.AppendTurnsRequest(namespace=ns, thread_id="t", turns=turns(1, "y" * 1100))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await wm.AppendTurns(big)
    assert_invalid(err.value, "turns[0]")
    big.namespace = f"o{ns}"
    await wm.AppendTurns(big)  # the server's budget elsewhere


def lifetime_s(session: wm_pb.Session) -> float:
    return (session.expire_time.ToMilliseconds() - session.update_time.ToMilliseconds()) / 1000


async def test_session_ttl_follows_the_namespace_unless_the_request_sets_it(nss, wm, ns):
    await update(nss, ns, pb.NamespaceSettings(sessions=pb.SessionDefaults(ttl=secs(120))))
    goal = wm_pb.SessionInput(goal="g")
    plain = await wm.UpdateSession(
        wm_pb.UpdateSessionRequest(namespace=ns, thread_id="t", session=goal)
    )
    assert lifetime_s(plain.session) == 120
    own = await wm.UpdateSession(
        wm_pb.UpdateSessionRequest(namespace=ns, thread_id="t", session=goal, ttl=secs(60))
    )
    assert lifetime_s(own.session) == 60
    await wm.AppendTurns(wm_pb.AppendTurnsRequest(namespace=ns, thread_id="a", turns=turns(1)))
    get = wm_pb.GetSessionRequest(namespace=ns, thread_id="a")
    assert lifetime_s((await wm.GetSession(get)).session) == 120
    elsewhere = await wm.UpdateSession(
        wm_pb.UpdateSessionRequest(namespace=f"o{ns}", thread_id="t", session=goal)
    )
    assert lifetime_s(elsewhere.session) == 3600


def unit(dim: int, cosine_to_first: float) -> list[float]:
    """A unit vector at the given cosine similarity to the first axis."""
    vector = np.zeros(dim)
    vector[0], vector[1] = cosine_to_first, np.sqrt(1 - cosine_to_first**2)
    return vector.tolist()


def memory(text: str, vector: list[float], **fields: object) -> ltm_pb.MemoryInput:
    return ltm_pb.MemoryInput(text=text, embedding=vector, user_id="u", **fields)


async def test_dedup_distance_follows_the_namespace_unless_the_request_sets_it(
    nss, ltm, ns, embedder
):
    first, near = unit(embedder.dim, 1.0), unit(embedder.dim, 0.9)  # distance 0.1
    DUPLICATE = ltm_pb.CREATE_OUTCOME_DUPLICATE

    async def second_is_duplicate(namespace: str, **fields: object) -> bool:
        await ltm.CreateMemories(
            ltm_pb.CreateMemoriesRequest(namespace=namespace, memories=[memory("a", first)])
        )
        created = await ltm.CreateMemories(
            ltm_pb.CreateMemoriesRequest(
                namespace=namespace, memories=[memory("b", near)], **fields
            )
        )
        return created.results[0].outcome == DUPLICATE

    memories = pb.MemoryDefaults(dedup_max_distance=0.05)
    await update(nss, ns, pb.NamespaceSettings(memories=memories))
    assert not await second_is_duplicate(ns)
    assert await second_is_duplicate(f"r{ns}", dedup_max_distance=0.2)  # the server's
    await update(nss, f"q{ns}", pb.NamespaceSettings(memories=memories))
    assert await second_is_duplicate(f"q{ns}", dedup_max_distance=0.15)  # the request's
    assert await second_is_duplicate(f"o{ns}")  # the server's default, 0.2


async def test_recall_distance_follows_the_namespace_unless_the_request_sets_it(
    nss, ltm, wm, ns, embedder
):
    stored_at, query = unit(embedder.dim, 1.0), unit(embedder.dim, 0.9)  # distance 0.1
    memories = pb.MemoryDefaults(recall_max_distance=0.05)
    await update(nss, ns, pb.NamespaceSettings(memories=memories))

    async def found(namespace: str, **fields: object) -> int:
        search = ltm_pb.SearchMemoriesRequest(
            namespace=namespace, vector=ltm_pb.Vector(values=query), **fields
        )
        return len((await ltm.SearchMemories(search)).matches)

    for namespace in (ns, f"o{ns}"):
        await ltm.CreateMemories(
            ltm_pb.CreateMemoriesRequest(namespace=namespace, memories=[memory("a", stored_at)])
        )
    assert await found(ns) == 0
    assert await found(ns, max_distance=0.2) == 1
    assert await found(f"o{ns}") == 1

    async def in_context(namespace: str, **fields: object) -> int:
        request = wm_pb.GetContextRequest(
            namespace=namespace, thread_id="t", vector=ltm_pb.Vector(values=query), **fields
        )
        return len((await wm.GetContext(request)).matches)

    assert await in_context(ns) == 0
    assert await in_context(ns, max_distance=0.2) == 1
    assert await in_context(f"o{ns}") == 1


async def test_episodic_ttl_follows_the_namespace_unless_the_request_sets_it(
    nss, ltm, ns, embedder
):
    memories = pb.MemoryDefaults(episodic_ttl=secs(3600))
    await update(nss, ns, pb.NamespaceSettings(memories=memories))
    EPISODIC, SEMANTIC = ltm_pb.MEMORY_KIND_EPISODIC, ltm_pb.MEMORY_KIND_SEMANTIC

    async def lifetimes(namespace: str) -> list[float | None]:
        created = await ltm.CreateMemories(
            ltm_pb.CreateMemoriesRequest(
                namespace=namespace,
                memories=[
                    memory("a", unit(embedder.dim, 1.0), kind=EPISODIC),
                    memory("b", unit(embedder.dim, 0.0), kind=EPISODIC, ttl=secs(60)),
                    memory("c", unit(embedder.dim, 0.5), kind=SEMANTIC),
                ],
                dedup_max_distance=0,
            )
        )
        return [
            (m.expire_time.ToMilliseconds() - m.create_time.ToMilliseconds()) / 1000
            if m.HasField("expire_time")
            else None
            for m in (r.memory for r in created.results)
        ]

    assert await lifetimes(ns) == [3600, 60, None]
    assert await lifetimes(f"o{ns}") == [EPISODIC_TTL_S, 60, None]
    # An update naming `ttl` without one gives the kind's default: the namespace's.
    first = (await ltm.ListMemories(ltm_pb.ListMemoriesRequest(namespace=ns))).memories
    episodic = next(m for m in first if m.text == "b")
    updated = await ltm.UpdateMemory(
        ltm_pb.UpdateMemoryRequest(
            namespace=ns,
            memory_id=episodic.id,
            memory=ltm_pb.MemoryInput(),
            update_mask=mask("ttl"),
        )
    )
    m = updated.memory
    assert m.expire_time.ToMilliseconds() - m.update_time.ToMilliseconds() == 3_600_000


@pytest.fixture
def fold(counting, embedder, memrpc_server) -> FoldJob:
    """The summary job, reading the policy from the test server's cache."""
    summarizer = ExtractiveSummarizer(embedder)
    return FoldJob(SummaryStore(counting.redis), summarizer, memrpc_server.defaults)


async def test_the_summary_job_follows_the_namespaces_policy(nss, wm, ns, fold):
    # The update went through the server whose cache the job reads: it
    # applies at once.
    async def append(count: int) -> None:
        request = wm_pb.AppendTurnsRequest(
            namespace=ns, thread_id="t", turns=turns(count, "we met Ada"), max_window_turns=5
        )
        await wm.AppendTurns(request)

    async def run() -> tuple[int, int]:
        """The turns the summary covers and those pending, after a run."""
        await fold.run(ns, "t")
        got = await wm.GetSession(wm_pb.GetSessionRequest(namespace=ns, thread_id="t"))
        return got.session.summary.turn_count, got.session.summary.pending_turn_count

    await update(nss, ns, pb.NamespaceSettings(summaries=pb.SummaryPolicy(enabled=False)))
    await append(8)
    assert await run() == (0, 3)
    waiting = pb.NamespaceSettings(summaries=pb.SummaryPolicy(enabled=True, min_fold_turns=4))
    await update(nss, ns, waiting)
    assert await run() == (0, 3)
    await append(1)
    assert await run() == (4, 0)


@pytest.fixture
def formation(counting, embedder, memrpc_server) -> FormationJob:
    """The formation job, reading the policy from the test server's cache."""
    summarizer = ExtractiveSummarizer(embedder)
    return FormationJob(
        FormationStore(counting.redis, LongTermStore(counting.redis, dim=embedder.dim)),
        summarizer,
        Models(counting.redis, Model(embedder, ORIGINAL_FIELD)),
        memrpc_server.defaults,
    )


async def test_the_formation_job_follows_the_namespaces_policy(nss, wm, ltm, ns, formation):

    async def formed() -> list[list[str]]:
        """The turns of each formed memory, after a run."""
        await formation.run(ns, "t")
        listed = await ltm.ListMemories(ltm_pb.ListMemoriesRequest(namespace=ns, page_size=10))
        return [list(m.source_event_ids) for m in listed.memories]

    off = pb.NamespaceSettings(formation=pb.FormationPolicy(enabled=False, turns_per_memory=2))
    await update(nss, ns, off)
    reply = await wm.AppendTurns(
        wm_pb.AppendTurnsRequest(
            namespace=ns, thread_id="t", turns=turns(8, "we met Ada"), max_window_turns=5
        )
    )
    assert await formed() == []
    on = pb.NamespaceSettings(formation=pb.FormationPolicy(enabled=True))
    await update(nss, ns, on)
    # Two turns per memory, the namespace's: the 3 that left make one.
    assert await formed() == [list(reply.event_ids[:2])]


async def test_a_threads_own_choice_outranks_the_namespaces_formation_setting(
    nss, wm, ltm, ns, formation
):
    """`AppendTurnsRequest.form_memories`: on in a namespace with formation
    off, off in one with it on; kept by appends that leave it unset; shown
    as `Session.form_memories` wherever a session is returned."""
    on_ns, off_ns = f"n{ns}", f"f{ns}"  # the namespace's formation: on, off
    # Two turns a memory; only the same text deduplicates (the turns differ
    # by a number alone).
    settings = pb.NamespaceSettings(
        formation=pb.FormationPolicy(turns_per_memory=2),
        memories=pb.MemoryDefaults(dedup_max_distance=0),
    )
    await update(nss, on_ns, settings)
    settings.formation.enabled = False
    await update(nss, off_ns, settings)
    appended = 0

    async def append(namespace: str, thread: str, count: int, **choice: bool) -> list[str]:
        """Appends `count` new turns to a 5-turn window; the event ids."""
        nonlocal appended
        request = wm_pb.AppendTurnsRequest(
            namespace=namespace,
            thread_id=thread,
            turns=[
                wm_pb.TurnInput(role="user", content=f"{thread} met guest {appended + i}")
                for i in range(count)
            ],
            max_window_turns=5,
            **choice,
        )
        appended += count
        return list((await wm.AppendTurns(request)).event_ids)

    async def formed(namespace: str, thread: str) -> list[list[str]]:
        """The turns of each memory formed of the thread, after a run."""
        await formation.run(namespace, thread)
        listed = await ltm.ListMemories(
            ltm_pb.ListMemoriesRequest(
                namespace=namespace,
                page_size=100,
                filter=ltm_pb.MemoryFilter(thread_ids=[thread]),
            )
        )
        return sorted(
            (list(m.source_event_ids) for m in listed.memories), key=lambda ids: order_of(ids[0])
        )

    async def choice(namespace: str, thread: str) -> bool | None:
        """The thread's choice, as GetSession, GetContext and ListSessions
        (basic view) return it; None when unset."""
        got = await wm.GetSession(wm_pb.GetSessionRequest(namespace=namespace, thread_id=thread))
        context = await wm.GetContext(
            wm_pb.GetContextRequest(namespace=namespace, thread_id=thread)
        )
        listed = await wm.ListSessions(wm_pb.ListSessionsRequest(namespace=namespace))
        [in_list] = [s for s in listed.sessions if s.thread_id == thread]
        shown = {
            s.form_memories if s.HasField("form_memories") else None
            for s in (got.session, context.session, in_list)
        }
        assert len(shown) == 1, shown
        return shown.pop()

    # Off in the namespace, on for the thread: formed; a thread without a
    # choice is not.
    ids = await append(off_ns, "mine", 8, form_memories=True)
    await append(off_ns, "plain", 8)
    assert await formed(off_ns, "mine") == [ids[:2]]
    assert await formed(off_ns, "plain") == []
    assert (await choice(off_ns, "mine"), await choice(off_ns, "plain")) == (True, None)
    # Kept by an append that leaves it unset, and by a session update.
    ids += await append(off_ns, "mine", 2)
    goal = wm_pb.SessionInput(goal="g")
    updated = await wm.UpdateSession(
        wm_pb.UpdateSessionRequest(namespace=off_ns, thread_id="mine", session=goal)
    )
    assert updated.session.form_memories
    assert await choice(off_ns, "mine") is True
    assert await formed(off_ns, "mine") == [ids[:2], ids[2:4]]

    # On in the namespace, off for the thread: nothing formed, even after
    # appends that leave the choice unset; a thread without a choice is.
    ids = await append(on_ns, "mine", 8, form_memories=False)
    plain = await append(on_ns, "plain", 8)
    ids += await append(on_ns, "mine", 2)
    assert await formed(on_ns, "mine") == []
    assert await formed(on_ns, "plain") == [plain[:2]]
    assert await choice(on_ns, "mine") is False
    # Turned on again: the turns that left the window meanwhile waited.
    ids += await append(on_ns, "mine", 1, form_memories=True)
    assert await formed(on_ns, "mine") == [ids[:2], ids[2:4], ids[4:6]]
    assert await choice(on_ns, "mine") is True


# -- Other processes, and the cache ---------------------------------------------------


async def test_another_server_follows_a_change_within_the_cache_bound(
    nss, wm, ns, shared_url: str, embedder: BatchingEmbedder
):
    async with (
        running(make_settings(shared_url), embedder) as other,
        grpc.aio.insecure_channel(f"127.0.0.1:{other.port}") as channel,
    ):
        from memrpc.v1 import working_memory_pb2_grpc

        other_wm = working_memory_pb2_grpc.WorkingMemoryStub(channel)

        async def other_window() -> int:
            request = wm_pb.AppendTurnsRequest(namespace=ns, thread_id="t", turns=turns(5))
            await other_wm.AppendTurns(request)
            return await window_of(wm, ns, "t")

        assert await other_window() == 5  # the other server's cache now holds the default
        new = pb.NamespaceSettings(sessions=pb.SessionDefaults(max_window_turns=3))
        await update(nss, ns, new)
        deadline = time.monotonic() + FOLLOW_WAIT_S
        polls = 0
        while await other_window() != 3:
            polls += 1
            assert time.monotonic() < deadline, "the change never arrived"
            assert polls < 1000
            await asyncio.sleep(0.1)


class CountingStore(NamespaceSettingsStore):
    """The real store, counting its reads, which can be made to fail."""

    def __init__(self, redis: RedisMux) -> None:
        super().__init__(redis)
        self.redis = redis
        self.reads = 0
        self.failing = False

    async def get(self, ns: str) -> StoredSettings:
        self.reads += 1
        if self.failing:
            raise ConnectionError("Redis is away")
        await asyncio.sleep(0.01)  # lets concurrent misses meet
        return await super().get(ns)


@pytest.fixture
async def counting(shared_url: str) -> AsyncIterator[CountingStore]:
    redis = client_for(shared_url)
    yield CountingStore(redis)
    await redis.aclose()


LIMITS = Limits.from_settings(Settings())


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_hits_read_nothing_and_concurrent_misses_share_one_read(counting, ns):
    clock = Clock()
    cache = NamespaceCache(counting, server_defaults(LIMITS), clock=clock)
    results = await asyncio.gather(*(cache.defaults(ns) for _ in range(20)))
    assert counting.reads == 1
    assert all(result == cache.server for result in results)
    for _ in range(100):
        await cache.defaults(ns)
    clock.now += namespace_cache.FRESH_S - 0.01
    await cache.defaults(ns)
    assert counting.reads == 1
    clock.now += 0.02
    await cache.defaults(ns)
    assert counting.reads == 2


async def test_an_update_of_this_process_applies_at_once(counting, ns):
    cache = NamespaceCache(counting, server_defaults(LIMITS))
    await cache.defaults(ns)
    written = await counting.update(ns, {"window_turns": 3}, now_ms=1, expected=None)
    assert (await cache.defaults(ns)).window_turns == 20  # another process's write: not yet
    cache.remember(ns, written)
    assert (await cache.defaults(ns)).window_turns == 3
    cache.remember(ns, StoredSettings(version=0))  # an older read that raced the update
    assert (await cache.defaults(ns)).window_turns == 3
    assert counting.reads == 1


async def test_a_failed_read_serves_the_last_value_for_a_bounded_time(counting, ns):
    clock = Clock()
    cache = NamespaceCache(counting, server_defaults(LIMITS), clock=clock)
    await counting.update(ns, {"window_turns": 3}, now_ms=1, expected=None)
    assert (await cache.defaults(ns)).window_turns == 3
    counting.failing = True
    clock.now += namespace_cache.FRESH_S + 1
    assert (await cache.defaults(ns)).window_turns == 3  # stale, served
    assert counting.reads == 2
    assert (await cache.defaults(ns)).window_turns == 3  # not read again at once
    assert counting.reads == 2
    clock.now += namespace_cache.STALE_S
    with pytest.raises(ConnectionError):
        await cache.defaults(ns)
    with pytest.raises(ConnectionError):
        await cache.defaults(f"o{ns}")  # nothing known: the call fails, as its Redis would
    counting.failing = False
    assert (await cache.defaults(ns)).window_turns == 3


def other_than(value: object) -> object:
    """A value of the type of a setting's `value`, other than it (an
    integer lower where it can be: a window budget cannot grow)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, RecallMode):
        return next(mode for mode in RecallMode if mode is not value)
    if isinstance(value, int):
        return value - 1 if value > 1 else value + 1
    assert isinstance(value, float)
    return value + 0.125


def test_resolve_and_as_settings_are_inverse_and_the_window_is_capped():
    server = server_defaults(LIMITS)
    full = as_settings(server, StoredSettings(version=3, update_ms=5))
    assert resolve(full, server) == server
    assert resolve(StoredSettings(), server) == server
    # Every setting set, to another value than the server's.
    every = dataclasses.replace(
        full, **{name: other_than(getattr(full, name)) for name in SETTINGS}
    )
    assert all(getattr(every, name) != getattr(full, name) for name in SETTINGS)
    assert set(namespace_cache.APPLIES) == set(SETTINGS)
    assert as_settings(resolve(every, server), every) == every  # every setting applies
    bigger = StoredSettings(window_bytes=server.window_bytes * 2)
    assert resolve(bigger, server).window_bytes == server.window_bytes


def test_a_formed_memory_holds_at_most_what_a_memory_may_hold():
    small = dataclasses.replace(LIMITS, max_text_chars=500)
    assert small.formation_max_chars == Range(default=500, low=200, high=500)
    assert server_defaults(small).formation.max_chars == 500
    assert LIMITS.formation_max_chars == FORMATION_MAX_CHARS
