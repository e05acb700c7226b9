# The WebSocket connectivity gate. `make gate` runs it; `make test` runs the project's own tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

STACK ?= auto
NGINX_CONF ?=
NGINX_PREFIX ?=
NGINX_MAIN ?=
ORIGIN ?=
BACKEND_URL ?=
TARGET ?=
BACKEND_IMAGE ?=
CONTRACT ?=
REQUIRE ?=
FAMILIES ?=
AUTH_TIMEOUT ?=
NGINX_VERSION ?=
NGINX_BIN ?=
TRADING_ADDRESS ?=
WORKER_CONNECTIONS ?=
BACKEND_SECRET_ENV ?=
BACKEND_PORT ?=
CA_FILE ?=
SUMMARY ?=
REPORTS ?=
REPO_ROOT ?=
ORIGIN_POLICY ?=
JOBS ?=
FRONTEND_DIST ?=
N ?= 1000
PYTEST_ARGS ?=
# Each variable passes one gate option in GATE_OPTIONS (NGINX_CONF as --nginx-conf, JOBS as -n), as docs/options.md
# lists them; selftest/test_options_declared_once.py checks both against the gate's parser. N is --load, passed by
# `make load` only; a real access token goes through the environment as WS_E2E_TOKEN.
# The secret goes to the gate through the environment, never on a command line make would echo.
ifdef JWT_SECRET
export WS_E2E_JWT_SECRET := $(JWT_SECRET)
endif

GATE_OPTIONS = --stack=$(STACK) \
	$(if $(NGINX_CONF),--nginx-conf=$(NGINX_CONF)) \
	$(if $(NGINX_PREFIX),--nginx-prefix=$(NGINX_PREFIX)) \
	$(if $(NGINX_MAIN),--nginx-main=$(NGINX_MAIN)) \
	$(if $(ORIGIN),--origin=$(ORIGIN)) \
	$(if $(FRONTEND_DIST),--frontend-dist=$(FRONTEND_DIST)) \
	$(if $(BACKEND_URL),--backend-url=$(BACKEND_URL)) \
	$(if $(TARGET),--target=$(TARGET)) \
	$(if $(BACKEND_IMAGE),--backend-image=$(BACKEND_IMAGE)) \
	$(if $(CONTRACT),--contract=$(CONTRACT)) \
	$(if $(REQUIRE),--require=$(REQUIRE)) \
	$(if $(FAMILIES),--families=$(FAMILIES)) \
	$(if $(AUTH_TIMEOUT),--auth-timeout=$(AUTH_TIMEOUT)) \
	$(if $(NGINX_VERSION),--nginx-version=$(NGINX_VERSION)) \
	$(if $(NGINX_BIN),--nginx-bin=$(NGINX_BIN)) \
	$(if $(TRADING_ADDRESS),--trading-address=$(TRADING_ADDRESS)) \
	$(if $(WORKER_CONNECTIONS),--worker-connections=$(WORKER_CONNECTIONS)) \
	$(if $(BACKEND_SECRET_ENV),--backend-secret-env=$(BACKEND_SECRET_ENV)) \
	$(if $(BACKEND_PORT),--backend-port=$(BACKEND_PORT)) \
	$(if $(CA_FILE),--ca-file=$(CA_FILE)) \
	$(if $(SUMMARY),--summary=$(SUMMARY)) \
	$(if $(REPORTS),--reports=$(REPORTS)) \
	$(if $(REPO_ROOT),--root=$(REPO_ROOT)) \
	$(if $(ORIGIN_POLICY),--origin-policy=$(ORIGIN_POLICY)) \
	$(if $(JOBS),-n $(JOBS))

.PHONY: gate test selftest selfcheck lint dist image wheelhouse load load-master load-worker bench reliability frontend-check docker-images docker-ready node-service docker-clean nginx-releases prerequisites clean

# ws-gate exits 0, 1 (a fault) or 2 (a usage or environment error); make reports any failure as 2.
gate: prerequisites
	$(VENV)/bin/ws-gate $(GATE_OPTIONS) $(if $(PYTEST_ARGS),-- $(PYTEST_ARGS))

load: prerequisites
	$(PY) -m pytest $(GATE_OPTIONS) --load=$(N) tests/test_load.py --junitxml=reports/load.xml $(PYTEST_ARGS)

# The same sessions from several machines: one master (here, TARGET=ws://HOST:PORT of the Nginx under test) and
# WORKERS machines running `make load-worker MASTER=this-host` with JWT_SECRET or WS_E2E_TOKEN set. Master and
# workers need only the virtualenv, no Nginx.
WORKERS ?= 2
MASTER ?=
SPAWN_RATE ?= 250
LOCUST := $(VENV)/bin/locust -f locustfile.py
load-master: $(VENV)/.installed
	@[ -n "$(TARGET)" ] || { echo "give TARGET=ws://HOST:PORT (the Nginx the workers' sessions go through)"; exit 2; }
	$(LOCUST) --master --headless --expect-workers=$(WORKERS) --expect-workers-max-wait=120 --only-summary \
		--users=$(N) --spawn-rate=$(SPAWN_RATE) --run-time=$$(( $(N) / $(SPAWN_RATE) + 60 ))s --host=$(TARGET) \
		--csv=reports/load-distributed --html=reports/load-distributed.html --json-file=reports/load-distributed \
		$(if $(ORIGIN),--origin=$(ORIGIN))

load-worker: $(VENV)/.installed
	@[ -n "$(MASTER)" ] || { echo "give MASTER=HOST (the machine running make load-master)"; exit 2; }
	$(LOCUST) --worker --master-host=$(MASTER)

bench: prerequisites
	$(PY) tools/bench.py

# The wheel: dist/ws_gate-<version>-py3-none-any.whl, the library with the cases, plugins and build files it runs
# (pyproject.toml); built from the pinned setuptools in .venv, with no download.
VERSION = $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' ws_gate/__init__.py)
WHEEL = dist/ws_gate-$(VERSION)-py3-none-any.whl
dist: $(VENV)/.installed
	rm -rf build $(WHEEL)
	$(PY) -m pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation --wheel-dir dist .
	rm -rf build
	@echo "built $(WHEEL)"

# The pinned requirements as wheels, for installs that reach no package index (the image, the install self-test).
WHEELHOUSE := $(VENV)/wheelhouse
wheelhouse: $(WHEELHOUSE)/requirements.txt
# For Python 3.11, the image's (Debian 12's); the copy of requirements.txt, made last, marks a complete download.
$(WHEELHOUSE)/requirements.txt: requirements.txt | $(VENV)/.installed
	rm -rf $(WHEELHOUSE)
	$(PY) -m pip download --quiet --disable-pip-version-check --only-binary=:all: --python-version 3.11 \
		-d $(WHEELHOUSE) -r requirements.txt
	cp requirements.txt $@

# The container image ws-gate:<version> (and :latest): Debian's nginx, chromium and Python with the wheel, built
# offline like the Docker stack's base.
image: dist wheelhouse
	docker/build-image.sh $(WHEEL)

# The Docker stack's images without a registry: a Debian base from debootstrap, the stub's wheels (into the user's
# cache, ~/.cache/ws-gate/stub-wheels).
docker-images: $(VENV)/.installed
	PYTHON=$(abspath $(PY)) docker/build-base.sh

# Debian's nginx 1.22, 1.26 and 1.30 into the user's cache (~/.cache/ws-gate/nginx/), for runs without the mirror.
nginx-releases: $(VENV)/.installed
	$(PY) -m ws_gate.nginx.releases

# What a gate killed outright (SIGKILL) left in Docker: its labelled containers and networks.
docker-clean:
	docker ps -aq --filter label=ws-gate.run | xargs -r docker rm -f
	docker network ls -q --filter label=ws-gate.run | xargs -r docker network rm

# 30 gates in a row and two at once: no flake, nothing left behind (RUNS=10 STACK=docker for Docker; BUSY=2 with
# both cores kept busy meanwhile).
RUNS ?= 30
BUSY ?= 0
reliability: prerequisites
	$(PY) tools/reliability.py --runs=$(RUNS) --busy=$(BUSY) --stack=$(if $(filter auto,$(STACK)),local,$(STACK))

# The built frontend's bundle scan (no stack) and the browser tests, after `npm run build`.
frontend-check: prerequisites
	@[ -n "$(FRONTEND_DIST)" ] || { echo "give FRONTEND_DIST=path/to/dist (the folder npm run build writes)"; exit 2; }
	$(PY) -m pytest $(GATE_OPTIONS) tests/test_frontend.py --junitxml=reports/frontend.xml $(PYTEST_ARGS)

test: lint selftest gate

selftest: prerequisites docker-ready node-service dist wheelhouse
	$(PY) -m pytest selftest --junitxml=reports/selftest.xml $(PYTEST_ARGS)

# The independent Node trading-service of the self-tests: its pinned ws and jsonwebtoken, from its lock file.
NODE_SERVICE := selftest/backends/node
node-service: $(NODE_SERVICE)/node_modules/.package-lock.json
$(NODE_SERVICE)/node_modules/.package-lock.json: $(NODE_SERVICE)/package.json $(NODE_SERVICE)/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix $(NODE_SERVICE) --no-audit --no-fund; else \
	  echo "no npm: the self-tests against the Node service will skip (install Node.js and npm)"; fi

# The self-tests run the Docker stack and the gate's image whenever an engine answers. On a Debian machine, which
# may reach no registry, the offline bases, the stub's wheels and the image are built first (the bases once).
docker-ready: $(VENV)/.installed
	@if docker info >/dev/null 2>&1 && { [ -f /etc/apt/sources.list.d/debian.sources ] || [ -n "$$DEBIAN_MIRROR" ]; }; then \
	  $(MAKE) --no-print-directory docker-images image; fi

# The mutation self-check: every mutant caught by the test named for it, every correct variant passes.
selfcheck: prerequisites node-service
	$(PY) selftest/selfcheck.py

# ruff, and actionlint's checks (jactionlint's correctness profile) on the action and the workflow; shell steps
# go through shellcheck when it is installed.
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/jactionlint --profile correctness action.yml .github/workflows/ws-gate.yml

prerequisites: $(VENV)/.installed
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's nginx-light"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; \
	  else \
	    echo "nginx not found: install Debian's nginx-light (sudo apt-get install nginx-light)"; exit 2; \
	  fi; }
	@[ -x /usr/bin/chromium ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium libatomic1 >/dev/null; \
	  else \
	    echo "no /usr/bin/chromium: the browser tests will skip (sudo apt-get install chromium)"; \
	  fi; }

# The pinned requirements, then the project itself for the ws-gate command (no download: setuptools is pinned).
$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11 or newer is needed (PYTHON=$(PYTHON))"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

clean:
	rm -rf $(VENV) reports dist build *.egg-info .pytest_cache .ruff_cache $(NODE_SERVICE)/node_modules
