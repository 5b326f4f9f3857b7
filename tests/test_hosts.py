"""`celeryroot hosts`: real workers started, killed and stopped against a
Redis of the test's own, then read as an operator reads them (the
command's table and its --json document)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time

import pytest

from celeryroot import __version__
from celeryroot.beats import WORKERS
from celeryroot.config import host_queue
from conftest import RedisServer, Workers, controller_env, wait_for, write

LISTED = ("up1", "busy1", "killed1", "stopped1", "never1")


def celeryroot_hosts(url: str, cwd, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "celeryroot.cli.adhoc", "hosts", *args], capture_output=True,
                          text=True, cwd=cwd, env=controller_env(url), timeout=60)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """up1 idle, busy1 running a play, killed1 SIGKILLed (its heartbeat
    lapsed), stopped1 stopped by SIGTERM, never1 never started, and stray1
    live but in no inventory; two messages wait for killed1."""
    workdir = tmp_path_factory.mktemp("hosts")
    server = RedisServer(workdir)
    workers = Workers(server.url, workdir)
    inventory = write(workdir / "inv.yaml", "all:\n  hosts:\n" + "".join(f"    {h}:\n" for h in LISTED))
    book = write(workdir / "slow.yaml", "- hosts: busy1\n  gather_facts: false\n  tasks:\n"
                                        "    - command: sleep 30\n")
    play = None
    try:
        workers.start("up1", "busy1", "killed1", "stopped1", "stray1")
        workers.procs["killed1"].kill()
        workers.procs["stopped1"].terminate()
        assert workers.procs["stopped1"].wait(15) == 0
        wait_for(lambda: not workers.alive("killed1"), 15, "killed1's heartbeat to lapse")
        server.client.lpush(host_queue("killed1"), "x", "y")
        play = subprocess.Popen([sys.executable, "-m", "celeryroot.cli.play", str(book), "-i", str(inventory)],
                                stdout=open(workdir / "play.log", "w"), stderr=subprocess.STDOUT, cwd=workdir,
                                env=controller_env(server.url))
        run = wait_for(lambda: server.client.keys("celeryroot.lease.*"), 30, "the play's lease")[0]
        # The worker's next beat says which run it serves.
        time.sleep(2.5)
        yield server, workdir, inventory, run.decode().rsplit(".", 1)[1]
    finally:
        if play is not None:
            play.terminate()
            play.wait(30)
        workers.stop()
        server.stop()


def test_the_table_shows_each_host_as_it_is(fleet):
    server, workdir, inventory, run = fleet
    out = celeryroot_hosts(server.url, workdir, "-i", str(inventory))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["HOST", "STATE", "HEARTBEAT", "VERSION", "PYTHON", "UPTIME", "LOAD", "QUEUE", "RUN"]
    rows = {line.split()[0]: line for line in lines[1:6]}
    assert list(rows) == list(LISTED), out.stdout
    assert re.match(rf"up1 +up +\d\.\ds ago +{__version__} +3\.\d+\.\d+ +\S+ +[\d.]+ [\d.]+ [\d.]+ +0 +-$", rows["up1"])
    assert rows["busy1"].split()[1] == "up" and rows["busy1"].endswith(run), out.stdout
    assert re.match(r"killed1 +down +\d+(\.\d)?s ago +.* 2 +-$", rows["killed1"]), out.stdout
    assert re.search(r"stopped1 +down +\S+ ago, stopped ", rows["stopped1"]), out.stdout
    assert re.match(r"never1 +never seen +- +- +- +- +- +0 +-$", rows["never1"]), out.stdout
    assert lines[6] == "up: 2, down: 2, never seen: 1 (of 5 hosts)"
    assert lines[8] == "live workers the inventory does not list (1):"
    assert lines[10].split()[:2] == ["stray1", "up"], out.stdout


def test_a_pattern_selects_the_hosts(fleet):
    server, workdir, inventory, _ = fleet
    out = celeryroot_hosts(server.url, workdir, "up*:never1", "-i", str(inventory))
    assert out.returncode == 0, out.stderr
    assert [line.split()[0] for line in out.stdout.splitlines()[1:3]] == ["up1", "never1"]
    assert "(of 2 hosts)" in out.stdout


def test_json_says_the_same_in_fields(fleet):
    server, workdir, inventory, run = fleet
    out = celeryroot_hosts(server.url, workdir, "-i", str(inventory), "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    hosts = {h["host"]: h for h in doc["hosts"]}
    assert list(hosts) == list(LISTED)
    assert {h: hosts[h]["state"] for h in LISTED} == {"up1": "up", "busy1": "up", "killed1": "down",
                                                      "stopped1": "down", "never1": "never_seen"}
    up = hosts["up1"]
    assert set(up) == {"host", "state", "stopped", "last_heartbeat", "age", "version", "python", "pid",
                       "worker_started", "uptime", "load", "queue", "run"}
    assert up["version"] == __version__ and up["python"].count(".") == 2 and 0 <= up["age"] < 6
    assert up["uptime"] > 0 and len(up["load"]) == 3 and up["queue"] == 0 and up["run"] is None
    assert up["last_heartbeat"] > up["worker_started"] > 1.7e9
    assert hosts["busy1"]["run"] == run
    assert hosts["killed1"]["queue"] == 2 and hosts["killed1"]["age"] >= 6 and not hosts["killed1"]["stopped"]
    assert hosts["killed1"]["uptime"] is None and hosts["killed1"]["load"] is None
    assert hosts["stopped1"]["stopped"] is True
    assert hosts["never1"]["last_heartbeat"] is None and hosts["never1"]["version"] is None
    assert [h["host"] for h in doc["unlisted"]] == ["stray1"]
    assert doc["summary"] == {"up": 2, "down": 2, "never_seen": 1, "hosts": 5, "unlisted": 1}


def test_a_name_added_without_a_heartbeat_is_not_shown_and_is_dropped(fleet):
    """A host's credentials may add any name to the set of workers; only a
    live heartbeat record (which only that host may write) shows it."""
    server, workdir, inventory, _ = fleet
    server.client.sadd(WORKERS, "ghost1", "bad/name")
    out = celeryroot_hosts(server.url, workdir, "-i", str(inventory), "--json")
    assert [h["host"] for h in json.loads(out.stdout)["unlisted"]] == ["stray1"]
    assert server.client.smembers(WORKERS) == {b"up1", b"busy1", b"killed1", b"stopped1", b"stray1"}


def test_without_a_broker_it_says_so(tmp_path):
    out = subprocess.run([sys.executable, "-m", "celeryroot.cli.adhoc", "hosts", "-i", "localhost,"],
                         capture_output=True, text=True, cwd=tmp_path, env=controller_env(None), timeout=60)
    assert out.returncode == 1 and "no broker is configured" in out.stderr, out
