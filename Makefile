# newsflow — one command per intent. `make help` lists them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install lint typecheck test test-unit test-integration eval bench up kafka-start kafka-stop clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install newsflow with its dev tools

lint: install ## ruff + the import-layering contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install ## mypy (strict on pipeline/)
	$(BIN)/mypy pipeline agents newsflow

test: install ## unit + integration tests against a real local Kafka broker (started and stopped here)
	@bash scripts/with-broker.sh $(BIN)/python -m pytest tests

test-unit: install ## unit tests only (no services)
	$(BIN)/python -m pytest tests/unit

test-integration: install ## integration tests only (real broker, started and stopped here)
	@bash scripts/with-broker.sh $(BIN)/python -m pytest tests/integration

eval: install ## dedup and place-tag evaluations on the shared datasets (BBC, Reuters, AG News, poll sequences)
	$(BIN)/newsflow eval dedup
	$(BIN)/newsflow eval places

bench: install ## benchmarks (in-process and through the real broker); JSON in benchmarks/results/
	@bash scripts/with-broker.sh $(BIN)/python -m benchmarks

up: install ## the whole local stack with demo feeds: broker, worker, poller; Ctrl-C stops
	$(BIN)/newsflow up

kafka-start: install ## start the local development broker (deploy/kafka)
	$(BIN)/newsflow kafka start

kafka-stop: install ## stop it
	$(BIN)/newsflow kafka stop

clean: ## remove the venv, broker data and caches (keeps the downloaded broker jars)
	-$(BIN)/newsflow kafka stop
	rm -rf $(VENV) .kafka-run .newsflow .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
