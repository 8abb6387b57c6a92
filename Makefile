# The two commands of the README: `make run` and `make test`. Both set themselves up.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
DEV_ENV := DEBUG=1

.PHONY: run test test-fast lint format messages compile-messages install system-deps demo clean backup restore

run: install compile-messages
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py load_demo
	$(DEV_ENV) $(PY) manage.py signing_demo_ca
	$(DEV_ENV) bash scripts/dev-server.sh

test: install compile-messages
	bash scripts/system-deps.sh test
	$(DEV_ENV) $(PY) -m pytest $(PYTEST_ARGS)

# Everything but the slow suites (browser journeys, real workers).
test-fast: install compile-messages
	$(DEV_ENV) $(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/bootstrap.sh scripts/system-deps.sh
	bash scripts/system-deps.sh run
	bash scripts/bootstrap.sh $(VENV)
	touch $@

compile-messages: install
	$(DEV_ENV) $(PY) manage.py compilemessages --ignore=.venv -v0

# Refresh the catalogues from the code (msgids are English). Tests only look messages
# up (one looks up Django's own, to check it is not ours): they are no source of them.
messages: install
	for lang in ky ru en; do \
	  $(DEV_ENV) $(PY) manage.py makemessages -l $$lang --no-obsolete --ignore=.venv --ignore=var --ignore=bench --ignore=tests -v0; \
	done

demo: install
	$(DEV_ENV) $(PY) manage.py load_demo

# One archive with the database dump and the uploaded files (see README, Backups).
# The environment decides where from (DATABASE_URL, MEDIA_ROOT); DEBUG only defaults to
# 1 so that a developer's machine needs no SECRET_KEY.
backup: install
	DEBUG=$${DEBUG-1} $(PY) manage.py backup $(if $(FILE),-o $(FILE))

# make restore FILE=var/backups/portal-....tar.gz [FORCE=1]: into an empty database
# and storage (FORCE=1 replaces what is there), then applies newer migrations.
restore: install
	@test -n "$(FILE)" || { echo "usage: make restore FILE=archive.tar.gz [FORCE=1]" >&2; exit 2; }
	DEBUG=$${DEBUG-1} $(PY) manage.py restore $(FILE) $(if $(FORCE),--force)
	DEBUG=$${DEBUG-1} $(PY) manage.py migrate --noinput

clean:
	rm -rf var/celery-queue var/celery-processed var/celery-results var/mail var/test.sqlite3*
