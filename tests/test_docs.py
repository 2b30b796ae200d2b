"""The README settings table and the limits of docs/security.md are what
`memrpc.docgen` writes from the declarations (`make docs` rewrites them)."""

from __future__ import annotations

from pathlib import Path

from memrpc import docgen

ROOT = Path(__file__).resolve().parents[1]


def test_generated_doc_parts_are_up_to_date() -> None:
    stale = [
        str(path.relative_to(ROOT))
        for path, text in docgen.generated(ROOT).items()
        if path.read_text() != text
    ]
    assert not stale, f"stale generated parts in {stale}: run `make docs`"


def test_every_setting_is_in_the_readme_and_every_limit_in_security_md() -> None:
    readme = (ROOT / "README.md").read_text()
    security = (ROOT / "docs/security.md").read_text()
    for each in docgen.SETTINGS:
        assert f"`{each.flag}` | `{each.env}`" in readme
        if each.group == "limits":
            assert f"`{each.flag}` (`{each.env}`)" in security


def test_durations_and_sizes_read_as_people_write_them() -> None:
    assert [docgen.seconds(s) for s in (0, 0.1, 15, 60, 300, 3600, 86_400, 30 * 86_400)] == [
        "0 s",
        "100 ms",
        "15 s",
        "1 min",
        "5 min",
        "1 hour",
        "1 day",
        "30 days",
    ]
    assert docgen.seconds(10 * 365.25 * 86_400) == "10 years"
    assert [docgen.size(n) for n in (1024 * 1024, 256 * 1024, 1000)] == [
        "1 MiB",
        "256 KiB",
        "1,000 bytes",
    ]
    assert docgen.number(1_000_000) == "1,000,000"
    assert docgen.number(0.55) == "0.55"
