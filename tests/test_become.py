"""``become_user``: a task's module runs as a local user of the host (issue
13, item 10), on real workers, with a real user made for the test."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from conftest import write

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to add a user")


@pytest.fixture(scope="module")
def user():
    name = f"crt{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", name], check=True)
    yield name
    subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)


@pytest.fixture
def shared():
    """A directory any user may write to (a test's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="celeryroot-become-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path)


@pytest.fixture(params=["linear", "free"])
def strategy(request):
    return request.param


def test_become_user_runs_commands_and_writes_files_as_that_user(fleet, play, tmp_path, fleet_inventory, user,
                                                                 shared, strategy):
    book = write(tmp_path / "site.yml", f"""
- hosts: web1
  strategy: {strategy}
  gather_facts: false
  become: true
  tasks:
    - name: who
      command: id -un
      become_user: {user}
    - name: home
      shell: echo "$HOME" && umask
      become_user: "{{{{ who_am_i }}}}"
      vars: {{who_am_i: {user}}}
    - name: made
      file: path={shared}/dir state=directory
      become_user: {user}
    - name: copied
      copy: content="hello" dest={shared}/dir/greeting
      become_user: {user}
    - name: templated
      template: src=t.j2 dest={shared}/dir/t.txt
      become_user: {user}
    - name: denied
      file: path=/root/not-yours state=directory
      become_user: {user}
      ignore_errors: true
    - name: root again
      command: id -un
""")
    write(tmp_path / "templates" / "t.j2", "for {{ inventory_hostname }}\n")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    home = pwd.getpwnam(user).pw_dir
    assert out.results("who")["web1"]["stdout"] == user
    assert out.results("home")["web1"]["stdout"].splitlines() == [home, "0022"]
    uid = pwd.getpwnam(user).pw_uid
    for path in ("dir", "dir/greeting", "dir/t.txt"):
        assert (shared / path).stat().st_uid == uid, path
    assert (shared / "dir/t.txt").read_text() == "for web1\n"
    assert out.results("denied")["web1"]["failed"] is True
    assert not os.path.exists("/root/not-yours")
    assert out.results("root again")["web1"]["stdout"] == "root"
    # web1's audit log says which user each call ran as.
    who = [r for r in fleet.audit("web1") if r.get("args", {}).get("cmd") == "id -un"][-2:]
    assert [r.get("user") for r in who] == [user, None], who


def test_become_user_without_become_or_with_a_false_one_runs_as_the_worker(fleet, play, tmp_path, fleet_inventory, user):
    book = write(tmp_path / "site.yml", f"""
- hosts: web1
  gather_facts: false
  tasks:
    - name: who
      command: id -un
      become_user: {user}
    - name: templated
      command: id -un
      become: "{{{{ sudo }}}}"
      become_user: {user}
      vars: {{sudo: false}}
    - name: templated on
      command: id -un
      become: "{{{{ sudo }}}}"
      become_user: {user}
      vars: {{sudo: true}}
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    assert out.results("who")["web1"]["stdout"] == "root"
    assert out.results("templated")["web1"]["stdout"] == "root"
    assert out.results("templated on")["web1"]["stdout"] == user


def test_become_user_is_refused_for_modules_that_manage_the_system(play, tmp_path, fleet_inventory, user):
    book = write(tmp_path / "site.yml", f"""
- hosts: web1
  become: true
  become_user: {user}
  tasks:
    - name: pkg
      apt: name=hello
""")
    out = play(book, inventory=fleet_inventory, json_out=False)
    assert out.rc != 0
    assert f"site.yml:6:7: task 'pkg': become_user '{user}' is not supported for module 'apt'" in out.stderr, out


def test_become_user_that_does_not_exist_fails_the_task(fleet, play, tmp_path, fleet_inventory):
    book = write(tmp_path / "site.yml", """
- hosts: web1
  gather_facts: false
  become: true
  tasks:
    - name: who
      command: id -un
      become_user: nobody-such
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc != 0
    assert "become_user 'nobody-such': there is no such user on this host" in out.results("who")["web1"]["msg"]
