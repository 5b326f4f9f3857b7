"""What the operator reads: ansible-playbook's and ansible's formats where
Ansible users grep and read them, and a live view that scales to a fleet.

The expected texts were printed by ansible-core 2.19.14 (bench's peer
venv, ``-c local``, ANSIBLE_NOCOLOR=1, default stdout callback) for the
same playbook and commands; the runs here use the embedded local mode.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest
from rich.console import Console

from celeryroot.engine.stats import Stats
from celeryroot.report.live import SPARE_ROWS, LiveReport
from celeryroot.report.plain import PlainReport
from celeryroot.result import result
from conftest import write

PLAYBOOK = """\
- hosts: localhost
  gather_facts: false
  vars: {x: {a: 1, b: [1, 2]}}
  tasks:
    - debug: msg=hello
    - debug: var=x
    - command: echo hi
    - debug:
        msg: [1, 2]
"""

ANSIBLE_PLAYBOOK_OUTPUT = """
PLAY [localhost] ***************************************************************

TASK [debug] *******************************************************************
ok: [localhost] => {
    "msg": "hello"
}

TASK [debug] *******************************************************************
ok: [localhost] => {
    "x": {
        "a": 1,
        "b": [
            1,
            2
        ]
    }
}

TASK [command] *****************************************************************
changed: [localhost]

TASK [debug] *******************************************************************
ok: [localhost] => {
    "msg": [
        1,
        2
    ]
}

PLAY RECAP *********************************************************************
localhost                  : ok=4    changed=1    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0   

"""


def _run(tmp_path, module: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELERYROOT_")}
    env["CELERYROOT_HISTORY"] = str(tmp_path / "runs.db")
    proc = subprocess.run([sys.executable, "-m", f"celeryroot.cli.{module}", *args], capture_output=True,
                          text=True, cwd=tmp_path, env=env, timeout=60)
    # The run's first and last lines name it, the embedded mode says so
    # next, and each play how it runs; Ansible has none of them. The ad-hoc command says the run's on stderr.
    run_line = r"run [0-9a-f]{12}: .*\n"
    assert re.search(rf"\A{run_line}", proc.stdout if module == "play" else proc.stderr), proc
    assert re.search(rf"{run_line}\Z", proc.stdout if module == "play" else proc.stderr), proc
    proc.stdout = re.sub(rf"\A{run_line}|{run_line}\Z", "", proc.stdout).removeprefix(
        "embedded local mode: no broker configured, running an in-process broker and worker\n")
    # Under each PLAY banner, how the play runs (linear or bundles) and why: celeryroot's own line.
    proc.stdout = re.sub(r"(?m)^play '.*': (whole-play bundles|linear) \(.*\)\n", "", proc.stdout)
    return proc


def test_playbook_output_is_ansible_playbooks(tmp_path):
    write(tmp_path / "site.yaml", PLAYBOOK)
    proc = _run(tmp_path, "play", "site.yaml", "-i", "localhost,")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ANSIBLE_PLAYBOOK_OUTPUT


@pytest.mark.parametrize("args, rc, expected", [
    (("-a", "echo hi"), 0, "localhost | CHANGED | rc=0 >>\nhi\n"),
    (("-a", "sh -c 'echo out; echo err >&2; exit 3'"), 2,
     r"localhost \| FAILED \| rc=3 >>\nouterrnon-zero return code.*\n"),
    (("-m", "ping"), 0, 'localhost | SUCCESS => {\n    "changed": false,\n'),
    (("-m", "file", "-a", "path={tmp}/d state=directory"), 0, 'localhost | CHANGED => {\n    "changed": true,\n'),
], ids=["command", "failed-command", "ping", "file"])
def test_adhoc_output_is_ansibles(tmp_path, args, rc, expected):
    """As ``ansible localhost -a 'echo hi'`` prints it (and no recap)."""
    proc = _run(tmp_path, "adhoc", "localhost", "-i", "localhost,",
                *(a.format(tmp=tmp_path) for a in args))
    assert proc.returncode == rc, proc
    if "\\" in expected:
        assert re.fullmatch(expected, proc.stdout), proc.stdout
    else:
        assert proc.stdout.startswith(expected), proc.stdout
    assert "PLAY RECAP" not in proc.stdout and "TASK [" not in proc.stdout


def _stats(counts: dict[str, str]) -> Stats:
    stats = Stats()
    for host, word in counts.items():
        stats.touch(host)
        stats.count(host, result(word))
    return stats


HOSTS = [f"web{i:03}" for i in range(500)]


def _fleet_run(width: int, height: int):
    """500 hosts on one task: 449 change /etc/motd, web400 fails, web401 is
    unreachable, 49 are still running; the panel as the terminal shows it."""
    console = Console(file=io.StringIO(), record=True, width=width, height=height, color_system=None)
    now = [0.0]
    report = LiveReport(None, console=console, clock=lambda: now[0])
    report.play_start(SimpleNamespace(name="site", tasks=[1, 2]), HOSTS)
    report.task_start("motd", HOSTS)
    for index, host in enumerate(HOSTS[:451]):
        now[0] += 0.01
        res = {400: result("failed", "boom"), 401: result("unreachable", "no heartbeat")}.get(
            index, result("changed", "/etc/motd"))
        report.host_result(host, "motd", res)
    screen = Console(file=io.StringIO(), record=True, width=width, height=height, color_system=None)
    screen.print(report.panel())
    return report, console, screen.export_text()


@pytest.mark.parametrize("width, height", [(80, 24), (200, 50)])
def test_the_live_view_of_a_fleet_fits_and_shows_what_matters(width, height):
    report, console, panel = _fleet_run(width, height)
    lines = panel.splitlines()
    assert len(lines) <= height - SPARE_ROWS + 1 and max(map(len, lines)) <= width, panel
    assert "451/500 hosts  motd" in panel
    assert re.search(r"ok 0 +changed 449 +failed 1 +unreachable 1 +skipped 0 +running 49", panel), panel
    assert "UNREACHABLE (1): web401" in panel and "FAILED (1): web400" in panel
    assert re.search(r"slowest: web451 \d+s", panel), panel
    # failures are printed at once, each; the identical changes wait to be one line
    printed = console.export_text()
    assert "fatal: [web400]: FAILED! => boom" in printed and "web401" in printed
    assert "changed: [web000]" not in printed
    for host in HOSTS[451:]:
        report.host_result(host, "motd", result("changed", "/etc/motd"))
    report.play_end()
    printed = console.export_text()
    assert printed.count("498 hosts: changed: /etc/motd  [web000, web001, web002, +495 more]") == 1, printed
    assert "changed: [web000]" not in printed


def test_a_fleet_whose_failures_do_not_fit_says_how_many_more():
    console = Console(file=io.StringIO(), width=80, height=24, color_system=None)
    report = LiveReport(None, console=console)
    report.play_start(SimpleNamespace(name="site", tasks=[1]), HOSTS)
    report.task_start("t", HOSTS)
    for host in HOSTS:
        report.host_result(host, "t", result("failed", "boom"))
    screen = Console(file=io.StringIO(), record=True, width=80, height=24, color_system=None)
    screen.print(report.panel())
    panel = screen.export_text()
    assert len(panel.splitlines()) <= 24 - SPARE_ROWS + 1, panel
    assert re.search(r"FAILED \(500\): web000 web001 .* \+\d+ more\n", panel, re.S), panel


def test_few_hosts_keep_a_row_and_a_line_each():
    console = Console(file=io.StringIO(), record=True, width=80, height=24, color_system=None)
    report = LiveReport(None, console=console)
    report.play_start(SimpleNamespace(name="site", tasks=[1]), ["web1", "web2"])
    report.task_start("motd", ["web1", "web2"])
    report.host_result("web1", "motd", result("changed", "/etc/motd"))
    screen = Console(file=io.StringIO(), record=True, width=80, height=24, color_system=None)
    screen.print(report.panel())
    assert re.search(r"web2\s+motd", screen.export_text())
    report.host_result("web2", "motd", result("changed", "/etc/motd"))
    printed = console.export_text()
    assert "changed: [web1]" in printed and "changed: [web2]" in printed


@pytest.mark.parametrize("report_class", [PlainReport, LiveReport])
def test_the_recap_keeps_ansibles_greppable_lines_and_sums_up_a_fleet(report_class):
    words = {h: "failed" if h == "web400" else "changed" for h in HOSTS}
    out = io.StringIO()
    report = report_class(out) if report_class is PlainReport else \
        LiveReport(None, console=Console(file=out, width=80, height=24, force_terminal=True))
    report.recap(_stats(words))
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())
    assert re.search(r"^web400 +: ok=0 +changed=0 +unreachable=0 +failed=1 +skipped=0 +rescued=0 +ignored=0",
                     text, re.M), text
    assert len(re.findall(r"^web\d{3} +: ok=", text, re.M)) == 500
    assert re.search(r"^FLEET: 500 hosts  ok=499 changed=499 unreachable=0 failed=1 .*"
                     r"\(hosts changed: 499, failed: 1, unreachable: 0\)$", text, re.M), text[-400:]
    small = io.StringIO()
    PlainReport(small).recap(_stats({"web1": "ok"}))
    assert "FLEET" not in small.getvalue()
