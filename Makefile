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
        translations-compile database kiosk bench clean

run: install translations-compile database
	$(BIN)/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT) 'app:create_app()'

test: install-test translations-compile
	$(BIN)/python -m pytest

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
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/python translations/fill_source_locale.py
	$(BIN)/pybabel compile -d translations --statistics

translations-compile: $(VENV)/.installed
	@$(BIN)/pybabel compile -d translations -f --statistics 2>&1 | grep -v '^compiling' || true

database: install
	$(BIN)/flask --app app db upgrade
	$(BIN)/flask --app app registry seed --if-empty --count 500

bench: install-test
	$(BIN)/python bench/verify.py

clean:
	rm -rf $(VENV) instance/assets
