"""The time a query text names (`store/named_times.py`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from memrpc.store.named_times import NamedTime, named_time


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("What did Tim say on 16 November, 2023?", NamedTime(2023, 11, 16)),
        ("What did Tim read on 8th December 2023?", NamedTime(2023, 12, 8)),
        ("Where was the photo from December 1,2023 taken?", NamedTime(2023, 12, 1)),
        ("Who called on march 3rd, 2024?", NamedTime(2024, 3, 3)),
        ("What did John learn in August 2023?", NamedTime(2023, 8)),
        ("What happened in June, 2022?", NamedTime(2022, 6)),
        ("When did Melanie go camping in June?", NamedTime(month=6)),
        ("What charity event did John run in 2024?", NamedTime(2024)),
        # "May" is a month only capitalised and not first; "may" is a verb.
        ("May I ask where Caroline went?", None),
        ("Where may Caroline go in spring?", None),
        ("What happened in May?", NamedTime(month=5)),
        ("When did Caroline go to the support group?", None),
        # An impossible date names nothing.
        ("What happened on 31 February, 2023?", None),
    ],
)
def test_named_time(text: str, named: NamedTime | None) -> None:
    assert named_time(text) == named


def test_a_time_holds_the_instants_within_it_in_utc() -> None:
    def ms(*when: int) -> int:
        return int(datetime(*when, tzinfo=UTC).timestamp() * 1000)

    day = NamedTime(2023, 11, 16)
    assert day.holds(ms(2023, 11, 16, 0, 0))
    assert day.holds(ms(2023, 11, 16, 23, 59))
    assert not day.holds(ms(2023, 11, 17, 0, 0))
    june = NamedTime(month=6)
    assert june.holds(ms(2021, 6, 30, 12))
    assert june.holds(ms(2024, 6, 1))
    assert not june.holds(ms(2024, 7, 1))
    assert NamedTime(2024).holds(ms(2024, 12, 31, 23))
    assert not NamedTime(2024).holds(ms(2025, 1, 1))
