# The two set-up commands of the README's quick start:
#   make base   installs celeryroot (into .venv) and runs playbooks/base.yaml here
#   make test   installs what the tests need (redis-server included) and runs them
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
PY := $(BIN)/python
# pip's own chatter (build back-end notices, the machine's index warnings)
# goes to a log that is shown only when an install fails.
PIP_LOG := $(VENV)/pip.log
PIP := $(PY) -m pip install --disable-pip-version-check
# An editable install writes no bytecode, and where PYTHONDONTWRITEBYTECODE
# is set nothing ever does: every celeryroot-play and every worker start
# would compile celeryroot's sources again (~60 ms of a one-host run).
# compileall writes it once, beside the sources (__pycache__, gitignored);
# Python checks each file's mtime, so an edited file is never run stale.
COMPILE := $(PY) -m compileall -q celeryroot
# Debian packages the tests use: Redis itself; apt-ftparchive for the test
# package repository; Debian's python3 for the SysV test daemon; useradd and
# update-rc.d; systemd-nspawn, debootstrap and iproute2 for the test hosts;
# headless chromium, which reads and draws celeryroot-runs' HTML page;
# PostgreSQL for the run history's shared store (a private cluster per test
# session; its libpq is what psycopg loads); cron for its crontab command
# (the cron module); gpg, which signs the test repository (apt_key, signed-by).
# systemd-container depends on the same version of systemd, so installing it
# can upgrade the machine's systemd (the README says so).
# ansible-playbook, which tests/test_differential.py runs beside celeryroot,
# in a virtualenv of its own: ansible-core is no dependency of celeryroot.
# Where it cannot be installed (no index), those tests say so and skip.
ANSIBLE_VENV ?= .venv-ansible
ANSIBLE_PLAYBOOK := $(abspath $(ANSIBLE_VENV))/bin/ansible-playbook
TEST_PACKAGES := redis-server redis-sentinel apt-utils dpkg-dev python3 passwd init-system-helpers systemd-container debootstrap iproute2 procps tmux chromium postgresql cron gpg

.PHONY: base test system-packages ansible bench
base: $(PY)
	@echo "make base: installs celeryroot into $(VENV), then runs playbooks/base.yaml on THIS machine:"
	@echo "  it installs ca-certificates, cron, less and procps, creates the user and group 'ops',"
	@echo "  and rewrites /etc/motd (see the README). Preview it with: $(VENV)/bin/celeryroot-play playbooks/base.yaml --check --diff"
	@$(PIP) -e . >$(PIP_LOG) 2>&1 || { cat $(PIP_LOG); exit 1; }
	@$(COMPILE)
	$(BIN)/celeryroot-play playbooks/base.yaml

# The import contracts (pyproject.toml) first: a wrong arrow between the
# rooms fails in a second. The venv's bin comes first on PATH, as it does
# for a user who activated it: the tests run the console scripts the
# install put there.
test: system-packages ansible $(PY)
	@$(PIP) -e '.[test]' >$(PIP_LOG) 2>&1 || { cat $(PIP_LOG); exit 1; }
	@$(COMPILE)
	$(BIN)/lint-imports --no-cache
	PATH=$(BIN):$$PATH CELERYROOT_TEST_ANSIBLE=$(ANSIBLE_PLAYBOOK) $(PY) -m pytest

ansible:
	@[ -x $(ANSIBLE_PLAYBOOK) ] || { python3 -m venv $(ANSIBLE_VENV) && \
		$(ANSIBLE_VENV)/bin/python -m pip install --disable-pip-version-check -r tests/requirements-ansible.txt \
		>$(ANSIBLE_VENV)/pip.log 2>&1 || echo "ansible-core could not be installed (see $(ANSIBLE_VENV)/pip.log): tests/test_differential.py will skip"; }

$(PY):
	python3 -m venv $(VENV) || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv && python3 -m venv $(VENV); }
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system-packages:
	@missing=$$(for p in $(TEST_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

# The benchmark against ansible-playbook and pyinfra (bench/README.md); it
# installs redis-server and its own virtualenv (bench/.venv) itself.
bench:
	python3 bench/run.py $(BENCH_ARGS)
