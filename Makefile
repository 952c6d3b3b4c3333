# Two commands on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PORT ?= 8000
PYTHON ?= python3

.PHONY: run test lint bench fuzz clean

$(VENV)/.runtime: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e .
	touch $@

$(VENV)/.test: $(VENV)/.runtime
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

run: $(VENV)/.runtime
	PORT=$(PORT) $(VENV)/bin/gunicorn -c config/gunicorn.conf.py app:app

lint: $(VENV)/.test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The suite, then the end-to-end suite again on the scaled set-up: two gunicorn
# workers, the Redis bus and PostgreSQL (the tests start both servers).
test: lint
	$(VENV)/bin/pytest
	BRIDGE_TEST_SCALED=1 $(VENV)/bin/pytest --ignore=tests/scaled

bench: $(VENV)/.test
	$(VENV)/bin/python bench/roundtrip.py
	$(VENV)/bin/python bench/boundary.py
	$(VENV)/bin/python bench/things.py
	$(VENV)/bin/python bench/sigfox.py
	$(VENV)/bin/python bench/scaleout.py
	$(VENV)/bin/python bench/journeys.py
	$(VENV)/bin/python bench/cli.py
	$(VENV)/bin/python bench/fairness.py
	$(VENV)/bin/python bench/accuracy.py --quick

# The long fuzzing profile: at least 10,000 inputs per entry point, and a table of results.
fuzz: $(VENV)/.test
	BRIDGE_FUZZ=long $(VENV)/bin/pytest tests/fuzz -q --timeout=3600

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-output
