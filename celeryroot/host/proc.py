"""Running a command from a module: argument lists, explicit env and cwd.

The worker lives for weeks, so a module never changes the worker's own
environment or working directory; every child gets both given explicitly.

Every command runs in a process group of its own, so a Ctrl-C at the
worker's (or the embedded controller's) terminal does not reach an apt-get
half way through, and a command is known with all its children: a command
that times out is killed with them, and so is one whose worker dies, even
by SIGKILL (see `Reaper`). A command's background children that outlive
it (``shell: daemon &``) are left alone, as in Ansible.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
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


#: The reaper's whole program: it ignores the signals a terminal or a warm
#: shutdown sends, so only the end of the worker ends it.
REAPER = """
import os, signal, sys
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, signal.SIG_IGN)
running = set()
for line in sys.stdin:
    (running.add if line[0] == "+" else running.discard)(int(line[1:]))
for group in running:
    try:
        os.killpg(group, signal.SIGKILL)
    except OSError:
        pass
"""


class Reaper:
    """A small process that outlives its parent by one event: when the
    parent's end of the pipe closes (it exited or was killed, however),
    it kills the process groups of the commands still running. The
    kernel's PR_SET_PDEATHSIG would reach only a command's first process,
    not the children of a shell, and would need a ``preexec_fn``, which is
    unsafe in a process with threads (the heartbeat's)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self.owner = 0
        self.adopted = False

    def _pipe(self):
        # An adopted reaper is the parent's child, not this process's: poll() cannot ask after it.
        if self.proc is None or self.owner != os.getpid() or (not self.adopted and self.proc.poll() is not None):
            self.proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", REAPER], stdin=subprocess.PIPE,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, cwd="/")
            self.owner = os.getpid()
        return self.proc.stdin

    def share(self) -> None:
        """Before a fork whose child runs commands as another user
        (engine/become.py): start now, so that the child tells this reaper
        (`adopt`) instead of starting one it may not be allowed to run."""
        with self.lock:
            self._pipe()

    def adopt(self) -> None:
        """In that forked child: its commands are told to the parent's reaper."""
        self.owner, self.adopted = os.getpid(), True

    def tell(self, sign: str, group: int) -> None:
        with self.lock:
            pipe = self._pipe()
            pipe.write(f"{sign}{group}\n")
            pipe.flush()


REAPER_PROCESS = Reaper()


def run(argv: list[str] | str, *, stdin: str | None = None, cwd: str | None = None,
        env: dict | None = None, shell: bool = False, executable: str | None = None,
        timeout: float | None = None, strip: bool = True) -> Completed:
    """Run a command and capture its output; never raises on a non-zero rc.

    ``strip`` removes trailing newlines from the output, as Ansible's
    ``strip_empty_ends`` does by default."""
    try:
        proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
            cwd=cwd or "/", env=child_env(env), shell=shell, executable=executable, process_group=0,
        )
    except FileNotFoundError as exc:
        return Completed(127, "", f"{exc.filename}: command not found")
    except PermissionError as exc:
        return Completed(126, "", f"{exc.filename}: permission denied")
    REAPER_PROCESS.tell("+", proc.pid)
    try:
        stdout, stderr = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    finally:
        REAPER_PROCESS.tell("-", proc.pid)
    if not strip:
        return Completed(proc.returncode, stdout, stderr)
    return Completed(proc.returncode, stdout.rstrip("\n"), stderr.rstrip("\n"))
