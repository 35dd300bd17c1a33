# Two commands for users: `make run` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# make serve: gunicorn worker processes (each with THREADS threads).
WORKERS ?= 2
THREADS ?= 8

.PHONY: run serve test install install-dev lint format lock clean cluster cluster-stop cluster-client

# A stamp, not $(BIN)/python: that is a symlink, whose time make reads from the system's
# interpreter (older than any lock), so the venv was made again by every target.
$(VENV)/.pip: requirements-pip.lock
	$(PYTHON) -m venv $(VENV)
	PIP_CONFIG_FILE=/dev/null $(BIN)/python -m pip install --quiet --require-hashes -r requirements-pip.lock
	@touch $@

# pip reads only PyPI, whose files the lock's hashes are of: a machine's pip configuration may add
# local mirrors that carry other builds of the same versions (other hashes), which would fail.
PIP_INSTALL := PIP_CONFIG_FILE=/dev/null $(BIN)/python -m pip install

# Runtime dependencies, installed exactly as locked (with hashes).
$(VENV)/.installed: requirements.lock | $(VENV)/.pip
	$(PIP_INSTALL) --quiet --require-hashes -r requirements.lock
	@touch $@

# Runtime + test/lint dependencies.
$(VENV)/.installed-dev: requirements-dev.lock | $(VENV)/.pip
	$(PIP_INSTALL) --quiet --require-hashes -r requirements-dev.lock
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# A background worker (uploads are imported by it) beside the web server, stopped with it.
START_WORKER = $(BIN)/python manage.py worker --no-reload --no-startup-delay & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM;

## make run: install, migrate, load fixtures/ into an empty archive, build the index if needed,
## serve, with a background worker for uploads.
run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py init_archive
	$(START_WORKER) $(BIN)/python manage.py runserver $(HOST):$(PORT)

## make serve: the same archive in production mode: DEBUG off, gunicorn (gthread), static files
## collected into the data directory and served by whitenoise. Needs DJANGO_SECRET_KEY and
## DJANGO_ALLOWED_HOSTS; see README "Production".
serve: $(VENV)/.installed
	@test -n "$$DJANGO_SECRET_KEY" || { echo "make serve: set DJANGO_SECRET_KEY (a long random string) and DJANGO_ALLOWED_HOSTS first; see README, Production." >&2; exit 2; }
	DJANGO_ENV=production $(BIN)/python manage.py check --deploy --fail-level WARNING
	DJANGO_ENV=production $(BIN)/python manage.py migrate --noinput
	DJANGO_ENV=production $(BIN)/python manage.py init_archive
	DJANGO_ENV=production $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	export DJANGO_ENV=production; $(START_WORKER) $(BIN)/gunicorn config.wsgi:application --worker-class gthread \
		--workers $(WORKERS) --threads $(THREADS) --bind $(HOST):$(PORT) \
		--timeout 60 --graceful-timeout 30 --access-logfile - --forwarded-allow-ips 127.0.0.1 --no-control-socket

## make test: install dev dependencies and run the whole suite.
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## make lock: regenerate both lock files from pyproject.toml (needs network access to PyPI).
lock: $(VENV)/.installed-dev
	$(BIN)/python -m pip install --quiet uv==0.13.9
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes --no-header -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes --no-header -o requirements-dev.lock

## make cluster: a local Sphinx cluster for ARCHIVE_SEARCH_BACKEND=sphinxql (2 shards, a mirror of
## shard 0, a head) on 127.0.0.1 under $ARCHIVE_DATA_DIR/cluster (default var/cluster); installs
## Debian's sphinxsearch if searchd is missing. Idempotent. Ports from ARCHIVE_SPHINX_BASE_PORT
## (default 9406: the head's SphinxQL). make cluster-stop stops exactly those processes (by PID).
cluster: $(VENV)/.installed
	@if ! command -v searchd >/dev/null 2>&1; then \
	  SUDO=""; if [ "$$(id -u)" -ne 0 ]; then SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq sphinxsearch >/dev/null; \
	fi
	$(BIN)/python -m archive.search.sphinxql.cluster start

cluster-stop: $(VENV)/.installed
	$(BIN)/python -m archive.search.sphinxql.cluster stop

## make cluster-client: the cluster backend's C client (mysqlclient), which reads searchd's rows
## about eight times faster than pymysql (archive/search/sphinxql/client.py). It has no Linux
## wheel: Debian's libmariadb-dev, pkg-config and gcc are installed first if missing.
cluster-client: $(VENV)/.installed-cluster-client

$(VENV)/.installed-cluster-client: requirements-cluster-client.lock | $(VENV)/.installed
	@if ! pkg-config --exists libmariadb 2>/dev/null || ! command -v gcc >/dev/null 2>&1; then \
	  SUDO=""; if [ "$$(id -u)" -ne 0 ]; then SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libmariadb-dev pkg-config gcc >/dev/null; \
	fi
	$(PIP_INSTALL) --quiet --require-hashes -r requirements-cluster-client.lock
	@touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
