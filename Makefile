# The two set-up commands of the README's quick start:
#   make base   installs celeryroot (into .venv) and runs playbooks/base.yaml here
#   make test   installs what the tests need (redis-server included) and runs them
VENV ?= .venv
PY := $(VENV)/bin/python
# Debian packages the tests use: Redis itself; apt-ftparchive for the test
# package repository; Debian's python3 for the SysV test daemon; useradd and
# update-rc.d; systemd-nspawn, debootstrap and iproute2 for the test hosts.
TEST_PACKAGES := redis-server apt-utils dpkg-dev python3 passwd init-system-helpers systemd-container debootstrap iproute2 procps

.PHONY: base test system-packages bench
base: $(PY)
	$(PY) -m pip install -q -e .
	$(VENV)/bin/celeryroot-play playbooks/base.yaml

test: system-packages $(PY)
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -m pytest

$(PY):
	python3 -m venv $(VENV) || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv && python3 -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system-packages:
	@missing=$$(for p in $(TEST_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# The benchmark against ansible-playbook and pyinfra (bench/README.md); it
# installs redis-server and its own virtualenv (bench/.venv) itself.
bench:
	python3 bench/run.py $(BENCH_ARGS)
