"""Real parts, one piece for the tests (conftest.py) and the benchmark
(bench/lab.py): a redis-server on a free port and celeryroot worker
processes, one per host name.

No pytest here: the benchmark's virtualenv has none. celeryroot itself is
imported only where a heartbeat key is named, so the benchmark can measure
another revision of it (bench/run.py --commit).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
SITE_MODULES = ROOT / "modules"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 15.0, what: str = "condition", every: float = 0.05):
    """The predicate's first true value, polled every ``every`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")


def heartbeat_keys(hosts) -> list[str]:
    from celeryroot.config import heartbeat_key

    return [heartbeat_key(h) for h in hosts]


class RedisServer:
    """``extra`` adds redis-server options; ``url_auth`` (``user:password@``)
    is how this server's own client and URL log in; ``port`` starts it again
    where a stopped one was. With ``tls`` (a rediss:// URL's query: the
    client's CA and certificate), the server speaks TLS only, and its URL
    names it ``localhost`` (``extra`` gives its certificate)."""

    def __init__(self, workdir: Path, extra=(), url_auth: str = "", port: int | None = None,
                 tls: str | None = None):
        if not shutil.which("redis-server"):
            raise RuntimeError("redis-server is not installed: run the README's test command (make test)")
        self.port = port or free_port()
        if tls is None:
            self.url = f"redis://{url_auth}127.0.0.1:{self.port}/0"
            ports = ["--port", str(self.port)]
        else:
            self.url = f"rediss://{url_auth}localhost:{self.port}/0?{tls}"
            ports = ["--port", "0", "--tls-port", str(self.port)]
        self.proc = subprocess.Popen(
            ["redis-server", *ports, "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(workdir), *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = redis.Redis.from_url(self.url)
        wait_for(self._ping, what="redis-server", every=0.01)

    def _ping(self) -> bool:
        try:
            return self.client.ping()
        except redis.ConnectionError:
            return False

    def cpu(self) -> float:
        """User+sys seconds the server has used so far."""
        info = self.client.info("cpu")
        return info["used_cpu_user"] + info["used_cpu_sys"]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class PostgreSQLServer:
    """A private PostgreSQL cluster on a free port, in a directory of its
    own under the system's temp directory, for the run history's tests:
    superuser ``celeryroot`` with a password (scram-sha-256 over TCP on
    127.0.0.1). PostgreSQL refuses to run as root, so as root the cluster
    belongs to Debian's ``postgres`` user (the package creates it), and its
    directory to that user: the tests' own temp directories are root's, 0700.
    `database` makes an empty database, one per test."""

    USER, PASSWORD = "celeryroot", "pg-history-pw-5150"

    def __init__(self):
        import glob
        import pwd

        # Debian's layout, one directory per major version: the newest.
        found = sorted((Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
                       key=lambda p: [int(n) for n in p.parts[-3].split(".") if n.isdigit()])
        bindir = found[-1].parent if found else None
        if bindir is None and shutil.which("initdb"):
            bindir = Path(shutil.which("initdb")).parent
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run the "
                               "README's test command (make test), which installs the postgresql package")
        self.pg_ctl = str(bindir / "pg_ctl")
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.dir = Path(tempfile.mkdtemp(prefix="celeryroot-pg-"))
        if self.as_owner:
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self.data = self.dir / "data"
        pwfile = self.dir / "pw"
        pwfile.write_text(self.PASSWORD + "\n")
        if self.as_owner:
            os.chown(pwfile, owner.pw_uid, owner.pw_gid)
        self._owner([str(bindir / "initdb"), "-D", str(self.data), "-U", self.USER, "--pwfile", str(pwfile),
                     "--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C", "--no-sync"])
        self.port = free_port()
        self._owner([self.pg_ctl, "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.dir / "log"),
                     "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off"])
        self.url = f"postgresql://{self.USER}:{self.PASSWORD}@127.0.0.1:{self.port}/postgres"

    def _owner(self, argv: list[str]) -> None:
        proc = subprocess.run(self.as_owner + argv, capture_output=True, text=True, timeout=120, cwd=self.dir)
        if proc.returncode:
            raise RuntimeError(f"{' '.join(argv)} failed: {proc.stdout}{proc.stderr}")

    def database(self) -> str:
        """The URL of a new, empty database."""
        import psycopg

        name = "t" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url.rsplit("/", 1)[0] + "/" + name

    def stop(self) -> None:
        try:
            self._owner([self.pg_ctl, "stop", "-m", "fast", "-w", "-D", str(self.data)])
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def broker_client(url: str) -> redis.Redis:
    """A plain client of the broker at ``url``; behind Sentinels celeryroot's
    own, which follows the primary through a failover."""
    if url.startswith("sentinel://"):
        from celeryroot.messages import redis_client

        return redis_client(url)
    return redis.Redis.from_url(url)


def alive(client: redis.Redis, hosts) -> set[str]:
    """Those of ``hosts`` whose heartbeat is live, as the controller judges it."""
    from celeryroot.controller.liveness import Liveness

    return Liveness(client).live(list(hosts))


def fake_beat(client: redis.Redis, host: str, **fields) -> None:
    """Write ``host``'s heartbeat record as its worker would, stamped now
    (``fields`` override the record's, e.g. ``at`` or ``state``)."""
    from celeryroot.beats import HEARTBEAT_KEEP, Beat, broker_time
    from celeryroot.config import heartbeat_key

    record = Beat(**{"at": broker_time(client.time()), **fields})
    client.set(heartbeat_key(host), record.encode(), ex=HEARTBEAT_KEEP)


def heartbeat_age(client: redis.Redis, host: str) -> float | None:
    """Seconds since ``host`` last beat (None: it never did)."""
    from celeryroot.beats import broker_time, decode
    from celeryroot.config import heartbeat_key

    beat = decode(client.get(heartbeat_key(host)))
    return beat.age(broker_time(client.time())) if beat is not None else None


def forget(client: redis.Redis, hosts) -> None:
    """Drop stopped hosts' heartbeats, so nothing later counts them alive."""
    if hosts:
        client.delete(*heartbeat_keys(hosts))


class Pki:
    """A CA and the controller's identity (``celeryroot pki init``) in
    ``directory``, or the ones already there (the simulated fleet keeps its
    PKI between runs); each host's identity is issued the first time it is
    asked for (``celeryroot pki host NAME``)."""

    def __init__(self, directory: Path):
        from celeryroot import pki

        self.directory = Path(directory)
        self.module = pki
        if not (self.directory / "ca.crt").exists():
            pki.init(self.directory)

    def host(self, name: str) -> Path:
        """``name``'s PKI directory, as its worker reads it."""
        out = self.directory / "hosts" / name
        if not (out / "host.crt").exists():
            self.module.issue_host(self.directory, name)
        return out


_shared: list = []


def shared_pki() -> "Pki | None":
    """The PKI of this test session (or benchmark), made on first use; None
    for a celeryroot revision that signs nothing (bench/run.py --commit)."""
    if not _shared:
        try:
            _shared.append(Pki(Path(tempfile.mkdtemp(prefix="celeryroot-pki-"))))
        except ImportError:
            _shared.append(None)
    return _shared[0]


def controller_env(broker_url: str | None = None, pki: "Pki | None" = None) -> dict:
    """The environment a controller runs in: this one without CELERYROOT_*
    settings (but the session's run history, if it has one), then the
    broker and the session's PKI."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELERYROOT_") or k == "CELERYROOT_HISTORY"}
    pki = pki or shared_pki()
    if broker_url:
        env["CELERYROOT_BROKER_URL"] = broker_url
    if pki is not None:
        env["CELERYROOT_PKI"] = str(pki.directory)
    return env


def worker_env(host: str, pki: "Pki | None" = None) -> dict:
    """The environment ``host``'s worker runs in: this one, with the host's PKI directory."""
    pki = pki or shared_pki()
    return {**os.environ, **({"CELERYROOT_PKI": str(pki.host(host))} if pki is not None else {})}


# -- messages as an attacker with write access to Redis pushes them
# (tests/test_security.py, tests/test_audit.py)


def push(client: redis.Redis, queue: str, task: str, args: list, task_id: str, reply_to: str = "celeryroot.reply.x",
         status_reply: dict | None = None) -> None:
    """LPUSH a message in kombu's Redis format, as Celery's own are."""
    body = [args, {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}]
    if status_reply is not None:
        body = status_reply
    headers = {"lang": "py", "task": task, "id": task_id, "root_id": task_id, "retries": 0, "argsrepr": "",
               "kwargsrepr": "{}", "origin": "attacker"} if status_reply is None else {}
    message = {"body": base64.b64encode(json.dumps(body).encode()).decode(), "content-encoding": "utf-8",
               "content-type": "application/json", "headers": headers,
               "properties": {"correlation_id": task_id, "reply_to": reply_to, "delivery_mode": 2,
                              "delivery_info": {"exchange": "", "routing_key": queue}, "priority": 0,
                              "body_encoding": "base64", "delivery_tag": str(uuid.uuid4())}}
    client.lpush(queue, json.dumps(message))


#: A play whose middle task runs long enough to lose a host (its worker,
#: its broker) under it: "after" tells whether the host went on.
SLOW_PLAY = """
- hosts: all
  tasks:
    - name: dir
      file: path={{ root }} state=directory
    - name: slow
      command: sleep 3
    - name: after
      file: path={{ root }}/after state=directory
"""


def touch_calls(path: Path) -> list:
    """The arguments of a celeryroot.run task that creates ``path``."""
    return [[{"module": "file", "args": {"path": str(path), "state": "touch"}, "check": False, "diff": False,
              "no_log": False}], []]


def lease(client: redis.Redis, run_id: str) -> None:
    client.set(f"celeryroot.lease.{run_id}", "test", px=60_000)


#: How the tests start a worker: this interpreter, the repository's site modules.
TEST_WORKER = (sys.executable, "-m", "celeryroot.cli.worker", "--modules-path", str(SITE_MODULES))


class Workers:
    """Worker processes, one per host name, against one broker. ``command``
    is the worker's argv without ``--hostname`` and ``--broker``."""

    def __init__(self, broker_url: str, logdir: Path, command=TEST_WORKER, pki: "Pki | None" = None):
        self.broker_url = broker_url
        self.logdir = logdir
        self.command = list(command)
        self.pki = pki or shared_pki()
        self.procs: dict[str, subprocess.Popen] = {}
        self.client = broker_client(broker_url)

    def start(self, *hosts: str, wait: bool = True, broker_url: str | None = None, env: dict | None = None,
              timeout: float = 30) -> dict[str, float]:
        """Spawn all at once; with ``wait``, return each host's seconds from
        spawn to heartbeat. ``env`` adds to the workers' environment (e.g.
        APT_CONFIG); ``broker_url`` is the one they log in with."""
        spawned = {}
        for host in hosts:
            with open(self.logdir / f"worker-{host}.log", "ab") as log:
                spawned[host] = time.monotonic()
                self.procs[host] = subprocess.Popen(
                    [*self.command, "--hostname", host, "--broker", broker_url or self.broker_url],
                    stdout=log, stderr=subprocess.STDOUT, cwd=self.logdir,
                    env={**worker_env(host, self.pki), "CELERYROOT_AUDIT_LOG": str(self.audit_path(host)),
                         **(env or {})})
        return self._ready(spawned, timeout) if wait else {}

    def _ready(self, spawned: dict[str, float], timeout: float) -> dict[str, float]:
        ready: dict[str, float] = {}
        deadline = time.monotonic() + timeout
        while len(ready) < len(spawned):
            waiting = [h for h in spawned if h not in ready]
            now = time.monotonic()
            for host in alive(self.client, waiting):
                ready[host] = now - spawned[host]
            # A worker that exits never heartbeats: say so now, not at the deadline.
            dead = [h for h in waiting if self.procs[h].poll() is not None]
            if dead or now > deadline:
                raise RuntimeError(f"workers did not come up: {dead or waiting[:5]}; see {self.logdir}")
            time.sleep(0.005)
        return ready

    def alive(self, host: str) -> bool:
        return host in alive(self.client, [host])

    def pids(self, hosts=None) -> list[int]:
        return [self.procs[h].pid for h in (hosts or self.procs)]

    def signal(self, host: str, sig: int) -> None:
        self.procs[host].send_signal(sig)

    def kill(self, host: str) -> None:
        proc = self.procs.pop(host)
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
        proc.wait(10)
        forget(self.client, [host])

    def stop(self, hosts=None, timeout: float = 15) -> dict[str, float]:
        """SIGTERM all at once (SIGCONT first, for a stopped one); return
        each host's seconds from the signal to its exit. Those still running
        after ``timeout`` are left out, killed, and their heartbeats dropped."""
        names = list(hosts or self.procs)
        procs = {host: self.procs.pop(host) for host in names}
        signalled = time.monotonic()
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.terminate()
        exited: dict[str, float] = {}
        while len(exited) < len(names) and time.monotonic() - signalled < timeout:
            for host, proc in procs.items():
                if host not in exited and proc.poll() is not None:
                    exited[host] = time.monotonic() - signalled
            time.sleep(0.005)
        for host in set(names) - set(exited):
            procs[host].kill()
            procs[host].wait(10)
        forget(self.client, names)
        return exited

    def log(self, host: str) -> str:
        return (self.logdir / f"worker-{host}.log").read_text(errors="replace")

    def audit_path(self, host: str) -> Path:
        """Where ``host``'s worker writes its audit log (never /var/log)."""
        return self.logdir / f"audit-{host}.log"

    def audit(self, host: str) -> list[dict]:
        """``host``'s audit records so far, one per line."""
        path = self.audit_path(host)
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
