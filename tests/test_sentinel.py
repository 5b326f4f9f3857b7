"""High availability of the broker through Redis Sentinel, with real
processes: a primary, its replica and three Sentinels (quorum 2) on free
loopback ports, with passwords and the ACL `celeryroot acl` makes; workers
and a controller, each as its own Redis user, that know only the Sentinels
(a ``sentinel://`` URL). The primary is SIGKILLed while
every host runs a task: the Sentinels promote the replica, and the workers
(their queues, replies, heartbeats) and the controller (its replies, lease,
run locks) follow them to it. The run ends with a true report: a host whose
messages were lost with the primary is unreachable or failed, never ok; no
task runs twice (each appends a line to its host's file per run); the next
run succeeds, changing nothing that is already so.

The test session ends with the timeline it measured (conftest.py).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis

from celeryroot.lang.source import plain
from celeryroot.lang.yamlread import load_yaml

from conftest import RedisServer, Workers, controller_env, free_port, wait_for, write
from support import heartbeat_age

pytestmark = pytest.mark.skipif(not __import__("shutil").which("redis-sentinel"),
                                reason="redis-sentinel is not installed (make test installs it)")

MASTER = "main"
SENTINEL_PASSWORD = "sentinelpw"
#: Beside the ACL `celeryroot acl` makes: the test's own user, the
#: replica's (replication only) and the Sentinels' (Redis' documented
#: minimum for them), since that ACL turns the default user off.
USERS = """\
user admin on >admin-pw ~* &* +@all
user replica on >replica-pw +psync +replconf +ping
user sentinel on >sentinel-user-pw allchannels +multi +slaveof +replicaof +ping +exec +subscribe +config|rewrite \
+role +publish +info +client|setname +client|kill +script|kill
"""
#: What the Sentinels say on their way to a failover, as the timeline shows it.
WATCHED = ("+sdown", "+odown", "+elected-leader", "+promoted-slave", "+switch-master", "+failover-end")

SENTINEL_CONF = """\
port {port}
bind 127.0.0.1
dir {dir}
logfile {dir}/sentinel.log
requirepass {sentinel_password}
sentinel sentinel-pass {sentinel_password}
sentinel monitor {master} 127.0.0.1 {primary} 2
sentinel auth-user {master} sentinel
sentinel auth-pass {master} sentinel-user-pw
sentinel down-after-milliseconds {master} 1000
sentinel failover-timeout {master} 3000
"""


class SentinelBroker:
    """A primary, one replica (``replicaof``) and three Sentinels watching
    them, both servers with the ACL of ``inventory`` (`celeryroot acl`);
    ``url(user)`` is a user's ``sentinel://`` URL; ``events`` is what the
    Sentinels published, with the monotonic time it came."""

    def __init__(self, workdir: Path, inventory: Path):
        self.workdir = workdir
        self.servers: list[RedisServer] = []
        self.sentinels: list[subprocess.Popen] = []
        self.events: list[tuple[float, str, str]] = []
        self._stopping = threading.Event()
        self._watching = threading.Thread(target=self._watch, daemon=True)
        try:
            self._start(inventory)
        except BaseException:
            self.stop()
            raise

    def _start(self, inventory: Path) -> None:
        made = subprocess.run([sys.executable, "-m", "celeryroot.cli.adhoc", "acl", "-i", str(inventory),
                               "--passwords", "pw.yaml"], capture_output=True, text=True, cwd=self.workdir)
        assert made.returncode == 0, made.stderr
        self.passwords = {**plain(load_yaml(self.workdir / "pw.yaml")), "admin": "admin-pw"}
        self.acl = write(self.workdir / "users.acl", made.stdout + USERS)
        self.primary = self._server("primary")
        self.replica = self._server("replica", "--replicaof", "127.0.0.1", str(self.primary.port))
        wait_for(lambda: self.replica.client.info("replication")["master_link_status"] == "up", 15,
                 "the replica to sync")
        self.ports = [free_port() for _ in range(3)]
        for port in self.ports:
            self.sentinels.append(self._sentinel(port))
        self.clients = [redis.Redis(port=p, password=SENTINEL_PASSWORD, socket_timeout=5) for p in self.ports]
        wait_for(self._agreed, 30, "the Sentinels to know the replica and each other", every=0.2)
        self._watching.start()

    def url(self, user: str) -> str:
        return ";".join(f"sentinel://{user}:{self.passwords[user]}@127.0.0.1:{p}" for p in self.ports) + \
            f"/0?master_name={MASTER}&sentinel_password={SENTINEL_PASSWORD}"

    def _server(self, name: str, *extra: str) -> RedisServer:
        path = self.workdir / name
        path.mkdir()
        server = RedisServer(path, extra=["--aclfile", str(self.acl), "--masteruser", "replica",
                                          "--masterauth", "replica-pw", *extra], url_auth="admin:admin-pw@")
        self.servers.append(server)
        return server

    def _sentinel(self, port: int) -> subprocess.Popen:
        path = self.workdir / f"sentinel-{port}"
        path.mkdir()
        conf = write(path / "sentinel.conf", SENTINEL_CONF.format(
            port=port, dir=path, master=MASTER, primary=self.primary.port, sentinel_password=SENTINEL_PASSWORD))
        return subprocess.Popen(["redis-sentinel", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def refusals(self) -> list[dict]:
        """The new primary's ACL LOG. Redis 7.2+ logs redis-py's CLIENT
        SETINFO at connect, which redis-py does without when refused."""
        return [e for e in self.replica.client.acl_log() if e["object"] != "client|setinfo"]

    def _agreed(self) -> bool:
        try:
            return all(len(c.sentinel_sentinels(MASTER)) == 2 and len(c.sentinel_slaves(MASTER)) == 1
                       for c in self.clients)
        except redis.ConnectionError:
            return False

    def _watch(self) -> None:
        # Every Sentinel's: only the leader says some (+elected-leader).
        subscribed = [client.pubsub() for client in self.clients]
        for pubsub in subscribed:
            pubsub.psubscribe("*")
        while not self._stopping.is_set():
            for pubsub in subscribed:
                message = pubsub.get_message(timeout=0.02)
                if message and message["type"] == "pmessage":
                    self.events.append((time.monotonic(), message["channel"].decode(), message["data"].decode()))

    def first(self, event: str) -> float | None:
        """When the Sentinels first said ``event`` (about the primary, for +sdown)."""
        for at, channel, data in self.events:
            if channel == event and (event != "+sdown" or data.startswith("master")):
                return at
        return None

    def cut_replication(self) -> None:
        """The replica stops getting the primary's writes: its link is cut and
        it can no longer log in to the primary to make a new one."""
        self.replica.client.config_set("masterauth", "not-the-password")
        self.primary.client.client_kill_filter(_type="replica")
        wait_for(lambda: self.replica.client.info("replication")["master_link_status"] == "down", 5,
                 "the replica's link to drop")

    def kill_primary(self) -> float:
        self.primary.proc.kill()
        killed = time.monotonic()
        self.primary.proc.wait(10)
        return killed

    def stop(self) -> None:
        self._stopping.set()
        if self._watching.is_alive():  # before its Sentinels go
            self._watching.join(5)
        for proc in self.sentinels:
            proc.terminate()
        for proc in self.sentinels:
            proc.wait(10)
        for server in self.servers:
            server.stop()


PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    - name: before
      shell: echo before >> {{ root }}/ran
      changed_when: false
    - name: state before
      lineinfile: path={{ root }}/state line=before create=yes
    - name: across the failover
      shell: echo across >> {{ root }}/ran && sleep 4
      changed_when: false
    - name: after
      shell: echo after >> {{ root }}/ran
      changed_when: false
    - name: state after
      lineinfile: path={{ root }}/state line=after
"""
HOSTS = ("ha1", "ha2", "ha3")
STEPS = ("before", "across", "after")


def ran(root: Path, host: str) -> dict[str, int]:
    """How many times each counting task ran on ``host``."""
    path = root / host / "ran"
    lines = path.read_text().split() if path.exists() else []
    return {step: lines.count(step) for step in STEPS}


def follow(proc: subprocess.Popen, marks: dict, timeout: float = 120) -> dict[str, float]:
    """Wait for ``proc`` to end; meanwhile, when each of ``marks`` first came true."""
    seen: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        for what, happened in marks.items():
            if what not in seen and happened():
                seen[what] = time.monotonic()
        time.sleep(0.05)
    proc.wait(1)  # past the deadline: TimeoutExpired
    return seen


def answered(workers: Workers, host: str) -> bool:
    """Whether ``host``'s worker has finished 'across the failover' (its third task)."""
    return workers.log(host).count(" succeeded in ") >= 3


def reconnected(workers: Workers, host: str):
    return lambda: "reconnected to broker" in workers.log(host)


def beats_after(broker: SentinelBroker, host: str):
    """Whether ``host``'s worker has beaten on the replica since it became the primary."""
    def beaten() -> bool:
        switched = broker.first("+switch-master")
        age = heartbeat_age(broker.replica.client, host) if switched is not None else None
        return age is not None and age < time.monotonic() - switched
    return beaten


def results(doc: dict) -> dict[tuple[str, str], dict]:
    """A run's results by (task, host)."""
    return {(task["task"]["name"], host): result for play in doc["plays"] for task in play["tasks"]
            for host, result in task["hosts"].items()}


def reported(doc: dict) -> set[tuple[str, str]]:
    """The (task, host) pairs a run reported as done (ok or changed)."""
    return {key for key, result in results(doc).items() if not result.get("unreachable") and not result.get("failed")}


def across_a_failover(broker: SentinelBroker, workers: Workers, argv: list[str], env: dict, cwd: Path,
                      unreplicated: bool) -> tuple[int, dict, float, list[tuple[float, str]]]:
    """Run the play, SIGKILL the primary while every host runs 'across the
    failover'; the run's exit status and report, when the primary was
    killed, and what happened when (monotonic times)."""
    out, err = cwd / "run1.json", cwd / "run1.err"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        proc = subprocess.Popen(argv, stdout=stdout, stderr=stderr, cwd=cwd, env=env)
    marks = []
    try:
        wait_for(lambda: all(ran(cwd / "hosts", h)["across"] for h in HOSTS), 30, "every host to be across")
        if unreplicated:
            broker.cut_replication()
            marks.append((time.monotonic(), "the replica cut off from the primary"))
            proc.send_signal(signal.SIGSTOP)
            marks.append((time.monotonic(), "the controller frozen (SIGSTOP)"))
            wait_for(lambda: all(answered(workers, h) for h in HOSTS), 20, "every host to answer")
            marks.append((time.monotonic(), "every host answered 'across the failover', to the primary alone"))
        killed = broker.kill_primary()
        marks.append((killed, "primary SIGKILLed" + (", controller thawed (SIGCONT)" if unreplicated else "")))
        if unreplicated:
            proc.send_signal(signal.SIGCONT)
        seen = follow(proc, {"the controller lost the broker, retries": lambda: "cannot reach" in err.read_text(),
                             **{f"{h}'s worker reconnected": reconnected(workers, h) for h in HOSTS},
                             **{f"{h}'s heartbeat on the new primary": beats_after(broker, h) for h in HOSTS}})
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
    marks += [(at, what) for what, at in seen.items()]
    marks += [(at, f"Sentinel {event}") for event in WATCHED if (at := broker.first(event)) is not None]
    assert out.read_text().strip(), err.read_text()
    return proc.returncode, json.loads(out.read_text()), killed, marks


@pytest.mark.parametrize("unreplicated, bundles", [(False, False), (True, False), (False, True)],
                         ids=["replicated", "unreplicated", "bundles"])
def test_a_sentinel_failover_mid_run(tmp_path, unreplicated, bundles, faults, timeline):
    """``unreplicated``: the replica is cut off from the primary and the
    controller frozen (SIGSTOP) before the hosts answer, so their replies
    die with the primary; those hosts are reported unreachable, not ok.
    ``bundles``: the play goes to each host whole, as it does by default
    (its progress and its lease checks cross the failover); else
    ``--strategy linear``."""
    hosts = tmp_path / "hosts"
    inventory = write(tmp_path / "inventory.yaml", "all:\n  hosts:\n" + "".join(
        f"    {h}:\n      root: {hosts / h}\n" for h in HOSTS))
    for host in HOSTS:
        (hosts / host).mkdir(parents=True)
    book = write(tmp_path / "play.yaml", PLAY)
    argv = [sys.executable, "-m", "celeryroot.cli.play", str(book), "-i", str(inventory), "--json", "--timeout", "10",
            *([] if bundles else ["--strategy", "linear"])]
    broker = SentinelBroker(tmp_path, inventory)
    workers = Workers(broker.url("admin"), tmp_path)
    env = controller_env(broker.url("controller"))
    try:
        for host in HOSTS:  # each as its own Redis user
            workers.start(host, broker_url=broker.url(host))
        rc, doc, killed, marks = across_a_failover(broker, workers, argv, env, tmp_path, unreplicated)
        assert doc["plays"][0]["play"]["execution"]["mode"] == ("bundles" if bundles else "linear")
        ended = time.monotonic()
        counts = {h: ran(hosts, h) for h in HOSTS}
        time.sleep(1)
        late = sum(ran(hosts, h) != counts[h] for h in HOSTS)
        # What the run reports as done was done, once; nothing ran twice.
        done = reported(doc)
        for task, host in done:
            step = next((s for s in STEPS if task == s or task.startswith(s + " ")), None)
            assert step is None or counts[host][step] == 1, (task, host, counts[host])
        twice = sum(max(0, n - 1) for c in counts.values() for n in c.values())
        assert twice == 0, counts
        complete = {h for h in HOSTS if doc["stats"][h]["unreachable"] == doc["stats"][h]["failed"] == 0}
        assert rc == (0 if complete == set(HOSTS) else 4), rc
        assert complete != set(HOSTS) or not unreplicated, "the replies lost with the primary were taken for ok"

        wait_for(lambda: all(workers.alive(h) for h in HOSTS), 30, "every worker's heartbeat on the new primary")
        listed = subprocess.run([sys.executable, "-m", "celeryroot.cli.adhoc", "hosts", "-i", str(inventory), "--json"],
                                capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
        assert json.loads(listed.stdout)["summary"]["up"] == len(HOSTS), listed.stderr
        address = broker.clients[1].sentinel_get_master_addr_by_name(MASTER)
        assert int(address[1]) == broker.replica.port, "the replica is the primary now"
        second = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
        assert second.returncode == 0, second.stderr + second.stdout
        for (task, host), result in results(json.loads(second.stdout)).items():
            if (task, host) in done:  # what run 1 made so is left so
                assert not result["changed"], (task, host, result)
        for host in HOSTS:
            assert ran(hosts, host) == {step: counts[host][step] + 1 for step in STEPS}, host
            assert (hosts / host / "state").read_text() == "before\nafter\n"
        assert not broker.refusals(), "every command the workers and the controller sent was allowed"

        what = "replies lost" if unreplicated else "bundles" if bundles else "replicated"
        # Both runs ended with a true report (asserted above).
        faults(f"Sentinel failover mid-task ({what})", 2, 2, len(HOSTS) - len(complete), late, twice)
        recap = ", ".join(f"{h} {'ok' if h in complete else 'unreachable'}" for h in HOSTS)
        marks += [(ended, f"run 1 ended: rc {rc} ({recap})"),
                  (time.monotonic(), "run 2 ended: rc 0, changed=0 on what run 1 did")]
        timeline(f"Sentinel failover, {what} (tests/test_sentinel.py): seconds from the primary's SIGKILL",
                 [(round(at - killed, 2) + 0.0, what) for at, what in marks])  # + 0.0: no "-0.00"
    finally:
        workers.stop()
        broker.stop()
