"""The benchmark's real parts: a redis-server, celeryroot workers, the no-op
playbooks for each tool, and timing of child processes.

Nothing here is part of the product; run.py and simulate.py build on it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, every: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Timed:
    """One child process run to completion: wall time and its own CPU."""

    rc: int
    wall: float
    cpu: float
    stdout: str
    stderr: str


def timed(argv: list[str], env: dict | None = None, cwd: Path | None = None) -> Timed:
    """Run argv; its CPU (user+sys, children included) comes from wait4,
    so concurrent processes of the benchmark are not counted."""
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
    return Timed(proc.returncode, wall, usage.ru_utime + usage.ru_stime, stdout, stderr)


def proc_cpu(pid: int) -> float:
    """User+sys seconds a live process has used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Redis:
    """A private redis-server on a free loopback port."""

    def __init__(self, workdir: Path):
        import redis

        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(workdir), "--maxclients", "20000"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = redis.Redis.from_url(self.url)
        wait_until(self._up, 15, "redis-server")

    def _up(self) -> bool:
        import redis

        try:
            return self.client.ping()
        except redis.ConnectionError:
            return False

    def cpu(self) -> float:
        info = self.client.info("cpu")
        return info["used_cpu_user"] + info["used_cpu_sys"]

    def alive(self, hosts: list[str]) -> set[str]:
        from celeryroot.config import heartbeat_key

        values = self.client.mget([heartbeat_key(h) for h in hosts]) if hosts else []
        return {h for h, v in zip(hosts, values) if v is not None}

    def forget(self, hosts: list[str]) -> None:
        """Drop stopped hosts' heartbeats, so no later figure counts them alive."""
        from celeryroot.config import heartbeat_key

        if hosts:
            self.client.delete(*map(heartbeat_key, hosts))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Workers:
    """Real celeryroot-worker processes, one per host name."""

    def __init__(self, redis: Redis, logdir: Path):
        self.redis = redis
        self.logdir = logdir
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, hosts: list[str], timeout: float = 300) -> dict[str, float]:
        """Spawn all at once; return each host's seconds from spawn to heartbeat."""
        spawned = {}
        for host in hosts:
            log = open(self.logdir / f"worker-{host}.log", "ab")
            spawned[host] = time.monotonic()
            self.procs[host] = subprocess.Popen(
                [str(BIN / "celeryroot-worker"), "--hostname", host, "--broker", self.redis.url,
                 "--loglevel", "WARNING"], stdout=log, stderr=subprocess.STDOUT, cwd=self.logdir)
        ready: dict[str, float] = {}
        deadline = time.monotonic() + timeout
        while len(ready) < len(hosts):
            waiting = [h for h in hosts if h not in ready]
            now = time.monotonic()
            for host in self.redis.alive(waiting):
                ready[host] = now - spawned[host]
            dead = [h for h in waiting if self.procs[h].poll() is not None]
            if dead or now > deadline:
                raise RuntimeError(f"workers did not come up: {dead or waiting[:5]}; see {self.logdir}")
            time.sleep(0.005)
        return ready

    def pids(self, hosts: list[str] | None = None) -> list[int]:
        return [self.procs[h].pid for h in (hosts or self.procs)]

    def stop(self, hosts: list[str] | None = None, timeout: float = 15) -> dict[str, float]:
        """SIGTERM all at once; return each host's seconds from the signal to
        its exit (those still running after ``timeout`` are left out)."""
        names = list(hosts or self.procs)
        signalled = time.monotonic()
        for host in names:
            self.procs[host].terminate()
        exited: dict[str, float] = {}
        while len(exited) < len(names) and time.monotonic() - signalled < timeout:
            for host in names:
                if host not in exited and self.procs[host].poll() is not None:
                    exited[host] = time.monotonic() - signalled
            time.sleep(0.005)
        for host in names:
            self.procs.pop(host)
        self.redis.forget(names)
        return exited


# -- the no-op playbooks ------------------------------------------------------

def host_names(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i:04d}" for i in range(count)]


#: How a controller runs a play: "linear" is the default strategy, task by
#: task; "bundles" sends each host its whole play in one message, switched on
#: by ``bundles: true`` in the celeryroot.yaml of celeryroot-play's working
#: directory (the play itself is the same file).
MODES = ("linear", "bundles")


def mode_dirs(workdir: Path) -> dict[str, Path]:
    """A working directory per mode; only the bundles one has a celeryroot.yaml."""
    dirs = {mode: fresh_dir(workdir / f"cwd-{mode}") for mode in MODES}
    (dirs["bundles"] / "celeryroot.yaml").write_text("bundles: true\n")
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


def play_argv(playbook: Path, inventory: Path, broker: str, *extra: str) -> list[str]:
    return [str(BIN / "celeryroot-play"), str(playbook), "-i", str(inventory), "--broker", broker, "--json", *extra]


def play_stats(run: Timed) -> dict[str, int]:
    """Totals of a celeryroot-play --json run: ok, changed, failed, ..."""
    if run.rc not in (0, 2) or not run.stdout.strip():
        raise RuntimeError(f"celeryroot-play failed (rc {run.rc}): {run.stderr[-2000:]}")
    totals: dict[str, int] = {}
    for counters in json.loads(run.stdout)["stats"].values():
        for key, value in counters.items():
            totals[key] = totals.get(key, 0) + value
    return totals
