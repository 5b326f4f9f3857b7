"""package: packages through the host's package manager (apt here)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from ..module import ArgError, Module, ModuleFailure, Plan, arg, build_args
from .apt import Apt

MANAGERS = ("auto", "apt")


class Package(Module):
    """Install, upgrade or remove packages with the host's package manager.

    celeryroot knows one package manager, apt: ``package`` is the ``apt``
    module with only the arguments every manager shares (``name``,
    ``state``), so a play written for several distributions runs as it is
    on Debian and Ubuntu. ``use`` may name ``apt``; another manager
    (``dnf``, ``yum``…) is refused on the controller, and a host without
    apt-get fails.

    Example:
        - package: name=ntpsec state=present
        - package:
            name: [curl, jq]
            state: latest
    """

    name = "package"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        name: list[str] = arg(aliases=("pkg",), doc="Package names, a list or comma-separated (NAME=VERSION pins).")
        state: str = arg(choices=("present", "absent", "latest"),
                         doc="present: installed; latest: at the newest version; absent: removed.")
        use: str = arg("auto", doc="The package manager: auto or apt (the only one celeryroot has).")

        def check(self) -> None:
            if self.use not in MANAGERS:
                raise ArgError("use", f"argument 'use': '{self.use}' is not a package manager celeryroot has "
                                      f"(one of: {', '.join(MANAGERS)}); use the module of that manager")
            build_args(Apt.Args, self.apt_args())

        def apt_args(self) -> dict:
            return {"name": list(self.name), "state": self.state}

    def __init__(self, args, ctx):
        super().__init__(args, ctx)
        self.manager = Apt(build_args(Apt.Args, args.apt_args()), ctx)

    def plan(self) -> Plan:
        if shutil.which("apt-get") is None:
            raise ModuleFailure("this host has no apt-get, the only package manager celeryroot has")
        return self.manager.plan()

    def apply(self, plan: Plan) -> dict:
        return self.manager.apply(plan)
