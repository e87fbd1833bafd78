# ITIRP — the two commands: `make run` (set up, then serve) and `make test` (set up, then test).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PROTOS := $(wildcard protos/itirp/v1/*.proto)
PROTOC  = $(BIN)/python -m grpc_tools.protoc -I protos

.PHONY: run test setup lint protos check-protos lint-protos breaking bench clean pg-binaries

## Create the virtual environment and install the server, client and dev tools (once per change of pyproject).
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml clients/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' -e clients/python
	touch $@

## Run the server on the embedded default (SQLite in ./data).
run: setup
	$(BIN)/itirp serve

## Everything CI checks: generated code in sync, buf lint, buf breaking, ruff and mypy --strict, the whole test suite.
test: setup pg-binaries check-protos lint-protos breaking lint
	$(BIN)/pytest

## The PostgreSQL server binaries the PostgreSQL event store's tests start (tests/pg_server.py):
## installed from the distribution when no initdb is found, nothing happens when one is.
pg-binaries:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		(sudo -n sh -c 'apt-get update -qq && apt-get install -y postgresql') || \
		(apt-get update -qq && apt-get install -y postgresql)

## Lint and strict typing (ruff, mypy --strict as configured in pyproject.toml): zero findings.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

## Regenerate itirp/v1 from protos/ (the one documented command).
protos: setup
	rm -f itirp/v1/*_pb2.py itirp/v1/*_pb2.pyi itirp/v1/*_pb2_grpc.py
	$(PROTOC) --python_out=. --pyi_out=. --grpc_python_out=. $(PROTOS)

## Fail when the committed generated code differs from what protos/ generates.
check-protos: setup
	@tmp=$$(mktemp -d) && \
	$(PROTOC) --python_out=$$tmp --pyi_out=$$tmp --grpc_python_out=$$tmp $(PROTOS) && \
	if diff -r -x __init__.py -x __pycache__ $$tmp/itirp/v1 itirp/v1; then echo "generated code: in sync"; \
	else echo "generated code drifted from protos/: run 'make protos' and commit" >&2; rm -rf $$tmp; exit 1; fi; \
	rm -rf $$tmp

lint-protos: setup
	$(BIN)/buf lint && echo "buf lint: ok"

## The contract only grows: compare with the previous commit (skipped where it has no protos).
breaking: setup
	@if git rev-parse -q --verify HEAD~1 >/dev/null 2>&1 && git cat-file -e HEAD~1:buf.yaml 2>/dev/null; then \
		$(BIN)/buf breaking --against '.git#ref=HEAD~1' && echo "buf breaking vs HEAD~1: ok"; \
	else echo "buf breaking: no previous commit with protos, skipped"; fi

bench: setup
	$(BIN)/python bench/bench_rpc.py

clean:
	rm -rf $(VENV) data .pytest_cache
