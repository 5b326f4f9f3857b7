"""Which host runs a delegated task (engine/delegation.py), and how
``delegate_to``, ``local_action`` and ``become_user`` are read (lang/)."""

from __future__ import annotations

import pytest

from celeryroot.engine.delegation import delegate_of, delegates
from celeryroot.lang.playbook import load_playbook
from celeryroot.lang.source import InputError
from celeryroot.lang.tasks import walk
from celeryroot.lang.templating import TemplateFailure

from .conftest import REGISTRY, load

HOSTS = {"web1": None, "db1": None}


def tasks(tmp_path, text: str) -> list:
    (play,) = load(tmp_path, "- hosts: all\n  tasks:\n" + text)
    return list(walk(play.sections[1]))


@pytest.mark.parametrize("target, inventory, expected", [
    ("db1", HOSTS, ("db1", "db1")),
    ("web1", HOSTS, None),  # itself
    ("localhost", HOSTS, ("localhost", None)),  # the controller
    ("127.0.0.1", HOSTS, ("localhost", None)),
    ("::1", HOSTS, ("localhost", None)),
    ("127.0.0.1", {**HOSTS, "localhost": None}, ("localhost", "localhost")),  # localhost's worker
    ("{{ peer }}", HOSTS, ("db1", "db1")),
])
def test_the_delegate(tmp_path, target, inventory, expected):
    (task,) = tasks(tmp_path, f"    - command: 'true'\n      delegate_to: '{target}'\n")
    delegate = delegate_of(task, "web1", {"peer": "db1"}, inventory)
    assert (delegate and (delegate.name, delegate.host)) == expected


def test_a_delegate_outside_the_inventory_is_an_error(tmp_path):
    (task,) = tasks(tmp_path, "    - command: 'true'\n      delegate_to: nowhere\n")
    with pytest.raises(TemplateFailure, match="delegate_to 'nowhere' is not a host of the inventory"):
        delegate_of(task, "web1", {}, HOSTS)


def test_the_run_reaches_the_delegates_it_names_or_every_host_for_a_template(tmp_path):
    path = tmp_path / "book.yaml"
    path.write_text("- hosts: all\n  tasks:\n    - command: 'true'\n      delegate_to: db1\n"
                    "    - local_action: command true\n")
    book = load_playbook(path, REGISTRY)
    assert delegates(book, HOSTS) == {"db1"}
    assert delegates(book, {**HOSTS, "localhost": None}) == {"db1", "localhost"}
    book.plays[0].sections[1][0].delegate_to = "{{ x }}"
    assert delegates(book, HOSTS) == set(HOSTS)


def test_local_action_is_its_module_delegated_to_localhost(tmp_path):
    text, mapping, block = tasks(tmp_path, "    - local_action: command echo hi there\n"
                                           "    - local_action:\n        module: copy\n        content: x\n"
                                           "        dest: /tmp/y\n"
                                           "    - block:\n        - command: 'true'\n      delegate_to: db1\n"
                                           "      delegate_facts: true\n")
    assert (text.module, text.args, text.delegate_to) == ("command", {"cmd": "echo hi there"}, "localhost")
    assert (mapping.module, mapping.args, mapping.delegate_to) == ("copy", {"content": "x", "dest": "/tmp/y"},
                                                                    "localhost")
    assert (block.delegate_to, block.delegate_facts) == ("db1", True)


def test_become_user_needs_become_and_a_module_that_works_as_any_user(tmp_path):
    plain, becoming, templated = tasks(tmp_path, "    - command: id\n      become_user: app\n"
                                                 "    - command: id\n      become: yes\n      become_user: app\n"
                                                 "    - command: id\n      become: '{{ b }}'\n      become_user: root\n")
    assert (plain.become_user, becoming.become_user, templated.become_user) == (None, "app", None)
    with pytest.raises(InputError, match=r"task 'service': become_user 'app' is not supported for module 'service'"):
        tasks(tmp_path, "    - service: name=x state=started\n      become: true\n      become_user: app\n")
