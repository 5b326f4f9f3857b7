"""shell: a command line run through a shell on the host."""

from __future__ import annotations

from dataclasses import dataclass

from ..module import ModuleFailure, arg
from .command import Command, RunArgs


class Shell(Command):
    """Run a command line through a shell (``/bin/sh -c``) on the host.

    Pipes, redirection, globbing and ``$VARIABLES`` work. Otherwise exactly
    like command: always ``changed`` when it runs, ``creates``/``removes``
    skip it, a non-zero exit status is ``failed``, and in check mode it is
    skipped unless ``creates``/``removes`` decide that nothing would run.

    Example:
        - shell: dpkg -l | grep -c '^ii' > /var/tmp/package-count
          args:
            creates: /var/tmp/package-count
        - shell:
            cmd: set -o pipefail; journalctl -b | tail -n 50
            executable: /bin/bash
    """

    name = "shell"

    @dataclass(frozen=True, kw_only=True)
    class Args(RunArgs):
        cmd: str | None = arg(None, aliases=("_raw_params",), doc="The command line, given to the shell as is.")
        executable: str | None = arg(None, doc="The shell to run the command with (default /bin/sh).")

    def command_line(self) -> str:
        if not self.args.cmd:
            raise ModuleFailure("no command given: use the free form or cmd")
        return self.args.cmd

    def run_options(self) -> dict:
        return {"shell": True, "executable": self.args.executable or "/bin/sh"}
