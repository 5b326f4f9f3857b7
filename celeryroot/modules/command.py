"""command: run a program (no shell) on the host."""

from __future__ import annotations

import glob
import os
import shlex
from dataclasses import dataclass

from ..module import Change, Module, ModuleFailure, Plan, arg
from ..proc import run


class Command(Module):
    """Run a command on the host, without a shell (no pipes, no redirection).

    Always ``changed`` when it runs; ``creates`` and ``removes`` make it
    idempotent by skipping the run when a path exists (or does not). A
    non-zero exit status is ``failed``. In check mode it is skipped unless
    ``creates``/``removes`` already decide that nothing would run.

    Example:
        - name: initialise the database once
          command: /usr/local/bin/initdb /var/lib/app creates=/var/lib/app/PG_VERSION
        - command:
            argv: [/usr/bin/env, printf, "%s\\n", hello]
            chdir: /tmp
    """

    name = "command"
    free_form = "cmd"
    predictable = False

    @dataclass(frozen=True, kw_only=True)
    class Args:
        cmd: str | None = arg(None, aliases=("_raw_params",), doc="The command line, split like a shell would split words.")
        argv: list[str] | None = arg(None, doc="The command as a list of arguments (instead of cmd).")
        chdir: str | None = arg(None, doc="Directory to run the command in.")
        creates: str | None = arg(None, doc="A path (glob); when it exists the command is not run.")
        removes: str | None = arg(None, doc="A path (glob); when it does not exist the command is not run.")
        stdin: str | None = arg(None, doc="Text fed to the command's standard input.")
        strip_empty_ends: bool = arg(True, doc="Strip trailing newlines from stdout and stderr.")

    def command_line(self) -> list[str] | str:
        if self.args.argv:
            return list(self.args.argv)
        if not self.args.cmd:
            raise ModuleFailure("no command given: use the free form, cmd or argv")
        return shlex.split(self.args.cmd)

    def shown(self) -> str:
        line = self.command_line()
        return line if isinstance(line, str) else shlex.join(line)

    def plan(self) -> Plan:
        where = self.args.chdir or "/"
        if self.args.creates and _exists(self.args.creates, where):
            return Plan(reason=f"skipped, since {self.args.creates} exists",
                        data={"rc": 0, "stdout": f"skipped, since {self.args.creates} exists", "stderr": ""})
        if self.args.removes and not _exists(self.args.removes, where):
            return Plan(reason=f"skipped, since {self.args.removes} does not exist",
                        data={"rc": 0, "stdout": f"skipped, since {self.args.removes} does not exist", "stderr": ""})
        return Plan([Change(f"run: {self.shown()}")])

    def apply(self, plan: Plan) -> dict:
        done = self.execute()
        data = {**done.data(), "cmd": self.command_line()}
        if done.rc != 0:
            raise ModuleFailure(f"non-zero return code {done.rc}", **data)
        return data

    def execute(self):
        return run(self.command_line(), stdin=self.args.stdin, cwd=self.args.chdir)


def _exists(pattern: str, cwd: str) -> bool:
    path = pattern if os.path.isabs(pattern) else os.path.join(cwd, pattern)
    return bool(glob.glob(path)) or os.path.lexists(path)
