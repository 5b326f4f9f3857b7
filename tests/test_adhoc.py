"""`celeryroot PATTERN -m MODULE -a ARGS`: one module on the fleet's real
workers, printed as Ansible's ad-hoc output, with celeryroot-play's exit status."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import Outcome, controller_env, write

INVENTORY = "[web]\nweb1\nweb2\n[db]\ndb1\n[db:vars]\nrole=database\n"


@pytest.fixture
def adhoc(redis_server, tmp_path):
    """Runs `celeryroot` as a subprocess in tmp_path, against the test Redis."""
    inventory = write(tmp_path / "hosts.ini", INVENTORY)

    def run(*args: str, json_out: bool = True, program=(sys.executable, "-m", "celeryroot.cli.adhoc")):
        argv = [*program, *args, "-i", str(inventory)] + (["--json"] if json_out else [])
        env = controller_env(redis_server.url)
        started = time.monotonic()
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
        return Outcome(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started, json_out)

    return run


def task_results(out: Outcome) -> dict:
    (play,) = out.doc["plays"]
    (task,) = play["tasks"]
    return task["hosts"]


def test_ping_every_host(fleet, adhoc):
    out = adhoc("all", "-m", "ping")
    assert out.rc == 0, out
    results = task_results(out)
    assert sorted(results) == ["db1", "web1", "web2"]
    assert all(r["ping"] == "pong" and not r["changed"] for r in results.values())
    assert out.stats["db1"]["ok"] == 1 and out.total("changed") == 0


def test_command_is_the_default_module_and_args_are_templated(fleet, adhoc):
    out = adhoc("all:!db", "-a", "echo {{ inventory_hostname }} says {{ greeting }}", "-e", "greeting=hi")
    assert out.rc == 0, out
    results = task_results(out)
    assert {h: r["stdout"] for h, r in results.items()} == {"web1": "web1 says hi", "web2": "web2 says hi"}
    assert out.total("changed") == 2


def test_output_is_ansibles_ad_hoc_output(fleet, adhoc):
    out = adhoc("db", "-a", "echo {{ role }}", "-v", json_out=False)
    assert out.rc == 0, out
    assert out.stdout == "db1 | CHANGED | rc=0 >>\ndatabase\n"


def test_failing_command_exits_2(fleet, adhoc):
    out = adhoc("web", "-m", "command", "-a", "sh -c 'echo oops >&2; exit 3'")
    assert out.rc == 2, out
    results = task_results(out)
    assert all(r["failed"] and r["rc"] == 3 and r["stderr"] == "oops" for r in results.values())
    assert out.total("failed") == 2


def test_unknown_host_pattern_exits_1_before_contacting_hosts(fleet, adhoc):
    out = adhoc("nosuchgroup", "-m", "ping", json_out=False)
    assert out.rc == 1
    assert "host pattern 'nosuchgroup'" in out.stderr and "matches no host" in out.stderr
    assert out.stdout == ""


@pytest.mark.parametrize("args, message", [
    (("-m", "pingg"), "unknown module or task keyword 'pingg'; did you mean 'ping'?"),
    (("-m", "file", "-a", "path=/tmp/x state=sideways"), "must be one of"),
    (("-m", "ping", "-a", "{not json"), "not a valid JSON mapping"),
])
def test_bad_module_or_arguments_exit_1(adhoc, args, message):
    out = adhoc("all", *args, json_out=False)
    assert out.rc == 1 and message in out.stderr, out


def test_json_arguments(fleet, adhoc):
    out = adhoc("web1", "-m", "ping", "-a", '{"data": "hello"}')
    assert out.rc == 0, out
    assert task_results(out)["web1"]["ping"] == "hello"


def test_check_then_apply_then_idempotent(fleet, adhoc, tmp_path):
    target = tmp_path / "made-by-adhoc"
    args = ("web1", "-m", "file", "-a", f"path={target} state=directory mode=0750")
    check = adhoc(*args, "-C")
    assert check.rc == 0 and check.total("changed") == 1, check
    assert not target.exists()
    apply = adhoc(*args)
    assert apply.rc == 0 and apply.total("changed") == 1, apply
    assert target.is_dir() and (target.stat().st_mode & 0o777) == 0o750
    again = adhoc(*args)
    assert again.rc == 0 and again.total("changed") == 0, again


def test_limit_and_list_hosts(adhoc):
    out = adhoc("all", "--list-hosts", "-l", "web*", json_out=False)
    assert out.rc == 0, out
    assert out.stdout == "  hosts (2):\n    web1\n    web2\n"


def test_console_script(fleet, adhoc):
    # The script the install put beside this interpreter: what a user runs
    # from the activated venv, whatever else is on this machine's PATH.
    program = Path(sys.executable).parent / "celeryroot"
    assert program.exists(), "the celeryroot console script is not installed beside the interpreter (make test)"
    out = adhoc("db1", "-m", "ping", program=(program,))
    assert out.rc == 0 and task_results(out)["db1"]["ping"] == "pong", out
