"""A worker's life: what it says when it starts, when it is ready, how it stops.

Real redis-server, real worker processes. Waits are bounded and generous;
how long a start or a stop takes is recorded (``record_property``), and
bench/run.py --only workers prints the figures: timing is not a test.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import SITE_MODULES, RedisServer, wait_for, write
from support import TEST_WORKER, worker_env
from celeryroot.beats import STOPPED, decode
from celeryroot.config import client_name, heartbeat_key

PASSWORD = "s3cret-pw-9"


def inventory(tmp_path, *hosts):
    lines = "\n".join(f"    {h}: {{root: {tmp_path}/hosts/{h}}}" for h in hosts)
    return write(tmp_path / "inventory.yaml", f"all:\n  hosts:\n{lines}\n")


def start_worker(url: str, host: str, cwd, stderr=subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen(
        [*TEST_WORKER, "--hostname", host, "--broker", url],
        stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=cwd, env=worker_env(host))


@pytest.fixture
def locked_redis(tmp_path):
    server = RedisServer(tmp_path, extra=["--requirepass", PASSWORD], url_auth=f":{PASSWORD}@")
    yield server
    server.stop()


@pytest.mark.parametrize("auth", ["password", "none"])
def test_start_up_is_one_line_without_secrets_or_celery_noise(auth, request, tmp_path):
    server = request.getfixturevalue("locked_redis" if auth == "password" else "redis_server")
    proc = start_worker(server.url, "says1", tmp_path)
    wait_for(lambda: server.client.exists(heartbeat_key("says1")), 15, "the heartbeat")
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 0, stderr
    shown = f"redis://:****@127.0.0.1:{server.port}/0" if auth == "password" else server.url
    assert stderr.splitlines() == [stderr.splitlines()[0]], stderr
    line = re.fullmatch(r"\S+ \S+ says1 INFO (.*)", stderr.splitlines()[0])
    assert line and line.group(1) == (f"celeryroot-worker 0.1.0 ready: host says1, broker {shown}, "
                                      f"modules {SITE_MODULES}, queue celeryroot.host.says1"), stderr
    for text in (stdout, stderr):
        assert PASSWORD not in text and "**@" not in text.replace("****@", "")
        assert "superuser" not in text and "Connected to" not in text and "celery@" not in text


def test_ready_means_heartbeat_and_consuming(workers, play, tmp_path, record_property):
    started = time.monotonic()
    workers.start("ready1", wait=False)
    wait_for(lambda: workers.alive("ready1"), 15, "the heartbeat", every=0.01)
    record_property("ready_seconds", round(time.monotonic() - started, 3))
    book = write(tmp_path / "p.yaml", "- hosts: all\n  gather_facts: false\n  tasks:\n"
                                      "    - name: dir\n      file: path={{ root }} state=directory\n")
    out = play(book, "--timeout", "15", inventory=inventory(tmp_path, "ready1"))
    assert out.rc == 0 and out.stats["ready1"]["changed"] == 1, out
    assert (tmp_path / "hosts/ready1").is_dir()


def connections_of(client, host: str) -> list[str]:
    """The last command of each of ``host``'s worker's connections (CLIENT LIST, by name)."""
    return sorted(c["cmd"] for c in client.client_list() if c["name"] == client_name(host))


def test_a_worker_holds_few_redis_connections_all_named_for_its_host(workers, play, tmp_path):
    """A fleet shares one broker's maxclients: a worker holds two, kombu's
    BRPOP on its queue and its own (heartbeats, leases, replies), idle and
    once it has answered linear tasks and a bundle."""
    workers.start("conn1")
    wait_for(lambda: len(connections_of(workers.client, "conn1")) == 2, 10, "the worker's connections")
    assert connections_of(workers.client, "conn1")[0] == "brpop", connections_of(workers.client, "conn1")
    book = write(tmp_path / "p.yaml", "- hosts: all\n  gather_facts: false\n  tasks:\n"
                                      "    - name: dir\n      file: path={{ root }} state=directory\n"
                                      "- hosts: all\n  gather_facts: false\n  strategy: free\n  tasks:\n"
                                      "    - name: again\n      file: path={{ root }} state=directory\n")
    for _ in range(2):
        out = play(book, "--timeout", "15", "--strategy", "linear", inventory=inventory(tmp_path, "conn1"))
        assert out.rc == 0 and out.stats["conn1"]["failed"] == 0, out
        out = play(book, "--timeout", "15", inventory=inventory(tmp_path, "conn1"))
        assert out.rc == 0 and out.stats["conn1"]["failed"] == 0, out
    assert len(connections_of(workers.client, "conn1")) == 2, connections_of(workers.client, "conn1")


def test_sigterm_stops_an_idle_worker_and_its_heartbeat_says_so(workers, record_property):
    workers.start("idle1")
    proc = workers.procs["idle1"]
    asked = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    record_property("stop_seconds", round(time.monotonic() - asked, 3))
    assert not workers.alive("idle1"), "the heartbeat should not be live once the worker has stopped"
    beat = decode(workers.client.get(heartbeat_key("idle1")))
    assert beat.state == STOPPED, "a stopped worker says so: its host is down, not never seen"


def test_sigterm_lets_the_running_task_finish_and_report(workers, redis_server, tmp_path):
    workers.start("busy1")
    began, done = tmp_path / "began", tmp_path / "done"
    book = write(tmp_path / "p.yaml", f"- hosts: all\n  gather_facts: false\n  tasks:\n"
                                      f"    - name: slow\n      shell: touch {began}; sleep 4; touch {done}\n")
    argv = [sys.executable, "-m", "celeryroot.cli.play", str(book), "-i", str(inventory(tmp_path, "busy1")),
            "--broker", redis_server.url, "--json"]
    controller = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    wait_for(began.exists, 15, "the task to start")
    # The task outlasts the controller's heartbeat checks (every 2 s): the
    # host must stay alive for them until its answer is sent.
    workers.signal("busy1", signal.SIGTERM)
    stdout, stderr = controller.communicate(timeout=60)
    assert done.exists(), "the running task should have finished"
    assert controller.returncode == 0, (stdout, stderr)
    assert json.loads(stdout)["stats"]["busy1"]["changed"] == 1, stdout
    assert workers.procs["busy1"].wait(15) == 0
    assert not workers.alive("busy1")


def test_a_worker_says_when_it_is_connected_again(tmp_path):
    server = RedisServer(tmp_path)
    log = tmp_path / "again1.log"
    proc = start_worker(server.url, "again1", tmp_path, stderr=log.open("w"))
    try:
        wait_for(lambda: server.client.exists(heartbeat_key("again1")), 15, "the heartbeat")
        server.stop()
        server = RedisServer(tmp_path, port=server.port)
        wait_for(lambda: "reconnected" in log.read_text(), 30, "the worker to reconnect")
        assert f"INFO reconnected to broker {server.url}\n" in log.read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        proc.kill()
        server.stop()
