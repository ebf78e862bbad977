# Yanpiao: `make run` serves the app, `make test` runs every test. Both install what they need
# on a fresh Debian machine (run as root, or with sudo available) and are quick the second time.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# System packages: zbar for QR decoding, OpenCV's runtime libraries, CJK and Arabic fonts
# (receipts and screenshots), espeak-ng for spoken prompts; chromium only for the browser tests.
RUN_PACKAGES := libzbar0 libgl1 libglib2.0-0 fonts-noto-cjk fonts-noto-core espeak-ng
TEST_PACKAGES := $(RUN_PACKAGES) chromium

.PHONY: run test install install-test system-packages system-test-packages translations \
        translations-compile database kiosk bench clean security-checks test-postgres soak chaos

run: install translations-compile database
	$(BIN)/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT) 'app:create_app()'

# The suite on SQLite (TEST_DATABASE_URL unset for it), the security checks, then the suite
# again on PostgreSQL + Redis when TEST_DATABASE_URL names a reachable server (.ci/run starts
# one). The second run leaves out the browser tests: their live server has its own SQLite file.
# Both runs use pytest-xdist (PYTEST_WORKERS=1 for one process): CI stays well under 15 min.
PYTEST_WORKERS ?= 2

test: install-test translations-compile
	env -u TEST_DATABASE_URL -u RATELIMIT_STORAGE_URI $(BIN)/python -m pytest -n $(PYTEST_WORKERS)
	$(MAKE) --no-print-directory security-checks test-postgres

# bandit over our code (.ci/bandit.yaml), pip-audit over the virtualenv (.ci/pip_audit.py).
security-checks: install-test
	$(BIN)/bandit -q -c .ci/bandit.yaml -r app.py blueprints yanpiao
	$(BIN)/python .ci/pip_audit.py

test-postgres: install-test translations-compile
	@if [ -z "$$TEST_DATABASE_URL" ]; then \
	  echo "PostgreSQL run skipped: TEST_DATABASE_URL is not set (.ci/run sets it)."; \
	elif ! $(BIN)/python -c 'import os, sqlalchemy; sqlalchemy.create_engine(os.environ["TEST_DATABASE_URL"], connect_args={"connect_timeout": 5}).connect().close()' 2>/dev/null; then \
	  echo "PostgreSQL run skipped: no server answers at TEST_DATABASE_URL."; \
	else \
	  echo "PostgreSQL run (rate limits in $${RATELIMIT_STORAGE_URI:-memory://}):"; \
	  $(BIN)/python -m pytest -m "not browser" -n $(PYTEST_WORKERS); \
	fi

install: system-packages $(VENV)/.installed
install-test: system-test-packages $(VENV)/.installed-dev

define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages: $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

system-packages:
	$(call apt_install,$(RUN_PACKAGES) python3-venv)

system-test-packages:
	$(call apt_install,$(TEST_PACKAGES) python3-venv)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

# extract → update → compile; the .mo files are built, the .po files are kept in git.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -k Plural:1,2 -k lazy_ngettext:1,2 --no-location --sort-output -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/python translations/fill_source_locale.py
	$(BIN)/pybabel compile -d translations --statistics

translations-compile: $(VENV)/.installed
	@$(BIN)/pybabel compile -d translations -f --statistics 2>&1 | grep -v '^compiling' || true

database: install
	$(BIN)/flask --app app db upgrade
	$(BIN)/flask --app app registry seed --if-empty --count 500

# The kiosk: the app, the one camera reader and Chromium locked in kiosk mode (README, "Running
# a kiosk"). speech-dispatcher lets Chromium speak; cups-client sends receipts to the printer.
KIOSK_PACKAGES := $(RUN_PACKAGES) chromium speech-dispatcher cups-client

kiosk: install translations-compile database
	$(call apt_install,$(KIOSK_PACKAGES))
	$(BIN)/flask --app app kiosk run --host $(HOST) --port $(PORT)

bench: install-test
	$(BIN)/python bench/verify.py

# Load and fault proofs on the loopback interface (docs/DEPLOY.md): about 5 and 5 minutes.
soak: install-test
	$(BIN)/python bench/soak.py

chaos: install-test
	$(BIN)/python bench/chaos.py workers
	$(BIN)/python bench/chaos.py postgres

clean:
	rm -rf $(VENV) instance/assets
