"""service/systemd and apt for real, inside a host where systemd is PID 1.

The steps are systable's: each runs --check (predicts, changes nothing),
apply, apply again (ok); each step's final state is the next one's initial
state. The state is read inside the host: systemd's view of the unit and
whether the test daemon answers on its port (with its pid and reloads)."""

from __future__ import annotations

import re
import time

import pytest

from conftest import Play, write
from hosts.debs import add_source, answer, build
from hosts.fixtures import fleet_of
from systable import SysCase, run_three

hosts = fleet_of("svc1")
UNIT = "crtest-unit.service"
#: Where packages put units: one in /etc/systemd/system cannot be masked.
UNIT_FILE = f"/lib/systemd/system/{UNIT}"
PORT, NEW_PORT = 7101, 7102
UNIT_TEXT = f"""[Service]
ExecStart=/usr/bin/python3 /srv/celeryroot/tests/sysvdaemon/crtestd.py --port {{port}}
ExecReload=/bin/kill -HUP $MAINPID
[Install]
WantedBy=multi-user.target
"""


@pytest.fixture
def play(hosts, tmp_path):
    return Play(hosts.broker.url, tmp_path)


def observer(host, unit: str, *ports: int):
    def observe() -> dict:
        props = host.run("systemctl", "show", unit, "-p", "ActiveState,UnitFileState,NeedDaemonReload").stdout
        state = dict(line.split("=", 1) for line in props.splitlines())
        state["answers"] = [re.sub(r"pid=\d+", "pid=N", answer(host, port)) for port in ports]
        state["pids"] = [re.findall(r"pid=(\d+)", answer(host, port)) for port in ports]
        return state
    return observe


def unit_steps() -> list[SysCase]:
    up, down = ["crtestd pid=N reloads=0", ""], ["", ""]
    return [
        SysCase("start-enable", f"systemd: name={UNIT} state=started enabled=yes",
                then={"ActiveState": "active", "UnitFileState": "enabled", "answers": up},
                diff="-state: stopped\n+state: started"),
        SysCase("started", f"service: name={UNIT} state=started", changed=False),
        SysCase("reload", f"service: name={UNIT} state=reloaded", always=True,
                then={"answers": ["crtestd pid=N reloads=2", ""]}),
        SysCase("restart", f"service: name={UNIT} state=restarted", always=True, then={"answers": up}),
        SysCase("stop", f"service: name={UNIT} state=stopped", then={"ActiveState": "inactive", "answers": down}),
        SysCase("disable", f"service: name={UNIT} enabled=no", then={"UnitFileState": "disabled"}),
        SysCase("mask", f"systemd: name={UNIT} masked=yes", then={"UnitFileState": "masked"}),
        SysCase("unmask", f"systemd: name={UNIT} masked=no", then={"UnitFileState": "disabled"}),
        SysCase("missing", "service: name=crtest-no-such-unit state=started",
                fails="could not find the requested service crtest-no-such-unit"),
    ]


def test_systemd_backend_steps_on_a_real_unit(hosts, play, tmp_path):
    host = hosts.hosts["svc1"]
    host.run("sh", "-c", f"cat > {UNIT_FILE}", input=UNIT_TEXT.format(port=PORT))
    observe = observer(host, UNIT, PORT, NEW_PORT)
    pids = {}
    for step in unit_steps():
        before = observe()["pids"][0]
        run_three(play, tmp_path, step, observe, host="svc1")
        pids[step.id] = (before, observe()["pids"][0])
    assert pids["reload"][0] == pids["reload"][1], "a reload must not restart the daemon"
    assert pids["restart"][0] != pids["restart"][1], "a restart must start a new process"


def test_daemon_reload_when_the_unit_file_changed(hosts, play, tmp_path):
    host = hosts.hosts["svc1"]
    host.run("sh", "-c", f"cat > {UNIT_FILE}", input=UNIT_TEXT.format(port=PORT))
    host.run("systemctl", "daemon-reload")
    host.run("systemctl", "start", UNIT)
    observe = observer(host, UNIT, PORT, NEW_PORT)
    # systemctl start returns once the process is forked (Type=simple), before it listens
    deadline = time.monotonic() + 10
    while not observe()["answers"][0] and time.monotonic() < deadline:
        time.sleep(0.1)
    host.run("sh", "-c", f"cat > {UNIT_FILE}", input=UNIT_TEXT.format(port=NEW_PORT))
    assert observe()["NeedDaemonReload"] == "yes"
    step = SysCase("reload-restart", f"systemd: name={UNIT} state=restarted daemon_reload=yes", always=True,
                   then={"NeedDaemonReload": "no", "answers": ["", "crtestd pid=N reloads=0"]})
    results = run_three(play, tmp_path, step, observe, host="svc1")
    assert results["check"]["msg"].startswith("would reload systemd's unit files; restart"), results["check"]
    # once read, the file needs no reload: the next run only restarts
    assert "reload systemd" not in results["again"]["msg"], results["again"]
    host.run("systemctl", "stop", UNIT)


def apt_steps() -> list[SysCase]:
    return [
        SysCase("install-starts-service", "apt: name=crtest-web update_cache=yes cache_valid_time=3600",
                then={"package": "installed 1.0", "ActiveState": "active", "UnitFileState": "enabled",
                      "answers": ["crtestd pid=N reloads=0"]}),
        SysCase("service-then-ok", "service: name=crtest-web state=started enabled=yes", changed=False),
        SysCase("remove-stops-service", "apt: name=crtest-web state=absent purge=yes",
                then={"package": None, "answers": [""]}),
    ]


def test_apt_installs_a_package_whose_service_comes_up(hosts, play, tmp_path):
    host = hosts.hosts["svc1"]
    add_source(host, build(tmp_path / "repo", {"crtest-web": 7201}))
    systemd = observer(host, "crtest-web.service", 7201)

    def observe() -> dict:
        status = host.run("dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", "crtest-web", check=False)
        return {**systemd(), "package": status.stdout if status.returncode == 0 else None}

    for step in apt_steps():
        run_three(play, tmp_path, step, observe, host="svc1")


def test_check_mode_predicts_a_packaged_service_and_the_dependency(hosts, play, tmp_path):
    """One play on a host without the packages: --check predicts every
    task; the real run installs and starts (the package's postinst starts
    the service, so ``started`` is then ok); the second run is all ok."""
    host = hosts.hosts["svc1"]
    add_source(host, build(tmp_path / "repo", {"crtest-db": 7301}))
    book = write(tmp_path / "site.yaml", """
- hosts: svc1
  gather_facts: false
  tasks:
    - name: packages
      apt: name=crtest-db,crtest-app update_cache=yes cache_valid_time=3600
    - name: its service
      service: name=crtest-db state=started enabled=yes
""")
    inventory = hosts.inventory(tmp_path / "inv.yaml")
    checked = play(book, "--check", inventory=inventory)
    assert checked.rc == 0 and checked.results("its service")["svc1"]["changed"], checked
    assert host.run("dpkg-query", "-W", "crtest-lib", check=False).returncode != 0, "--check installed something"
    applied = play(book, inventory=inventory)
    assert applied.rc == 0, applied
    assert applied.results("packages")["svc1"]["changed"] and not applied.results("its service")["svc1"]["changed"]
    assert answer(host, 7301).startswith("crtestd pid=")
    again = play(book, inventory=inventory)
    assert again.rc == 0 and again.total("changed") == 0, again
