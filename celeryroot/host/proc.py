"""Running a command from a module: argument lists, explicit env and cwd.

The worker lives for weeks, so a module never changes the worker's own
environment or working directory; every child gets both given explicitly.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def child_env(extra: dict | None = None) -> dict:
    env = {
        "PATH": os.environ.get("PATH", BASE_PATH) + ":" + BASE_PATH,
        "LC_ALL": "C",
        "LANG": "C",
        "DEBIAN_FRONTEND": "noninteractive",
        "HOME": os.environ.get("HOME", "/root"),
    }
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class Completed:
    rc: int
    stdout: str
    stderr: str

    def data(self) -> dict:
        return {"rc": self.rc, "stdout": self.stdout, "stderr": self.stderr}


def run(argv: list[str] | str, *, stdin: str | None = None, cwd: str | None = None,
        env: dict | None = None, shell: bool = False, executable: str | None = None,
        timeout: float | None = None, strip: bool = True) -> Completed:
    """Run a command and capture its output; never raises on a non-zero rc.

    ``strip`` removes trailing newlines from the output, as Ansible's
    ``strip_empty_ends`` does by default."""
    try:
        proc = subprocess.run(
            argv, input=stdin, capture_output=True, text=True, errors="replace",
            cwd=cwd or "/", env=child_env(env), shell=shell, executable=executable,
            stdin=None if stdin is not None else subprocess.DEVNULL, timeout=timeout,
        )
    except FileNotFoundError as exc:
        return Completed(127, "", f"{exc.filename}: command not found")
    except PermissionError as exc:
        return Completed(126, "", f"{exc.filename}: permission denied")
    if not strip:
        return Completed(proc.returncode, proc.stdout, proc.stderr)
    return Completed(proc.returncode, proc.stdout.rstrip("\n"), proc.stderr.rstrip("\n"))
