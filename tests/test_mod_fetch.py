"""fetch: a table run --check, apply, apply again; the copies land on the
controller (the test's own directory), written when the reply comes back
linearly, or when a whole-play bundle's answer does, with the same results."""

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
    # Every dest is known before the run: the play ran as bundles.
    execution = table.applied.doc["plays"][0]["play"]["execution"]
    assert execution["mode"] == "bundles", execution


@pytest.mark.parametrize("strategy, mode", [("linear", "linear"), ("free", "bundles")])
def test_every_strategy_writes_the_copy(fleet, play, tmp_path, strategy, mode):
    (tmp_path / "host").mkdir()
    write(tmp_path / "host" / "motd", "hi\n")
    book = write(tmp_path / "f.yaml", "- hosts: web1\n  gather_facts: false\n  tasks:\n    - name: get\n"
                                      f"      fetch: src={tmp_path}/host/motd dest=out/ flat=yes\n")
    inventory = write(tmp_path / "inv.yaml", "all:\n  hosts:\n    web1:\n")
    runs = [play(book, "--strategy", strategy, inventory=inventory) for _ in range(2)]
    assert [r.results("get")["web1"]["changed"] for r in runs] == [True, False], runs
    assert runs[0].doc["plays"][0]["play"]["execution"]["mode"] == mode
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


BOTH_WAYS = """
- hosts: web
  gather_facts: false
  tasks:
    - name: tree
      fetch: {src: "{{ root }}/{{ item }}", dest: "{{ out }}/tree"}
      loop: [a, b]
    - name: flat
      fetch: {src: "{{ root }}/a", dest: "{{ out }}/flat/{{ inventory_hostname }}.txt", flat: true}
      register: got
      notify: fetched
    - name: into a folder
      fetch: {src: "{{ root }}/b", dest: "{{ out }}/in-{{ inventory_hostname }}/", flat: true}
      no_log: true
    - name: uses
      command: echo {{ got.changed }} {{ got.checksum | default('none') }}
  handlers:
    - name: fetched
      command: echo fetched
"""


def test_fetch_in_bundles_means_what_it_means_linearly(fleet, play, tmp_path, fleet_inventory):
    """The same play by default (bundles) and with --strategy linear, each
    into its own folder: --check, apply, apply again, then a host's file
    changed: the same results, recaps and copies on the controller each time."""
    from test_bundles import _files, _outcome

    book = write(tmp_path / "fetch.yaml", BOTH_WAYS)
    for host in ("web1", "web2"):
        write(tmp_path / "hosts" / host / "a", f"a of {host}\n")
        write(tmp_path / "hosts" / host / "b", f"b of {host}\n")
    seen: dict = {}
    steps = [("check", ["--check"]), ("apply", []), ("again", []), ("changed", [])]
    for way, forced, mode in (("default", [], "bundles"), ("linear", ["--strategy", "linear"], "linear")):
        out = tmp_path / way
        write(tmp_path / "hosts" / "web1" / "a", "a of web1\n")
        for step, args in steps:
            if step == "changed":
                write(tmp_path / "hosts" / "web1" / "a", "a of web1, changed\n")
            result = play(book, "-i", str(fleet_inventory), "-e", f"out={out}", *forced, *args)
            assert result.doc and result.doc["plays"][0]["play"]["execution"]["mode"] == mode, result
            seen[way, step] = (_outcome(result, out), _files(out) if out.exists() else {})
    for step, _ in steps:
        assert seen["default", step] == seen["linear", step], step
    (rc, stats, _), files = seen["default", "check"]
    # the fetches predicted, the command and its handler skipped; nothing written
    assert rc == 0 and files == {} and (stats["web1"]["changed"], stats["web1"]["skipped"]) == (3, 2)
    (_, stats, _), files = seen["default", "apply"]
    assert stats["web1"]["changed"] == 5 and files["flat/web2.txt"] == "a of web2\n"
    assert files["in-web1/b"] == "b of web1\n"
    assert files[f"tree/web2{tmp_path}/hosts/web2/a"] == "a of web2\n"
    (_, stats, rows), _ = seen["default", "again"]
    assert stats["web1"]["changed"] == 1, rows  # the command alone
    (_, stats, _), files = seen["default", "changed"]
    assert stats["web1"]["changed"] == 4 and stats["web2"]["changed"] == 1
    assert files["flat/web1.txt"] == "a of web1, changed\n"


@pytest.mark.parametrize("tasks", [
    # a loop item
    """    - name: by item
      fetch: {src: "{{ root }}/a", dest: "{{ tmp }}/{{ item }}.txt", flat: true}
      loop: [one]
""",
    # a play variable that set_fact changes before the fetch
    """    - set_fact: {name: one}
    - name: by fact
      fetch: {src: "{{ root }}/a", dest: "{{ tmp }}/{{ name }}.txt", flat: true}
"""], ids=["item", "set_fact"])
def test_a_dest_known_only_when_it_runs_runs_linearly_and_says_why(fleet, play, tmp_path, fleet_inventory, tasks):
    write(tmp_path / "hosts" / "web1" / "a", "a\n")
    book = write(tmp_path / "late.yaml", "- hosts: web1\n  gather_facts: false\n  vars: {name: zero}\n  tasks:\n"
                 + tasks)
    result = play(book, "-i", str(fleet_inventory), "-e", f"tmp={tmp_path}")
    (execution,) = [p["play"]["execution"] for p in result.doc["plays"]]
    assert execution["mode"] == "linear" and "uses fetch with its dest, known only when it runs" in execution["why"]
    assert (tmp_path / "one.txt").read_text() == "a\n"


def test_a_bundle_answer_writes_only_where_its_tasks_write(tmp_path):
    """A host's answer names the file the controller writes: outside the
    places the bundle's fetch tasks write to, it is refused."""
    import base64
    from celeryroot.engine.carried import act_home
    from celeryroot.registry import Registry

    data = base64.b64encode(b"x\n").decode()
    checksum = "a64c5ea8a6b0e46a1b5d2e0e5f3e0aa7a2d3e0c7"
    entry = {"module": "fetch", "args": {"src": "/etc/hosts", "dest": "d", "_dest": str(tmp_path / "elsewhere")},
             "carried": {"data": data, "checksum": checksum}}
    failures = act_home(Registry(), [entry], [str(tmp_path / "d")])
    assert len(failures) == 1 and "outside the places" in failures[0] and not (tmp_path / "elsewhere").exists()
