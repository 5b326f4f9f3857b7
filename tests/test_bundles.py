"""Whole-play bundles: one message per host, results streamed as they happen.

That a bundle means the same as the linear run is proven by
test_language.py, which runs every playbook both ways: keep it so. A
feature of the language is done when both runs agree, and the parity run
is what catches the engine being written twice.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import redis

from celeryroot.report.text import status_word
from conftest import write


def test_one_message_per_host_with_facts_and_results_streamed(workers, redis_server, tmp_path):
    workers.start("bundle1", "bundle2")
    inventory = write(tmp_path / "inv.yaml", "all:\n  hosts:\n    bundle1:\n    bundle2:\n")
    book = write(tmp_path / "free.yaml", f"""
- hosts: all
  strategy: free
  tasks:
    - name: first
      command: echo {{{{ ansible_hostname }}}}
    - name: slow
      command: sleep 1.5
    - name: last
      file: path={tmp_path}/{{{{ inventory_hostname }}}} state=directory
""")
    argv = [sys.executable, "-m", "celeryroot.cli.play", str(book), "-i", str(inventory), "--broker", redis_server.url]
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    seen = {}
    for line in proc.stdout:
        seen.setdefault(line.strip(), time.monotonic() - started)
    proc.wait(30)
    ended = time.monotonic() - started
    assert proc.returncode == 0
    first = min(t for line, t in seen.items() if line.startswith("changed: [bundle"))
    # the first task's result is shown while the slow task still runs
    assert ended - first > 1.0, (first, ended)
    assert (tmp_path / "bundle1").is_dir() and (tmp_path / "bundle2").is_dir()
    for host in ("bundle1", "bundle2"):
        log = workers.log(host)
        assert log.count("celeryroot.play[") >= 1 and "celeryroot.run[" not in log, log[-2000:]


def test_bundle_host_lost_mid_play_is_unreachable(workers, redis_server, tmp_path, play):
    workers.start("steady2", "victim2")
    inventory = write(tmp_path / "inv.yaml", "all:\n  hosts:\n    steady2:\n    victim2:\n")
    book = write(tmp_path / "free.yaml", f"""
- hosts: all
  strategy: free
  gather_facts: false
  tasks:
    - name: slow
      command: sleep 3
    - name: after
      file: path={tmp_path}/{{{{ inventory_hostname }}}} state=directory
""")
    argv = [sys.executable, "-m", "celeryroot.cli.play", str(book), "-i", str(inventory), "--broker",
            redis_server.url, "--json"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    time.sleep(1.5)
    workers.procs["victim2"].kill()
    out, _ = proc.communicate(timeout=60)
    doc = json.loads(out)
    assert proc.returncode == 4
    assert doc["stats"]["victim2"]["unreachable"] == 1
    assert doc["stats"]["steady2"]["ok"] == 2
    assert (tmp_path / "steady2").is_dir() and not (tmp_path / "victim2").exists()


# -- by default, a play that does not depend on other hosts runs as bundles,
# and means exactly what the forced linear run means.

PARITY = """
- hosts: web1,web2,db1
  gather_facts: false
  tasks:
    - name: directory
      file: path={{ out }}/{{ inventory_hostname }} state=directory
    - name: config
      copy:
        dest: "{{ out }}/{{ inventory_hostname }}/app.conf"
        content: "port={{ 80 if 'web' in group_names else 5432 }} of {{ groups['web'] | length }} web hosts\\n"
      notify: restart
      register: conf
    - name: fails on db1
      command: "false"
      when: inventory_hostname == 'db1'
    - name: ignored failure
      command: sh -c 'echo no; exit 3'
      ignore_errors: true
      register: ignored
    - block:
        - name: breaks on web2
          command: "false"
          when: inventory_hostname == 'web2'
        - name: after the break
          file: path={{ out }}/{{ inventory_hostname }}/unbroken state=touch
      rescue:
        - name: rescued
          copy: dest={{ out }}/{{ inventory_hostname }}/rescued content=yes
      always:
        - name: always
          lineinfile: path={{ out }}/{{ inventory_hostname }}/app.conf line=always
    - name: record
      copy:
        dest: "{{ out }}/{{ inventory_hostname }}/registered"
        content: "{{ conf.changed }} {{ ignored.rc }} {{ ignored.stdout }}\\n"
  handlers:
    - name: restart
      file: path={{ out }}/{{ inventory_hostname }}/restarted state=touch
"""
#: What differs between two runs of the same play: when things ran.
VOLATILE = {"start", "end", "delta", "duration"}


def _steady(value, out: str):
    if isinstance(value, dict):
        return {k: _steady(v, out) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_steady(v, out) for v in value]
    return value.replace(out, "OUT") if isinstance(value, str) else value


def _outcome(result, out) -> tuple:
    """A run as its meaning: exit status, recap, and every (kind, task,
    host) result with the n-th time that host started the task (hosts of a
    bundle reach tasks at their own pace, so the order of lines differs)."""
    rows = []
    for play in result.doc["plays"]:
        seen: dict = {}
        for task in play["tasks"]:
            for host, res in task["hosts"].items():
                key = (task["task"]["kind"], task["task"]["name"], host)
                seen[key] = seen.get(key, 0) + 1
                rows.append((*key, seen[key], json.dumps(_steady(res, str(out)), sort_keys=True)))
    return result.rc, result.stats, sorted(rows)


def _files(out) -> dict:
    return {str(p.relative_to(out)): p.read_text() if p.is_file() else "<dir>" for p in sorted(out.rglob("*"))}


def _runs_alike(play, redis_server, tmp_path, inventory, book, *args):
    """The play run by default (bundles) and with ``--strategy linear``,
    each from scratch into its own directory: the same outcome and files."""
    keys = redis.Redis.from_url(redis_server.url)
    seen = {}
    for way in ("default", "linear"):
        out = tmp_path / way
        # handlers a failed host left pending would run in the next run: each starts clean
        keys.delete(*(f"celeryroot.handlers.{h}" for h in ("web1", "web2", "db1")))
        forced = ["--strategy", "linear"] if way == "linear" else []
        result = play(book, "-i", str(inventory), "-e", f"out={out}", *forced, *args)
        assert result.doc, result
        (execution,) = [p["play"]["execution"] for p in result.doc["plays"]]
        assert execution == ({"mode": "bundles", "why": "nothing in it depends on other hosts"} if way == "default"
                             else {"mode": "linear", "why": "--strategy linear"}), result
        seen[way] = (_outcome(result, out), _files(out) if out.exists() else {})
    assert seen["default"] == seen["linear"]
    return seen["default"]


def test_a_play_chosen_for_bundles_means_what_the_linear_run_means(fleet, redis_server, play, tmp_path, fleet_inventory):
    """Failures (one host, ignored, rescued), handlers, registered results
    and files: the same both ways, applied, then applied again."""
    book = write(tmp_path / "parity.yaml", PARITY)
    (rc, stats, rows), files = _runs_alike(play, redis_server, tmp_path, fleet_inventory, book)
    assert rc == 2 and stats["db1"]["failed"] == 1 and stats["web2"]["rescued"] == 1
    assert stats["web1"]["ignored"] == stats["web2"]["ignored"] == 1
    assert files["web1/registered"] == "True 3 no\n" and "web1/restarted" in files and "web2/rescued" in files
    assert "db1/registered" not in files and "web2/unbroken" not in files
    statuses = {(kind, task, host): status_word(json.loads(res)) for kind, task, host, _, res in rows}
    assert statuses[("running handler", "restart", "web2")] == "changed"
    assert statuses[("task", "ignored failure", "web1")] == "failed"  # shown "...ignoring"
    assert ("running handler", "restart", "db1") not in statuses


@pytest.mark.parametrize("args", [("--check", "--diff"), ("--diff",), ("--start-at-task", "ignored failure")])
def test_check_diff_and_start_at_task_mean_the_same_both_ways(fleet, redis_server, play, tmp_path, fleet_inventory,
                                                             args):
    book = write(tmp_path / "parity.yaml", PARITY)
    (rc, stats, rows), files = _runs_alike(play, redis_server, tmp_path, fleet_inventory, book, *args)
    tasks = {task for _, task, *_ in rows}
    if "--start-at-task" in args:
        assert "config" not in tasks and "ignored failure" in tasks
    else:
        diffs = [json.loads(res).get("diff") for kind, task, host, _, res in rows if task == "config"]
        assert len(diffs) == 3 and all(diffs), rows
    if "--check" in args:
        assert files == {}


def test_a_play_that_needs_other_hosts_runs_linearly_and_says_why(fleet, play, tmp_path, fleet_inventory):
    book = write(tmp_path / "once.yaml", """
- hosts: web
  gather_facts: false
  tasks:
    - name: stamp
      command: date +%s%N
      run_once: true
      register: stamp
    - name: same stamp everywhere
      command: echo {{ stamp.stdout }}
""")
    result = play(book, "-i", str(fleet_inventory))
    (execution,) = [p["play"]["execution"] for p in result.doc["plays"]]
    assert execution["mode"] == "linear" and f"task 'stamp' at {book}:5:7 uses run_once" in execution["why"]
    shown = {res["stdout"] for res in result.results("same stamp everywhere").values()}
    assert len(shown) == 1 and result.total("changed") == 3
    plain = play(book, "-i", str(fleet_inventory), json_out=False)
    assert f"play 'web': linear (task 'stamp' at {book}:5:7 uses run_once" in plain.stdout, plain


def test_plays_of_one_run_choose_each_their_way_and_share_what_they_learn(fleet, play, tmp_path, fleet_inventory):
    """A play run as bundles registers results and facts that a later play,
    run linearly because it reads hostvars, sees as if both were linear."""
    book = write(tmp_path / "two.yaml", """
- name: each
  hosts: web
  tasks:
    - name: learn
      command: echo {{ inventory_hostname }}-{{ ansible_hostname is defined }}
      register: learned
- name: together
  hosts: web
  gather_facts: false
  tasks:
    - name: peers
      command: echo {{ groups['web'] | map('extract', hostvars, ['learned', 'stdout']) | join(' ') }}
""")
    result = play(book, "-i", str(fleet_inventory))
    assert [p["play"]["execution"]["mode"] for p in result.doc["plays"]] == ["bundles", "linear"], result
    assert "task 'peers' at" in result.doc["plays"][1]["play"]["execution"]["why"]
    for res in result.results("peers").values():
        assert res["stdout"] == "web1-True web2-True"


def test_include_vars_travels_with_a_bundle_and_a_templated_name_runs_linearly(fleet, redis_server, play, tmp_path,
                                                                                 fleet_inventory):
    """The files a plainly named include_vars reads travel in the bundle;
    one named by a fact or result is found when the task runs, among the
    controller's files, so that play runs linearly and says why."""
    write(tmp_path / "vars/app.yml", "port: 8080\nurl: \"http://{{ inventory_hostname }}:{{ port }}\"\n")
    write(tmp_path / "vars/conf.d/a.yml", "level: 1\n")
    write(tmp_path / "vars/web1.yml", "who: first\n")
    write(tmp_path / "vars/web2.yml", "who: second\n")
    book = write(tmp_path / "vars.yaml", """
- hosts: web
  gather_facts: false
  tasks:
    - include_vars: app.yml
    - include_vars: {dir: vars/conf.d, name: conf}
    # a directory per host: two hosts creating one directory race for its "changed"
    - file: {path: "{{ out }}/{{ inventory_hostname }}", state: directory}
    - name: write
      copy: {content: "{{ url }} {{ conf.level }}\\n", dest: "{{ out }}/{{ inventory_hostname }}/url"}
""")
    (rc, _, _), files = _runs_alike(play, redis_server, tmp_path, fleet_inventory, book)
    assert rc == 0 and files == {"web1": "<dir>", "web1/url": "http://web1:8080 1\n",
                                 "web2": "<dir>", "web2/url": "http://web2:8080 1\n"}, files
    named = write(tmp_path / "named.yaml", """
- hosts: web
  gather_facts: false
  tasks:
    - include_vars: "{{ inventory_hostname }}.yml"
    - file: {path: "{{ out }}", state: directory}
    - name: write
      copy: {content: "{{ who }}\\n", dest: "{{ out }}/{{ inventory_hostname }}"}
""")
    result = play(named, "-i", str(fleet_inventory), "-e", f"out={tmp_path / 'named'}")
    (execution,) = [p["play"]["execution"] for p in result.doc["plays"]]
    assert execution["mode"] == "linear" and "names its vars by a template" in execution["why"], execution
    assert (tmp_path / "named/web2").read_text() == "second\n"
