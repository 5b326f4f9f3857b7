"""Package state: what dpkg has installed, and what apt-get would do.

Installed state comes from ``dpkg-query`` (machine-readable fields, no
text scraping of ``dpkg -l``); a prediction comes from ``apt-get -s``,
whose ``Inst``/``Remv``/``Purg`` lines name each package with its old and
new versions; what a package would put on the host, from its ``.deb``
(`shipped`).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass

from .proc import run

#: dpkg's status words that mean "its files are on the host".
PRESENT = {"installed", "half-configured", "unpacked", "half-installed", "triggers-awaited", "triggers-pending"}
SIMULATED = re.compile(r"^(?P<op>Inst|Remv|Purg) (?P<name>\S+)(?: \[(?P<old>[^\]]+)\])?(?: \((?P<new>\S+))?")


@dataclass(frozen=True)
class Installed:
    name: str
    status: str  # dpkg's db:Status-Status: installed, config-files, not-installed, …
    version: str

    @property
    def present(self) -> bool:
        return self.status in PRESENT


def query(names: list[str], env: dict | None = None) -> dict[str, Installed]:
    """dpkg's record of each name; a name dpkg never saw is simply missing."""
    if not names:
        return {}
    done = run(["dpkg-query", "-W", "-f=${Package}\t${db:Status-Status}\t${Version}\t${binary:Package}\n",
                "--", *names], env=env)
    found = {}
    for line in done.stdout.splitlines():
        name, status, version, qualified = line.split("\t")
        entry = Installed(name, status, version)
        if name not in found or entry.present:  # multiarch: one line per architecture
            found[name] = entry
        found[qualified] = entry
    return found


@dataclass(frozen=True)
class Step:
    """One package in apt-get's simulation: ``op`` is install, upgrade,
    downgrade, reinstall, remove or purge."""

    op: str
    name: str
    before: str | None
    after: str | None

    def version(self) -> str:
        """The version it ends at, or ``OLD -> NEW`` when it changes version."""
        if self.before and self.after and self.before != self.after:
            return f"{self.before} -> {self.after}"
        # apt-get -s shows no version when it purges what remove left behind;
        # a package a check takes from a source not added yet has none known.
        return self.after or self.before or ("config-files" if self.op == "purge" else "")

    def text(self) -> str:
        return f"{self.op} {self.name} {self.version()}".rstrip()


def simulated(output: str) -> list[Step]:
    steps = []
    for line in output.splitlines():
        m = SIMULATED.match(line)
        if not m:
            continue
        old, new = m.group("old"), m.group("new")
        if m.group("op") == "Remv":
            steps.append(Step("remove", m.group("name"), old, None))
        elif m.group("op") == "Purg":
            steps.append(Step("purge", m.group("name"), old, None))
        else:
            steps.append(Step(_direction(old, new), m.group("name"), old, new))
    return steps


def _direction(old: str | None, new: str) -> str:
    if old is None:
        return "install"
    if old == new:
        return "reinstall"
    return "upgrade" if compare(new, "gt", old) else "downgrade"


def compare(a: str, op: str, b: str) -> bool:
    return run(["dpkg", "--compare-versions", a, op, b]).rc == 0


def installed_packages(env: dict | None = None) -> dict[str, list[dict]]:
    """Every package whose files are on the host, as Ansible's package_facts
    has them: ``{name: [{name, version, arch, category, source}]}``, one
    entry per installed architecture."""
    done = run(["dpkg-query", "-W", "-f=${db:Status-Status}\t${Package}\t${Version}\t${Architecture}\t${Section}\n"],
               env=env)
    found: dict[str, list[dict]] = {}
    for line in done.stdout.splitlines():
        status, name, version, arch, section = line.split("\t")
        if status in PRESENT:
            found.setdefault(name, []).append({"name": name, "version": version, "arch": arch,
                                               "category": section, "source": "apt"})
    return found


#: The most bytes of .debs `shipped` fetches to read their files.
MAX_DOWNLOAD = 100 << 20


def shipped(packages: list[tuple[str, str]], apt_options: tuple[str, ...], env: dict, local: tuple[str, ...] = (),
            seconds: float = 60) -> set[str] | None:
    """The paths the ``.deb`` files of ``packages`` (name, version) hold,
    fetched with ``apt-get download`` into a scratch directory, and of the
    ``local`` ``.deb`` files; None when they cannot all be read within
    ``seconds`` (no network, a repository that is gone) or weigh more
    than `MAX_DOWNLOAD` together."""
    specs = [f"{name}={version}" for name, version in packages]
    if specs and download_size(specs, apt_options, env) > MAX_DOWNLOAD:
        return None
    scratch = tempfile.mkdtemp(prefix="celeryroot-debs-")
    deadline = time.monotonic() + seconds
    try:
        if packages:
            # Fetched as root: the scratch directory is not _apt's to write.
            done = run(["apt-get", "-q", "-o=APT::Sandbox::User=root", *apt_options, "download", "--", *specs],
                       cwd=scratch, env=env, timeout=seconds)
            if done.rc != 0:
                return None
        paths: set[str] = set()
        for deb in [*sorted(glob.glob(os.path.join(scratch, "*.deb"))), *local]:
            listed = run(["dpkg-deb", "--contents", deb], timeout=max(1.0, deadline - time.monotonic()))
            if listed.rc != 0:
                return None
            paths.update(_member(line) for line in listed.stdout.splitlines() if line.strip())
        paths.discard("/")
        return paths
    except subprocess.TimeoutExpired:
        return None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def download_size(specs: list[str], apt_options: tuple[str, ...], env: dict) -> int:
    """The bytes of the .debs of ``specs`` (NAME=VERSION), from the
    package index (``Size``); unknown counts as too many."""
    done = run(["apt-cache", *apt_options, "show", "--", *specs], env=env)
    sizes = [int(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("Size:")]
    return sum(sizes) if done.rc == 0 and len(sizes) >= len(specs) else MAX_DOWNLOAD + 1


def _member(line: str) -> str:
    """The path on the host of a line of ``dpkg-deb --contents`` (tar's
    long listing: mode, owner, size, date, time, then ``./path``, with
    `` -> target`` for a symlink or `` link to target`` for a hard link)."""
    name = line.split(None, 5)[5]
    for marker in (" -> ", " link to "):
        name = name.split(marker, 1)[0]
    return os.path.normpath("/" + name.removeprefix("./"))
