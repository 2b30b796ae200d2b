"""HTTP/JSON calls of memrpc's HTTP door (`--http-listen`, the Connect
protocol), measured side by side with the same calls over gRPC: the
`http` group of the report, its operations named as their gRPC twins of
the `memrpc` group.

The client is aiohttp, with as many keep-alive connections as the gRPC
group has channels; each call sends the JSON of the request the gRPC call
sends (encoded once, up front, as a client holding its request would) and
decodes the JSON answer."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import aiohttp
from google.protobuf import json_format
from google.protobuf.message import Message

from bench.corpus import Dataset
from bench.measure import Operation
from bench.workloads import get_session_requests, pick, vector_search_requests


class HttpWorkload:
    """The HTTP/JSON operations against the door at `url`, over at most
    `connections` connections."""

    def __init__(self, url: str, data: Dataset, connections: int) -> None:
        self._url = url
        self._data = data
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections),
            headers={"Content-Type": "application/json"},
        )

    async def aclose(self) -> None:
        await self._session.close()

    def _operation(self, name: str, path: str, requests: Sequence[Message]) -> Operation:
        bodies = [json_format.MessageToJson(request, indent=None).encode() for request in requests]
        url = f"{self._url}{path}"

        async def call(number: int) -> Any:
            async with self._session.post(url, data=pick(bodies, number)) as response:
                body = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{path}: HTTP {response.status}: {body[:200]!r}")
                return json.loads(body)

        return Operation(name, call, note="HTTP/1.1, JSON bodies (Connect protocol)")

    def operations(self) -> list[Operation]:
        return [
            self._operation(
                "GetSession",
                "/memrpc.v1.WorkingMemory/GetSession",
                get_session_requests(self._data),
            ),
            self._operation(
                "SearchMemories(vector)",
                "/memrpc.v1.LongTermMemory/SearchMemories",
                vector_search_requests(self._data),
            ),
        ]
