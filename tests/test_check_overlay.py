"""Check mode a user can trust: on a fresh host, --check of a whole play
predicts what the real run will do, even where a later task depends on a
directory or file that an earlier task would create."""

from __future__ import annotations

import pytest

from conftest import tree, write

BOOK = """
- hosts: web1,web2
  gather_facts: false
  tasks:
    - name: config directory
      file: path={{ root }}/etc/app state=directory mode=0750
      tags: [dirs]
    - name: config file from a template
      template: src=app.conf.j2 dest={{ root }}/etc/app/app.conf
    - name: that file's mode
      file: path={{ root }}/etc/app/app.conf state=file mode=0600
    - name: an empty local file
      file: path={{ root }}/etc/app/local.conf state=touch modification_time=preserve access_time=preserve
    - name: a line in that file
      lineinfile: path={{ root }}/etc/app/local.conf line=extra=1
    - name: into a new directory
      copy: src=snippet.conf dest={{ root }}/etc/app/conf.d/
    - name: a file created with its parents
      lineinfile: path={{ root }}/var/state/flags line=on create=yes
    - name: a line in the created file
      lineinfile: path={{ root }}/var/state/flags line=off insertbefore=BOF
    - name: a file beside it, in the directories lineinfile made
      file: path={{ root }}/var/state/stamp state=touch modification_time=preserve access_time=preserve
    - name: a command that would run, since what it creates is absent
      command: touch {{ root }}/var/state/ran creates={{ root }}/var/state/ran
    - name: what that command creates
      file: path={{ root }}/var/state/ran state=file mode=0600
    - name: a link to the config
      file: path={{ root }}/etc/app/current src=app.conf state=link
    - name: a command made idempotent by creates
      command: cat {{ root }}/etc/app/app.conf
      args:
        creates: "{{ root }}/etc/app/app.conf"
"""
CHANGED = {"config directory": True, "config file from a template": True, "an empty local file": True,
           "a line in that file": True,
           "that file's mode": True, "into a new directory": True, "a file created with its parents": True,
           "a line in the created file": True, "a link to the config": True,
           "a file beside it, in the directories lineinfile made": True,
           "a command that would run, since what it creates is absent": True, "what that command creates": True,
           "a command made idempotent by creates": False}


@pytest.fixture
def book(tmp_path):
    write(tmp_path / "templates/app.conf.j2", "name={{ inventory_hostname }}\n")
    write(tmp_path / "files/snippet.conf", "snippet=1\n")
    return write(tmp_path / "site.yaml", BOOK)


def _changed(outcome, host: str) -> dict:
    return {t["task"]["name"]: t["hosts"][host]["changed"] for p in outcome.doc["plays"] for t in p["tasks"]}


def test_check_then_apply_then_again_on_a_fresh_tree(fleet, play, fleet_inventory, book, tmp_path):
    hosts = tmp_path / "hosts"
    checked = play(book, "--check", "--diff", inventory=fleet_inventory)
    assert checked.rc == 0, checked
    assert tree(hosts) == {}, "--check created something"
    applied = play(book, inventory=fleet_inventory)
    assert applied.rc == 0, applied
    again = play(book, inventory=fleet_inventory)
    assert again.rc == 0, again
    for host in ("web1", "web2"):
        assert _changed(checked, host) == CHANGED
        assert _changed(applied, host) == CHANGED
        assert not any(_changed(again, host).values()), _changed(again, host)
        assert (hosts / host / "etc/app/app.conf").read_text() == f"name={host}\n"
        assert (hosts / host / "etc/app/app.conf").stat().st_mode & 0o777 == 0o600
        assert (hosts / host / "etc/app/local.conf").read_text() == "extra=1\n"
        assert (hosts / host / "var/state/flags").read_text() == "off\non\n"
        assert (hosts / host / "var/state/ran").stat().st_mode & 0o777 == 0o600
        assert (hosts / host / "etc/app/conf.d/snippet.conf").read_text() == "snippet=1\n"
    predicted = checked.results("config file from a template")["web1"]["diff"]
    assert any(d["before"] == "" and d["after"] == "name=web1\n" for d in predicted), predicted


def test_without_the_earlier_task_check_fails_like_the_real_run(fleet, play, fleet_inventory, book, tmp_path):
    """The overlay is what makes the difference: skip the directory task and
    the template has nowhere to go, in check mode as in a real run."""
    for mode in (["--check"], []):
        out = play(book, "--skip-tags", "dirs", *mode, inventory=fleet_inventory)
        assert out.rc == 2, out
        msg = out.results("config file from a template")["web1"]["msg"]
        assert "Destination directory" in msg and "does not exist" in msg, msg
    assert tree(tmp_path / "hosts") == {}
