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

from celeryroot.config import heartbeat_key

from conftest import RedisServer, wait_for, write
from support import Workers, fake_beat

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
    # As a terminal starts it: a suite run in the background (nohup, cron,
    # CI) hands its children SIGINT ignored, and Python then never raises
    # KeyboardInterrupt, so Ctrl-C could not be tested.
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


@pytest.mark.parametrize("strategy", ["linear", "free"])
def test_a_worker_outlives_a_broker_outage_mid_task(tmp_path, strategy, faults):
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
        lost = int(first.returncode != 0)  # the first run's host: unknown, not "ok"
        wait_for(lambda: "reconnected" in workers.log("outage1"), 60, "the worker to reconnect")
        # A restarted Redis has no heartbeats until each worker's next beat (every 2 s).
        wait_for(lambda: workers.alive("outage1"), 10, "the worker's heartbeat")
        assert workers.procs["outage1"].poll() is None, workers.log("outage1")[-3000:]
        assert "Unrecoverable error" not in workers.log("outage1")
        second = controller(book, inv, server.url, tmp_path)
        out, err = second.communicate(timeout=60)
        runs = count.read_text().count("run")
        faults(f"broker down {OUTAGE:g} s mid-task ({strategy})", 2, 1 + int(second.returncode == 0), lost,
               twice=runs - 2)
        assert second.returncode == 0, err + out
        assert count.read_text() == "run\nrun\n", "each run ran its task exactly once"
    finally:
        workers.stop()
        server.stop()


def test_a_killed_worker_takes_its_commands_with_it(workers, redis_server, tmp_path, faults):
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
    faults("worker SIGKILLed mid-command", 1, int(proc.returncode == 4), 1, late=int(out.stat().st_size != size))
    assert out.stat().st_size == size, "the command kept writing after its worker died"


def test_a_frozen_worker_thawed_after_its_run_ended_runs_nothing(workers, redis_server, tmp_path, faults):
    """SIGSTOP before the run, SIGCONT after the controller gave the host up
    and exited: the message has not expired yet, but its run's lease is
    gone, so the worker refuses it and says so."""
    marker = tmp_path / "late"
    book = write(tmp_path / "p.yaml", f"- hosts: all\n  gather_facts: false\n  tasks:\n"
                                      f"    - file: path={marker} state=touch\n")
    workers.start("thawed1")
    workers.signal("thawed1", signal.SIGSTOP)
    proc = controller(book, inventory(tmp_path, "thawed1"), redis_server.url, tmp_path, "--timeout", "60")
    proc.communicate(timeout=60)
    assert proc.returncode == 4, "the heartbeat lapsed: unreachable"
    # The message waits, unexpired: in the queue, or in the stopped worker's
    # socket if its BRPOP was pending when the message came.
    workers.signal("thawed1", signal.SIGCONT)
    wait_for(lambda: "refused task" in workers.log("thawed1"), 20, "the worker to refuse the task")
    time.sleep(0.5)
    faults("worker SIGSTOPped, SIGCONT after the run", 1, int(proc.returncode == 4), 1, late=int(marker.exists()))
    assert not marker.exists(), "a task ran after its controller had exited"
    assert not redis_server.client.keys("celeryroot.lease.*")


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("strategy", ["linear", "free"])
def test_an_interrupted_run_prints_its_recap_and_nothing_runs_after(workers, redis_server, tmp_path, how, strategy,
                                                                   faults):
    """Ctrl-C or SIGTERM mid-run: the partial recap, exit 99, the lease is
    given back, and no later task of the play starts on any host (a bundle
    stops at its next task)."""
    base = tmp_path / "hosts"
    book = write(tmp_path / "p.yaml", f"""
- hosts: all
  gather_facts: false
  strategy: {strategy}
  tasks:
    - name: first
      file: path={base}/{{{{ inventory_hostname }}}}-first state=touch
    - name: slow
      command: sleep 2
    - name: later
      file: path={base}/{{{{ inventory_hostname }}}}-later state=touch
""")
    base.mkdir()
    workers.start("int1", "int2")
    proc = controller(book, inventory(tmp_path, "int1", "int2"), redis_server.url, tmp_path)
    wait_for(lambda: len(list(base.glob("*-first"))) == 2, 20, "the first task on both hosts")
    time.sleep(0.5)
    proc.send_signal(how)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 99, stderr + stdout
    assert f"interrupted by {how.name}" in stdout + stderr
    assert "PLAY RECAP" in stdout and "int1" in stdout.split("PLAY RECAP")[1], stdout
    assert not redis_server.client.keys("celeryroot.lease.*"), "the lease is given back"
    time.sleep(3)  # the slow task ends; nothing after it may start
    faults(f"controller {how.name} mid-run ({strategy})", 1, int(proc.returncode == 99), 0,
           late=len(list(base.glob("*-later"))))
    assert not list(base.glob("*-later")), "a task ran after its controller was gone"


def test_every_key_of_a_killed_run_lapses(workers, redis_server, tmp_path):
    """A controller killed outright leaves its lease (TTL) and late replies
    (TTL), nothing that lives forever."""
    book = write(tmp_path / "p.yaml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: sleep 1\n")
    workers.start("keys1")
    proc = controller(book, inventory(tmp_path, "keys1"), redis_server.url, tmp_path)
    wait_for(lambda: "received" in workers.log("keys1"), 20, "the task to arrive")
    proc.kill()
    proc.wait()
    wait_for(lambda: redis_server.client.keys("celeryroot.reply.*"), 10, "the late reply")
    # The worker's EXPIRE follows its LPUSH (kombu's publish), a moment later.
    keys = redis_server.client.keys("celeryroot.reply.*") + redis_server.client.keys("celeryroot.lease.*")
    wait_for(lambda: all(redis_server.client.ttl(key) > 0 for key in keys), 5, "a TTL on every key")


@pytest.mark.parametrize("strategy", ["linear", "free"])
def test_a_run_carries_on_through_a_redis_restart(tmp_path, strategy, faults):
    """Redis restarts (losing every key) while a task runs: the controller
    reconnects, the worker's reply arrives after it, the run finishes ok."""
    server = RedisServer(tmp_path)
    workers = Workers(server.url, tmp_path)
    base = tmp_path / "hosts"
    base.mkdir()
    book = write(tmp_path / "p.yaml", f"""
- hosts: all
  gather_facts: false
  strategy: {strategy}
  tasks:
    - name: slow
      shell: touch {base}/started && sleep 4
    - name: after
      file: path={base}/after state=touch
""")
    try:
        workers.start("restart1")
        proc = controller(book, inventory(tmp_path, "restart1"), server.url, tmp_path, "--timeout", "10")
        wait_for((base / "started").exists, 20, "the slow task")
        server.stop()
        time.sleep(1)
        server = RedisServer(tmp_path, port=server.port)
        stdout, stderr = proc.communicate(timeout=60)
        faults(f"Redis restarted mid-task ({strategy})", 1, int(proc.returncode == 0 and "changed=2" in stdout),
               int(proc.returncode != 0))
        assert proc.returncode == 0, stderr + stdout
        assert "restart1" in stdout and "changed=2" in stdout, stdout
        assert (base / "after").exists()
    finally:
        workers.stop()
        server.stop()


@pytest.mark.parametrize("strategy", ["linear", "free"])
def test_two_runs_on_one_host_do_not_interleave(workers, redis_server, tmp_path, strategy, faults):
    """A second run waits for the host's run lock (A-1, A-2, then B-1, B-2);
    a third that waits less than the first takes leaves the host out,
    naming the holder; a --check run takes no lock and does not wait."""
    log = tmp_path / "order"
    book = write(tmp_path / "p.yaml", f"""
- hosts: all
  gather_facts: false
  strategy: {strategy}
  tasks:
    - shell: echo {{{{ who }}}}-1 >> {log} && sleep 3
    - shell: echo {{{{ who }}}}-2 >> {log} && sleep 3
""")
    inv = inventory(tmp_path, "locked1")
    workers.start("locked1")
    first = controller(book, inv, redis_server.url, tmp_path, "-e", "who=A")
    wait_for(log.exists, 20, "the first run's first task")
    second = controller(book, inv, redis_server.url, tmp_path, "-e", "who=B")
    third = controller(book, inv, redis_server.url, tmp_path, "-e", "who=C", "--lock-timeout", "0.5")
    checked = controller(book, inv, redis_server.url, tmp_path, "-e", "who=D", "--check")
    out3, _ = third.communicate(timeout=30)
    assert third.returncode == 2, out3
    assert "another run holds this host: run " in out3 and "pid" in out3, out3
    out4, err4 = checked.communicate(timeout=30)
    assert checked.returncode == 0, err4 + out4
    for proc in (first, second):
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err + out
    order = log.read_text().split()
    faults(f"two runs on one host at once ({strategy})", 4, 4, 0,
           twice=len(order) - len(set(order)) + int(order != sorted(order)))
    assert log.read_text().split() == ["A-1", "A-2", "B-1", "B-2"]
    assert not redis_server.client.keys("celeryroot.lock.*"), "every lock is given back"


def test_a_message_a_persistent_redis_kept_runs_nothing_later(tmp_path, faults):
    """A message waits in a Redis with an append-only file; its controller is
    killed and Redis restarts; a worker started later finds the message,
    unexpired, and refuses it: its run's lease lapsed with its controller,
    and it was signed before this worker started."""
    server = RedisServer(tmp_path, ["--appendonly", "yes", "--appendfsync", "always"])
    workers = Workers(server.url, tmp_path)
    marker = tmp_path / "late"
    book = write(tmp_path / "p.yaml", f"- hosts: all\n  gather_facts: false\n  tasks:\n"
                                      f"    - file: path={marker} state=touch\n")
    try:
        # The host's worker just died: its heartbeat is still there, so the message is sent and waits.
        fake_beat(server.client, "persist1")
        workers.pki.host("persist1")
        proc = controller(book, inventory(tmp_path, "persist1"), server.url, tmp_path, "--timeout", "120")
        wait_for(lambda: server.client.llen("celeryroot.host.persist1") == 1, 20, "the message to wait in Redis")
        proc.kill()
        proc.wait()
        server.stop()
        server = RedisServer(tmp_path, ["--appendonly", "yes"], port=server.port)
        assert server.client.llen("celeryroot.host.persist1") == 1, "the append-only file kept the message"
        server.client.delete(heartbeat_key("persist1"))
        wait_for(lambda: not server.client.keys("celeryroot.lease.*"), 20, "the killed run's lease to lapse")
        workers.broker_url = server.url
        workers.start("persist1")
        wait_for(lambda: "refused task" in workers.log("persist1"), 20, "the worker to refuse the message")
        time.sleep(0.5)
        faults("controller killed, message kept by Redis AOF", 1, 1, 1, late=int(marker.exists()))
        assert not marker.exists(), "a task ran after its controller had exited"
        assert server.client.llen("celeryroot.host.persist1") == 0
    finally:
        workers.stop()
        server.stop()
