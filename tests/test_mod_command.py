"""command and shell on a real worker: results, creates/removes, check mode."""

from __future__ import annotations

import pytest

from conftest import bad_argument_fails, write

BOOK = r"""
- hosts: web1
  gather_facts: false
  tasks:
    - name: creates
      command: touch {{ root }}/made creates={{ root }}/made
    - name: removes
      command: rm {{ root }}/gone removes={{ root }}/gone
    - name: pipe
      shell: echo hi | tr a-z A-Z > {{ root }}/out
      args:
        creates: "{{ root }}/out"
    - name: streams
      shell: echo out; echo err >&2
    - name: fails
      command: ls /celeryroot-nonexistent
      ignore_errors: true
    - name: exit code
      shell: exit 3
      ignore_errors: true
    - name: chdir
      command: pwd
      args:
        chdir: "{{ root }}"
    - name: stdin
      command: cat
      args:
        stdin: hello
    - name: keep newlines
      command: cat
      args:
        stdin: hello
        strip_empty_ends: false
    - name: executable
      shell: echo $0
      args:
        executable: /bin/bash
    - name: argv
      command:
        argv: [printf, "%s|", "a b", c]
    - name: no shell
      command: echo a | wc -l
    - name: clean environment
      shell: echo "$LC_ALL $DEBIAN_FRONTEND"
"""


@pytest.fixture(scope="module")
def runs(fleet, redis_server, tmp_path_factory):
    from conftest import Play

    work = tmp_path_factory.mktemp("command")
    root = work / "host"
    root.mkdir()
    write(root / "gone", "x")
    inventory = write(work / "inv.yaml", f"all:\n  hosts:\n    web1:\n      root: {root}\n")
    book = write(work / "cmd.yaml", BOOK)
    play = Play(redis_server.url, work)
    outcomes = {name: play(book, *args, inventory=inventory)
                for name, args in (("check", ["--check"]), ("apply", []), ("again", []))}
    for outcome in outcomes.values():
        assert outcome.rc == 0, outcome
    return root, {name: _by_task(o) for name, o in outcomes.items()}


def _by_task(outcome) -> dict:
    return {t["task"]["name"]: t["hosts"]["web1"] for p in outcome.doc["plays"] for t in p["tasks"]}


def test_check_mode_skips_commands_that_creates_or_removes_do_not_decide(runs):
    _, r = runs
    decided = {"creates", "removes", "pipe"}
    assert all(res["skipped"] for task, res in r["check"].items() if task not in decided), r["check"]


@pytest.mark.parametrize("task, check, first, second", [
    ("creates", "changed", "changed", "ok"),
    ("removes", "changed", "changed", "ok"),
    ("pipe", "changed", "changed", "ok"),
    ("streams", "skipped", "changed", "changed"),
])
def test_commands_are_changed_unless_creates_or_removes_decide(runs, task, check, first, second):
    """As ansible-core 2.15+: in check mode, a command whose creates/removes
    say it would run is predicted ``changed``; one without is skipped."""
    _, r = runs
    assert r["check"][task]["changed"] is (check == "changed"), r["check"][task]
    assert r["check"][task].get("skipped", False) is (check == "skipped"), r["check"][task]
    assert r["apply"][task]["changed"] is (first == "changed")
    assert r["again"][task]["changed"] is (second == "changed")
    assert not r["again"][task]["failed"]


def test_effects_on_the_host(runs):
    root, r = runs
    assert (root / "made").exists() and not (root / "gone").exists()
    assert (root / "out").read_text() == "HI\n"
    assert r["again"]["creates"]["msg"] == f"skipped, since {root}/made exists"


@pytest.mark.parametrize("task, key, value", [
    ("streams", "stdout", "out"),
    ("streams", "stderr", "err"),
    ("streams", "rc", 0),
    ("streams", "stdout_lines", ["out"]),
    ("fails", "rc", 2),
    ("fails", "failed", True),
    ("fails", "msg", "non-zero return code 2"),
    ("exit code", "rc", 3),
    ("exit code", "cmd", "exit 3"),
    ("stdin", "stdout", "hello"),
    ("keep newlines", "stdout", "hello\n"),
    ("executable", "stdout", "/bin/bash"),
    ("argv", "stdout", "a b|c|"),
    ("argv", "cmd", ["printf", "%s|", "a b", "c"]),
    ("no shell", "stdout", "a | wc -l"),
    ("clean environment", "stdout", "C noninteractive"),
])
def test_result_values(runs, task, key, value):
    _, r = runs
    assert r["apply"][task][key] == value, r["apply"][task]


def test_chdir(runs):
    root, r = runs
    assert r["apply"]["chdir"]["stdout"] == str(root)


def test_result_carries_timings(runs):
    _, r = runs
    assert r["apply"]["streams"]["delta"].startswith("0:00:")
    assert r["apply"]["streams"]["start"] <= r["apply"]["streams"]["end"]


@pytest.mark.parametrize("module, args, name, needle", [
    ("command", {"cmd": "true", "chdir": ["a"]}, "chdir", "expected a string"),
    ("command", {"cmd": "true", "executable": "/bin/bash"}, "executable", "unsupported"),
    ("shell", {"cmd": "true", "argv": ["true"]}, "argv", "unsupported"),
    ("shell", {"cmd": "true", "strip_empty_ends": "often"}, "strip_empty_ends", "boolean"),
])
def test_bad_arguments_fail_on_the_controller(fleet, play, tmp_path, module, args, name, needle):
    bad_argument_fails(play, tmp_path, module, args, name, needle)
