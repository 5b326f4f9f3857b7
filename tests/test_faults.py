"""Faults done with real processes: a broker that goes away mid-task, a
worker killed with its command running. Each test stops by itself; every
wait is bounded.

The figures behind the README's fault table: each run is counted as
survived (the worker served the next run), lost (its work was not done or
not reported), ran late (after its controller was gone) or ran twice.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from conftest import RedisServer, wait_for, write
from support import Workers

#: Longer than the 20 s for which Celery's own rpc backend retries a reply
#: before it gives up and takes the worker down with it.
OUTAGE = 25

PLAY = """
- hosts: all
  gather_facts: false
  strategy: {strategy}
  tasks:
    - name: count and wait
      shell: echo run >> {count} && sleep 4
"""


def inventory(tmp_path, *hosts):
    lines = "\n".join(f"    {h}:" for h in hosts)
    return write(tmp_path / "inventory.yaml", f"all:\n  hosts:\n{lines}\n")


def controller(book, inv, url, cwd, *args) -> subprocess.Popen:
    argv = [sys.executable, "-m", "celeryroot.cli.play", str(book), "-i", str(inv), "--broker", url, *args]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)


@pytest.mark.parametrize("strategy", ["linear", "free"])
def test_a_worker_outlives_a_broker_outage_mid_task(tmp_path, strategy):
    """Redis stops while the task runs and stays away longer than Celery
    retries a reply: the worker keeps the reply until Redis is back (or gives
    it up after a minute), reconnects and serves the next run; the task ran once, not again on reconnect."""
    server = RedisServer(tmp_path)
    workers = Workers(server.url, tmp_path)
    count = tmp_path / "count"
    book = write(tmp_path / "p.yaml", PLAY.format(strategy=strategy, count=count))
    inv = inventory(tmp_path, "outage1")
    try:
        workers.start("outage1")
        first = controller(book, inv, server.url, tmp_path, "--timeout", "10")
        wait_for(count.exists, 20, "the task to start")
        server.stop()
        time.sleep(OUTAGE)
        server = RedisServer(tmp_path, port=server.port)
        first.communicate(timeout=30)
        wait_for(lambda: "reconnected" in workers.log("outage1"), 60, "the worker to reconnect")
        assert workers.procs["outage1"].poll() is None, workers.log("outage1")[-3000:]
        assert "Unrecoverable error" not in workers.log("outage1")
        second = controller(book, inv, server.url, tmp_path)
        out, err = second.communicate(timeout=60)
        assert second.returncode == 0, err + out
        assert count.read_text() == "run\nrun\n", "each run ran its task exactly once"
    finally:
        workers.stop()
        server.stop()


def test_a_killed_worker_takes_its_commands_with_it(workers, redis_server, tmp_path):
    """A SIGKILLed worker's command and the command's children stop with it
    (the reaper kills the command's process group); the run says UNREACHABLE."""
    out = tmp_path / "out"
    book = write(tmp_path / "p.yaml", f"""
- hosts: all
  gather_facts: false
  tasks:
    - name: write forever
      shell: (while true; do echo x >> {out}; sleep 0.05; done) & wait
""")
    workers.start("reaped1")
    proc = controller(book, inventory(tmp_path, "reaped1"), redis_server.url, tmp_path, "--json")
    wait_for(lambda: out.exists() and out.stat().st_size > 10, 20, "the command to write")
    workers.signal("reaped1", signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 4 and '"unreachable": 1' in stdout, stderr
    size = out.stat().st_size
    time.sleep(1)
    assert out.stat().st_size == size, "the command kept writing after its worker died"
