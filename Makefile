# Two commands for a fresh clone (see README):  `make run`  and  `make test`.
# Both install the checkout editable (`pip install -e .`) into .venv, so edits are live.
# `make run` installs what serving needs; `make test` adds the test extras and the npm test
# peers from the lockfile.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin

.PHONY: run test bench setup clean system-packages

# Real servers and binaries the tests drive (Debian packages): installed when missing and apt-get
# is here (CI runs as root); elsewhere the tests that need one fail naming what to install.
SYSTEM_PACKAGES := tesseract-ocr postgresql chromium systemd redis-server haproxy

run: $(VENV)/.stamp-run
	$(BIN)/llmspell gateway $(ARGS)

test: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q $(PYTEST_ARGS)

setup: $(VENV)/.stamp-test node_modules/.stamp-install .dev/llmspell system-packages

bench: $(VENV)/.stamp-test
	$(PY) -m llmspell.bench startup
	$(PY) -m llmspell.bench ready
	$(PY) -m llmspell.bench gateway
	$(PY) -m llmspell.bench proxy
	$(PY) -m llmspell.bench workflow
	$(PY) -m llmspell.bench hooks
	$(PY) -m llmspell.bench state
	$(PY) -m llmspell.bench tools

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.stamp-run: pyproject.toml setup.py | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.stamp-test: pyproject.toml setup.py | $(PY)
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $@ $(VENV)/.stamp-run

node_modules/.stamp-install: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

system-packages:
	@command -v dpkg >/dev/null 2>&1 || { echo "not Debian: install $(SYSTEM_PACKAGES) yourself"; exit 0; }; \
	missing=""; for pkg in $(SYSTEM_PACKAGES); do \
		dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
		if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
			echo "installing$$missing (apt-get)"; \
			(apt-get install -y -q --no-install-recommends $$missing >/dev/null 2>&1 || \
			 (apt-get update -q >/dev/null 2>&1 && \
			  apt-get install -y -q --no-install-recommends $$missing >/dev/null)); \
		else echo "missing system packages:$$missing (the tests that need them will fail)"; fi; \
	fi

# mypy finds modules by path and cannot follow the editable finder, so it reads the checkout
# through this link tree, laid out as the wheel installs it (pyproject: mypy_path = ".dev").
.dev/llmspell:
	mkdir -p .dev/llmspell
	for f in __init__.py __main__.py py.typed bench; do ln -sfn ../../llmspell/$$f .dev/llmspell/$$f; done
	for d in runtime adapters protocols gateway conformance; do ln -sfn ../../$$d .dev/llmspell/$$d; done

clean:
	rm -rf $(VENV) .dev node_modules build *.egg-info .pytest_cache .mypy_cache .ruff_cache
