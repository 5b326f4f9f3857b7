"""The benchmark's real parts: a redis-server, celeryroot workers, the no-op
playbooks for each tool, and timing of child processes.

Nothing here is part of the product; run.py and simulate.py build on it.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# The Redis server and the workers are the tests' own (tests/support.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support import Pki, RedisServer, Workers, alive, forget, shared_pki, wait_for  # noqa: E402,F401 - lab's callers use them too

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Timed:
    """One child process run to completion: wall time, its own CPU and its
    peak resident memory."""

    rc: int
    wall: float
    cpu: float
    stdout: str
    stderr: str
    rss_mb: float


def timed(argv: list[str], env: dict | None = None, cwd: Path | None = None) -> Timed:
    """Run argv; its CPU (user+sys, children included) and peak RSS come
    from wait4, so concurrent processes of the benchmark are not counted."""
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"celeryroot-bench-{os.getpid()}.out"
    err_path = out_path.with_suffix(".err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.monotonic()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = out_path.read_text(errors="replace"), err_path.read_text(errors="replace")
    out_path.unlink()
    err_path.unlink()
    return Timed(proc.returncode, wall, usage.ru_utime + usage.ru_stime, stdout, stderr, usage.ru_maxrss / 1024)


def proc_cpu(pid: int) -> float:
    """User+sys seconds a live process has used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_redis(workdir: Path) -> RedisServer:
    """A private redis-server on a free loopback port, open to a crowd of workers."""
    return RedisServer(workdir, ["--maxclients", "20000"])


def workers(redis: RedisServer, logdir: Path) -> Workers:
    """celeryroot-worker processes as a user starts them: the console script."""
    return Workers(redis.url, logdir, command=[str(BIN / "celeryroot-worker"), "--loglevel", "WARNING"])


# -- the no-op playbooks ------------------------------------------------------

def host_names(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i:04d}" for i in range(count)]


#: How a controller runs a play: "linear", task by task; "bundles", each
#: host its whole play in one message. Each is asked for by ``bundles:`` in
#: the celeryroot.yaml of celeryroot-play's working directory (the play
#: itself is the same file).
MODES = ("linear", "bundles")
#: Nothing asked: celeryroot chooses (bundles unless the play depends on
#: other hosts: engine/execution.py), and its --json says which and why.
DEFAULT = "default"


def mode_dirs(workdir: Path) -> dict[str, Path]:
    """A working directory per mode, with its celeryroot.yaml; the default's has none."""
    dirs = {mode: fresh_dir(workdir / f"cwd-{mode}") for mode in (DEFAULT, *MODES)}
    for mode in MODES:
        (dirs[mode] / "celeryroot.yaml").write_text(f"bundles: {str(mode == 'bundles').lower()}\n")
    return dirs


def is_copy(index: int) -> bool:
    """Every other task is a copy, the rest are file tasks: the same split
    in every tool's play."""
    return index % 2 == 1


def copy_content(index: int) -> str:
    return f"bench {index:03d}\n"


def write_playbook(path: Path, tasks: int) -> Path:
    """``tasks`` tasks under the host's ``root``, alternately a directory
    (file, mode 0755) and a small file with given content (copy, mode 0644):
    Ansible syntax, so celeryroot and ansible-playbook read the same file."""
    lines = ["- name: no-op bench", "  hosts: all", "  gather_facts: false", "  tasks:"]
    for i in range(tasks):
        if is_copy(i):
            lines += [f"    - name: copy {i:03d}", "      copy:", f"        content: {json.dumps(copy_content(i))}",
                      f'        dest: "{{{{ root }}}}/f{i:03d}"', '        mode: "0644"']
        else:
            lines += [f"    - name: directory {i:03d}",
                      f"      file: path={{{{ root }}}}/d{i:03d} state=directory mode=0755"]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_inventory(path: Path, hosts: list[str], root: Path, extra: dict | None = None) -> Path:
    """One inventory for both tools: each host writes under root/HOST."""
    lines = ["all:", "  hosts:"]
    for host in hosts:
        lines.append(f"    {host}:")
        lines.append(f"      root: {root / host}")
    if extra:
        lines.append("  vars:")
        lines += [f"    {k}: {json.dumps(v)}" for k, v in extra.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_pyinfra_deploy(path: Path, tasks: int) -> Path:
    """The same directories, files, contents and modes as write_playbook, as
    pyinfra operations, one line each (the root exists once the first
    directory does, so neither tool's copy creates a parent)."""
    lines = ["import io", "", "from pyinfra import host", "from pyinfra.operations import files", "",
             "root = host.data.root"]
    for i in range(tasks):
        if is_copy(i):
            lines.append(f"files.put(name='copy {i:03d}', src=io.StringIO({copy_content(i)!r}), "
                         f"dest=f'{{root}}/f{i:03d}', mode='644', create_remote_dir=False)")
        else:
            lines.append(f"files.directory(name='directory {i:03d}', path=f'{{root}}/d{i:03d}', mode='755', "
                         f"present=True)")
    path.write_text("\n".join(lines) + "\n")
    return path


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def play_argv(playbook: Path, inventory: Path, broker: str, *extra: str, pki: Path | None = None) -> list[str]:
    """celeryroot-play with the keys of ``pki`` (default: the benchmark's
    shared PKI, whose host identities lab.workers' workers hold)."""
    shared = shared_pki()
    pki = pki or (shared.directory if shared is not None else None)
    keys = ["--pki", str(pki)] if pki is not None else []  # a revision from before signing has no --pki
    return [str(BIN / "celeryroot-play"), str(playbook), "-i", str(inventory), "--broker", broker, "--json",
            *keys, *extra]


def export_revision(revision: str, src: Path) -> Path:
    """celeryroot as of a git ``revision`` under ``src`` (a directory to put
    first on PYTHONPATH, where it wins over the editable install)."""
    src.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", revision, "celeryroot"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    return src


def play_execution(run: Timed) -> dict[str, str]:
    """How a celeryroot-play --json run ran its (first) play and why:
    ``{"mode": "linear" or "bundles", "why": ...}`` (engine/execution.py)."""
    return json.loads(run.stdout)["plays"][0]["play"].get("execution", {})


def play_stats(run: Timed) -> dict[str, int]:
    """Totals of a celeryroot-play --json run: ok, changed, failed, ...
    (a run with failed or unreachable hosts has them too)."""
    if run.rc not in (0, 2, 4) or not run.stdout.strip():
        raise RuntimeError(f"celeryroot-play failed (rc {run.rc}): {run.stderr[-2000:]}")
    totals: dict[str, int] = {}
    for counters in json.loads(run.stdout)["stats"].values():
        for key, value in counters.items():
            totals[key] = totals.get(key, 0) + value
    return totals
