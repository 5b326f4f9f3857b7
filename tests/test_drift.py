"""Drift: `celeryroot drift push` leaves a playbook with real workers, which
check it in check mode every 2 s and publish what would change; read back
with `celeryroot drift` as an operator reads it. The host's files are
changed and fixed under it; forged schedules written straight into Redis
must run nothing; a no_log secret must never come out; a check must
change nothing, even for a task that says ``check_mode: false``."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from celeryroot.config import drift_keys, lock_key
from conftest import controller_env, wait_for, write
from support import shared_pki

HOST = "drift1"
PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - name: motd
      copy:
        content: "managed by celeryroot\\n"
        dest: "{{ root }}/motd"
    - name: secret
      copy:
        content: "{{ secret }}\\n"
        dest: "{{ root }}/secret"
      no_log: true
    - name: forced
      file: path={{ root }}/forced state=directory
      check_mode: false
"""
SECRET = "hunter2-drift-secret"


def drift(url: str, cwd, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "celeryroot.cli.adhoc", "drift", *args], capture_output=True,
                          text=True, cwd=cwd, env=controller_env(url), timeout=60)


def found(url: str, cwd, inventory) -> dict:
    """The one drift line of the test's host, as ``celeryroot drift --json`` prints it."""
    out = drift(url, cwd, "-i", str(inventory), "--json")
    assert out.returncode in (0, 2), out
    (line,) = json.loads(out.stdout)["drift"]
    return line


def next_check(url: str, cwd, inventory, after: float | None, state: str, timeout: float = 20) -> dict:
    """The first outcome checked after ``after`` in ``state``."""
    def seen():
        line = found(url, cwd, inventory)
        fresh = line["checked"] is not None and (after is None or line["checked"] > after)
        return line if fresh and line["state"] == state else None
    return wait_for(seen, timeout, f"a check after {after} in state {state}", every=0.3)


@pytest.fixture
def host(redis_server, workers, tmp_path):
    root = tmp_path / "hosts" / HOST
    root.mkdir(parents=True)
    inventory = write(tmp_path / "inv.yaml", f"all:\n  hosts:\n    {HOST}:\n      root: {root}\n")
    book = write(tmp_path / "site.yaml", PLAYBOOK)
    workers.start(HOST)
    yield root, inventory, book
    client = redis_server.client
    names_key, schedules, outcomes = drift_keys(HOST)
    for name in client.hkeys(names_key):
        client.delete(schedules + name.decode())
    client.delete(names_key, outcomes, lock_key(HOST))


def test_drift_in_sync_drifted_fixed(redis_server, workers, host, tmp_path, play):
    root, inventory, book = host
    url = redis_server.url
    pushed = drift(url, tmp_path, "push", str(book), "-i", str(inventory), "--every", "2s", "-e",
                   f"secret={SECRET}")
    assert pushed.returncode == 0, pushed
    assert "drift site: 1 hosts check" in pushed.stdout

    # Nothing applied yet: every task would change, and the check changed nothing,
    # not even the task that says check_mode: false.
    first = next_check(url, tmp_path, inventory, None, "drifted")
    assert [c["task"] for c in first["changed"]] == ["motd", "secret", "forced"]
    assert sorted(p.name for p in root.iterdir()) == []
    calls = [r for r in workers.audit(HOST) if r["event"] == "call"]
    assert calls and all(r["check"] for r in calls)

    assert play(book, "-i", str(inventory), "-e", f"secret={SECRET}").rc == 0
    synced = next_check(url, tmp_path, inventory, first["checked"], "in sync")
    assert synced["changed"] == [] and synced["since"] is None

    (root / "motd").write_text("hand edited\n")
    drifted = next_check(url, tmp_path, inventory, synced["checked"], "drifted")
    assert [c["task"] for c in drifted["changed"]] == ["motd"]
    (diff,) = drifted["changed"][0]["diff"]
    assert diff["before"] == "hand edited\n" and diff["after"] == "managed by celeryroot\n"
    # The same task still drifted: since is kept, check after check.
    again = next_check(url, tmp_path, inventory, drifted["checked"], "drifted")
    assert again["since"] == drifted["since"] and again["checked"] > drifted["checked"]
    assert (root / "motd").read_text() == "hand edited\n"
    # A new worker takes up the drift its last one noted: it is not new.
    workers.stop([HOST])
    workers.start(HOST)
    again = next_check(url, tmp_path, inventory, again["checked"], "drifted")
    assert again["since"] == drifted["since"]

    table = drift(url, tmp_path, "-i", str(inventory), "--diff")
    assert table.returncode == 2, table
    assert table.stdout.splitlines()[0].split() == ["HOST", "PLAY", "STATE", "CHECKED", "DRIFTED", "SINCE",
                                                    "CHANGES"]
    row = table.stdout.splitlines()[1].split()
    assert row[:3] == [HOST, "site", "drifted"] and row[-1] == "1"
    assert "-hand edited" in table.stdout and "+managed by celeryroot" in table.stdout

    (root / "motd").write_text("managed by celeryroot\n")
    fixed = next_check(url, tmp_path, inventory, again["checked"], "in sync")
    assert fixed["since"] is None
    assert drift(url, tmp_path, "-i", str(inventory)).returncode == 0

    # The secret never leaves the host in the clear, nor in what the controller opens.
    full = drift(url, tmp_path, "-i", str(inventory), "--json", "--diff").stdout + table.stdout
    assert SECRET not in full
    client = redis_server.client
    for key in client.keys("*"):
        kind = client.type(key)
        values = [client.get(key)] if kind == b"string" else client.hvals(key) if kind == b"hash" else []
        assert all(SECRET.encode() not in value for value in values), key
    assert client.hlen(drift_keys(HOST)[2]) == 1
    assert SECRET not in workers.log(HOST)

    removed = drift(url, tmp_path, "remove", "site", "-i", str(inventory))
    assert removed.returncode == 0 and "removed from 1 hosts" in removed.stdout, removed
    assert "no drift checks" in drift(url, tmp_path, "-i", str(inventory)).stdout


def test_forged_schedules_run_nothing(redis_server, workers, host, tmp_path):
    """A schedule written into Redis by someone with write access, unsigned
    or signed for another host, is refused: no module runs, the refusal is
    audited and shown as a failed check."""
    root, inventory, book = host
    client = redis_server.client
    names_key, schedules, outcomes = drift_keys(HOST)
    # A real schedule for another host, and the same play with no envelope at all.
    shared_pki().host("other1")
    pushed = drift(redis_server.url, tmp_path, "push", str(book), "-i", str(write(
        tmp_path / "other.yaml", f"all:\n  hosts:\n    other1:\n      root: {root}\n")), "--name", "stolen",
        "--every", "2s", "-e", f"secret={SECRET}")
    assert pushed.returncode == 0, pushed
    stolen = client.get(drift_keys("other1")[1] + "stolen")
    naked = {"name": "naked", "every": 2, "plays": [{"name": "x", "bundle": {"host": HOST}}]}
    client.set(schedules + "stolen", stolen)
    client.set(schedules + "naked", json.dumps(naked))
    client.hset(names_key, mapping={"stolen": "1", "naked": "1"})
    wait_for(lambda: client.hget(outcomes, "stolen") and client.hget(outcomes, "naked"), 15, "the refusals")
    time.sleep(2.5)  # another tick: still nothing run
    assert [r for r in workers.audit(HOST) if r["event"] == "call"] == []
    refused = {r["task_id"]: r["reason"] for r in workers.audit(HOST) if r["event"] == "refused"}
    assert "for host 'other1'" in refused["celeryroot.drift.stolen"]
    assert "not in a signed envelope" in refused["celeryroot.drift.naked"]
    assert list(root.iterdir()) == []
    lines = json.loads(drift(redis_server.url, tmp_path, "-i", str(inventory), "--json").stdout)["drift"]
    assert {line["name"]: line["state"] for line in lines} == {"naked": "check failed", "stolen": "check failed"}
    assert all("refused" in line["why"] for line in lines)
    for name in ("stolen",):
        client.delete(drift_keys("other1")[1] + name)
    client.hdel(drift_keys("other1")[0], "stolen")


def test_no_check_while_a_run_holds_the_host(redis_server, workers, host, tmp_path):
    """A run's lock on the host holds drift checks back; they resume once it is gone."""
    root, inventory, book = host
    client = redis_server.client
    client.set(lock_key(HOST), "a run", px=60_000)
    pushed = drift(redis_server.url, tmp_path, "push", str(book), "-i", str(inventory), "--every", "2s",
                   "-e", f"secret={SECRET}")
    assert pushed.returncode == 0, pushed
    time.sleep(5)
    assert found(redis_server.url, tmp_path, inventory)["state"] == "never checked"
    client.delete(lock_key(HOST))
    next_check(redis_server.url, tmp_path, inventory, None, "drifted")


def test_a_real_task_stops_a_check(redis_server, workers, host, tmp_path, play):
    """A task that arrives while a check runs stops the check before its
    next task (what it found is dropped); the check is made again once
    the run let go of the host."""
    root, inventory, _ = host
    slow = write(tmp_path / "slow.yaml", "- hosts: all\n  gather_facts: false\n  tasks:\n"
                                         "    - wait_for: timeout=6\n"
                                         "    - copy: content=x dest={{ root }}/motd\n")
    real = write(tmp_path / "real.yaml", "- hosts: all\n  gather_facts: false\n  tasks:\n"
                                         "    - file: path={{ root }}/real state=directory\n")
    assert drift(redis_server.url, tmp_path, "push", str(slow), "-i", str(inventory), "--every", "2s").returncode == 0
    time.sleep(2.5)  # the worker looked (every 2 s): the check waits in wait_for
    ran = play(real, "-i", str(inventory))
    assert ran.rc == 0, ran
    wait_for(lambda: "drift check slow stopped for task" in workers.log(HOST), 10, "the check to stop")
    line = next_check(redis_server.url, tmp_path, inventory, None, "drifted")
    assert [c["task"] for c in line["changed"]] == ["copy"]
    assert (root / "real").is_dir() and not (root / "motd").exists()


# -- the envelope of a schedule and of its outcome, in process ----------------

def seals(tmp_path):
    """The session's controller, drift1's and drift2's host seals, and a controller of another CA."""
    from celeryroot import pki
    from celeryroot.envelope import ControllerSeal, HostSeal
    from support import Pki

    ours = shared_pki()
    trust = pki.Trust(ours.directory)
    hosts = {h: pki.host_certificate(ours.directory, trust, h) for h in (HOST, "drift2") if ours.host(h)}
    controller = ControllerSeal(pki.controller_identity(ours.directory, trust), hosts, {})
    rogue_dir = Pki(tmp_path / "rogue").directory
    rogue = ControllerSeal(pki.controller_identity(rogue_dir, pki.Trust(rogue_dir)), hosts, {})
    host = {h: HostSeal(pki.load_identity(ours.host(h), "host"), pki.Trust(ours.host(h)), h) for h in hosts}
    return controller, rogue, host


def tampered(sealed: dict) -> dict:
    box = bytearray(sealed["box"].encode())
    box[5] = ord("A") if box[5] != ord("A") else ord("B")
    return {**sealed, "box": box.decode()}


ORDERS = [{"name": "site", "every": 2, "plays": []}]
FORGERIES = {
    "another CA's controller": (lambda c, r: r.seal_task(HOST, "site", "celeryroot.drift", "x", ORDERS, 60)[0],
                                "not a trusted controller"),
    "sealed to another host": (lambda c, r: c.seal_task("drift2", "site", "celeryroot.drift", "x", ORDERS, 60)[0],
                               "for host 'drift2'"),
    "another schedule's name": (lambda c, r: c.seal_task(HOST, "other", "celeryroot.drift", "x", ORDERS, 60)[0],
                                "not the celeryroot.drift 'site'"),
    "a task, not a schedule": (lambda c, r: c.seal_task(HOST, "site", "celeryroot.play", "x", ORDERS, 60)[0],
                               "not the celeryroot.drift 'site'"),
    "expired": (lambda c, r: c.seal_task(HOST, "site", "celeryroot.drift", "x", ORDERS, -1)[0], "expired"),
    "altered": (lambda c, r: tampered(c.seal_task(HOST, "site", "celeryroot.drift", "x", ORDERS, 60)[0]),
                "does not verify"),
}


@pytest.mark.parametrize("forge,why", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_forged_schedule_is_refused(tmp_path, forge, why):
    from celeryroot.envelope import Refused

    controller, rogue, host = seals(tmp_path)
    with pytest.raises(Refused, match=why):
        host[HOST].open_standing("celeryroot.drift", "site", forge(controller, rogue))


def test_a_schedule_opens_again_and_again_and_its_outcome_only_as_its_hosts(tmp_path):
    from celeryroot.config import DRIFT_OUTCOME, drift_outcome_id
    from celeryroot.controller.drift import outcome

    controller, _, host = seals(tmp_path)
    sealed = controller.seal_task(HOST, "site", "celeryroot.drift", "x", ORDERS, 60)[0]
    for _ in range(2):  # unlike a task, read at every check
        orders, peer, sender = host[HOST].open_standing("celeryroot.drift", "site", sealed)
    assert orders == ORDERS
    found = {"state": "in sync", "at": 1.0, "since": None, "every": 2, "changed": [], "failed": []}
    ours = host[HOST].seal_reply(drift_outcome_id("site"), DRIFT_OUTCOME, found, peer=peer)
    assert outcome(controller, HOST, "site", json.dumps({"outcome": ours}).encode(), 2.0).state == "in sync"
    # drift2's outcome passed off as drift1's, and drift1's of another schedule as this one's.
    theirs = host["drift2"].seal_reply(drift_outcome_id("site"), DRIFT_OUTCOME, found, peer=peer)
    other = host[HOST].seal_reply(drift_outcome_id("other"), DRIFT_OUTCOME, found, peer=peer)
    for forged in (theirs, other, {"state": "in sync"}):
        read = outcome(controller, HOST, "site", json.dumps({"outcome": forged}).encode(), 2.0)
        assert read.state == "unreadable" and "SECURITY ERROR" in read.why, read


def test_a_host_takes_up_only_its_own_notes(tmp_path):
    """The note beside an outcome (since when, for which schedule) is taken
    up by the next worker only if this host signed it, for this schedule."""
    from celeryroot.config import drift_outcome_id

    _, _, host = seals(tmp_path)
    note = {"schedule": "f" * 64, "since": 1.0, "drifted": "d" * 64}
    ours = host[HOST].seal_reply(drift_outcome_id("site"), "NOTE", note)
    assert host[HOST].own_note(drift_outcome_id("site"), ours) == note
    assert host[HOST].own_note(drift_outcome_id("other"), ours) is None
    assert host[HOST].own_note(drift_outcome_id("site"), host["drift2"].seal_reply(
        drift_outcome_id("site"), "NOTE", note)) is None
    assert host[HOST].own_note(drift_outcome_id("site"), {**ours, "clear": {**note, "since": 0.0}}) is None
    assert host[HOST].own_note(drift_outcome_id("site"), None) is None
