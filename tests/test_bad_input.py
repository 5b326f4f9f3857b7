"""Malformed input: a clear message with file:line, exit 1, and no host contacted.

The hosts here have no worker; had anything been sent, their queue would
exist in Redis. Each case asserts it does not.
"""

from __future__ import annotations

import re

import pytest

from conftest import write

INVENTORY = """
all:
  children:
    web:
      hosts:
        ghost1: {root: /tmp/celeryroot-ghost1}
        ghost2: {root: /tmp/celeryroot-ghost2}
"""

CASES = [
    ("yaml syntax", "- hosts: web\n  tasks:\n    - file: {path: /x\n", [],
     r"site\.yaml:4:1: YAML syntax error"),
    ("unknown module", "- hosts: web\n  tasks:\n    - fiel: path=/x\n", [],
     r"site\.yaml:3:7: unknown module or task keyword 'fiel'; did you mean 'file'\?"),
    ("unknown argument", "- hosts: web\n  tasks:\n    - file:\n        pth: /x\n", [],
     r"site\.yaml:4:9: file: unsupported argument 'pth'"),
    ("missing argument", "- hosts: web\n  tasks:\n    - file:\n        state: directory\n", [],
     r"site\.yaml:3:7: file: missing required argument 'path'"),
    ("wrong type", "- hosts: web\n  tasks:\n    - file: {path: /x, recurse: maybe}\n", [],
     r"site\.yaml:3:\d+: file: argument 'recurse': expected a boolean"),
    ("bad choice", "- hosts: web\n  tasks:\n    - file: path=/x state=folder\n", [],
     r"site\.yaml:3:\d+: file: argument 'state' must be one of: file, directory, absent"),
    ("bad mode", "- hosts: web\n  tasks:\n    - file: path=/x mode=rwx\n", [],
     r"file: argument 'mode': bad mode 'rwx'"),
    ("unknown host pattern", "- hosts: webz\n  tasks:\n    - ping:\n", [],
     r"site\.yaml:1:3: host pattern 'webz' .* matches no host or group"),
    ("unknown limit", "- hosts: web\n  tasks:\n    - ping:\n", ["--limit", "nosuch*"],
     r"host pattern 'nosuch\*' .* matches no host or group"),
    ("undefined variable", "- hosts: web\n  tasks:\n    - name: uses nope\n      file: path={{ nope }}\n", [],
     r"site\.yaml:3:7: task 'uses nope' for host 'ghost1': undefined variable: 'nope' is undefined"),
    ("undefined in when", "- hosts: web\n  tasks:\n    - ping:\n      when: nope == 1\n", [],
     r"site\.yaml:3:7: .*'nope' is undefined"),
    ("templated wrong type", "- hosts: web\n  vars: {deep: maybe}\n  tasks:\n"
                             "    - file: {path: /x, recurse: '{{ deep }}'}\n", [],
     r"site\.yaml:4:\d+: .*argument 'recurse': expected a boolean"),
    ("unknown play keyword", "- hosts: web\n  taskz: []\n", [],
     r"site\.yaml:2:3: unknown play keyword 'taskz'"),
    ("play without hosts", "- name: nothing\n  tasks: []\n", [], r"site\.yaml:1:3: the play has no 'hosts:'"),
    ("two modules", "- hosts: web\n  tasks:\n    - file: path=/x\n      ping:\n", [],
     r"site\.yaml:3:7: the task names more than one module: file, ping"),
    ("unknown handler", "- hosts: web\n  tasks:\n    - ping:\n      notify: restart nginx\n", [],
     r"site\.yaml:3:7: task 'ping' notifies 'restart nginx', but the play has no handler"),
    ("tasks not a list", "- hosts: web\n  tasks: {ping: {}}\n", [], r"site\.yaml:2:10: tasks must be a list"),
    ("bad extra vars file", "- hosts: web\n  tasks:\n    - ping:\n", ["-e", "@missing.yaml"],
     r"missing\.yaml: cannot read file"),
    ("not a playbook", "hosts: web\n", [], r"site\.yaml:1:1: a playbook must be a list"),
]


@pytest.mark.parametrize("name, text, args, message", CASES, ids=[c[0] for c in CASES])
def test_bad_playbook_is_reported_before_any_host(redis_server, play, tmp_path, name, text, args, message):
    inventory = write(tmp_path / "inventory.yaml", INVENTORY)
    book = write(tmp_path / "site.yaml", text)
    out = play(book, *args, inventory=inventory, json_out=False)
    assert out.rc == 1, out
    assert re.search(message, out.stderr), out.stderr
    assert out.stdout == ""
    assert redis_server.client.keys("celeryroot.host.ghost*") == []


@pytest.mark.parametrize("text, message", [
    ("all:\n  hosts:\n    web1: [a, b]\n", r"inventory\.yaml:3:11: host 'web1' must map to its variables"),
    ("all:\n  childs:\n    web: {}\n", r"inventory\.yaml:2:3: unknown key 'childs' in group 'all'"),
    ("all:\n  hosts:\n    web1:\n      x: [1\n", r"inventory\.yaml:5:1: YAML syntax error"),
])
def test_bad_inventory_is_reported_with_its_position(redis_server, play, tmp_path, text, message):
    inventory = write(tmp_path / "inventory.yaml", text)
    book = write(tmp_path / "site.yaml", "- hosts: all\n  tasks:\n    - ping:\n")
    out = play(book, inventory=inventory, json_out=False)
    assert out.rc == 1, out
    assert re.search(message, out.stderr), out.stderr
