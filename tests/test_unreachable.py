"""Dead, missing and frozen workers: UNREACHABLE in bounded time, nothing runs later."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
import redis

from celeryroot.config import heartbeat_key
from conftest import RedisServer, free_port, wait_for, write
from support import SLOW_PLAY, worker_env

INVENTORY = """
all:
  hosts:
{hosts}
"""


def inventory(tmp_path, *hosts):
    lines = "\n".join(f"    {h}: {{root: {tmp_path}/hosts/{h}}}" for h in hosts)
    return write(tmp_path / "inventory.yaml", INVENTORY.format(hosts=lines))


def test_host_without_worker_is_unreachable_at_once_and_others_carry_on(workers, play, tmp_path):
    workers.start("alive1")
    workers.pki.host("nobody1")  # enrolled, its worker down
    inv = inventory(tmp_path, "alive1", "nobody1")
    book = write(tmp_path / "p.yaml", "- hosts: all\n  tasks:\n    - name: dir\n      file: path={{ root }} state=directory\n")
    out = play(book, inventory=inv)
    assert out.rc == 4, out
    assert out.stats["nobody1"]["unreachable"] == 1
    assert out.stats["alive1"]["changed"] == 1
    assert "no live worker" in out.results("Checking workers")["nobody1"]["msg"]
    assert "nobody1" not in out.results("dir")
    assert out.seconds < 10, "a host without a heartbeat must not be waited for"


@pytest.mark.parametrize("how", ["killed", "frozen"])
def test_worker_lost_mid_play_becomes_unreachable_within_bound(workers, redis_server, tmp_path, how):
    workers.start("steady", "victim")
    inv = inventory(tmp_path, "steady", "victim")
    book = write(tmp_path / "p.yaml", SLOW_PLAY)
    argv = [sys.executable, "-m", "celeryroot.cli.play", str(book), "-i", str(inv), "--json", "--timeout", "20",
            "--broker", redis_server.url]
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    wait_for(lambda: (tmp_path / "hosts/victim").exists(), 20, "the first task on victim")
    time.sleep(0.5)  # into the slow task
    workers.signal("victim", signal.SIGKILL if how == "killed" else signal.SIGSTOP)
    stdout, stderr = proc.communicate(timeout=60)
    elapsed = time.monotonic() - started
    doc = json.loads(stdout)
    assert proc.returncode == 4, stderr
    assert doc["stats"]["victim"]["unreachable"] == 1
    assert doc["stats"]["steady"]["failed"] == 0 and doc["stats"]["steady"]["ok"] == 4
    assert (tmp_path / "hosts/steady/after").is_dir()
    assert not (tmp_path / "hosts/victim/after").exists()
    # the heartbeat lapses within its TTL (6 s); far below the 20 s timeout
    assert elapsed < 15, elapsed


def test_messages_for_a_dead_worker_expire_and_never_run_after_restart(workers, redis_server, tmp_path, play):
    workers.start("phoenix")
    inv = inventory(tmp_path, "phoenix")
    # Dies just before the play: its heartbeat is still fresh, so the task is sent.
    workers.procs["phoenix"].kill()
    workers.procs["phoenix"].wait()
    book = write(tmp_path / "p.yaml", "- hosts: all\n  tasks:\n    - name: dir\n"
                                      "      file: path={{ root }} state=directory\n")
    out = play(book, "--timeout", "2", inventory=inv)
    assert out.rc == 4, out
    assert out.stats["phoenix"]["unreachable"] == 1
    assert redis_server.client.llen("celeryroot.host.phoenix") == 1, "the message should be waiting in the queue"
    workers.start("phoenix")
    wait_for(lambda: redis_server.client.llen("celeryroot.host.phoenix") == 0, 15, "the queue to be drained")
    wait_for(lambda: "Discarding revoked task" in workers.log("phoenix"), 10, "the expired task to be discarded")
    time.sleep(1)
    assert not (tmp_path / "hosts/phoenix").exists(), "an expired message ran after the worker came back"
    again = play(book, inventory=inv)
    assert again.rc == 0 and again.total("changed") == 1, again


@pytest.mark.parametrize("command", ["play", "adhoc"])
def test_an_unreachable_broker_is_said_and_fails_within_the_wait(tmp_path, command):
    """Nothing listens on the port: the controller says what it retries,
    gives up within 5 s (the default), exit 1, no traceback, no password."""
    url = f"redis://:s3cret@127.0.0.1:{free_port()}/0"
    book = write(tmp_path / "p.yaml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - ping:\n")
    first = [str(book)] if command == "play" else ["all", "-m", "ping"]
    argv = [sys.executable, "-m", f"celeryroot.cli.{command}", *first, "-i", str(inventory(tmp_path, "h1")),
            "--broker", url]
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, timeout=60)
    elapsed = time.monotonic() - started
    shown = url.replace(":s3cret@", ":****@")
    assert proc.returncode == 1, proc
    assert proc.stderr == (f"cannot reach the broker at {shown} (Connection refused); retrying for 5 s…\n"
                           f"ERROR! cannot reach the broker: {shown} did not answer within 5 s "
                           f"(Connection refused)\n"), proc.stderr
    # It waited the 5 s it said, and then gave up (the upper bound is loose:
    # a loaded machine starts the interpreter slowly; tests do not time).
    assert 5 <= elapsed < 30, elapsed


def test_a_worker_waits_for_its_broker_and_says_so_once(tmp_path):
    """A worker is a service: started before its broker, it says once what
    it waits for, keeps trying, and comes up when the broker does."""
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen([sys.executable, "-m", "celeryroot.cli.worker", "--hostname", "early",
                                   "--broker", url], stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
                                  env=worker_env("early"))
    server = None
    try:
        said = f"early WARNING cannot reach the broker at {url} (Connection refused); retrying until it answers…"
        wait_for(lambda: said in log.read_text(), 20, "the worker's message")
        time.sleep(3)  # several attempts
        assert worker.poll() is None, log.read_text()
        server = RedisServer(tmp_path, port=port)
        wait_for(lambda: _has_key(url, heartbeat_key("early")), 20, "the worker's heartbeat")
        text = log.read_text()
        assert text.count(said) == 1 and "Traceback" not in text, text
    finally:
        worker.terminate()
        worker.wait(10)
        if server is not None:
            server.stop()


def _has_key(url: str, key: str) -> bool:
    try:
        return redis.Redis.from_url(url).exists(key) == 1
    except redis.ConnectionError:
        return False  # the server is still starting
