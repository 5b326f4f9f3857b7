"""Ad-hoc output, as Ansible's ``ansible`` command prints it (its minimal
callback): one block per host, no banners and no recap; the run's first
and last lines (its id) go to stderr.

    web1 | CHANGED | rc=0 >>
    <stdout>
    db1 | SUCCESS => {
        "changed": false,
        "ping": "pong"
    }
"""

from __future__ import annotations

import sys

from .text import dump, run_line

#: Modules whose result is shown as their output, not as JSON.
COMMANDS = {"command", "shell", "raw", "script"}


class AdhocReport:
    def __init__(self, stream, module: str):
        self.out = stream
        self.command = module.rsplit(".", 1)[-1] in COMMANDS

    def host_result(self, host: str, title: str, res: dict) -> None:
        print(self.block(host, res), file=self.out, flush=True)

    def block(self, host: str, res: dict) -> str:
        if res.get("unreachable"):
            return f"{host} | UNREACHABLE! => {dump(res)}"
        if res.get("skipped"):
            return f"{host} | SKIPPED"
        state = "FAILED" if res.get("failed") else ("CHANGED" if res.get("changed") else "SUCCESS")
        if self.command and "rc" in res:
            # Ansible's order: stdout, stderr, then the message of a failure.
            text = "".join(res.get(k) or "" for k in ("stdout", "stderr"))
            if res.get("failed"):
                text += res.get("msg") or ""
            return f"{host} | {state} | rc={res['rc']} >>\n{text}"
        return f"{host} | {state}{'!' if state == 'FAILED' else ''} => {dump(res)}"

    def host_retry(self, host: str, title: str, res: dict, left: int) -> None:
        pass  # Ansible's minimal callback shows the final result only

    # The run's own lines go to stderr: stdout stays Ansible's, for pipes and greps.
    def run_start(self, run_id: str, text: str) -> None:
        print(run_line(run_id, text), file=sys.stderr, flush=True)

    def run_end(self, run_id: str, text: str) -> None:
        print(run_line(run_id, text), file=sys.stderr, flush=True)

    def notice(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def play_start(self, play, hosts: list[str]) -> None:
        pass

    def play_execution(self, play, execution) -> None:
        pass  # a command, not a play: as ansible's ad-hoc output, no play lines

    def task_start(self, title: str, hosts: list[str], kind: str = "TASK") -> None:
        pass

    def play_end(self) -> None:
        pass

    def recap(self, stats) -> None:
        pass

    def close(self) -> None:
        pass
