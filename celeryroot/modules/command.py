"""command: run a program (no shell) on the host."""

from __future__ import annotations

import glob
import os
import shlex
from dataclasses import dataclass
from datetime import datetime

from ..module import Change, Created, Module, ModuleFailure, Plan, arg
from ..host.proc import run


@dataclass(frozen=True, kw_only=True)
class RunArgs:
    """What command and shell share (each adds its own ``cmd``)."""

    chdir: str | None = arg(None, doc="Directory to run the command in.")
    creates: str | None = arg(None, doc="A path (glob); when it exists the command is not run.")
    removes: str | None = arg(None, doc="A path (glob); when it does not exist the command is not run.")
    stdin: str | None = arg(None, doc="Text fed to the command's standard input.")
    stdin_add_newline: bool = arg(True, doc="Add a newline to the end of stdin.")
    strip_empty_ends: bool = arg(True, doc="Strip trailing newlines from stdout and stderr.")


class Command(Module):
    """Run a command on the host, without a shell (no pipes, no redirection).

    Always ``changed`` when it runs; ``creates`` and ``removes`` make it
    idempotent by skipping the run when a path exists (or does not). A
    non-zero exit status is ``failed``. The result carries ``rc``,
    ``stdout``, ``stderr`` (and their ``_lines``), ``cmd``, ``start``,
    ``end`` and ``delta``. In check mode it is skipped, unless it has
    ``creates`` or ``removes``: then it is ``changed`` when they say it would
    run and ``ok`` when they say it would not (a path an earlier task of the
    run would create counts as existing).

    Example:
        - name: initialise the database once
          command: /usr/local/bin/initdb /var/lib/app creates=/var/lib/app/PG_VERSION
        - command:
            argv: [/usr/bin/env, printf, "%s\\n", hello]
            chdir: /tmp
    """

    name = "command"
    as_user = True
    free_form = "cmd"

    @property
    def predictable(self) -> bool:
        """With ``creates`` or ``removes``, check mode predicts ``changed``
        when they say the command would run, as Ansible (2.15+) does."""
        return bool(self.args.creates or self.args.removes)

    @dataclass(frozen=True, kw_only=True)
    class Args(RunArgs):
        cmd: str | None = arg(None, aliases=("_raw_params",),
                              doc="The command line, split like a shell would split words.")
        argv: list[str] | None = arg(None, doc="The command as a list of arguments (instead of cmd).")

    def command_line(self) -> list[str] | str:
        if self.args.argv:
            return list(self.args.argv)
        if not self.args.cmd:
            raise ModuleFailure("no command given: use the free form, cmd or argv")
        return shlex.split(self.args.cmd)

    def run_options(self) -> dict:
        """How the command is started; shell overrides it."""
        return {}

    def shown(self) -> str:
        line = self.command_line()
        return line if isinstance(line, str) else shlex.join(line)

    def plan(self) -> Plan:
        if self.args.creates and self._exists(self.args.creates):
            return self._skip(f"skipped, since {self.args.creates} exists")
        if self.args.removes and not self._exists(self.args.removes):
            return self._skip(f"skipped, since {self.args.removes} does not exist")
        # What ``creates`` names is there for the later tasks of a check run
        # (a glob names no one path).
        creates = self.args.creates
        made = frozenset() if not creates or glob.has_magic(creates) else frozenset({Created.path(self._path(creates))})
        return Plan([Change(f"run: {self.shown()}", creates=made)])

    def _skip(self, why: str) -> Plan:
        return Plan(reason=why, data={"rc": 0, "stdout": why, "stderr": "", "cmd": self.command_line()})

    def _exists(self, pattern: str) -> bool:
        path = self._path(pattern)
        return bool(glob.glob(path)) or os.path.lexists(path) or self.ctx.would_exist(Created.path(path))

    def _path(self, pattern: str) -> str:
        """``creates``/``removes`` relative to ``chdir``, as Ansible reads them."""
        return os.path.join(self.args.chdir or "/", pattern)

    def apply(self, plan: Plan) -> dict:
        a = self.args
        stdin = a.stdin + "\n" if a.stdin is not None and a.stdin_add_newline else a.stdin
        start = datetime.now()
        done = run(self.command_line(), stdin=stdin, cwd=a.chdir, env=self.ctx.environment,
                   strip=a.strip_empty_ends, **self.run_options())
        end = datetime.now()
        data = {**done.data(), "cmd": self.command_line(), "start": str(start), "end": str(end),
                "delta": str(end - start)}
        if done.rc != 0:
            raise ModuleFailure(f"non-zero return code {done.rc}", **data)
        return data
