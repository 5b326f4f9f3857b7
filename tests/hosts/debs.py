"""A package repository for the test hosts: debrepo's packages plus
packaged services, as Debian ships them, whose maintainer scripts enable
and start their systemd unit on install (the postinst dh_installsystemd
writes) and stop it on removal. Hosts get it copied in as their only apt
source; no host has a policy-rc.d, so installs start services for real.

A service package runs the test daemon (tests/sysvdaemon/crtestd.py) on
the port in ``/etc/default/NAME``; its one line (``crtestd pid=N
reloads=N``) tells a test from inside the host whether it runs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import debrepo
import sysvdaemon

REPO_IN_HOST = "/srv/debrepo"

POSTINST = """#!/bin/sh
set -e
if [ "$1" = configure ]; then
    deb-systemd-helper unmask NAME.service >/dev/null || true
    deb-systemd-helper enable NAME.service >/dev/null || true
    if [ -d /run/systemd/system ]; then
        systemctl --system daemon-reload >/dev/null || true
        deb-systemd-invoke restart NAME.service >/dev/null || true
    fi
fi
"""

PRERM = """#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
    deb-systemd-invoke stop NAME.service >/dev/null || true
fi
"""

UNIT = """[Unit]
Description=NAME, a celeryroot test service
[Service]
EnvironmentFile=/etc/default/NAME
ExecStart=/usr/bin/python3 /usr/lib/NAME/crtestd.py --port ${PORT}
ExecReload=/bin/kill -HUP $MAINPID
[Install]
WantedBy=multi-user.target
"""


def service_package(name: str, port: int) -> debrepo.Package:
    def text(template: str) -> str:
        return template.replace("NAME", name)
    return debrepo.Package(name, "1.0", depends="python3", files=(
        ("DEBIAN/postinst", text(POSTINST), 0o755),
        ("DEBIAN/prerm", text(PRERM), 0o755),
        (f"lib/systemd/system/{name}.service", text(UNIT), 0o644),
        (f"etc/default/{name}", f"PORT={port}\n", 0o644),
        (f"usr/lib/{name}/crtestd.py", sysvdaemon.DAEMON.read_text(), 0o755),
    ), conffiles=(f"/etc/default/{name}",))


def build(workdir: Path, services: dict[str, int]) -> Path:
    """A flat repository (``deb [trusted=yes] file:DIR ./``) of debrepo's
    packages and a service package per ``services`` entry (name: port)."""
    pool, tree = workdir / "pool", workdir / "build"
    pool.mkdir(parents=True)
    tree.mkdir()
    for pkg in debrepo.packages(daemon_port=1) + [service_package(n, p) for n, p in services.items()]:
        debrepo.build_deb(pkg, tree, pool)
    index = subprocess.run(["apt-ftparchive", "packages", "."], cwd=pool, check=True, capture_output=True,
                           text=True).stdout
    (pool / "Packages").write_text(index)
    return pool


def add_source(host, pool: Path) -> None:
    """Copy the repository into ``host`` and make it its one apt source,
    with its lists read, as on a host whose mirror is configured."""
    host.put(pool, REPO_IN_HOST)
    host.run("sh", "-c", f"echo 'deb [trusted=yes] file:{REPO_IN_HOST} ./' > /etc/apt/sources.list.d/crtest.list")
    host.run("apt-get", "update", "-q")


def answer(host, port: int) -> str:
    """The test daemon's line on ``port`` inside ``host``, or ""."""
    done = host.run("bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port} && head -n 1 <&3", check=False)
    return done.stdout.strip()
