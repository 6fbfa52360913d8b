# Two commands: `make run` and `make test`. Everything else is what they call.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
HOST    ?= 127.0.0.1
PORT    ?= 5000
export FLASK_APP := wsgi

.PHONY: run test install axe translations db demo bench lint audit clean help

help:
	@echo "make run    - install, migrate, load demo data if empty, serve on http://$(HOST):$(PORT)"
	@echo "make test   - the whole test suite (PostgreSQL/browser tests run when available)"
	@echo "make bench  - survey throughput benchmark (gunicorn, SQLite and PostgreSQL)"
	@echo "make lint   - ruff check and ruff format --check"
	@echo "make audit  - pip-audit of the installed packages against PyPI's advisories"

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
	@$(PY) -m flask demo login --host $(HOST) --port $(PORT)
	$(PY) -m flask run --host $(HOST) --port $(PORT)

test: install axe
	$(PY) -m pytest $(PYTEST_ARGS)

# axe-core (pinned in tests/e2e/package-lock.json) for the accessibility browser tests;
# without npm those tests skip and say why (CI installs npm and requires them).
AXE := tests/e2e/node_modules/axe-core/axe.min.js
axe: $(AXE)
$(AXE): tests/e2e/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/axe-core/axe.min.js; \
	else echo "npm not found: the accessibility tests (axe-core) will be skipped"; fi

bench: install
	$(PY) bench/survey_throughput.py

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# pip-audit's own exit status is not enough: it exits 0 when it could audit nothing.
# tools/audit_report.py fails on a vulnerability and says how many were really checked.
AUDIT_REPORT := $(VENV)/pip-audit.json
audit: $(VENV)/.installed
	@rm -f $(AUDIT_REPORT)
	-$(VENV)/bin/pip-audit --skip-editable --progress-spinner off --format json --output $(AUDIT_REPORT)
	$(PY) tools/audit_report.py $(AUDIT_REPORT) $(AUDIT_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache tests/e2e/node_modules
