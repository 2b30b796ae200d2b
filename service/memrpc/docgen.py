"""The parts of the docs written from the code: the README configuration
table (every setting `memrpc.config` declares), in `docs/security.md` the
table of configurable limits and the fixed limits (`memrpc.limits`), and in
`docs/api.md` the table of error reasons (the comments of
`proto/memrpc/v1/error_reason.proto`, which `error_reasons` reads for the
tests too).

Each part sits between `<!-- generated:NAME -->` and
`<!-- /generated:NAME -->` in its file; the prose around it is the
author's. `python -m memrpc.docgen` (`make docs`) rewrites the parts,
`python -m memrpc.docgen --check` fails when a committed file differs from
what it would write (`tests/test_docs.py` runs that check).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from memrpc import limits
from memrpc.config import SETTINGS, Setting
from memrpc.limits import Range

# The repository, when memrpc runs from its checkout (`pip install -e`).
ROOT = Path(__file__).resolve().parents[2]


def number(value: float) -> str:
    """A number as the docs and the proto write it: `1,000,000`, `0.55`."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:g}"


def seconds(value: float) -> str:
    """A duration as the docs and the proto write it: `100 ms`, `15 s`,
    `5 min`, `1 hour`, `30 days`, `10 years`."""
    if 0 < value < 1:
        return f"{number(value * 1000)} ms"
    for unit, size in (("year", 365.25 * 86_400), ("day", 86_400), ("hour", 3600), ("min", 60)):
        count = value / size
        if count >= 1 and count.is_integer():
            plural = "s" if count != 1 and unit != "min" else ""
            return f"{int(count)} {unit}{plural}"
    return f"{number(value)} s"


def size(value: int) -> str:
    """Bytes as the docs and the proto write them: `1 MiB`, `256 KiB`."""
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if value >= scale and value % scale == 0:
            return f"{value // scale} {unit}"
    return f"{value:,} bytes"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


# Where the README table sends a reader for a group's settings.
_SEE = {
    "connections": "[connections](docs/deployment.md#connections)",
    "language model": "[language model](docs/deployment.md#language-model)",
    "limits": "[limits](docs/security.md#limits)",
    "tracing and logs": "[tracing and logs](docs/deployment.md#tracing-and-logs)",
}


def settings_table() -> str:
    """The README table: every setting, its variable, default and meaning."""
    rows = ["| flag | variable | default | meaning |", "|---|---|---|---|"]
    for each in SETTINGS:
        meaning = each.help + (f" ({each.bounds})" if each.bounds else "")
        if each.group in _SEE:
            meaning += f"; see {_SEE[each.group]}"
        default = "unset" if each.default is None else f"`{each.default_text}`"
        rows.append(f"| `{each.flag}` | `{each.env}` | {default} | {_cell(meaning)} |")
    return "\n".join(rows)


def _amount(each: Setting) -> str:
    value: int = each.default
    if each.name.endswith("_bytes"):
        return f"{size(value)} ({value:,})"
    return number(value)


def limits_table() -> str:
    """The configurable limits: default, range, flag and what a request
    over the limit gets."""
    rows = [
        "| Limit | Default | Range | Flag (variable) | Over the limit |",
        "|---|---|---|---|---|",
    ]
    for each in SETTINGS:
        if each.group != "limits":
            continue
        over = each.over.format(limit=each.default, over=each.default + 1)
        rows.append(
            f"| {_cell(each.help[0].upper() + each.help[1:])} | {_amount(each)} | "
            f"{each.bounds} | `{each.flag}` (`{each.env}`) | {_cell(over)} |"
        )
    return "\n".join(rows)


# The request fields with a default and a range, for the fixed limits table.
_RANGES: list[tuple[str, Range, Callable[[float], str]]] = [
    ("a session's `ttl` (UpdateSession, AppendTurns)", limits.SESSION_TTL_S, seconds),
    ("`AppendTurnsRequest.max_window_turns`", limits.WINDOW_TURNS, number),
    ("`ListSessionsRequest.page_size`", limits.SESSION_PAGE_SIZE, number),
    ("`CreateMemoriesRequest.dedup_max_distance`", limits.DEDUP_DISTANCE, number),
    ("`SearchMemoriesRequest.max_distance`", limits.SEARCH_DISTANCE, number),
    ("`ListMemoriesRequest.page_size`", limits.MEMORY_PAGE_SIZE, number),
    ("`ListEventsRequest.page_size`", limits.EVENT_PAGE_SIZE, number),
    ("`TailEventsRequest.heartbeat_interval`", limits.HEARTBEAT_S, seconds),
    ("`ReceiveEventsRequest.max_events`", limits.RECEIVE_EVENTS, number),
    ("`ReceiveEventsRequest.wait`", limits.RECEIVE_WAIT_S, seconds),
    ("`ReceiveEventsRequest.redeliver_after`", limits.REDELIVER_AFTER_S, seconds),
]


def fixed_limits() -> str:
    """The fixed limits, in a paragraph and a table of ranges."""
    lim = limits
    text = (
        "**Fixed limits.** Other limits are part of the contract and not configurable, as "
        "the proto comments state (`service/memrpc/limits.py` holds them all): ids and names "
        f"(namespaces {lim.MAX_NAMESPACE_CHARS} characters, thread and user ids "
        f"{lim.MAX_ID_CHARS}, group and consumer names {lim.MAX_NAME_CHARS}, request ids "
        f"{lim.MAX_REQUEST_ID_CHARS}, memory ids 26-character ULIDs or a client's "
        f"{lim.MAX_MEMORY_ID_CHARS} characters of `[a-z0-9-]`), metadata of at most "
        f"{lim.MAX_METADATA_ENTRIES} entries with keys of 1 to {lim.MAX_METADATA_KEY_CHARS} "
        f"characters and values of at most {number(lim.MAX_METADATA_VALUE_CHARS)}, "
        f"{lim.MAX_TOPICS} topics of {lim.MAX_TOPIC_CHARS} characters per memory, "
        f"{lim.MAX_FILTER_VALUES} values per filter field (and per metadata filter), "
        f"{lim.MAX_METADATA_FILTERS} metadata filters per memory filter, "
        "turn content and scratchpad "
        f"{number(lim.MAX_CONTENT_CHARS)} characters, goal {number(lim.MAX_GOAL_CHARS)}, "
        f"role {lim.MAX_ROLE_CHARS}, event types {lim.MAX_EVENT_TYPE_CHARS}, event payloads "
        f"{size(lim.MAX_PAYLOAD_BYTES)}, thread logs of at most {number(lim.MAX_LOG_LEN)} "
        f"events, {lim.MAX_CURSORS} threads per tail, "
        f"{number(lim.MAX_DELIVERY_IDS)} delivery ids per acknowledgement, JSON payloads "
        f"nested at most {lim.MAX_PAYLOAD_DEPTH} protobuf message levels, `ListEvents`, "
        "`ListSessions`, `ListMemories`, `SearchMemories` and `GetContext` responses cut at "
        f"{size(lim.MAX_PAGE_BYTES)} "
        f"and a `ReceiveEvents` batch at {size(lim.MAX_RECEIVE_BYTES)} as stored, request "
        "ids remembered "
        f"{lim.REQUEST_ID_TTL_HOURS} hours, memory lifetimes (`ttl`) of "
        f"{seconds(lim.MEMORY_TTL_S.low)} to {seconds(lim.MEMORY_TTL_S.high)} (by default "
        f"{seconds(lim.EPISODIC_TTL_S)} for episodic memories, for ever for semantic ones), "
        f"{lim.DEFAULT_SEARCH_LIMIT} matches per search by default, and these fields:"
    )
    rows = ["| field | default | range |", "|---|---|---|"]
    rows += [
        f"| {name} | {show(r.default)} | {show(r.low)} to {show(r.high)} |"
        for name, r, show in _RANGES
    ]
    return text + "\n\n" + "\n".join(rows)


@dataclass(frozen=True)
class Reason:
    """What error_reason.proto says of an `ErrorReason`: the status code it
    comes with, the metadata keys it carries, and its first sentence."""

    name: str
    code: str
    metadata: tuple[str, ...]
    summary: str


def error_reasons(root: Path = ROOT) -> list[Reason]:
    """Every `ErrorReason` but UNSPECIFIED, in proto order: its code is the
    first backquoted word of its comment, its metadata keys the
    lowerCamelCase words backquoted after `Metadata:`."""
    text = (root / "proto" / "memrpc" / "v1" / "error_reason.proto").read_text()
    found = []
    for comment, name in re.findall(r"((?:\n  //[^\n]*)+)\n  (ERROR_REASON_\w+) = \d+;", text):
        if name == "ERROR_REASON_UNSPECIFIED":
            continue
        prose = " ".join(line.strip().removeprefix("//").strip() for line in comment.splitlines())
        code = re.match(r"`([A-Z_]+)`: ", prose.strip())
        if code is None:
            raise ValueError(f"{name}: its comment must start with its status code")
        body, _, metadata = prose.strip()[code.end() :].partition("Metadata:")
        summary = re.split(r"\.\s+(?=[A-Z`])", body.strip())[0].rstrip(".") + "."
        keys = tuple(re.findall(r"`([a-z][a-zA-Z]*)`", metadata))
        found.append(Reason(name, code[1], keys, summary))
    return found


def reasons_table() -> str:
    """The error reasons: code, meaning, metadata."""
    rows = ["| reason (`ERROR_REASON_…`) | code | when | metadata |", "|---|---|---|---|"]
    rows += [
        f"| `{r.name.removeprefix('ERROR_REASON_')}` | `{r.code}` | {_cell(r.summary)} | "
        + (", ".join(f"`{key}`" for key in r.metadata) or "—")
        + " |"
        for r in error_reasons()
    ]
    return "\n".join(rows)


# Each generated part: the file it is in (from the repository) and its text.
PARTS: dict[str, tuple[str, Callable[[], str]]] = {
    "settings": ("README.md", settings_table),
    "limits": ("docs/security.md", limits_table),
    "fixed-limits": ("docs/security.md", fixed_limits),
    "error-reasons": ("docs/api.md", reasons_table),
}


def render(text: str, name: str, body: str) -> str:
    """`text` with the part `name` replaced by `body`."""
    pattern = re.compile(
        rf"(<!-- generated:{re.escape(name)} -->\n).*?(<!-- /generated:{re.escape(name)} -->)",
        re.DOTALL,
    )
    if not pattern.search(text):
        raise ValueError(f"no <!-- generated:{name} --> ... <!-- /generated:{name} --> markers")
    return pattern.sub(lambda found: found[1] + body + "\n" + found[2], text)


def generated(root: Path) -> dict[Path, str]:
    """Every file with generated parts, as it should read."""
    files: dict[Path, str] = {}
    for name, (relative, write) in PARTS.items():
        path = root / relative
        files[path] = render(files.get(path) or path.read_text(), name, write())
    return files


def main(argv: list[str] | None = None) -> int:
    """Rewrites the generated parts, or with `--check` lists the stale files."""
    parser = argparse.ArgumentParser(prog="python -m memrpc.docgen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report stale files")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository")
    args = parser.parse_args(argv)
    stale = {path: text for path, text in generated(args.root).items() if path.read_text() != text}
    for path, text in stale.items():
        if args.check:
            print(f"{path} is stale: run `make docs`", file=sys.stderr)
        else:
            path.write_text(text)
            print(f"wrote {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
