"""memrpc's HTTP door: every memrpc method over HTTP/1.1 with JSON (or
binary protobuf) bodies, in the Connect protocol (`--http-listen`,
docs/http.md), served through the same pipeline as gRPC
(`rpc/pipeline.py`)."""
