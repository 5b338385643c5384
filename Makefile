# Tend — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup compilemessages run test lint bench clean

VENDOR_STAMP := tend/core/static/vendor/.built

setup: $(STAMP) $(VENDOR_STAMP) compilemessages

# Front-end packages come from npm, pinned by frontend/package-lock.json; never from a CDN.
$(VENDOR_STAMP): frontend/package.json frontend/package-lock.json frontend/build.mjs
	@command -v npm >/dev/null || { echo "Tend needs Node.js and npm for its front-end packages."; exit 1; }
	cd frontend && npm ci --no-audit --no-fund --loglevel=error && node build.mjs
	@touch $(VENDOR_STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Tend needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . >/dev/null 2>&1 \
		|| $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

# Compiled translations (.mo) are built from the committed catalogs, not committed themselves.
compilemessages: $(STAMP)
	@if ! ls tend/locale/*/LC_MESSAGES/django.po >/dev/null 2>&1; then echo "No translation catalogs yet."; \
	elif command -v msgfmt >/dev/null; then cd tend && ../$(BIN)/python ../manage.py compilemessages --verbosity 0; \
	else echo "GNU gettext (msgfmt) is missing: Tend runs in English only. Install the gettext package."; fi

run: setup
	$(BIN)/tend migrate
	$(BIN)/tend demo --if-empty
	$(BIN)/tend manage collectstatic --noinput --verbosity 0
	@$(BIN)/tend demo --print-logins
	$(BIN)/tend serve

test: setup
	@bash scripts/run-tests

lint: setup
	$(BIN)/ruff check tend tests bench
	VENV=$(VENV) bash scripts/typecheck

bench: setup
	$(BIN)/python bench/filter_bench.py

clean:
	rm -rf $(VENV) static .pytest_cache .ruff_cache .mypy_cache frontend/node_modules tend/core/static/vendor
