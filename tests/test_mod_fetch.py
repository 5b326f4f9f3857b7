"""fetch: a table run --check, apply, apply again; the copies land on the
controller (the test's own directory), and a play with fetch runs linearly
whichever strategy is asked for."""

from __future__ import annotations

import json

import pytest

from conftest import Case, bad_argument_fails, write


def fetch(src: str = "f", **args) -> str:
    lines = [f"  src: '{{{{ d }}}}/{src}'"] + [f"  {k}: {json.dumps(v)}" for k, v in args.items()]
    return "fetch:\n" + "\n".join(lines)


CASES = [
    Case("tree", fetch(dest="fetched"), given={"f": "one\n"}),
    Case("flat", fetch(dest="flat/{{ inventory_hostname }}.txt", flat=True), given={"f": "two\n"}),
    Case("flat-into-dir", fetch(dest="flatdir/", flat=True), given={"f": "three\n"}),
    Case("stale-copy", fetch(dest="stale.txt", flat=True), given={"f": "new\n"}, controller={"stale.txt": "old\n"}),
    Case("same-copy", fetch(dest="same.txt", flat=True), changed=False, given={"f": "same\n"},
         controller={"same.txt": "same\n"}),
    Case("missing-ignored", fetch("nothing", dest="x", fail_on_missing=False), changed=False),
    Case("missing", fetch("nothing", dest="x"), fails="does not exist"),
    Case("directory", fetch("sub", dest="x"), given={"sub/f": ""}, fails="is a directory"),
    Case("no-log", "no_log: true\n" + fetch(dest="secret.txt", flat=True), given={"f": "secret\n"}),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_fetch(table, case):
    table.verify(case)


def test_copies_on_the_controller(table):
    here = table.root.parent.parent  # the playbook's directory
    copies = {"tree": here / "fetched" / "web1" / str(table.root / "tree" / "f").lstrip("/"),
              "flat": here / "flat" / "web1.txt", "flat-into-dir": here / "flatdir" / "f",
              "stale-copy": here / "stale.txt", "same-copy": here / "same.txt", "no-log": here / "secret.txt"}
    assert {case: path.read_text() for case, path in copies.items()} == {
        "tree": "one\n", "flat": "two\n", "flat-into-dir": "three\n", "stale-copy": "new\n", "same-copy": "same\n",
        "no-log": "secret\n"}
    res = table.applied.results("flat")["web1"]
    assert res["dest"] == str(copies["flat"]) and res["file"].endswith("/flat/f") and len(res["checksum"]) == 40
    assert "_for_controller" not in res and "_for_controller" not in table.applied.stdout
    assert table.applied.results("no-log")["web1"]["censored"]
    # The play ran linearly, and said why.
    execution = table.applied.doc["plays"][0]["play"]["execution"]
    assert execution["mode"] == "linear" and "the controller writes the file" in execution["why"], execution


@pytest.mark.parametrize("strategy", ["linear", "free"])
def test_every_strategy_writes_the_copy(fleet, play, tmp_path, strategy):
    (tmp_path / "host").mkdir()
    write(tmp_path / "host" / "motd", "hi\n")
    book = write(tmp_path / "f.yaml", "- hosts: web1\n  gather_facts: false\n  tasks:\n    - name: get\n"
                                      f"      fetch: src={tmp_path}/host/motd dest=out/ flat=yes\n")
    inventory = write(tmp_path / "inv.yaml", "all:\n  hosts:\n    web1:\n")
    runs = [play(book, "--strategy", strategy, inventory=inventory) for _ in range(2)]
    assert [r.results("get")["web1"]["changed"] for r in runs] == [True, False], runs
    assert runs[0].doc["plays"][0]["play"]["execution"]["mode"] == "linear"
    assert (tmp_path / "out" / "motd").read_text() == "hi\n"


@pytest.mark.parametrize("args, name, needle", [
    ({"src": "/etc/hosts"}, "dest", "missing required"),
    ({"src": "relative.txt", "dest": "x"}, "src", "must be an absolute path"),
])
def test_bad_arguments_fail_on_the_controller(fleet, play, tmp_path, args, name, needle):
    bad_argument_fails(play, tmp_path, "fetch", args, name, needle)


def test_embedded_mode_writes_the_copy(local_play, tmp_path):
    write(tmp_path / "host" / "motd", "local\n")
    book = write(tmp_path / "f.yaml", "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: get\n"
                                      f"      fetch: src={tmp_path}/host/motd dest=out\n")
    runs = [local_play(book) for _ in range(2)]
    assert [r.results("get")["localhost"]["changed"] for r in runs] == [True, False], runs
    assert (tmp_path / "out" / "localhost" / str(tmp_path / "host" / "motd").lstrip("/")).read_text() == "local\n"
