"""End to end through Redis and real workers: plays, limits, tags, check mode."""

from __future__ import annotations


import pytest

from conftest import ROOT, tree, write

MULTI_PLAY = """
- name: directories
  hosts: all:!db2
  tags: [dirs]
  tasks:
    - name: host directory
      file: path={{ root }} state=directory mode=0750
    - name: config directory
      file:
        path: "{{ root }}/etc"
        state: directory
      tags: [config]

- name: web content
  hosts: web
  vars:
    greeting: hello
  tasks:
    - name: page
      command: sh -c 'echo {{ greeting }} from {{ inventory_hostname }} > {{ root }}/index.html'
      args:
        creates: "{{ root }}/index.html"
      tags: [content]
    - name: marker
      file: path={{ root }}/etc/web.marker state=touch mode=0640
      tags: [never, marker]

- name: database
  hosts: db1
  tasks:
    - name: data directory
      file: path={{ root }}/data state=directory mode=0700
"""


@pytest.fixture
def book(tmp_path):
    return write(tmp_path / "site.yaml", MULTI_PLAY)


def test_multi_play_writes_host_specific_files_then_is_idempotent(fleet, play, fleet_inventory, book, tmp_path):
    first = play(book, "--limit", "all:!db2", inventory=fleet_inventory)
    assert first.rc == 0, first
    hosts = tmp_path / "hosts"
    assert (hosts / "web1/index.html").read_text() == "hello from web1\n"
    assert (hosts / "web2/index.html").read_text() == "hello from web2\n"
    assert not (hosts / "db1/index.html").exists()
    assert (hosts / "db1/data").stat().st_mode & 0o777 == 0o700
    assert oct((hosts / "web1").stat().st_mode & 0o777) == "0o750"
    assert not (hosts / "web1/etc/web.marker").exists(), "a 'never' task ran without being asked for"
    # two plays target web1: each gathers facts first (ok), as in Ansible
    assert first.stats["web1"] == {"ok": 5, "changed": 3, "unreachable": 0, "failed": 0, "skipped": 0,
                                   "rescued": 0, "ignored": 0}
    assert first.stats["db1"]["changed"] == 3
    second = play(book, "--limit", "all:!db2", inventory=fleet_inventory)
    assert second.rc == 0 and second.total("changed") == 0, second
    assert second.total("ok") == first.total("ok")


def test_check_mode_changes_nothing_and_predicts_the_real_run(fleet, play, fleet_inventory, book, tmp_path):
    before = tree(tmp_path / "hosts")
    checked = play(book, "--check", "--limit", "all:!db2", inventory=fleet_inventory)
    assert checked.rc == 0, checked
    assert tree(tmp_path / "hosts") == before == {}
    real = play(book, "--limit", "all:!db2", inventory=fleet_inventory)
    assert real.rc == 0, real
    for host in ("web1", "web2", "db1"):
        # command without creates satisfied is skipped under --check, so compare the file tasks
        predicted = {t: r[host]["changed"] for t, r in _per_task(checked).items() if host in r
                     and not r[host]["skipped"]}
        actual = {t: r[host]["changed"] for t, r in _per_task(real).items() if host in r and t in predicted}
        assert predicted == actual, host
    again = play(book, "--check", "--limit", "all:!db2", inventory=fleet_inventory)
    assert again.total("changed") == 0, again


def _per_task(outcome) -> dict:
    return {task["task"]["name"]: task["hosts"] for p in outcome.doc["plays"] for task in p["tasks"]
            if task["task"]["name"] != "Gathering Facts"}


@pytest.mark.parametrize("limit, expected", [
    ("web1", {"web1"}),
    ("web", {"web1", "web2"}),
    ("web*", {"web1", "web2"}),
    ("all:!web2:!db2", {"web1", "db1"}),
    ("web:&web2", {"web2"}),
    ("db1,web2", {"web2", "db1"}),
])
def test_limit_selects_hosts(fleet, play, fleet_inventory, book, tmp_path, limit, expected):
    out = play(book, "--limit", limit, "--tags", "dirs", inventory=fleet_inventory)
    assert out.rc == 0, out
    assert set(out.stats) == expected
    assert {p.name for p in (tmp_path / "hosts").iterdir()} == expected


@pytest.mark.parametrize("args, ran", [
    (["--tags", "config"], {"config directory"}),
    (["--tags", "content,config"], {"config directory", "page"}),
    (["--tags", "marker"], {"marker"}),
    (["--skip-tags", "dirs"], {"page", "data directory"}),
    (["--skip-tags", "config,content"], {"host directory", "data directory"}),
])
def test_tags_and_skip_tags_select_tasks(fleet, play, fleet_inventory, book, tmp_path, args, ran):
    prepare = play(book, "--limit", "all:!db2", "--tags", "dirs", inventory=fleet_inventory)
    assert prepare.rc == 0, prepare
    out = play(book, "--limit", "all:!db2", *args, inventory=fleet_inventory)
    assert out.rc == 0, out
    assert set(_per_task(out)) == ran


def test_failing_task_stops_only_that_host(fleet, play, fleet_inventory, tmp_path):
    book = write(tmp_path / "fail.yaml", """
- hosts: web1,web2,db1
  tasks:
    - name: fails on web2 only
      command: "{{ 'false' if inventory_hostname == 'web2' else 'true' }}"
    - name: after
      file: path={{ root }} state=directory
- hosts: all:!db2
  tasks:
    - name: second play
      file: path={{ root }}/second state=directory
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 2, out
    assert out.results("fails on web2 only")["web2"]["failed"] is True
    assert out.results("fails on web2 only")["web2"]["rc"] == 1
    assert set(out.results("after")) == {"web1", "db1"}
    assert set(out.results("second play")) == {"web1", "db1"}
    assert out.stats["web2"]["failed"] == 1
    assert not (tmp_path / "hosts/web2").exists()
    assert (tmp_path / "hosts/db1/second").is_dir()


def test_ignore_errors_register_when_and_loop(fleet, play, fleet_inventory, tmp_path):
    book = write(tmp_path / "lang.yaml", """
- hosts: web1
  tasks:
    - name: may fail
      command: ls /nonexistent-celeryroot
      register: listing
      ignore_errors: true
    - name: only after a failure
      file: path={{ root }} state=directory
      when: listing is failed
    - name: never
      file: path={{ root }}/never state=directory
      when: listing.rc == 0
    - name: several
      file: path={{ root }}/{{ item }} state=directory
      loop: [a, b]
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    assert out.stats["web1"]["ignored"] == 1 and out.stats["web1"]["skipped"] == 1
    assert sorted(p.name for p in (tmp_path / "hosts/web1").iterdir()) == ["a", "b"]
    assert [r["item"] for r in out.results("several")["web1"]["results"]] == ["a", "b"]


def test_handlers_run_once_where_notified(fleet, play, fleet_inventory, tmp_path):
    book = write(tmp_path / "handlers.yaml", """
- hosts: web1,web2
  tasks:
    - name: config
      file: path={{ root }}/conf state=directory
      when: inventory_hostname == 'web1'
      notify: restart
    - name: config again
      file: path={{ root }}/conf2 state=directory
      when: inventory_hostname == 'web1'
      notify: restart
  handlers:
    - name: restart
      command: sh -c 'echo restarted >> {{ root }}/restarts'
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    assert (tmp_path / "hosts/web1/restarts").read_text() == "restarted\n"
    assert set(out.results("restart")) == {"web1"}
    again = play(book, inventory=fleet_inventory)
    assert again.total("changed") == 0
    assert (tmp_path / "hosts/web1/restarts").read_text() == "restarted\n"


def test_site_module_from_modules_directory_runs(fleet, play, fleet_inventory, tmp_path):
    book = write(tmp_path / "stamp.yaml", """
- hosts: db1
  tasks:
    - file: path={{ root }} state=directory
    - name: stamp
      stamp:
        path: "{{ root }}/managed"
        owner: platform team
""")
    env = {"CELERYROOT_MODULES_PATH": str(ROOT / "modules")}
    out = play(book, inventory=fleet_inventory, env=env)
    assert out.rc == 0, out
    assert (tmp_path / "hosts/db1/managed").read_text() == \
        "This host is managed by celeryroot on behalf of platform team.\n"
    assert play(book, inventory=fleet_inventory, env=env).total("changed") == 0


def test_diff_shows_changes(fleet, play, fleet_inventory, tmp_path):
    book = write(tmp_path / "diff.yaml", """
- hosts: web2
  tasks:
    - name: dir
      file: path={{ root }} state=directory mode=0700
""")
    out = play(book, "--diff", "--check", inventory=fleet_inventory, json_out=False)
    assert out.rc == 0, out
    assert "+state: directory" in out.stdout and "+mode: 0700" in out.stdout
    assert "changed: [web2]" in out.stdout


def test_embedded_mode_runs_base_playbook_in_check_mode_without_redis(local_play):
    out = local_play(ROOT / "playbooks/base.yaml", "--check", inventory=ROOT / "inventory.yaml", json_out=False)
    assert out.rc == 0, out
    assert "embedded local mode" in out.stdout
    assert "failed=0" in out.stdout and "unreachable=0" in out.stdout


def test_embedded_mode_refuses_remote_hosts(local_play, fleet_inventory, book):
    out = local_play(book, inventory=fleet_inventory)
    assert out.rc == 1
    assert "no broker configured" in out.stderr


def test_kv_arguments_decode_escapes_in_quoted_values(fleet, play, fleet_inventory, tmp_path):
    book = write(tmp_path / "kv.yaml", """
- hosts: db1
  gather_facts: false
  tasks:
    - file: path={{ root }} state=directory
    - copy: dest={{ root }}/two-lines content="first\\nsecond\\n"
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    assert (tmp_path / "hosts/db1/two-lines").read_text() == "first\nsecond\n"
