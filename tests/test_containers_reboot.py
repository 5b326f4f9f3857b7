"""The reboot module for real: a host that reboots under its worker, whose
next boot's worker answers the task, and the play goes on there.

The host is ``lasting`` (tests/hosts/containers.py): nspawn exits when
its container reboots, the harness boots it again with its changes kept,
and systemd starts the worker's service as on any boot."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import Play, write

from hosts.fixtures import fleet_of

hosts = fleet_of("boot1", lasting=True)
BOOT_ID = "/proc/sys/kernel/random/boot_id"
PENDING = "/var/lib/celeryroot/reboot-pending.json"
PLAYBOOK = """
- hosts: boot1
  tasks:
    - name: reboot
      reboot: post_reboot_delay=1 reboot_timeout=120
      register: booted
    - name: after
      command: cat /proc/sys/kernel/random/boot_id
    - name: note
      copy: content="{{ booted.rebooted }} {{ booted.elapsed }}" dest=/root/after-reboot
"""


@pytest.fixture
def play(hosts, tmp_path):
    return Play(hosts.broker.url, tmp_path)


def test_check_mode_reports_changed_and_does_not_reboot(hosts, play, tmp_path):
    host = hosts.hosts["boot1"]
    before = host.run("cat", BOOT_ID).stdout.strip()
    out = play(write(tmp_path / "reboot.yaml", PLAYBOOK), "--check",
               inventory=hosts.inventory(tmp_path / "inventory.yaml"))
    assert out.rc == 0, out
    assert out.results("reboot")["boot1"]["changed"] is True
    assert host.container.proc.poll() is None, "check mode rebooted the host"
    assert host.run("cat", BOOT_ID).stdout.strip() == before
    assert not host.exists(PENDING)


def test_the_host_reboots_once_and_the_play_goes_on(hosts, play, tmp_path):
    host = hosts.hosts["boot1"]
    before = host.run("cat", BOOT_ID).stdout.strip()
    playbook = write(tmp_path / "reboot.yaml", PLAYBOOK)
    inventory = hosts.inventory(tmp_path / "inventory.yaml")
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(play, playbook, inventory=inventory, timeout=240)
        host.container.rebooted(timeout=120)
        out = running.result()
    assert out.rc == 0, out
    booted = out.results("reboot")["boot1"]
    assert booted["changed"] is True and booted["rebooted"] is True, booted
    assert 1 <= booted["elapsed"] < 120, booted
    after = out.results("after")["boot1"]["stdout"]
    assert after and after != before, "the task after the reboot ran in the same boot"
    assert host.run("cat", "/root/after-reboot").stdout == f"True {booted['elapsed']}"
    assert not host.exists(PENDING), "the pending reboot outlived its answer"
    # Never twice: the next boot's worker does not reboot again.
    time.sleep(5)
    assert host.container.proc.poll() is None, "the host rebooted a second time"
    assert host.run("cat", BOOT_ID).stdout.strip() == after


def test_a_reboot_command_that_fails_fails_the_task(hosts, play, tmp_path):
    out = play(write(tmp_path / "fails.yaml", "- hosts: boot1\n  tasks:\n    - name: reboot\n"
                                              "      reboot: reboot_command='echo no >&2; exit 3'\n"),
               inventory=hosts.inventory(tmp_path / "inventory.yaml"))
    res = out.results("reboot")["boot1"]
    assert out.rc == 2 and res["failed"] and res["rebooted"] is False, res
    assert "rc 3" in res["msg"] and "no" in res["msg"], res
    assert not hosts.hosts["boot1"].exists(PENDING)


def test_a_worker_restarted_within_the_same_boot_says_the_host_did_not_reboot(hosts, play, tmp_path):
    host = hosts.hosts["boot1"]
    pid = host.worker_pid()
    out = play(write(tmp_path / "restart.yaml", "- hosts: boot1\n  tasks:\n    - name: reboot\n"
                                                "      reboot: reboot_command='systemctl restart --no-block "
                                                "celeryroot-worker'\n"),
               inventory=hosts.inventory(tmp_path / "inventory.yaml"))
    res = out.results("reboot")["boot1"]
    assert out.rc == 2 and res["failed"] and res["rebooted"] is False, res
    assert res["msg"] == "the worker restarted but the host did not reboot", res
    assert host.worker_pid() != pid, "the answer did not come from a new worker"
    assert host.container.proc.poll() is None
