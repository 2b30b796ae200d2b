"""The Python conformance runner: runs a scenario with the generated Python
stubs against a live memrpc server. The reference for the other runners; the
format is described in tests/conformance/README.md."""

from __future__ import annotations

import argparse
import json
import queue
import re
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf import json_format, message_factory
from google.protobuf.message import Message
from google.rpc import error_details_pb2

from memrpc.client import SERVICE_CONFIG
from memrpc.client.errors import error_info, status_details
from memrpc.v1 import (
    event_log_pb2_grpc,
    long_term_memory_pb2,
    long_term_memory_pb2_grpc,
    namespace_settings_pb2_grpc,
    working_memory_pb2_grpc,
)

MISSING = object()
NEXT_TIMEOUT_S = 10.0
VAR = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


class StepFailed(Exception):
    """A step's outcome differs from its expectation."""


def substitute(value: Any, variables: dict[str, str]) -> Any:
    """`value` with every `${name}` in its strings replaced."""
    if isinstance(value, str):
        return VAR.sub(lambda m: variables[m.group(1)], value)
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, variables) for k, v in value.items()}
    return value


def match(expected: Any, actual: Any, path: str = "") -> None:
    """Raises StepFailed unless `actual` (canonical JSON) satisfies `expected`."""
    where = path or "response"
    if isinstance(expected, str) and expected.startswith("$"):
        if expected == "$any":
            ok = actual is not MISSING
        elif expected == "$absent":
            ok = actual is MISSING
        elif expected == "$nonempty":
            ok = actual is not MISSING and actual not in ("", 0, "0", [], {}, False, None)
        elif expected.startswith(("$lte:", "$gte:")):
            number = 0.0 if actual is MISSING else float(actual)
            bound = float(expected[5:])
            ok = number <= bound if expected.startswith("$lte:") else number >= bound
        else:
            raise StepFailed(f"{where}: unknown matcher {expected!r}")
        if not ok:
            shown = "absent" if actual is MISSING else json.dumps(actual)
            raise StepFailed(f"{where}: expected {expected}, got {shown}")
        return
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            raise StepFailed(f"{where}: expected an object, got {json.dumps(actual, default=str)}")
        for key, value in expected.items():
            match(value, actual.get(key, MISSING), f"{path}.{key}" if path else key)
        return
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            raise StepFailed(
                f"{where}: expected {len(expected)} items, got {json.dumps(actual, default=str)}"
            )
        for i, (want, got) in enumerate(zip(expected, actual, strict=True)):
            match(want, got, f"{path}.{i}")
        return
    numbers = (int, float)
    if isinstance(expected, numbers) and not isinstance(expected, bool):
        ok = isinstance(actual, numbers) and not isinstance(actual, bool) and actual == expected
    else:
        ok = actual == expected and type(actual) is type(expected)
    if not ok:
        shown = "absent" if actual is MISSING else json.dumps(actual)
        raise StepFailed(f"{where}: expected {json.dumps(expected)}, got {shown}")


def lookup(document: Any, path: str) -> str:
    """The value at a dotted path (`results.0.memory.id`), as a string."""
    value = document
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value if isinstance(value, str) else json.dumps(value)


def bad_request_fields(err: grpc.RpcError) -> list[str]:
    """The fields named in the error's google.rpc.BadRequest detail."""
    fields: list[str] = []
    for detail in status_details(err):
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields += [v.field for v in bad.field_violations]
    return fields


class Tail:
    """A TailEvents stream read on a thread, so that `next` can time out."""

    def __init__(self, call: Any) -> None:
        self.call = call
        self.messages: queue.Queue[Any] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        try:
            for message in self.call:
                self.messages.put(message)
            self.messages.put(StepFailed("stream ended with OK"))
        except grpc.RpcError as err:
            self.messages.put(err)

    def next(self) -> Message | grpc.RpcError:
        """The stream's next message, or the error status it ended with."""
        try:
            item = self.messages.get(timeout=NEXT_TIMEOUT_S)
        except queue.Empty:
            raise StepFailed(f"no message within {NEXT_TIMEOUT_S:g} s") from None
        if isinstance(item, StepFailed):
            raise item
        return item  # type: ignore[no-any-return]


class Runner:
    """Runs the steps of a scenario."""

    def __init__(self, channel: grpc.Channel, variables: dict[str, str]) -> None:
        self.variables = variables
        self.stubs = {
            "memrpc.v1.WorkingMemory": working_memory_pb2_grpc.WorkingMemoryStub(channel),
            "memrpc.v1.LongTermMemory": long_term_memory_pb2_grpc.LongTermMemoryStub(channel),
            "memrpc.v1.EventLog": event_log_pb2_grpc.EventLogStub(channel),
            "memrpc.v1.Namespaces": namespace_settings_pb2_grpc.NamespacesStub(channel),
        }
        self.tails: dict[str, Tail] = {}

    def method(self, call: str) -> tuple[Callable[..., Any], type[Message]]:
        service, name = call.split("/")
        descriptor = long_term_memory_pb2.DESCRIPTOR.pool.FindServiceByName(service)
        request_type = message_factory.GetMessageClass(descriptor.methods_by_name[name].input_type)
        return getattr(self.stubs[service], name), request_type

    def request(self, step: dict[str, Any], request_type: type[Message]) -> Message:
        return json_format.ParseDict(
            substitute(step.get("request", {}), self.variables), request_type()
        )

    def check(self, step: dict[str, Any], response: Message) -> None:
        actual = json.loads(json_format.MessageToJson(response))
        expected = step.get("expect", {}).get("response")
        if expected is not None:
            match(substitute(expected, self.variables), actual)
        for name, path in step.get("save", {}).items():
            self.variables[name] = lookup(actual, path)

    def run_step(self, step: dict[str, Any]) -> None:
        if "sleep_ms" in step:
            time.sleep(step["sleep_ms"] / 1000)
        elif "tail" in step:
            self.run_tail(step)
        else:
            self.run_call(step)

    def run_call(self, step: dict[str, Any]) -> None:
        method, request_type = self.method(step["call"])
        try:
            response = method(self.request(step, request_type), timeout=30)
        except grpc.RpcError as err:
            self.check_error(step, err)
            return
        self.check_ok(step, response)

    def check_ok(self, step: dict[str, Any], response: Message) -> None:
        """Checks a message received where `expect.code` may want an error."""
        code = step.get("expect", {}).get("code", "OK")
        if code != "OK":
            raise StepFailed(f"expected {code}, got OK")
        self.check(step, response)

    def check_error(self, step: dict[str, Any], err: grpc.RpcError) -> None:
        """Checks a failed call (or a stream's end) against the step: its code,
        BadRequest field, ErrorInfo reason and metadata; saves from the metadata."""
        expect = step.get("expect", {})
        code = expect.get("code", "OK")
        if err.code().name != code:
            raise StepFailed(f"expected {code}, got {err.code().name}: {err.details()}")
        if "field" in expect and expect["field"] not in bad_request_fields(err):
            raise StepFailed(
                f"expected BadRequest field {expect['field']!r}, got {bad_request_fields(err)}"
            )
        info = error_info(err)
        if ("reason" in expect or "errorMetadata" in expect) and info is None:
            raise StepFailed(f"expected an ErrorInfo of domain memrpc.dev: {err.details()}")
        reason, metadata = ("", {}) if info is None else (info.reason, dict(info.metadata))
        if "reason" in expect and reason != expect["reason"]:
            raise StepFailed(f"expected reason {expect['reason']}, got {reason}")
        if "errorMetadata" in expect:
            match(substitute(expect["errorMetadata"], self.variables), metadata, "errorMetadata")
        for name, path in step.get("save", {}).items():
            self.variables[name] = lookup({"errorMetadata": metadata}, path)

    def run_tail(self, step: dict[str, Any]) -> None:
        action, stream = step["tail"], step["stream"]
        if action == "open":
            method, request_type = self.method("memrpc.v1.EventLog/TailEvents")
            self.tails[stream] = Tail(method(self.request(step, request_type)))
        elif action == "next":
            item = self.tails[stream].next()
            if isinstance(item, grpc.RpcError):
                self.check_error(step, item)
            else:
                self.check_ok(step, item)
        elif action == "close":
            self.tails.pop(stream).call.cancel()
        else:
            raise StepFailed(f"unknown tail action {action!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", required=True)
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--var", action="append", default=[], help="name=value")
    args = parser.parse_args()
    variables = dict(v.split("=", 1) for v in args.var)
    with open(args.scenario, encoding="utf-8") as f:
        steps = json.load(f)["steps"]
    passed = failed = 0
    # The published service config (clients/service-config.json), as the
    # client applies it by default.
    options = [("grpc.service_config", SERVICE_CONFIG)]
    with grpc.insecure_channel(args.target, options) as channel:
        runner = Runner(channel, variables)
        for step in steps:
            try:
                runner.run_step(step)
            except (StepFailed, KeyError, json_format.ParseError) as err:
                failed += 1
                print(f"FAIL {step['name']}: {err}", flush=True)
            else:
                passed += 1
                print(f"PASS {step['name']}", flush=True)
    print(f"conformance: {passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
