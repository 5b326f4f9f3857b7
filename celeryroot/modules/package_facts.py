"""package_facts: every installed package, as facts."""

from __future__ import annotations

from dataclasses import dataclass

from ..host.dpkg import installed_packages
from ..module import ArgError, Module, Plan, arg

MANAGERS = ("auto", "apt", "dpkg")


class PackageFacts(Module):
    """Return every installed package as ``ansible_facts.packages``.

    Each name maps to a list with one entry per installed architecture:
    ``{name, version, arch, category, source: apt}``, as Ansible's
    package_facts has them for apt (its ``origin`` is not read: dpkg does
    not record it). Read from dpkg's database with ``dpkg-query``; never
    changes anything.

    Example:
        - package_facts:
        - debug:
            msg: "openssl {{ ansible_facts.packages['openssl'][0].version }}"
          when: "'openssl' in ansible_facts.packages"
    """

    name = "package_facts"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        manager: list[str] = arg(["auto"], doc="The package managers to read: auto, apt or dpkg (all the same here).")
        strategy: str = arg("first", choices=("first", "all"), doc="first or all managers (one here).")

        def check(self) -> None:
            other = [m for m in self.manager if m not in MANAGERS]
            if other:
                raise ArgError("manager", f"argument 'manager': '{other[0]}' is not a package manager celeryroot "
                                          f"reads (one of: {', '.join(MANAGERS)})")

    def plan(self) -> Plan:
        packages = installed_packages()
        return Plan(reason=f"{len(packages)} packages", data={"ansible_facts": {"packages": packages}})
