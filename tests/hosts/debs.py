"""A package repository for the test hosts: debrepo's packages plus
packaged services, as Debian ships them, whose maintainer scripts enable
and start their systemd unit on install (the postinst dh_installsystemd
writes) and stop it on removal. Hosts get it copied in as their only apt
source; no host has a policy-rc.d, so installs start services for real.

A service package runs the test daemon (tests/sysvdaemon/crtestd.py) on
the port in ``/etc/default/NAME``; its one line (``crtestd pid=N
reloads=N``) tells a test from inside the host whether it runs.

``debian_repository`` is the other kind: real packages from Debian
(apache2, haproxy…), downloaded once and cached beside the root filesystem,
for the differential tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import debrepo
import sysvdaemon

from . import sh
from .containers import _key, cache_entry, publish

REPO_IN_HOST = "/srv/debrepo"
#: Where the repository of real Debian packages is bind-mounted in a host.
DEBIAN_IN_HOST = "/srv/debian"

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
    use_source(host, REPO_IN_HOST, "crtest")


def use_source(host, folder: str, name: str) -> None:
    """The flat repository at ``folder`` in ``host`` as an apt source, its lists read."""
    host.run("sh", "-c", f"echo 'deb [trusted=yes] file:{folder} ./' > /etc/apt/sources.list.d/{name}.list")
    host.run("apt-get", "update", "-q")


def debian_repository(rootfs: Path, packages: list[str], log=print) -> Path:
    """A flat repository of real Debian packages: ``packages`` and all they
    need (recommends too, as apt installs them by default) that the image
    ``rootfs`` lacks. apt on this machine resolves them against the image's
    dpkg status and downloads them into a private folder (nothing is
    installed here, no lock or cache of this machine's apt is touched); the
    result is cached beside the root filesystem, keyed by the image and the
    names, so hosts with no route out install them offline."""
    path, scratch = cache_entry(f"debs-{rootfs.name}-{_key({'packages': sorted(packages)})}",
                                f"downloading {', '.join(packages)} and their dependencies", log)
    if scratch is None:
        return path
    (scratch / "partial").mkdir()
    sh("apt-get", "-q", "-o", "Debug::NoLocking=1", "-o", f"Dir::State::status={rootfs}/var/lib/dpkg/status",
       "-o", f"Dir::Cache::archives={scratch}", "-o", "Dir::Cache::pkgcache=", "-o", "Dir::Cache::srcpkgcache=",
       "install", "--download-only", "-y", *packages, timeout=600)
    (scratch / "partial").rmdir()
    (scratch / "Packages").write_text(sh("apt-ftparchive", "packages", ".", cwd=scratch).stdout)
    (scratch / ".complete").write_text(" ".join(sorted(packages)) + "\n")
    return publish(scratch, path, "debs-*")


def answer(host, port: int) -> str:
    """The test daemon's line on ``port`` inside ``host``, or ""."""
    done = host.run("bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port} && head -n 1 <&3", check=False)
    return done.stdout.strip()
