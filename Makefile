# Homeward. `make run` and `make test` work on a fresh Debian machine with Python 3.11.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
# Debian packages WeasyPrint needs (Pango) and the fonts the PDFs are set in.
DEBIAN_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation2 fonts-dejavu-core
# Operations (issue #18): the load balancer and the unit checker of deploy/, the private
# PostgreSQL and Redis of `make cluster-test`, a throw-away certificate.
DEBIAN_PACKAGES += haproxy systemd openssl redis-server
PG_URL ?= postgres://postgres@127.0.0.1:5432/homeward
ENV_FILE ?=
REDIS ?= redis://127.0.0.1:6379/0

.PHONY: run test test-clock test-postgres lint format check system-deps venv migrate seed deploy-check bench e2e clean node-deps
.PHONY: backup restore cluster-test

# `make run PORT=8123` serves on another port; `make run DEBUG=true` shows Django's debug pages
# (a developer's choice: by default the demo behaves like production, with calm 404/403/500 pages).
PORT ?= 8000
DEBUG ?= false

run: venv system-deps migrate ## Set up, load demo data and serve web + worker + beat on :8000
	HOMEWARD_DEV=true $(PY) manage.py seed_demo
	@echo "Homeward: http://127.0.0.1:$(PORT)  (Ctrl-C stops the web server, worker and beat)"
	@# honcho gives the first process (web) PORT; Ctrl-C stops all three and is not an error.
	@HOMEWARD_DEV=true DEBUG=$(DEBUG) $(VENV)/bin/honcho start -f Procfile.dev -p $(PORT) \
	  || { status=$$?; [ $$status -eq 130 ] || [ $$status -eq 143 ] || exit $$status; }

test: venv system-deps node-deps ## Set up and run the whole suite (SQLite, no Redis needed)
	HOMEWARD_DEV=true $(VENV)/bin/pytest -n 2

# The wall clock each `make test-clock` run starts at (tests/conftest.py): one minute to midnight
# in London on New Year's Eve, and on 29 February. A test that leans on the real date fails here.
TEST_CLOCKS ?= 2026-12-31T23:59:30+00:00 2028-02-29T23:59:30+00:00
# The date-sensitive parts of the suite (every test that stores or compares a date or a time).
CLOCK_TESTS ?= tests/audit tests/records tests/riskassess tests/visits tests/tracking/test_board.py \
	tests/tracking/test_signout.py tests/tracking/test_ladder.py tests/tracking/test_checkin_link.py \
	tests/test_security_retention.py tests/test_security_sessions.py tests/test_suite_clock.py

test-clock: venv system-deps ## The date-sensitive tests with the wall clock moved to each of TEST_CLOCKS
	@set -e; for clock in $(TEST_CLOCKS); do \
	  echo "== The clock says $$clock"; \
	  HOMEWARD_TEST_CLOCK=$$clock $(VENV)/bin/pytest -n 2 -q $(CLOCK_TESTS); \
	done

test-postgres: venv system-deps node-deps ## The whole suite on PostgreSQL and Redis
	HOMEWARD_DEV=true DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS) $(VENV)/bin/pytest -n 2

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check: venv
	@mkdir -p var
	HOMEWARD_DEV=true $(PY) manage.py check
	HOMEWARD_DEV=true $(PY) manage.py makemigrations --check --dry-run

deploy-check: venv ## Django's deployment checks on the environment given (and ENV_FILE=...); fails on any warning
	@# Checks the real settings: the caller's environment, plus the file ENV_FILE names (the
	@# environment wins). The project's own checks (config/checks.py) add the CSP, two-factor,
	@# lockout, session limits, a real SECRET_KEY, real email and SMS, and an https SITE_URL.
	ENV_FILE=$(ENV_FILE) $(PY) manage.py check --deploy --fail-level WARNING

migrate: venv
	@mkdir -p var/celery-broker/processed
	HOMEWARD_DEV=true $(PY) manage.py migrate --no-input -v 1

node-deps: ## The npm packages the tests use (oidc-provider for SSO, axe-core for the browser)
	@test -f node_modules/oidc-provider/package.json -a -f node_modules/axe-core/axe.min.js || npm ci --no-audit --no-fund --silent

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "Homeward needs $(PYTHON)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

system-deps: ## Install WeasyPrint's Debian packages and fonts if any is missing
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

bench: venv system-deps ## Run every benchmark in bench/ and rewrite bench/RESULTS.md
	HOMEWARD_DEV=true $(PY) bench/run.py

cluster-test: venv system-deps ## Two web nodes behind HAProxy, two workers, two beats, private PostgreSQL and Redis, under faults
	$(PY) scripts/cluster_test.py

clean:
	rm -rf $(VENV) var staticfiles

e2e: venv system-deps ## The browser journey: Chromium + Playwright against gunicorn, worker, beat
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@test -f node_modules/axe-core/axe.min.js || npm ci --no-audit --no-fund --silent
	HOMEWARD_DEV=true HOMEWARD_E2E=1 $(VENV)/bin/pytest tests/e2e -p no:xdist -v

# Backups (docs/operations.md): the PostgreSQL database in DATABASE_URL (else PG_URL).
BACKUP_DB ?= $(or $(DATABASE_URL),$(PG_URL))
BACKUP_DIR ?= backups

backup: ## A restorable copy of the database: $(BACKUP_DIR)/homeward-<UTC time>.dump (pg_dump -Fc)
	@umask 077; mkdir -p "$(BACKUP_DIR)"; \
	file="$(BACKUP_DIR)/homeward-$$(date -u +%Y%m%dT%H%M%SZ).dump"; \
	pg_dump --format=custom --no-owner --no-privileges --file="$$file" --dbname="$(BACKUP_DB)" \
	  && echo "Backup written: $$file (children's data: keep it encrypted, see docs/operations.md)"

restore: ## make restore FILE=backups/homeward-….dump: the database becomes the backup (pg_restore)
	@test -n "$(FILE)" || { echo "Say which backup: make restore FILE=backups/homeward-....dump"; exit 1; }
	@test -f "$(FILE)" || { echo "No such backup file: $(FILE)"; exit 1; }
	pg_restore --clean --if-exists --no-owner --no-privileges --exit-on-error --single-transaction \
	  --dbname="$(BACKUP_DB)" "$(FILE)"
	@echo "Restored $(FILE). Run 'make migrate' if the backup is older than this version of Homeward."

