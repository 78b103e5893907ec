# Homeward. `make run` and `make test` work on a fresh Debian machine with Python 3.11.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
# Debian packages WeasyPrint needs (Pango) and the fonts the PDFs are set in.
DEBIAN_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation2 fonts-dejavu-core
PG_URL ?= postgres://postgres@127.0.0.1:5432/homeward
REDIS ?= redis://127.0.0.1:6379/0

.PHONY: run test test-postgres lint format check system-deps node-deps venv migrate seed deploy-check bench e2e clean
.PHONY: backup restore

run: venv system-deps migrate ## Set up, load demo data and serve web + worker + beat on :8000
	$(PY) manage.py seed_demo
	@echo "Homeward: http://127.0.0.1:8000  (Ctrl-C stops the web server, worker and beat)"
	DEBUG=true $(VENV)/bin/honcho start -f Procfile.dev

test: venv system-deps node-deps ## Set up and run the whole suite (SQLite, no Redis needed)
	$(VENV)/bin/pytest -n 2

test-postgres: venv system-deps node-deps ## The whole suite on PostgreSQL and Redis
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS) $(VENV)/bin/pytest -n 2

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check: venv
	@mkdir -p var
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

deploy-check: venv ## Django's deployment checks with production settings; fails on any warning
	@# PRODUCTION=true alone turns on secure cookies, HTTPS redirect and HSTS; the project's own
	@# checks (config/checks.py) add the CSP, two-factor, lockout and session limits.
	PRODUCTION=true SECRET_KEY=$$(head -c 48 /dev/urandom | base64) ALLOWED_HOSTS=homeward.example \
	ALLOW_DRAMA_PHONE_NUMBERS=false $(PY) manage.py check --deploy --fail-level WARNING

migrate: venv
	@mkdir -p var/celery-broker/processed
	$(PY) manage.py migrate --no-input -v 1

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
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) var staticfiles

e2e: venv system-deps ## The browser journey: Chromium + Playwright against gunicorn, worker, beat
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@test -f node_modules/axe-core/axe.min.js || npm ci --no-audit --no-fund --silent
	HOMEWARD_E2E=1 $(VENV)/bin/pytest tests/e2e -p no:xdist -v

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

