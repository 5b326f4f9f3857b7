"""service against a real daemon under a real SysV init script.

The test daemon (tests/sysvdaemon) is installed as /etc/init.d/NAME with a
port of its own; its state is read from outside: whether its port answers
(with its pid and how many reloads it saw) and its /etc/rc2.d link. The
steps run in order, each one's final state the next one's initial state.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess

import pytest

import sysvdaemon
from celeryroot.host.services import pid1, running_init
from conftest import bad_argument_fails, free_port, wait_for, write
from systable import SysCase, run_three

NAME = f"crtestd-{os.getpid()}"


@pytest.fixture(scope="module")
def daemon():
    port = free_port()
    sysvdaemon.install(NAME, port)
    yield port
    sysvdaemon.uninstall(NAME)


def observe_on(port: int):
    def observe() -> dict:
        # start-stop-daemon --background returns before the server listens.
        pidfile = os.path.exists(f"/run/{NAME}.pid")
        answer = wait_for(lambda: sysvdaemon.answer(port), 10, "the daemon's port") if pidfile \
            else sysvdaemon.answer(port)
        return {"answer": re.sub(r"pid=\d+", "pid=N", answer), "pid": re.findall(r"pid=(\d+)", answer),
                "enabled": bool(glob.glob(f"/etc/rc2.d/S[0-9][0-9]{NAME}")),
                "disabled": bool(glob.glob(f"/etc/rc2.d/K[0-9][0-9]{NAME}"))}
    return observe


STEPS = [
    SysCase("start", f"service: name={NAME} state=started",
            then={"answer": "crtestd pid=N reloads=0"}, diff="-state: stopped\n+state: started"),
    SysCase("reload", f"service: name={NAME} state=reloaded", always=True,
            then={"answer": "crtestd pid=N reloads=2"}),
    SysCase("restart", f"service: name={NAME} state=restarted", always=True,
            then={"answer": "crtestd pid=N reloads=0"}),
    SysCase("started-by-pattern", f"service: name={NAME} state=started pattern='crtestd.py --port'",
            changed=False),
    SysCase("enable", f"service: name={NAME} enabled=yes", then={"enabled": True, "disabled": False},
            diff="-enabled: no\n+enabled: yes"),
    SysCase("disable", f"service: name={NAME} enabled=no", then={"enabled": False, "disabled": True}),
    SysCase("enable-again", f"service: name={NAME} enabled=yes state=started", then={"enabled": True}),
    SysCase("stop-and-disable", f"service: name={NAME} state=stopped enabled=no",
            then={"answer": "", "enabled": False}),
    SysCase("missing", "service: name=crtest-no-such-service state=started",
            fails="could not find the requested service crtest-no-such-service"),
]


@pytest.mark.skipif(running_init() != "sysvinit", reason="systemd is the running init: its backend is used")
def test_sysv_steps(fleet, play, daemon, tmp_path):
    observe = observe_on(daemon)
    pids = {}
    for step in STEPS:
        before = observe()["pid"]
        run_three(play, tmp_path, step, observe)
        pids[step.id] = (before, observe()["pid"])
    assert pids["reload"][0] == pids["reload"][1], "a reload must not restart the daemon"
    assert pids["restart"][0] != pids["restart"][1], "a restart must start a new process"
    assert not subprocess.run(["pgrep", "-f", f"crtestd.py --port {daemon}"]).returncode == 0


def test_check_mode_predicts_a_service_whose_init_script_an_earlier_task_writes(fleet, play, tmp_path):
    """A fresh host in check mode: the init script does not exist yet."""
    name = f"{NAME}-new"
    write(tmp_path / "files/init", sysvdaemon.init_script(name))
    book = write(tmp_path / "site.yaml", f"""
- hosts: web1
  gather_facts: false
  tasks:
    - name: init script
      copy: src=init dest=/etc/init.d/{name} mode=0755
    - name: its service
      service: name={name} state=started enabled=yes
""")
    out = play(book, "--check", inventory=write(tmp_path / "inventory.yaml", "all:\n  hosts:\n    web1:\n"))
    assert out.rc == 0, out
    res = out.results("its service")["web1"]
    assert res["changed"] and res["msg"] == f"would enable {name}; start {name}", res
    assert not os.path.exists(f"/etc/init.d/{name}")


def test_systemd_backend(fleet, play, tmp_path):
    if running_init() != "systemd":
        pytest.skip(f"systemd is not the running init (PID 1 is {pid1()}); "
                    "the systemd backend is tested in the container hosts")
    port, unit = free_port(), f"{NAME}.service"
    # systemd will not mask a unit whose file is in /etc/systemd/system.
    path = f"/lib/systemd/system/{unit}"
    write(tmp_path / "unit", f"[Service]\nExecStart={sysvdaemon.DAEMON} --port {port}\n"
                             "ExecReload=/bin/kill -HUP $MAINPID\n[Install]\nWantedBy=multi-user.target\n")
    os.replace(tmp_path / "unit", path)

    def observe() -> dict:
        state = subprocess.run(["systemctl", "show", unit, "-p", "ActiveState,UnitFileState"],
                               capture_output=True, text=True).stdout
        return {"state": state, "answer": re.sub(r"pid=\d+", "pid=N", sysvdaemon.answer(port))}

    steps = [
        SysCase("sd-start", f"systemd: name={unit} state=started enabled=yes daemon_reload=yes",
                then={"state": "ActiveState=active\nUnitFileState=enabled\n"}),
        SysCase("sd-reload", f"service: name={unit} state=reloaded", always=True),
        SysCase("sd-stop-mask", f"systemd: name={unit} state=stopped enabled=no masked=yes",
                then={"state": "ActiveState=inactive\nUnitFileState=masked\n", "answer": ""}),
        SysCase("sd-unmask", f"systemd: name={unit} masked=no", then={"state": "ActiveState=inactive\n"
                                                                         "UnitFileState=disabled\n"}),
    ]
    try:
        for step in steps:
            run_three(play, tmp_path, step, observe)
    finally:
        subprocess.run(["systemctl", "disable", "--now", unit], capture_output=True)
        os.unlink(path)
        subprocess.run(["systemctl", "daemon-reload"], capture_output=True)


@pytest.mark.parametrize("module,args,name,needle", [
    ("service", {"name": "x"}, "state", "one of 'state' or 'enabled' is required"),
    ("service", {"name": "x", "state": "running"}, "state", "must be one of"),
    ("service", {"name": "x", "enabled": "sometimes"}, "enabled", "boolean"),
    ("service", {"state": "started"}, "name", "missing required argument"),
    ("systemd", {"masked": True}, "name", "'name' is required with 'masked'"),
    ("systemd", {"name": "x", "scope": "user"}, "scope", "unsupported argument"),
    ("ansible.builtin.systemd_service", {"masked": True}, "name", "'name' is required with 'masked'"),
], ids=["nothing", "state", "enabled", "no-name", "systemd-masked-no-name", "systemd-unknown", "systemd_service"])
def test_bad_arguments_fail_on_the_controller(play, tmp_path, module, args, name, needle):
    bad_argument_fails(play, tmp_path, module, args, name, needle)
