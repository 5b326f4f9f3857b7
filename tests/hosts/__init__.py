"""Real test hosts: systemd-nspawn containers with their own systemd,
filesystem and network namespace, where celeryroot's worker is installed by
``contrib/install.sh`` and runs as ``contrib/celeryroot-worker.service``.

``network`` owns the bridge, the per-host namespaces and the broker on the
bridge; ``containers`` owns the root filesystem image, the wheelhouse and
the containers themselves; ``fleet`` puts them together (and is what the
pytest fixtures and ``python -m tests.hosts`` use).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
import sys
from pathlib import Path

try:
    from conftest import wait_for
except ImportError:  # run as `python -m tests.hosts`: the tests' folder is not on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from conftest import wait_for

#: Everything a run creates at run time lives here (tmpfs: gone on reboot).
STATE = Path("/run/celeryroot-test")
#: What is worth keeping between runs (the rootfs image, the wheelhouse).
CACHE = Path("/var/cache/celeryroot-test")
PROJECT = Path(__file__).resolve().parents[2]


class Unavailable(Exception):
    """This machine cannot run test hosts; the message says exactly why."""


def sh(*argv: str, check: bool = True, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    """Run a host command, capturing its output; a failure names the command."""
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {proc.returncode}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def requirements() -> None:
    """Raise Unavailable unless this machine can run test hosts."""
    if os.geteuid() != 0:
        raise Unavailable("test hosts need root (namespaces, bridges, systemd-nspawn); running as uid "
                          f"{os.geteuid()}")
    for tool, package in (("systemd-nspawn", "systemd-container"), ("nsenter", "util-linux"),
                          ("ip", "iproute2"), ("redis-server", "redis-server")):
        if shutil.which(tool) is None:
            raise Unavailable(f"{tool} is not installed (apt-get install {package})")
    from .containers import cached_rootfs

    if cached_rootfs() is None and shutil.which("debootstrap") is None:
        raise Unavailable(f"no cached rootfs under {CACHE} and debootstrap is not installed "
                          "(apt-get install debootstrap)")


class Lock:
    """One set of test hosts per machine at a time: the bridge, the subnet and
    the cgroup folder are fixed names, so a second run waits for the first.
    Holding the lock also proves that whatever is left under our names is a
    leftover of an interrupted run, safe to remove."""

    def __init__(self, timeout: float = 900):
        self.timeout = timeout

    def __enter__(self) -> "Lock":
        STATE.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(STATE / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(self.fd)
                    raise TimeoutError(f"another run has held {STATE / 'lock'} for {self.timeout:g}s")
                time.sleep(0.5)

    def __exit__(self, *exc) -> None:
        os.close(self.fd)
