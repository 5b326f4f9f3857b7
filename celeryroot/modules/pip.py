"""pip: Python packages installed, upgraded or removed by pip, optionally in a virtualenv."""

from __future__ import annotations

import json
import os
import shlex
import shutil
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..host.proc import Completed, run
from ..host.sysops import CommandChange
from ..module import ArgError, Created, Module, ModuleFailure, Plan, arg

_INSTALL_FLAGS = {"present": (), "latest": ("--upgrade",), "forcereinstall": ("--upgrade", "--force-reinstall")}


@dataclass(frozen=True)
class PipCommand(CommandChange):
    """A pip (or virtualenv) command, run in ``chdir``."""

    cwd: str | None = None

    def run(self, env: dict) -> dict:
        return {**run_in(self.argv, env, self.cwd).data(), "cmd": " ".join(self.argv)}


def run_in(argv, env: dict, cwd: str | None) -> Completed:
    """Run a command in ``cwd``; a non-zero exit status fails the module with its output."""
    done = run(list(argv), env=env, cwd=cwd)
    if done.rc != 0:
        detail = (done.stderr or done.stdout).strip()[-2000:]
        raise ModuleFailure(f"{' '.join(argv)} failed (rc {done.rc}): {detail}", **done.data(), cmd=" ".join(argv))
    return done


def _requirement_name(spec: str) -> str:
    try:
        return canonicalize_name(Requirement(spec).name)
    except InvalidRequirement:
        return canonicalize_name(spec)


class Pip(Module):
    """Install, upgrade or remove Python packages with pip.

    ``name`` is a list of requirement specifiers (``flask``,
    ``requests>=2.31``), or ``requirements`` a requirements file (relative
    to ``chdir``). ``state: present`` installs what is missing or does not
    satisfy its specifier, ``latest`` upgrades to the newest version the
    index has, ``forcereinstall`` reinstalls every time, ``absent``
    uninstalls. What would change is asked of pip itself: ``pip install
    --dry-run --report`` (pip 22.2 or newer) with the same arguments and
    ``extra_args`` (``--no-index --find-links=…`` for a local directory of
    wheels), so ``--check`` says ``changed`` only when pip would install
    something, and a second run is ``ok``.

    With ``virtualenv``, pip runs in that virtualenv, which is created
    first when it has no ``bin/activate`` (``virtualenv_command``, e.g.
    ``python3 -m venv``). Otherwise ``executable``, else ``pip3`` from the
    worker's PATH, is the pip. There is no ``--diff`` (as in Ansible).

    Example:
        - pip:
            name: [flask>=3, gunicorn]
            virtualenv: /srv/app/venv
            virtualenv_command: python3 -m venv
        - pip:
            requirements: /srv/app/requirements.txt
            virtualenv: /srv/app/venv
            extra_args: --no-index --find-links=/srv/wheels
    """

    name = "pip"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        name: list[str] = arg([], aliases=("pkg",), doc="Requirement specifiers to install or remove.")
        version: str | None = arg(None, doc="The version of the one package in name (name==version).")
        requirements: str | None = arg(None, doc="A pip requirements file.")
        state: str = arg("present", choices=("present", "absent", "latest", "forcereinstall"),
                         doc="present, latest, forcereinstall or absent.")
        virtualenv: str | None = arg(None, host_path=True, doc="A virtualenv to install into (created if missing).")
        virtualenv_command: str = arg("virtualenv", doc="The command creating a virtualenv, e.g. 'python3 -m venv'.")
        virtualenv_site_packages: bool = arg(False, doc="Let the new virtualenv see the system's packages.")
        virtualenv_python: str | None = arg(None, doc="Python for the new virtualenv (virtualenv's -p).")
        executable: str | None = arg(None, host_path=True, doc="The pip to run (not with virtualenv).")
        extra_args: str | None = arg(None, doc="More arguments for pip install/uninstall.")
        chdir: str | None = arg(None, host_path=True, doc="Directory pip runs in.")

        def check(self) -> None:
            if not self.name and not self.requirements:
                raise ArgError("name", "one of the following is required: 'name', 'requirements'")
            if self.version is not None and len(self.name) != 1:
                raise ArgError("version", "'version' is only allowed with a single package in 'name'")
            if self.virtualenv and self.executable:
                raise ArgError("executable", "parameters are mutually exclusive: 'executable', 'virtualenv'")
            for spec in self.name:
                try:
                    Requirement(spec)
                except InvalidRequirement as exc:
                    raise ArgError("name", f"argument 'name': '{spec}' is not a requirement specifier: {exc}") \
                        from None

        @property
        def specs(self) -> list[str]:
            return [f"{self.name[0]}=={self.version}"] if self.version else list(self.name)

    def plan(self) -> Plan:
        a = self.args
        data = {"name": list(a.name), "requirements": a.requirements, "state": a.state, "version": a.version,
                "virtualenv": a.virtualenv}
        changes = []
        if a.virtualenv and not os.path.exists(os.path.join(a.virtualenv, "bin", "activate")):
            if not self.ctx.would_exist(Created.path(a.virtualenv)):
                changes.append(self.command(f"create virtualenv {a.virtualenv}", self.virtualenv_argv(),
                                            creates=frozenset({Created.path(a.virtualenv)})))
        fresh = bool(changes) or not (a.virtualenv is None or os.path.exists(self.pip()[0]))
        if a.state == "absent":
            if not fresh:
                changes += self.removal()
        else:
            changes += self.installation(fresh)
        reason = "nothing to remove" if a.state == "absent" else "requirements already satisfied"
        return Plan(changes, reason=reason, data=data)

    def pip(self) -> list[str]:
        a = self.args
        if a.virtualenv:
            return [os.path.join(a.virtualenv, "bin", "pip")]
        if a.executable:
            return [a.executable]
        found = shutil.which("pip3")
        if found is None:
            raise ModuleFailure("Unable to find any of pip3 to use. pip needs to be installed.")
        return [found]

    def virtualenv_argv(self) -> tuple[str, ...]:
        a = self.args
        argv = shlex.split(a.virtualenv_command)
        if a.virtualenv_site_packages:
            argv.append("--system-site-packages")
        if a.virtualenv_python:
            argv += ["-p", a.virtualenv_python]
        return (*argv, a.virtualenv)

    def targets(self) -> list[str]:
        a = self.args
        return self.args.specs + (["-r", a.requirements] if a.requirements else [])

    def extra(self) -> list[str]:
        return shlex.split(self.args.extra_args or "")

    def installation(self, fresh: bool) -> list[CommandChange]:
        a = self.args
        argv = (*self.pip(), "install", *_INSTALL_FLAGS[a.state], *self.extra(), *self.targets())
        if fresh or a.state == "forcereinstall":
            # A virtualenv still to be made has nothing installed; forcereinstall always reinstalls.
            return [self.command(f"install {' '.join(self.targets())}", argv)]
        report = self.ask(["install", "--dry-run", "--quiet", "--report", "-", *_INSTALL_FLAGS[a.state],
                           *self.extra(), *self.targets()])
        try:
            wanted = [f"{i['metadata']['name']} {i['metadata']['version']}" for i in json.loads(report)["install"]]
        except (ValueError, KeyError) as exc:
            raise ModuleFailure(f"pip install --dry-run --report gave no report ({exc}); pip 22.2 or newer is "
                                "needed") from None
        return [self.command(f"install {', '.join(wanted)}", argv)] if wanted else []

    def removal(self) -> list[CommandChange]:
        installed = {canonicalize_name(p["name"]) for p in json.loads(self.ask(["list", "--format=json"]))}
        names = [_requirement_name(spec) for spec in self.args.specs + self.requirement_lines()]
        doomed = [name for name in dict.fromkeys(names) if name in installed]
        if not doomed:
            return []
        return [self.command(f"uninstall {' '.join(doomed)}", (*self.pip(), "uninstall", "-y", *self.extra(),
                                                                *doomed))]

    def requirement_lines(self) -> list[str]:
        a = self.args
        if not a.requirements:
            return []
        path = os.path.join(a.chdir or "/", a.requirements)
        try:
            with open(path) as fh:
                lines = [line.split("#", 1)[0].strip() for line in fh]
        except OSError as exc:
            raise ModuleFailure(f"cannot read requirements {path}: {exc}") from None
        return [line for line in lines if line and not line.startswith("-")]

    def ask(self, words: list[str]) -> str:
        """Run pip to observe (never to change); its standard output."""
        return run_in(self.pip() + words, self.ctx.environment, self.args.chdir).stdout

    def command(self, what: str, argv, creates: frozenset = frozenset()) -> PipCommand:
        return PipCommand(what, path=self.args.virtualenv, argv=tuple(argv), cwd=self.args.chdir, creates=creates)

