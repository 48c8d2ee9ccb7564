# Two commands for a fresh clone (see README):  `make run`  and  `make test`.
# Everything they need is installed here: Python deps into .venv, npm test peers from the lockfile.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
export PYTHONPATH := $(CURDIR)

.PHONY: run test lint typecheck bench setup clean

run: $(VENV)/.stamp-install
	$(BIN)/llmspell gateway $(ARGS)

test: $(VENV)/.stamp-install node_modules/.stamp-install .dev/llmspell
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q $(PYTEST_ARGS)

setup: $(VENV)/.stamp-install node_modules/.stamp-install .dev/llmspell

bench: $(VENV)/.stamp-install
	$(PY) -m llmspell.bench startup
	$(PY) -m llmspell.bench ready
	$(PY) -m llmspell.bench gateway
	$(PY) -m llmspell.bench proxy

$(VENV)/.stamp-install: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[test]"
	@touch $@

node_modules/.stamp-install: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# mypy checks the source tree under the import name `llmspell`, as the wheel lays it out.
.dev/llmspell:
	mkdir -p .dev/llmspell
	for f in __init__.py __main__.py py.typed bench; do ln -sfn ../../llmspell/$$f .dev/llmspell/$$f; done
	for d in runtime adapters protocols gateway conformance; do ln -sfn ../../$$d .dev/llmspell/$$d; done

clean:
	rm -rf $(VENV) .dev node_modules .pytest_cache .mypy_cache .ruff_cache
