"""hostname: predicted in check mode and ok when the name is already the
host's; the apply itself is not run here, it would rename this machine
under the other tests (and their helpers) running on it."""

from __future__ import annotations

import socket

import pytest

from conftest import bad_argument_fails, write
from systable import SysCase, run_three


def observe() -> dict:
    with open("/etc/hostname") as fh:
        return {"running": socket.gethostname(), "permanent": fh.read()}


def one_task(tmp_path, task: str) -> str:
    return write(tmp_path / "hostname.yaml", f"- hosts: web1\n  gather_facts: false\n  tasks:\n"
                                            f"    - name: rename\n      {task}\n")


def test_same_name_is_ok(fleet, play, tmp_path):
    name = socket.gethostname()
    if observe()["permanent"].strip() != name:
        pytest.skip(f"this machine runs as {name} but boots as {observe()['permanent'].strip()}")
    results = run_three(play, tmp_path, SysCase("same", f"hostname: name={name}", changed=False), observe)
    assert results["apply"]["ansible_facts"] == {"hostname": name, "nodename": name}


def test_check_mode_predicts_a_rename_and_changes_nothing(fleet, play, tmp_path, fleet_inventory):
    before = observe()
    out = play(one_task(tmp_path, "hostname: name=crtest-renamed.example"), "--check", "--diff",
               inventory=fleet_inventory)
    assert out.rc == 0, out
    res = out.results("rename")["web1"]
    assert res["changed"] and not res["failed"], res
    assert res["ansible_facts"] == {"hostname": "crtest-renamed", "nodename": "crtest-renamed.example"}
    shown = "".join(d["before"] + d["after"] for d in res["diff"])
    assert f"hostname: {before['running']}" in shown and "crtest-renamed.example" in shown, res["diff"]
    assert observe() == before


def test_the_rename_itself_is_not_run_here():
    pytest.skip("renaming would change this machine's name under every other test and helper on it; "
                "the rename is the same CommandChange/ContentChange the check run above predicts")


@pytest.mark.parametrize("args,name,needle", [
    ({"name": "bad_name!"}, "name", "not a valid host name"),
    ({"name": "web01", "use": "freebsd"}, "use", "not a strategy"),
    ({}, "name", "missing required"),
], ids=["invalid", "use", "missing"])
def test_bad_arguments_fail_on_the_controller(play, tmp_path, args, name, needle):
    bad_argument_fails(play, tmp_path, "hostname", args, name, needle)
