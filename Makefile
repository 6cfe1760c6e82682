# The two commands in README.md: `make run` and `make test`. Everything else is their plumbing.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest-xdist's processes for the tests that can share the machine; `make test WORKERS=0` runs
# every test in this one process.
WORKERS ?= auto
# Both locks are compiled from pyproject.toml (and the build requirement) for every platform
# and Python 3.12+, with the hashes of every file of each pinned release.
LOCK := $(VENV)/bin/uv pip compile --quiet --universal --python-version 3.12 --generate-hashes \
	--upgrade --custom-compile-command 'make lock' pyproject.toml requirements/build.in

.PHONY: run test lint lock clean

# Installs exactly what requirements/dev.txt pins, each file checked against its hash, then
# Laurel itself, built from those packages alone.
$(STAMP): requirements/dev.txt pyproject.toml scripts/find-python
	@python=$$(scripts/find-python) || exit 1; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then \
		echo "Creating $(VENV) with $$python"; rm -rf $(VENV); "$$python" -m venv $(VENV) || exit 1; \
	fi
	@echo "Installing Laurel's packages into $(VENV) (the first run only; a minute or two)"
	$(PY) -m pip install --progress-bar on --require-hashes -r requirements/dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)
	@echo "$(VENV) is ready"

# `make run` reads .env when there is one (see .env.example); tests never do.
run: export LAUREL_ENV_FILE ?= $(wildcard .env)
run: $(STAMP)
	@PYTHON=$(PY) scripts/port-free $(HOST) $(PORT)
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	@if [ "$${LAUREL_MODE:-}" = real ]; then $(PY) manage.py collectstatic --no-input -v0; fi
	$(PY) manage.py runserver $(HOST):$(PORT)

# Two passes, each listing its 15 slowest tests: the tests that can share the machine, spread
# over pytest-xdist's processes, then those marked `serial` (they start services of their own
# and time what they see), one at a time. A pass that selects nothing (exit 5) is not a failure.
test: $(STAMP)
	@$(PY) -m pip check >/dev/null || { $(PY) -m pip check; \
		echo "requirements/dev.txt does not satisfy pyproject.toml: run 'make lock'"; exit 1; }
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest -m 'not serial' -n $(WORKERS) --durations=15 $(PYTEST_ARGS) || [ $$? = 5 ]
	$(PY) -m pytest -m serial --durations=15 $(PYTEST_ARGS) || [ $$? = 5 ]

lint: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# Refreshes both locks to the newest releases pyproject.toml allows; `make` then reinstalls.
lock: $(STAMP)
	$(LOCK) --extra dev -o requirements/dev.txt
	$(LOCK) -c requirements/dev.txt -o requirements/lock.txt

clean:
	rm -rf $(VENV) var .pytest_cache
