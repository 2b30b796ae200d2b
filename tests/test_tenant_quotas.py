"""The per-tenant quotas on their own, on a clock the test moves: calls in
progress, the token bucket, and a table of tenants that stays bounded."""

from __future__ import annotations

import pytest

from memrpc.rpc.tenant_quotas import IN_FLIGHT_RETRY_S, OverQuota, TenantQuotas


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def quotas(clock: Clock, *, rate: float = 0.0, burst: int = 1, cap: int = 0) -> TenantQuotas:
    return TenantQuotas(rate=rate, burst=burst, max_in_flight=cap, clock=clock)


def test_calls_in_progress_are_capped_per_tenant() -> None:
    table = quotas(Clock(), cap=2)
    for _ in range(2):
        table.admit("a", in_flight=True)
    with pytest.raises(OverQuota) as over:
        table.admit("a", in_flight=True)
    assert (over.value.tenant, over.value.setting, over.value.limit) == (
        "a",
        "tenant_max_in_flight",
        2,
    )
    assert over.value.what == "a has 2 calls in progress"
    assert over.value.retry_after_s == IN_FLIGHT_RETRY_S
    table.admit("b", in_flight=True)  # another tenant is not held back
    table.admit("a", in_flight=False)  # a stream does not count in progress
    table.release("a")
    table.admit("a", in_flight=True)


def test_the_bucket_allows_a_burst_then_the_rate() -> None:
    clock = Clock()
    table = quotas(clock, rate=2.0, burst=3)
    for _ in range(3):
        table.admit("a", in_flight=False)
    with pytest.raises(OverQuota) as over:
        table.admit("a", in_flight=False)
    assert (over.value.setting, over.value.limit) == ("tenant_rate", 2.0)
    assert over.value.retry_after_s == pytest.approx(0.5)
    table.admit("b", in_flight=False)
    clock.now += 0.25
    with pytest.raises(OverQuota) as over:
        table.admit("a", in_flight=False)
    assert over.value.retry_after_s == pytest.approx(0.25)
    clock.now += 0.25
    table.admit("a", in_flight=False)
    clock.now += 60  # a bucket fills up to its burst, no further
    for _ in range(3):
        table.admit("a", in_flight=False)
    with pytest.raises(OverQuota):
        table.admit("a", in_flight=False)


def test_a_call_refused_for_its_calls_in_progress_takes_no_token() -> None:
    table = quotas(Clock(), rate=1.0, burst=2, cap=1)
    table.admit("a", in_flight=True)
    with pytest.raises(OverQuota, match="in progress"):
        table.admit("a", in_flight=True)
    table.release("a")
    table.admit("a", in_flight=True)  # the second token


def test_idle_tenants_are_forgotten() -> None:
    clock = Clock()
    capped = quotas(clock, cap=4)
    for i in range(1000):
        capped.admit(f"t{i}", in_flight=True)
        capped.release(f"t{i}")
    assert len(capped) == 0  # without a bucket, a tenant lasts as long as its calls

    rated = quotas(clock, rate=10.0, burst=5, cap=4)
    rated.admit("busy", in_flight=True)  # a long call, first in the table
    for i in range(1000):
        rated.admit(f"t{i}", in_flight=False)
        clock.now += 0.01  # a tenant's bucket is full again 0.1 s after its call
    assert len(rated) <= 30  # those of the last 0.1 s, and the busy one
    rated.release("busy")
    clock.now += 1
    for i in range(10):
        rated.admit(f"late{i}", in_flight=False)
    assert len(rated) == 10  # the ones whose buckets are not full again


def test_bad_quotas_are_refused() -> None:
    with pytest.raises(ValueError, match="burst"):
        TenantQuotas(rate=1.0, burst=0, max_in_flight=1)
    with pytest.raises(ValueError, match="rate"):
        TenantQuotas(rate=-1.0, burst=1, max_in_flight=1)
