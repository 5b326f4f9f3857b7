"""Real parts for the tests: a redis-server on a free port, worker processes
with distinct host names, and `celeryroot-play` run as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parent.parent
SITE_MODULES = ROOT / "modules"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 15.0, what: str = "condition", every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


class RedisServer:
    def __init__(self, workdir: Path):
        if not shutil.which("redis-server"):
            pytest.fail("redis-server is not installed: run the README's test command (make test)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = redis.Redis.from_url(self.url)
        wait_for(self._ping, what="redis-server")

    def _ping(self) -> bool:
        try:
            return self.client.ping()
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Workers:
    """Worker processes, one per host name, against one broker."""

    def __init__(self, broker_url: str, logdir: Path):
        self.broker_url = broker_url
        self.logdir = logdir
        self.procs: dict[str, subprocess.Popen] = {}
        self.client = redis.Redis.from_url(broker_url)

    def start(self, *hosts: str, wait: bool = True) -> None:
        for host in hosts:
            log = open(self.logdir / f"worker-{host}.log", "ab")
            self.procs[host] = subprocess.Popen(
                [sys.executable, "-m", "celeryroot.cli.worker", "--hostname", host, "--broker", self.broker_url,
                 "--modules-path", str(SITE_MODULES)],
                stdout=log, stderr=subprocess.STDOUT, cwd=self.logdir)
        if wait:
            for host in hosts:
                wait_for(lambda h=host: self.alive(h), 30, f"worker {host} heartbeat")

    def alive(self, host: str) -> bool:
        return self.client.exists(f"celeryroot.host.{host}.alive") == 1

    def signal(self, host: str, sig: int) -> None:
        self.procs[host].send_signal(sig)

    def kill(self, host: str) -> None:
        proc = self.procs.pop(host)
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
        proc.wait(10)
        self.client.delete(f"celeryroot.host.{host}.alive")

    def stop_all(self) -> None:
        for host in list(self.procs):
            proc = self.procs.pop(host)
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.terminate()
        for proc in list(self.procs.values()):
            proc.wait(10)

    def log(self, host: str) -> str:
        return (self.logdir / f"worker-{host}.log").read_text(errors="replace")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


FLEET = ("web1", "web2", "db1")


@pytest.fixture(scope="session")
def fleet(redis_server, tmp_path_factory):
    """Three long-lived workers (web1, web2, db1) shared by tests that do not break them."""
    workers = Workers(redis_server.url, tmp_path_factory.mktemp("fleet"))
    workers.start(*FLEET)
    yield workers
    workers.stop_all()


@pytest.fixture
def workers(redis_server, tmp_path):
    """Workers of a test's own, for tests that kill, stop or restart them."""
    own = Workers(redis_server.url, tmp_path)
    yield own
    own.stop_all()


class Play:
    """Runs `celeryroot-play` as a subprocess, as an operator would."""

    def __init__(self, broker_url: str | None, cwd: Path):
        self.broker_url = broker_url
        self.cwd = cwd

    def __call__(self, playbook, *args: str, inventory=None, timeout: float = 120, json_out: bool = True,
                 env: dict | None = None) -> "Outcome":
        argv = [sys.executable, "-m", "celeryroot.cli.play", str(playbook)]
        if inventory is not None:
            argv += ["-i", str(inventory)]
        if json_out:
            argv.append("--json")
        argv += list(args)
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("CELERYROOT_")}
        if self.broker_url:
            child_env["CELERYROOT_BROKER_URL"] = self.broker_url
        child_env.update(env or {})
        started = time.monotonic()
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=self.cwd, env=child_env,
                              timeout=timeout)
        return Outcome(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started, json_out)


class Outcome:
    def __init__(self, rc: int, stdout: str, stderr: str, seconds: float, is_json: bool):
        self.rc, self.stdout, self.stderr, self.seconds = rc, stdout, stderr, seconds
        self.doc = json.loads(stdout) if is_json and stdout.strip() else None

    @property
    def stats(self) -> dict:
        return self.doc["stats"]

    def total(self, counter: str) -> int:
        return sum(s[counter] for s in self.stats.values())

    def results(self, task_name: str) -> dict:
        """Per-host results of the (last) task with this name."""
        found = None
        for play in self.doc["plays"]:
            for task in play["tasks"]:
                if task["task"]["name"] == task_name:
                    found = task["hosts"]
        if found is None:
            raise KeyError(f"no task named {task_name!r} in the run")
        return found

    def __repr__(self) -> str:
        return f"Outcome(rc={self.rc}, stderr={self.stderr[-2000:]!r}, stdout={self.stdout[-3000:]!r})"


@pytest.fixture
def play(redis_server, tmp_path):
    return Play(redis_server.url, tmp_path)


@pytest.fixture
def local_play(tmp_path):
    """`celeryroot-play` with no broker configured: the embedded mode."""
    return Play(None, tmp_path)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def fleet_inventory(tmp_path):
    """An inventory of the fleet plus db2 (which has no worker); each host
    writes under its own directory, given by the host variable ``root``."""
    lines = ["all:", "  vars:", f"    base: {tmp_path}/hosts", "  children:", "    web:", "      hosts:"]
    for host in ("web1", "web2"):
        lines += [f"        {host}:", f"          root: {tmp_path}/hosts/{host}"]
    lines += ["    db:", "      hosts:"]
    for host in ("db1", "db2"):
        lines += [f"        {host}:", f"          root: {tmp_path}/hosts/{host}"]
    return write(tmp_path / "inventory.yaml", "\n".join(lines) + "\n")
