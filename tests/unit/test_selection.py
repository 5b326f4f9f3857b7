"""Which tasks a run takes (--tags, --skip-tags, --start-at-task) and how
``serial`` splits the hosts into batches."""

from __future__ import annotations

import pytest

from celeryroot.engine.selection import Selection, StartAt, batches
from celeryroot.lang.tags import split

from .conftest import load, tasks

BOOK = """
- name: one
  debug: msg=1
  tags: [web]
- name: two
  debug: msg=2
  tags: [db, always]
- name: three
  debug: msg=3
- name: four
  debug: msg=4
  tags: [never, debug]
- block:
    - name: five
      debug: msg=5
  tags: [web]
"""

# (--tags, --skip-tags) -> the tasks that run, in Ansible's rules.
TAG_CASES = [
    ("", "", ["one", "two", "three", "five"]),
    ("web", "", ["one", "two", "five"]),
    ("debug", "", ["two", "four"]),
    ("never", "", ["two", "four"]),
    ("tagged", "", ["one", "two", "five"]),
    ("untagged", "", ["two", "three"]),
    ("always", "", ["two"]),
    ("", "always", ["one", "three", "five"]),
    ("", "web", ["two", "three"]),
    ("", "all", ["two"]),
    ("", "all,always", []),
    ("", "tagged", ["three"]),
    ("", "untagged", ["one", "two", "five"]),
    ("web,db", "web", ["two"]),
    ("all", "", ["one", "two", "three", "five"]),
]


@pytest.mark.parametrize("only, skip, expected", TAG_CASES, ids=[f"tags={c[0]}|skip={c[1]}" for c in TAG_CASES])
def test_tags_select_as_ansible_does(tmp_path, only, skip, expected):
    selection = Selection(only_tags=split([only]), skip_tags=split([skip]))
    assert [t.name for t in tasks(tmp_path, BOOK) if selection.takes(t)] == expected


def test_tags_come_from_blocks_and_plays(tmp_path):
    play = load(tmp_path, "- hosts: all\n  tags: [base]\n  tasks:\n"
                          "    - block:\n        - name: inner\n          ping:\n          tags: [x]\n"
                          "      tags: [blk]\n")[0]
    (task,) = play.tasks
    assert {"base", "blk", "x"} <= set(task.tags)
    assert Selection(only_tags={"base"}).takes(task) and Selection(only_tags={"blk"}).takes(task)
    assert not Selection(skip_tags={"blk"}).takes(task)


def test_split_takes_comma_lists_and_repeats():
    assert split(["a, b", "c,,", " "]) == {"a", "b", "c"}
    assert split(None) == set()


def test_start_at_task_matches_the_name_or_the_role_title(tmp_path):
    (role_task,) = tasks(tmp_path, "- name: install\n  ping:\n")
    role_task.role = "nginx"
    (unnamed,) = tasks(tmp_path, "- ping:\n")
    assert Selection(start_at="install").starts_at(role_task)
    assert Selection(start_at="nginx : install").starts_at(role_task)
    assert not Selection(start_at="nginx").starts_at(role_task)
    assert not Selection(start_at="Install").starts_at(role_task)
    # A task without a name is never where a run starts, even if its module is named.
    assert not Selection(start_at="ping").starts_at(unnamed)


def test_start_at_task_is_followed_in_one_place(tmp_path):
    one, two, three = tasks(tmp_path, "- name: one\n  ping:\n- name: two\n  ping:\n- name: three\n  ping:\n")
    start = StartAt(Selection(start_at="two"))
    assert start.pending == "two"
    assert [start.takes(t) for t in (one, two, three)] == [False, True, True]
    assert start.pending is None
    # A play run whole elsewhere (a bundle) passes the start without the loop seeing its tasks.
    elsewhere = StartAt(Selection(start_at="three"))
    assert not elsewhere.reaches([one, two]) and elsewhere.reaches([three]) and elsewhere.takes(one)
    assert StartAt(Selection()).takes(one)


HOSTS = [f"h{i}" for i in range(7)]
BATCH_CASES = [
    ([], [HOSTS]),
    (["1"], [[h] for h in HOSTS]),
    (["3"], [HOSTS[:3], HOSTS[3:6], HOSTS[6:]]),
    (["1", "2", "10"], [HOSTS[:1], HOSTS[1:3], HOSTS[3:]]),
    (["50%"], [HOSTS[:3], HOSTS[3:6], HOSTS[6:]]),
    (["10%"], [[h] for h in HOSTS]),  # rounds down, but never to an empty batch
    (["100%"], [HOSTS]),
    (["1", "50%"], [HOSTS[:1], HOSTS[1:4], HOSTS[4:]]),
]


@pytest.mark.parametrize("serial, expected", BATCH_CASES, ids=[",".join(c[0]) or "none" for c in BATCH_CASES])
def test_serial_batches(serial, expected):
    got = batches(HOSTS, serial)
    assert got == expected
    assert [h for batch in got for h in batch] == HOSTS


def test_no_hosts_is_no_batch():
    assert batches([], []) == [] and batches([], ["2"]) == []


@pytest.mark.parametrize("text, expected", [("3", ["3"]), ("[1, '30%']", ["1", "30%"])])
def test_serial_is_read_from_the_play(tmp_path, text, expected):
    play = load(tmp_path, f"- hosts: all\n  serial: {text}\n  tasks: []\n")[0]
    assert [str(s) for s in play.serial] == expected


def test_order_and_throttle_split_hosts_as_ansible_does():
    from celeryroot.engine.selection import ordered
    from celeryroot.engine.strategy import throttled

    hosts = ["web2", "db1", "web1"]
    assert ordered(hosts, "inventory") == hosts
    assert ordered(hosts, "reverse_inventory") == ["web1", "db1", "web2"]
    assert ordered(hosts, "sorted") == ["db1", "web1", "web2"]
    assert ordered(hosts, "reverse_sorted") == ["web2", "web1", "db1"]
    assert sorted(ordered(hosts, "shuffle")) == sorted(hosts)
    assert throttled(hosts, 0) == [hosts]
    assert throttled(hosts, 2) == [["web2", "db1"], ["web1"]]
