"""The playbook language on three real workers: roles, blocks, handlers, loops,
variables, tags and rollout, checked on disk and in the recap."""

from __future__ import annotations

import json
import os

import pytest

from conftest import write

THREE = "web1,web2,db1"


@pytest.fixture(autouse=True, params=["linear", "bundles"])
def strategy(request, tmp_path):
    """Every playbook here runs both ways, and must mean the same: linearly
    from the controller, and as whole-play bundles run by each worker
    (``bundles:`` in the configuration asks for one or the other, where a
    play does not say; unsaid, each play would choose: test_bundles.py)."""
    write(tmp_path / "celeryroot.yaml", f"bundles: {str(request.param == 'bundles').lower()}\n")
    return request.param


def read(path) -> str:
    return path.read_text() if path.exists() else ""


@pytest.fixture
def project(tmp_path, fleet_inventory):
    """A small Ansible-style project: roles, task files, vars files."""
    write(tmp_path / "roles/base/defaults/main.yml", "motd_owner: nobody\nlevel: role-default\nport: 80\n")
    write(tmp_path / "roles/base/vars/main.yml", "role_var_value: from-role-vars\n")
    write(tmp_path / "roles/base/meta/main.yml", "dependencies:\n  - role: common\n    common_dir: deps\n")
    write(tmp_path / "roles/base/tasks/main.yml", """
- name: base directory
  file: path={{ root }}/base state=directory
  notify: base changed
- name: record the level
  command: sh -c 'echo {{ level }} {{ port }} > {{ root }}/base/level'
  args:
    creates: "{{ root }}/base/level"
""")
    write(tmp_path / "roles/base/handlers/main.yml", """
- name: base changed
  command: sh -c 'echo base >> {{ root }}/handlers'
""")
    write(tmp_path / "roles/common/tasks/main.yml", """
- name: common directory
  file: path={{ root }}/{{ common_dir }} state=directory
  tags: [common]
""")
    write(tmp_path / "tasks/extra.yml", """
- name: extra file
  file: path={{ root }}/extra-{{ suffix }} state=directory
""")
    write(tmp_path / "vars/site.yml", "level: vars-file\n")
    return tmp_path


def test_roles_dependencies_handlers_and_includes(fleet, play, project, fleet_inventory):
    book = write(project / "site.yml", """
- hosts: web
  roles:
    - role: base
      tags: [base]
  tasks:
    - include_tasks: tasks/extra.yml
      vars:
        suffix: one
    - import_role:
        name: common
      vars:
        common_dir: imported
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    for host in ("web1", "web2"):
        root = project / "hosts" / host
        assert (root / "deps").is_dir(), "meta dependency did not run first"
        assert (root / "base").is_dir() and (root / "extra-one").is_dir() and (root / "imported").is_dir()
        assert read(root / "base/level") == "role-default 80\n"
        assert read(root / "handlers") == "base\n"
    tasks = [t["task"]["name"] for t in out.doc["plays"][0]["tasks"]]
    assert tasks[:4] == ["Gathering Facts", "common : common directory", "base : base directory",
                         "base : record the level"]
    assert tasks[-1] == "base : base changed"
    again = play(book, inventory=fleet_inventory)
    assert again.total("changed") == 0, again


def test_includes_carried_out_at_run_time_on_several_hosts(fleet, play, project, fleet_inventory, strategy):
    """Each host includes the file its own result names, once per item; a
    host whose included task fails is rescued by the block around the
    include, the other carries on; the play runs linearly either way (what
    it includes is found when it runs) and says why."""
    write(project / "tasks/web1.yml", "- name: per item\n  file: path={{ root }}/{{ part }} state=directory\n")
    write(project / "tasks/web2.yml", "- name: per item\n  command: test {{ part }} = one\n")
    book = write(project / "dynamic.yml", """
- hosts: web
  gather_facts: false
  tasks:
    - command: echo {{ inventory_hostname }}
      register: me
      changed_when: false
    - block:
        - include_tasks: "tasks/{{ me.stdout }}.yml"
          loop: [one, two]
          loop_control: {loop_var: part}
      rescue:
        - name: rescued
          file: path={{ root }}/rescued state=directory
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    (execution,) = [p["play"]["execution"] for p in out.doc["plays"]]
    said = "uses include_tasks with a loop" if strategy == "bundles" else "bundles: false"
    assert execution["mode"] == "linear" and said in execution["why"], execution
    assert sorted(p.name for p in (project / "hosts/web1").iterdir()) == ["one", "two"]
    assert sorted(p.name for p in (project / "hosts/web2").iterdir()) == ["rescued"]
    assert out.stats["web2"]["rescued"] == 1 and out.stats["web1"]["ok"] == 5, out.stats


def test_tags_are_inherited_from_roles_blocks_and_imports(fleet, play, project, fleet_inventory):
    book = write(project / "tags.yml", """
- hosts: web1
  tags: [play]
  roles:
    - {role: base, tags: [from_role]}
  tasks:
    - block:
        - name: in block
          file: path={{ root }}/blocked state=directory
      tags: [from_block]
    - import_tasks: tasks/extra.yml
      vars: {suffix: tagged}
      tags: [from_import]
    - name: always runs
      file: path={{ root }}/always state=directory
      tags: [always]
""")
    listed = play(book, "--list-tasks", inventory=fleet_inventory, json_out=False)
    assert listed.rc == 0, listed
    assert "base : base directory\tTAGS: [play, from_role]" in listed.stdout
    assert "common : common directory\tTAGS: [play, from_role, common]" in listed.stdout
    assert "in block\tTAGS: [play, from_block]" in listed.stdout
    assert "extra file\tTAGS: [play, from_import]" in listed.stdout
    out = play(book, "--tags", "from_block", inventory=fleet_inventory)
    assert out.rc == 0, out
    root = project / "hosts/web1"
    assert sorted(p.name for p in root.iterdir()) == ["always", "blocked"]
    out = play(book, "--tags", "from_import", "--skip-tags", "always", inventory=fleet_inventory)
    assert sorted(p.name for p in root.iterdir()) == ["always", "blocked", "extra-tagged"]
    tags = play(book, "--list-tags", inventory=fleet_inventory, json_out=False)
    assert "TASK TAGS: [always, common, from_block, from_import, from_role, play]" in tags.stdout


def test_block_rescue_always_and_recap_counts(fleet, play, tmp_path, fleet_inventory):
    book = write(tmp_path / "blocks.yml", """
- hosts: web1,web2
  gather_facts: false
  tasks:
    - block:
        - name: fails on web1
          command: "{{ 'false' if inventory_hostname == 'web1' else 'true' }}"
        - name: after the failure
          file: path={{ root }}/after state=directory
      rescue:
        - name: rescue
          file: path={{ root }}/rescued state=directory
      always:
        - name: always
          file: path={{ root }}/always state=directory
    - name: ignored failure
      command: "false"
      ignore_errors: true
    - block:
        - name: unrescued failure on web2
          command: "{{ 'false' if inventory_hostname == 'web2' else 'true' }}"
      always:
        - name: always after unrescued
          file: path={{ root }}/always2 state=directory
    - name: last
      file: path={{ root }}/last state=directory
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 2, out
    web1, web2 = tmp_path / "hosts/web1", tmp_path / "hosts/web2"
    assert sorted(p.name for p in web1.iterdir()) == ["always", "always2", "last", "rescued"]
    assert sorted(p.name for p in web2.iterdir()) == ["after", "always", "always2"]
    assert out.stats["web1"]["rescued"] == 1 and out.stats["web1"]["failed"] == 0
    assert out.stats["web1"]["ignored"] == 1 and out.stats["web2"]["ignored"] == 1
    assert out.stats["web2"]["failed"] == 1 and out.stats["web2"]["rescued"] == 0


def test_handlers_listen_flush_and_failed_hosts(fleet, play, tmp_path, fleet_inventory, redis_server):
    book = write(tmp_path / "handlers.yml", """
- hosts: web1,web2
  gather_facts: false
  tasks:
    - name: change
      file: path={{ root }}/conf state=directory
      notify: [restart web, reload things]
    - meta: flush_handlers
    - name: change again
      file: path={{ root }}/conf2 state=directory
      notify: reload things
    - name: web2 fails after its change
      command: "{{ 'false' if inventory_hostname == 'web2' and fail | default(true) | bool else 'true' }}"
  handlers:
    - name: restart web
      command: sh -c 'echo restart >> {{ root }}/log'
    - name: reloader
      command: sh -c 'echo reload >> {{ root }}/log'
      listen: reload things
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 2, out
    web1, web2 = tmp_path / "hosts/web1", tmp_path / "hosts/web2"
    # flushed once after the first change, then once more at the end of the play
    assert read(web1 / "log") == "restart\nreload\nreload\n"
    # web2 failed before the end: its second notification never ran ...
    assert read(web2 / "log") == "restart\nreload\n"
    assert redis_server.client.smembers("celeryroot.handlers.web2") == {b"reload things"}
    # ... and runs at the end of the next run of a play that defines it (ansible#10498)
    fixed = play(book, "-e", "fail=false", inventory=fleet_inventory)
    assert fixed.rc == 0, fixed
    assert read(web2 / "log") == "restart\nreload\nreload\n"
    assert any("never ran: reload things" in n for n in fixed.doc["notices"])
    assert redis_server.client.smembers("celeryroot.handlers.web2") == set()
    assert read(web1 / "log") == "restart\nreload\nreload\n", "nothing changed on web1, so no handler"


def test_handlers_notified_by_handlers_and_again_after_they_ran(fleet, play, tmp_path, fleet_inventory):
    """As ansible-playbook runs it (tests/test_differential.py compares the
    two): one pass per flush in definition order; a handler notified by a
    handler runs in the same pass when defined after it, at the next flush
    when defined before it or itself; every section ends in a flush."""
    def logs(name: str, then: str = "") -> str:
        return f"      command: sh -c 'echo {name} >> {{{{ root }}}}/log'\n" + (f"      {then}\n" if then else "")

    book = write(tmp_path / "handlers.yml", f"""
- hosts: web1
  gather_facts: false
  tasks:
    - file: path={{{{ root }}}} state=directory
    - name: change twice
{logs("task1", "notify: [h2, h2]")}    - meta: flush_handlers
    - name: change again
{logs("task2", "notify: [h2, reload]")}  post_tasks:
    - name: post
{logs("post")}  handlers:
    - name: h1
{logs("h1")}    - name: h2
{logs("h2", "notify: [h1, h3]")}    - name: h3
{logs("h3", "notify: h3")}    - name: first listener
{logs("first", "listen: reload")}    - name: second listener
{logs("second", "listen: reload")}""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    assert read(tmp_path / "hosts/web1/log").split() == \
        ["task1", "h2", "h3", "task2", "h1", "h2", "h3", "first", "second", "post", "h1", "h3"]


def test_ansible_check_mode_is_the_runs_check_and_ansible_managed_is_ansibles(fleet, play, tmp_path,
                                                                               fleet_inventory):
    """A play's check_mode: keyword runs its tasks in check mode without
    making ansible_check_mode true (as in Ansible); ansible_managed is
    Ansible's text, in every task."""
    book = write(tmp_path / "check.yml", """
- hosts: web1
  gather_facts: false
  check_mode: true
  tasks:
    - name: predicted only
      file: path={{ root }}/never state=directory
    - name: the variables
      debug: msg="{{ ansible_check_mode }} {{ ansible_managed }}"
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    assert out.results("predicted only")["web1"]["changed"] and not (tmp_path / "hosts/web1/never").exists()
    assert out.results("the variables")["web1"]["msg"] == "False Ansible managed"
    checked = play(book, "--check", inventory=fleet_inventory)
    assert checked.results("the variables")["web1"]["msg"] == "True Ansible managed"


def test_loops_register_and_loop_control(fleet, play, tmp_path, fleet_inventory):
    book = write(tmp_path / "loops.yml", """
- hosts: db1
  gather_facts: false
  vars:
    users: {alice: 1001, bob: 1002}
  tasks:
    - name: with_items
      file: path={{ root }}/{{ item }} state=directory
      with_items: [[a, b], c]
    - name: with_dict
      command: sh -c 'echo {{ item.value }} > {{ root }}/{{ item.key }}'
      with_dict: "{{ users }}"
    - name: loop_control
      command: echo {{ idx }}-{{ user.key }}
      loop: "{{ users | dict2items }}"
      loop_control: {loop_var: user, index_var: idx, label: "{{ user.key }}"}
      register: echoed
    - name: results are registered
      set_fact:
        lines: "{{ echoed.results | map(attribute='stdout') | list }}"
    - name: write them
      command: sh -c 'echo {{ lines | join(",") }} > {{ root }}/lines'
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    root = tmp_path / "hosts/db1"
    assert all((root / d).is_dir() for d in "abc")
    assert read(root / "alice") == "1001\n" and read(root / "bob") == "1002\n"
    assert read(root / "lines") == "0-alice,1-bob\n"
    assert len(out.results("loop_control")["db1"]["results"]) == 2


def test_lookups_are_the_controllers_both_ways(fleet, play, tmp_path, fleet_inventory, strategy):
    """A play that calls a lookup of the controller's own (its environment,
    its commands, its password files, the inventory's names), in a task or
    in a template it renders, runs linearly even when bundles are on, so
    each means what it means in Ansible."""
    book = write(tmp_path / "lookups.yml", """
- hosts: web
  gather_facts: false
  tasks:
    - name: a directory
      file: path={{ root }} state=directory
    - name: the controller's environment and commands
      copy: {content: "{{ lookup('env', 'CR_ON_CONTROLLER') }} {{ lookup('pipe', 'echo piped') }}", dest: "{{ root }}/env"}
    - name: every host of a pattern
      command: touch {{ root }}/{{ item }}
      with_inventory_hostnames: "db:web1"
    - name: a password kept beside the playbook
      copy: {content: "{{ lookup('password', 'credentials/' ~ inventory_hostname) }}", dest: "{{ root }}/pw"}
- hosts: web
  gather_facts: false
  tasks:
    - name: a template that calls one
      template: {src: env.j2, dest: "{{ root }}/templated"}
""")
    write(tmp_path / "templates/env.j2", "{{ lookup('env', 'CR_ON_CONTROLLER') }}\n")
    out = play(book, inventory=fleet_inventory, env={"CR_ON_CONTROLLER": "controller"})
    assert out.rc == 0, out
    for host in ("web1", "web2"):
        root = tmp_path / "hosts" / host
        assert read(root / "env") == "controller piped" and read(root / "templated") == "controller\n"
        assert sorted(p.name for p in root.iterdir()) == ["db1", "db2", "env", "pw", "templated", "web1"]
        assert read(root / "pw") + "\n" == read(tmp_path / "credentials" / host)


def test_until_retries_changed_when_failed_when(fleet, play, tmp_path, fleet_inventory):
    book = write(tmp_path / "until.yml", """
- hosts: web2
  gather_facts: false
  tasks:
    - name: count attempts
      shell: echo x >> {{ root }}/attempts; wc -l < {{ root }}/attempts
      register: count
      until: count.stdout | int >= 3
      retries: 5
      delay: 0
    - name: never changes
      command: "true"
      changed_when: false
    - name: fails on output
      command: echo ERROR
      register: out
      failed_when: "'ERROR' in out.stdout"
      ignore_errors: true
""")
    write(tmp_path / "hosts/web2/.keep", "")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    assert out.results("count attempts")["web2"]["attempts"] == 3
    assert out.results("never changes")["web2"]["changed"] is False
    assert out.results("fails on output")["web2"]["failed"] is True
    assert out.stats["web2"]["ignored"] == 1


@pytest.mark.parametrize("strategy", ["linear", "free"])
def test_until_says_each_retry_as_ansible_does(fleet, play, tmp_path, fleet_inventory, strategy):
    book = write(tmp_path / "until.yml", f"""
- hosts: web2
  gather_facts: false
  strategy: {strategy}
  tasks:
    - name: count attempts
      shell: echo x >> {{{{ root }}}}/attempts; wc -l < {{{{ root }}}}/attempts
      register: count
      until: count.stdout | int >= 3
      retries: 5
      delay: 0
""")
    write(tmp_path / "hosts/web2/.keep", "")
    out = play(book, inventory=fleet_inventory, json_out=False)
    assert out.rc == 0, out
    retries = [line for line in out.stdout.splitlines() if "RETRYING" in line]
    assert retries == ["FAILED - RETRYING: [web2]: count attempts (5 retries left).",
                       "FAILED - RETRYING: [web2]: count attempts (4 retries left)."], out.stdout


def test_variable_precedence(fleet, play, project, fleet_inventory):
    """role defaults < inventory < facts < play vars < vars_files < role vars < task vars
    < set_fact < extra vars."""
    write(project / "roles/prec/defaults/main.yml", "a: role-default\nb: role-default\nc: role-default\n"
          "d: role-default\ne: role-default\nf: role-default\ng: role-default\n")
    write(project / "roles/prec/vars/main.yml", "e: role-vars\nf: role-vars\ng: role-vars\n")
    write(project / "roles/prec/tasks/main.yml", """
- set_fact:
    g: set-fact
- name: dump
  command: sh -c 'echo {{ [a, b, c, d, e, f, g, h] | join(" ") }} > {{ root }}/vars'
  vars:
    f: task-vars
    g: task-vars
""")
    write(project / "vars/prec.yml", "d: vars-file\ne: vars-file\n")
    book = write(project / "prec.yml", """
- hosts: web1
  vars: {c: play, d: play, e: play, h: play}
  vars_files: [vars/prec.yml]
  roles: [prec]
""")
    inventory = write(project / "prec-inventory.yml", f"""
all:
  vars: {{b: all}}
  hosts:
    web1: {{root: {project}/hosts/web1, b: host}}
""")
    write(project / "hosts/web1/.keep", "")
    out = play(book, "-e", "h=extra", inventory=inventory)
    assert out.rc == 0, out
    assert read(project / "hosts/web1/vars") == "role-default host play vars-file role-vars task-vars set-fact extra\n"


def test_facts_in_templates_per_host_and_smart_cache(fleet, play, tmp_path, fleet_inventory, redis_server):
    import socket

    book = write(tmp_path / "facts.yml", """
- hosts: web1,web2,db1
  gather_facts: smart
  tasks:
    - name: facts
      command: sh -c 'echo {{ inventory_hostname }} {{ ansible_hostname }} {{ ansible_facts.os_family }} > {{ root }}'
""")
    write(tmp_path / "hosts/.keep", "")
    for host in ("web1", "web2", "db1"):
        redis_server.client.delete(f"celeryroot.facts.{host}")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    for host in ("web1", "web2", "db1"):
        assert read(tmp_path / "hosts" / host) == f"{host} {socket.gethostname().split('.')[0]} Debian\n"
    assert set(out.results("Gathering Facts")) == {"web1", "web2", "db1"}
    cached = json.loads(redis_server.client.get("celeryroot.facts.web1"))
    assert cached["os_family"] == "Debian"
    again = play(book, inventory=fleet_inventory)
    names = [t["task"]["name"] for t in again.doc["plays"][0]["tasks"]]
    assert "Gathering Facts" not in names, "smart gathering should have used the cache"


def test_check_mode_skipped_task_registers_a_result(fleet, play, tmp_path, fleet_inventory):
    book = write(tmp_path / "check.yml", """
- hosts: db1
  gather_facts: false
  tasks:
    - name: cannot predict
      command: "true"
      register: ran
    - name: uses it
      file: path={{ root }} state=directory
      when: ran.changed or ran is skipped
""")
    out = play(book, "--check", inventory=fleet_inventory)
    assert out.rc == 0, out
    assert out.results("cannot predict")["db1"]["skipped"] is True
    assert out.results("uses it")["db1"]["changed"] is True
    assert not (tmp_path / "hosts/db1").exists()


def test_serial_batches_run_in_order_and_stop_at_max_fail_percentage(fleet, play, tmp_path, fleet_inventory,
                                                                     strategy):
    log = tmp_path / "order"
    book = write(tmp_path / "serial.yml", f"""
- hosts: web1,web2,db1
  gather_facts: false
  serial: [1, 2]
  max_fail_percentage: 0
  tasks:
    - name: first
      command: sh -c 'echo {{{{ inventory_hostname }}}} first >> {log}'
    - name: second
      command: sh -c 'echo {{{{ inventory_hostname }}}} second >> {log}; test {{{{ inventory_hostname }}}} != web2'
- hosts: web1
  gather_facts: false
  tasks:
    - name: next play
      command: sh -c 'echo next >> {log}'
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 2, out
    lines = read(log).splitlines()
    assert lines[:2] == ["web1 first", "web1 second"]
    assert sorted(lines[2:6]) == ["db1 first", "db1 second", "web2 first", "web2 second"]
    if strategy == "linear":  # in lockstep; a bundle's host runs at its own pace
        assert sorted(lines[2:4]) == ["db1 first", "web2 first"]
    else:
        assert lines.index("web2 first") < lines.index("web2 second")
    assert "next" in lines, "max_fail_percentage stops this play only"
    assert any("max_fail_percentage" in n for n in out.doc["notices"])


def test_any_errors_fatal_and_run_once(fleet, play, tmp_path, fleet_inventory):
    book = write(tmp_path / "fatal.yml", """
- hosts: web1,web2,db1
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - name: once
      command: echo {{ inventory_hostname }}
      run_once: true
      register: once
    - name: everyone saw it
      command: sh -c 'echo {{ once.stdout }} > {{ root }}'
    - name: db1 fails
      command: "{{ 'false' if inventory_hostname == 'db1' else 'true' }}"
    - name: nobody gets here
      command: sh -c 'echo no > {{ root }}'
""")
    write(tmp_path / "hosts/.keep", "")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 2, out
    assert set(out.results("once")) == {"web1"}
    for host in ("web1", "web2", "db1"):
        assert read(tmp_path / "hosts" / host) == "web1\n"


def test_any_errors_fatal_on_a_block_stops_every_host_after_its_task(fleet, play, tmp_path, fleet_inventory):
    """On a task or block, as on the play: the failing task ends on every
    host, then the play stops for all (a run_once keeps the bundles run
    linear too, where bundles cannot stop the other hosts)."""
    book = write(tmp_path / "fatal.yml", """
- hosts: web1,web2,db1
  gather_facts: false
  tasks:
    - name: once
      command: "true"
      run_once: true
    - block:
        - name: db1 fails
          command: "{{ 'false' if inventory_hostname == 'db1' else 'true' }}"
      any_errors_fatal: true
    - name: nobody gets here
      command: sh -c 'echo no > {{ root }}'
""")
    write(tmp_path / "hosts/.keep", "")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 2, out
    assert set(out.results("db1 fails")) == {"web1", "web2", "db1"}
    assert "NO MORE HOSTS LEFT: any_errors_fatal: task 'db1 fails' failed on a host" in " ".join(out.doc["notices"])
    for host in ("web1", "web2", "db1"):
        assert not (tmp_path / "hosts" / host).exists()


def test_import_playbook_start_at_task_and_syntax_check(fleet, play, tmp_path, fleet_inventory):
    write(tmp_path / "inner.yml", """
- hosts: web1
  gather_facts: false
  tasks:
    - name: inner one
      file: path={{ root }}/one state=directory
    - name: inner two
      file: path={{ root }}/two state=directory
""")
    book = write(tmp_path / "outer.yml", """
- import_playbook: inner.yml
- hosts: web1
  gather_facts: false
  tasks:
    - name: outer
      file: path={{ root }}/three state=directory
""")
    syntax = play(book, "--syntax-check", inventory=fleet_inventory, json_out=False)
    assert syntax.rc == 0 and "playbook: " in syntax.stdout
    assert not (tmp_path / "hosts").exists()
    out = play(book, "--start-at-task", "inner two", inventory=fleet_inventory)
    assert out.rc == 0, out
    assert sorted(p.name for p in (tmp_path / "hosts/web1").iterdir()) == ["three", "two"]


def test_no_log_hides_arguments_and_results_everywhere(fleet, play, tmp_path, fleet_inventory):
    book = write(tmp_path / "secret.yml", """
- hosts: web1
  gather_facts: false
  tasks:
    - name: secret
      command: echo hunter2-secret
      no_log: true
      register: hidden
    - name: looped secret
      command: echo {{ item }}
      loop: [hunter2-secret]
      no_log: true
""")
    out = play(book, "-vv", inventory=fleet_inventory)
    assert out.rc == 0, out
    assert "hunter2" not in out.stdout and "hunter2" not in out.stderr
    plain_out = play(book, "-vv", "--diff", inventory=fleet_inventory, json_out=False)
    assert "hunter2" not in plain_out.stdout
    assert "hunter2" not in fleet.log("web1")


def test_a_role_renders_the_same_files_everywhere_from_each_hosts_facts(fleet, play, tmp_path, fleet_inventory):
    write(tmp_path / "roles/motd/defaults/main.yml", "motd_team: platform\n")
    write(tmp_path / "roles/motd/templates/motd.j2",
          "{{ inventory_hostname }} ({{ ansible_facts.os_family }}, {{ ansible_processor_vcpus }} CPUs)\n"
          "{% for g in group_names %}member of {{ g }}\n{% endfor %}managed by {{ motd_team }}\n")
    write(tmp_path / "roles/motd/tasks/main.yml", """
- name: host directory
  file: path={{ root }} state=directory
- name: motd
  template: src=motd.j2 dest={{ root }}/motd mode=0644
  notify: motd changed
""")
    write(tmp_path / "roles/motd/handlers/main.yml", """
- name: motd changed
  command: sh -c 'echo changed >> {{ root }}/events'
""")
    book = write(tmp_path / "role.yml", "- hosts: web1,web2,db1\n  roles: [motd]\n")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    groups = {"web1": "web", "web2": "web", "db1": "db"}
    for host, group in groups.items():
        root = tmp_path / "hosts" / host
        assert (root / "motd").read_text() == \
            f"{host} (Debian, {os.cpu_count()} CPUs)\nmember of {group}\nmanaged by platform\n"
        assert oct((root / "motd").stat().st_mode & 0o777) == "0o644"
        assert (root / "events").read_text() == "changed\n"
    again = play(book, inventory=fleet_inventory)
    assert again.total("changed") == 0, again


def test_host_lists_read_by_templates_conditions_and_variables(fleet, play, tmp_path, fleet_inventory):
    """groups, play_hosts and group_names mean the same both ways; a bundle
    carries the other hosts' names only to a play that may read them
    (controller/bundles.py), and the plays here read them in each place."""
    write(tmp_path / "templates/peers.j2",
          "{% for h in ansible_play_hosts %}{{ h }} {% endfor %}| {{ groups['db'] | join(',') }}\n")
    book = write(tmp_path / "lists.yml", """
- hosts: web1,web2,db1
  gather_facts: false
  vars:
    web_count: "{{ groups.web | length }}"
  tasks:
    - name: peers from a template
      template: src=peers.j2 dest={{ root }}/peers
    - name: a bare condition
      file: path={{ root }}/in-web state=directory
      when: inventory_hostname in groups.web
    - name: a play variable
      copy: content="{{ web_count }} {{ play_hosts | length }}\\n" dest={{ root }}/counts
- hosts: web1,db1
  gather_facts: false
  tasks:
    - name: own groups only
      copy: content="{{ group_names | join(',') }} {{ inventory_hostname }}\\n" dest={{ root }}/own
""")
    for host in ("web1", "web2", "db1"):
        write(tmp_path / "hosts" / host / ".keep", "")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    for host in ("web1", "web2", "db1"):
        root = tmp_path / "hosts" / host
        assert (root / "peers").read_text() == "web1 web2 db1 | db1,db2\n"
        assert (root / "in-web").is_dir() == (host != "db1")
        assert (root / "counts").read_text() == "2 3\n"
    assert (tmp_path / "hosts/web1/own").read_text() == "web web1\n"
    assert (tmp_path / "hosts/db1/own").read_text() == "db db1\n"
