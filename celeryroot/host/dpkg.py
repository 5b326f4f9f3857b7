"""Package state: what dpkg has installed, and what apt-get would do.

Installed state comes from ``dpkg-query`` (machine-readable fields, no
text scraping of ``dpkg -l``); a prediction comes from ``apt-get -s``,
whose ``Inst``/``Remv``/``Purg`` lines name each package with its old and
new versions.
"""

from __future__ import annotations

import re
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
        # apt-get -s shows no version when it purges what remove left behind.
        return self.after or self.before or "config-files"

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
