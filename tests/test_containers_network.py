"""Network faults between real hosts and the broker: a host whose link is
cut is UNREACHABLE within the run's --timeout while the others complete; when
the link returns its worker reconnects by itself, and what was sent to it
while it was away has expired and never runs."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from celeryroot.config import host_queue
from conftest import Play, wait_for, write
from support import heartbeat_age
from hosts.fixtures import fleet_of

hosts = fleet_of("web1", "web2", "db1")

MID_PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    - name: first
      command: touch /root/first
    - name: slow
      command: sleep 3
    - name: after
      command: touch /root/after
"""


def test_link_cut_mid_play_is_unreachable_within_timeout_and_others_complete(hosts, tmp_path):
    victim = hosts.hosts["web2"]
    book = write(tmp_path / "mid.yaml", MID_PLAY)
    inventory = hosts.inventory(tmp_path / "inv.yaml")
    argv = [sys.executable, "-m", "celeryroot.cli.play", str(book), "-i", str(inventory), "--json",
            "--timeout", "20", "--broker", hosts.broker.url]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        wait_for(lambda: victim.exists("/root/first"), 30, "the first task on web2")
        time.sleep(0.5)  # into the slow task
        victim.cut()
        cut_at = time.monotonic()
        stdout, stderr = proc.communicate(timeout=60)
        ended = time.monotonic() - cut_at
    finally:
        proc.kill()
        victim.restore()
    doc = json.loads(stdout)
    assert proc.returncode == 4, stderr
    assert doc["stats"]["web2"]["unreachable"] == 1, doc["stats"]
    assert ended < 20, f"web2 took {ended:.1f}s to be given up, more than --timeout"
    for name in ("web1", "db1"):
        assert doc["stats"][name]["failed"] == doc["stats"][name]["unreachable"] == 0, doc["stats"]
        assert hosts.hosts[name].exists("/root/after")
    assert not victim.exists("/root/after")

    # The worker reconnects on its own; the next run (default --timeout)
    # succeeds everywhere.
    restored = time.monotonic()
    hosts.wait_serving("web2")
    again = Play(hosts.broker.url, tmp_path)(book, inventory=inventory)
    assert again.rc == 0 and again.total("unreachable") == 0, again
    assert victim.exists("/root/after")
    assert time.monotonic() - restored < 30


def test_messages_sent_while_cut_off_expire_and_never_run(hosts, tmp_path):
    victim = hosts.hosts["db1"]
    client = hosts.broker.client()
    book = write(tmp_path / "expired.yaml", """
- hosts: db1
  gather_facts: false
  tasks:
    - name: expired
      command: touch /root/expired
""")
    inventory = hosts.inventory(tmp_path / "inv.yaml")
    # Cut just after a heartbeat, and send after the worker's pending BRPOP
    # (1 s) has ended: the heartbeat is still fresh, so the controller sends,
    # and the message waits in the queue rather than in a dead connection.
    wait_for(lambda: heartbeat_age(client, "db1") < 0.5, 10, "a fresh heartbeat", every=0.02)
    victim.cut()
    try:
        time.sleep(1.5)
        out = Play(hosts.broker.url, tmp_path)(book, "--timeout", "2", inventory=inventory)
        assert out.stats["db1"]["unreachable"] == 1, out
        assert "no answer within 2s" in out.results("expired")["db1"]["msg"], out
        assert client.llen(host_queue("db1")) == 1, "the message should be waiting for db1"
    finally:
        victim.restore()
    hosts.wait_serving("db1")
    wait_for(lambda: client.llen(host_queue("db1")) == 0, 60, "db1 to take its queued message")
    wait_for(lambda: "Discarding revoked task" in victim.journal(), 15, "the expired message to be discarded")
    assert not victim.exists("/root/expired"), "a message that expired while db1 was cut off ran"
    again = Play(hosts.broker.url, tmp_path)(book, inventory=inventory)
    assert again.rc == 0 and again.stats["db1"]["changed"] == 1, \
        [(task["task"]["name"], task["hosts"]) for play in again.doc["plays"] for task in play["tasks"]]
    assert victim.exists("/root/expired")
