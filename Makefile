# Hearth: every target sets up what it needs first, so any of them works on a fresh clone.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.DEFAULT_GOAL := help
.PHONY: help setup demo up test unit bench corpus lint format protos docs publish-protos clean image image-tools browser-tools

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-8s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
	$(UV) sync --locked --quiet
	@touch $@

setup: $(VENV)/.synced ## Create the virtual environment with every dependency (uv, locked)

demo: setup ## Start the platform on an embedded NATS server and run the main job end to end
	$(BIN)/hearth demo

up: setup ## Run every service in one process on an embedded NATS server until interrupted
	$(BIN)/hearth up

protos: setup ## Regenerate libs/proto from protos/
	$(BIN)/python tools/genprotos.py

docs: setup ## Rewrite docs/'s generated parts (catalogue, RPC tables, sdk.md's code); API reference into build/docs
	$(BIN)/python tools/gendocs.py
	$(BIN)/python tools/include_examples.py
	$(BIN)/python tools/apidocs.py build/docs

# Published contracts: event schemas that other services and auditors decode.
CONTRACTS = $(patsubst protos/%,%,$(wildcard protos/hearth/*/v1/events.proto protos/hearth/*/v1/types.proto protos/hearth/eventlog/v1/*.proto))

lint: setup ## ruff, mypy --strict, buf lint and breaking, generated code and docs in step
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy libs services tools tests examples
	cd protos && ../$(BIN)/buf lint
	cd protos && ../$(BIN)/buf breaking --against published.binpb $(addprefix --path ,$(CONTRACTS))
	$(BIN)/python tools/genprotos.py --check
	$(BIN)/python tools/gendocs.py --check
	$(BIN)/python tools/include_examples.py --check

publish-protos: setup ## Record protos/ as published: later breaking changes to events fail lint
	cd protos && ../$(BIN)/buf build -o published.binpb

format: setup ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

image-tools: ## Install buildah and mmdebstrap (Debian) when missing, as root; CI fails without
	@$(PYTHON) tools/image.py --ensure-tools || [ "$$CI" != "true" ]

image: setup image-tools ## Build the container image (buildah, mmdebstrap base; no daemon)
	$(BIN)/python tools/image.py

browser-tools: ## Install Debian's Chromium when missing, as root; the console's browser tests fail without
	@$(PYTHON) tools/browser.py --ensure || [ "$$CI" != "true" ]

test: lint image-tools browser-tools ## Lint, then run the whole test suite against real nats-server and gRPC
	$(BIN)/pytest

unit: setup ## Run the tests without linting first
	$(BIN)/pytest

bench: setup ## Print BENCH figures with same-run baselines
	$(BIN)/python -m tests.bench

corpus: setup ## Regenerate the scanner's labelled corpus (fixed seed) and retrain its model
	$(BIN)/python libs/scanner/corpus/generate.py
	$(BIN)/python -m hearth_scanner.train libs/scanner/corpus/train.jsonl \
		libs/scanner/src/hearth_scanner/data/text-model.npz

clean: ## Remove the virtual environments and caches
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache var build
