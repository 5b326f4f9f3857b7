"""The deployment story on real hosts: each container runs its own systemd,
celeryroot's worker is installed by contrib/install.sh and runs as
contrib/celeryroot-worker.service; systemd keeps it serving through
restarts and crashes. "Serving" is always shown by a real playbook run."""

from __future__ import annotations

import subprocess
import sys
import time

from conftest import Play, wait_for, write
from hosts.fixtures import fleet_of
from hosts.fleet import UNIT

hosts = fleet_of("web1", "web2", "db1")

PROOF = """
- hosts: all
  gather_facts: false
  tasks:
    - name: whoami
      command: cat /etc/hostname
    - name: proof
      copy:
        content: "{{ inventory_hostname }} {{ run }}\\n"
        dest: /root/proof
"""


def serve(fleet, tmp_path, run: str) -> None:
    """A real play on every host: each answers from its own filesystem."""
    book = write(tmp_path / f"proof-{run}.yaml", PROOF)
    out = Play(fleet.broker.url, tmp_path)(book, "-e", f"run={run}", inventory=fleet.inventory(tmp_path / "inv.yaml"))
    assert out.rc == 0, out
    for name, host in fleet.hosts.items():
        assert out.results("whoami")[name]["stdout"] == name, out
        assert host.run("cat", "/root/proof").stdout == f"{name} {run}\n"


def show(host, *props: str) -> dict[str, str]:
    argv = ["systemctl", "show", UNIT] + [f"--property={p}" for p in props]
    return dict(line.split("=", 1) for line in host.run(*argv).stdout.splitlines())


def test_worker_comes_up_through_systemd_and_serves(hosts, tmp_path):
    for host in hosts.hosts.values():
        unit = show(host, "ActiveState", "UnitFileState", "MainPID", "ExecMainStartTimestampMonotonic")
        assert unit["ActiveState"] == "active" and unit["UnitFileState"] == "enabled", unit
        cmdline = host.run("cat", f"/proc/{unit['MainPID']}/cmdline").stdout.split("\0")
        assert cmdline[1:4] == ["/opt/celeryroot/bin/celeryroot-worker", "--hostname", host.name], cmdline
        # logs go to the journal, under the unit's name
        journal = host.journal()
        assert f"ready: host {host.name}, broker redis://" in journal, journal
        env = host.run("stat", "-c", "%a", "/etc/celeryroot/celeryroot.env").stdout.strip()
        assert env == "600", "the broker URL may carry a password"
        modes = host.run("stat", "-c", "%n %a", "/etc/celeryroot/pki", "/etc/celeryroot/pki/host.key",
                         "/etc/celeryroot/pki/host.crt").stdout.split()
        assert modes == ["/etc/celeryroot/pki", "700", "/etc/celeryroot/pki/host.key", "600",
                         "/etc/celeryroot/pki/host.crt", "644"], modes
    serve(hosts, tmp_path, "first")


def test_install_is_idempotent_and_applies_a_changed_setting(hosts):
    host = hosts.hosts["web2"]
    pid = host.worker_pid()
    again = host.install("--broker", hosts.broker.url, "--hostname", "web2")
    assert again.splitlines()[-1] == "celeryroot: nothing to change", again
    assert "changed:" not in again and host.worker_pid() == pid, again

    changed = host.install("--modules-path", "/srv/site-modules")
    assert "changed: /etc/celeryroot/celeryroot.env" in changed and f"changed: {UNIT} restarted" in changed, changed
    assert "CELERYROOT_MODULES_PATH=/srv/site-modules" in host.run("cat", "/etc/celeryroot/celeryroot.env").stdout
    assert host.worker_pid() not in (0, pid), "a changed setting restarts the worker"
    # broker and host name were kept from the first run
    host.install("--modules-path", "/etc/celeryroot/modules")
    back = host.install()
    assert back.splitlines()[-1] == "celeryroot: nothing to change", back
    hosts.wait_serving("web2")


def test_systemctl_restart_keeps_serving(hosts, tmp_path):
    host = hosts.hosts["web1"]
    pids = {name: other.worker_pid() for name, other in hosts.hosts.items()}
    host.run("systemctl", "restart", UNIT)
    assert host.worker_pid() not in (0, pids["web1"])
    # each container has a cgroup of its own: the same unit elsewhere is untouched
    assert {name: other.worker_pid() for name, other in hosts.hosts.items() if name != "web1"} == \
        {name: pid for name, pid in pids.items() if name != "web1"}
    hosts.wait_serving("web1")
    serve(hosts, tmp_path, "after-restart")


def test_kill_9_is_followed_by_a_restart_and_serving_again(hosts, tmp_path):
    host = hosts.hosts["db1"]
    before = show(host, "MainPID", "NRestarts")
    host.run("kill", "-9", before["MainPID"])
    started = time.monotonic()
    after = wait_for(lambda: (s := show(host, "MainPID", "NRestarts", "ActiveState"))["MainPID"] not in
                     ("0", before["MainPID"]) and s["ActiveState"] == "active" and s, 30, "systemd's restart")
    assert int(after["NRestarts"]) == int(before["NRestarts"]) + 1, after
    # RestartSec=2: not at once, and not much later
    assert 1.5 < time.monotonic() - started < 15
    hosts.wait_serving("db1")
    serve(hosts, tmp_path, "after-kill")


def test_stop_lets_the_running_task_finish(hosts, tmp_path):
    """SIGTERM (warm shutdown) reaches only the worker: the task's own child
    (here a sleep) runs to the end, and the task's last step happens."""
    host = hosts.hosts["web2"]
    book = write(tmp_path / "slow.yaml", """
- hosts: web2
  gather_facts: false
  tasks:
    - name: slow
      shell: touch /root/slow-started && sleep 3 && touch /root/slow-finished
""")
    argv = [sys.executable, "-m", "celeryroot.cli.play", str(book), "-i", str(hosts.inventory(tmp_path / "i.yaml")),
            "--json", "--broker", hosts.broker.url]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        wait_for(lambda: host.exists("/root/slow-started"), 30, "the slow task to start")
        stopping = time.monotonic()
        host.run("systemctl", "restart", UNIT)  # returns once the old worker is gone
        waited = time.monotonic() - stopping
    finally:
        proc.communicate(timeout=60)
    assert host.exists("/root/slow-finished"), "the task was cut short"
    assert waited > 1.5, f"systemd did not wait for the task ({waited:.1f}s)"
    hosts.wait_serving("web2")
