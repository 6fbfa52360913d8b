# Two commands: `make run` and `make test`. Everything else is what they call.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
HOST    ?= 127.0.0.1
PORT    ?= 5000
export FLASK_APP := wsgi

.PHONY: run test install translations db demo bench clean help

help:
	@echo "make run    - install, migrate, load demo data if empty, serve on http://$(HOST):$(PORT)"
	@echo "make test   - the whole test suite (PostgreSQL/browser tests run when available)"
	@echo "make bench  - survey throughput benchmark (gunicorn, SQLite and PostgreSQL)"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed translations

translations: $(VENV)/.installed
	@$(PY) -m flask translate compile >/dev/null

db: install
	$(PY) -m flask db upgrade

demo: db
	$(PY) -m flask demo load --if-empty

run: demo
	@$(PY) -m flask demo login
	$(PY) -m flask run --host $(HOST) --port $(PORT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) bench/survey_throughput.py

clean:
	rm -rf $(VENV) .pytest_cache
