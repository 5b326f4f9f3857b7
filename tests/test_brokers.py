"""Several brokers: one run over two real redis-servers, each with its own workers."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from celeryroot.config import heartbeat_key
from celeryroot.controller.brokers import hashed
from conftest import Play, RedisServer, Workers, controller_env, wait_for, write
from support import SLOW_PLAY

#: Hosts by the broker their inventory names; HASHED's broker is the hash's.
NAMED = {"eu-a": "eu1", "eu-b": "eu1", "us-a": "us1"}
HASHED = "any-1"


def setup(tmp_path, urls: dict[str, str]):
    """celeryroot.yaml naming the brokers, and an inventory of NAMED and HASHED."""
    write(tmp_path / "celeryroot.yaml", "brokers:\n" + "".join(f"  {n}: {u}\n" for n, u in urls.items()))
    lines = ["all:", "  hosts:"]
    for host, broker in NAMED.items():
        lines.append(f"    {host}: {{root: {tmp_path}/hosts/{host}, celeryroot_broker: {broker}}}")
    lines.append(f"    {HASHED}: {{root: {tmp_path}/hosts/{HASHED}}}")
    return write(tmp_path / "inventory.yaml", "\n".join(lines) + "\n")


def hosts_of(broker: str) -> list[str]:
    return [h for h, b in NAMED.items() if b == broker] + ([HASHED] if hashed(HASHED, ["eu1", "us1"]) == broker
                                                           else [])


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    """Two brokers, eu1 and us1, each with the workers of its own hosts."""
    servers, workers = {}, {}
    try:
        for name in ("eu1", "us1"):
            servers[name] = RedisServer(tmp_path_factory.mktemp(name))
            workers[name] = Workers(servers[name].url, tmp_path_factory.mktemp(f"workers-{name}"))
            workers[name].start(*hosts_of(name))
        yield servers, workers
    finally:
        for name in workers:
            workers[name].stop()
        for server in servers.values():
            server.stop()


BOOK = """
- hosts: all
  strategy: {strategy}
  tasks:
    - name: dir
      file: path={{{{ root }}}} state=directory
    - name: motd
      copy: dest={{{{ root }}}}/motd content="{{{{ inventory_hostname }}}}\\n"
    - name: touched
      command: touch {{{{ root }}}}/touched
      args:
        creates: "{{{{ root }}}}/touched"
      notify: done
  handlers:
    - name: done
      file: path={{{{ root }}}}/done state=touch
"""


@pytest.mark.parametrize("strategy", ["linear", "free"])
def test_one_run_over_two_brokers_then_changed_nothing(two, tmp_path, strategy):
    servers, _ = two
    inventory = setup(tmp_path, {n: s.url for n, s in servers.items()})
    book = write(tmp_path / "site.yaml", BOOK.format(strategy=strategy))
    play = Play(None, tmp_path)
    first = play(book, inventory=inventory)
    assert first.rc == 0, first
    everyone = [*NAMED, HASHED]
    assert sorted(first.stats) == sorted(everyone)
    for host in everyone:
        assert first.stats[host]["changed"] == 4, (host, first)
        assert (tmp_path / "hosts" / host / "motd").read_text() == host + "\n"
        assert (tmp_path / "hosts" / host / "done").exists()
    second = play(book, inventory=inventory)
    assert second.rc == 0, second
    assert second.total("changed") == 0, second
    # Each host was served by its own broker alone: its queue and heartbeat live there, not on the other.
    for name, server in servers.items():
        for host in everyone:
            mine = host in hosts_of(name)
            assert (server.client.get(heartbeat_key(host)) is not None) == mine, (name, host)
            assert server.client.exists("celeryroot.lock." + host) == 0


def test_celeryroot_hosts_lists_the_hosts_of_every_broker(two, tmp_path):
    servers, _ = two
    setup(tmp_path, {n: s.url for n, s in servers.items()})
    out = subprocess.run([sys.executable, "-m", "celeryroot.cli.adhoc", "hosts", "--json"], capture_output=True,
                         text=True, cwd=tmp_path, env=controller_env(), timeout=60)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert [h["host"] for h in doc["hosts"]] == [*NAMED, HASHED]
    assert {h["state"] for h in doc["hosts"]} == {"up"}


def test_a_broker_name_no_broker_has_stops_the_run_before_any_host(two, tmp_path):
    servers, _ = two
    inventory = setup(tmp_path, {n: s.url for n, s in servers.items()})
    text = inventory.read_text().replace("celeryroot_broker: us1", "celeryroot_broker: mars")
    inventory.write_text(text)
    book = write(tmp_path / "site.yaml", BOOK.format(strategy="linear"))
    out = Play(None, tmp_path)(book, inventory=inventory)
    assert out.rc == 1, out
    assert "host us-a: celeryroot_broker: 'mars' is none of the brokers in celeryroot.yaml (eu1, us1)" in out.stderr
    assert not (tmp_path / "hosts").exists()
    for server in servers.values():
        assert server.client.keys("celeryroot.reply.*") == []


def test_a_broker_down_costs_only_its_own_hosts(two, tmp_path_factory, tmp_path):
    servers, _ = two
    dead = RedisServer(tmp_path_factory.mktemp("dead"))
    dead.stop()  # killed before the run: nothing answers on its port
    # us1 is dead here: its hosts (and HASHED, if the hash gives it us1) are unreachable.
    inventory = setup(tmp_path, {"eu1": servers["eu1"].url, "us1": dead.url})
    book = write(tmp_path / "site.yaml", BOOK.format(strategy="linear"))
    out = Play(None, tmp_path)(book, "--timeout", "5", inventory=inventory)
    assert out.rc == 4, out
    for host in hosts_of("us1"):
        assert out.stats[host]["unreachable"] == 1, out
        assert "its broker us1 is unreachable" in out.results("Checking workers")[host]["msg"]
    for host in hosts_of("eu1"):
        assert out.stats[host]["failed"] == 0 and out.stats[host]["unreachable"] == 0, out
        assert (tmp_path / "hosts" / host / "done").exists()
    # the broker wait (5 s) and the play, nothing more
    assert out.seconds < 20, out.seconds


def test_acl_for_one_broker_has_only_the_hosts_it_serves(tmp_path):
    inventory = setup(tmp_path, {"eu1": "redis://a:6379/0", "us1": "redis://b:6379/0"})
    passwords = tmp_path / "pw.yaml"
    argv = [sys.executable, "-m", "celeryroot.cli.adhoc", "acl", "-i", str(inventory), "--passwords", str(passwords)]
    users = {}
    for name in ("eu1", "us1"):
        out = subprocess.run([*argv, "--for-broker", name], capture_output=True, text=True, cwd=tmp_path,
                             env=controller_env(), timeout=60)
        assert out.returncode == 0, out.stderr
        users[name] = [line.split()[1] for line in out.stdout.splitlines()]
    for name in users:
        assert users[name] == ["default", "controller", *hosts_of(name)]
    out = subprocess.run([*argv, "--for-broker", "mars"], capture_output=True, text=True, cwd=tmp_path,
                         env=controller_env(), timeout=60)
    assert out.returncode == 1 and "--for-broker mars: no such broker" in out.stderr


def test_a_broker_lost_mid_run_costs_only_its_own_hosts(two, tmp_path_factory, tmp_path):
    servers, _ = two
    doomed = RedisServer(tmp_path_factory.mktemp("doomed"))
    workers = Workers(doomed.url, tmp_path_factory.mktemp("doomed-workers"))
    workers.start(*hosts_of("us1"))
    inventory = setup(tmp_path, {"eu1": servers["eu1"].url, "us1": doomed.url})
    book = write(tmp_path / "slow.yaml", SLOW_PLAY)
    argv = [sys.executable, "-m", "celeryroot.cli.play", str(book), "-i", str(inventory), "--json", "--timeout", "5"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env=controller_env())
    try:
        wait_for(lambda: (tmp_path / "hosts/us-a").exists(), 20, "the first task on us-a")
        time.sleep(0.5)  # into the slow task
        doomed.stop()
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
        # The same port again, so that its workers can be stopped as usual.
        doomed = RedisServer(tmp_path_factory.mktemp("doomed-again"), port=doomed.port)
        workers.stop()
        doomed.stop()
    doc = json.loads(stdout)
    assert proc.returncode == 4, stderr
    for host in hosts_of("us1"):
        assert doc["stats"][host]["unreachable"] == 1, doc["stats"]
        assert not (tmp_path / "hosts" / host / "after").exists()
    for host in hosts_of("eu1"):
        assert doc["stats"][host]["failed"] == 0 and doc["stats"][host]["unreachable"] == 0, doc["stats"]
        assert (tmp_path / "hosts" / host / "after").is_dir()
