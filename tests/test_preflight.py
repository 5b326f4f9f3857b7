"""The preflight on real workers: it checks what can be known before the run
and defers the rest (issue 13, item 13). A task whose ``when`` is already
false is not rendered; a value computed from facts or registered results is
not judged before the run knows it; ``--syntax-check`` refuses what
``--list-tasks`` refuses; nothing ends in a traceback."""

from __future__ import annotations

import re

import pytest

from conftest import write

BAD_INVENTORY = "all:\n  hosts:\n    ghost1: {}\n"


def test_a_task_whose_when_is_false_is_not_rendered(fleet, play, tmp_path, fleet_inventory):
    book = write(tmp_path / "when.yml", """
- hosts: web1
  gather_facts: false
  vars: {wanted: false}
  tasks:
    - name: never
      debug: msg="{{ nope }}"
      when: false
    - name: only when defined
      debug: msg="{{ maybe }}"
      when: maybe is defined
    - name: switched off
      file: path={{ nowhere }} state=directory
      when: wanted
    - name: looped off
      debug: msg="{{ item.missing }}"
      loop: [1, 2]
      when: wanted
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    for name in ("never", "only when defined", "switched off", "looped off"):
        assert out.results(name)["web1"]["skipped"] is True, name


def test_a_when_the_run_decides_still_has_its_task_checked(play, tmp_path):
    """A condition on a registered result is unknown before the run: the
    task may run, so its undefined variable is still an error up front."""
    inventory = write(tmp_path / "inventory.yaml", BAD_INVENTORY)
    book = write(tmp_path / "site.yml", """
- hosts: all
  gather_facts: false
  tasks:
    - command: "true"
      register: r
    - name: uses nope
      debug: msg="{{ nope }}"
      when: r.rc == 0
""")
    out = play(book, "--syntax-check", inventory=inventory, json_out=False)
    assert out.rc == 1 and re.search(r"task 'uses nope' for host 'ghost1': .*'nope' is undefined", out.stderr), out


def test_arithmetic_on_facts_and_results_is_left_to_the_run(fleet, play, tmp_path, fleet_inventory):
    book = write(tmp_path / "facts.yml", """
- hosts: web1
  vars:
    twice: "{{ ansible_memtotal_mb * 2 }}"
    half: "{{ (ansible_facts.memtotal_mb / 2) | int }}"
    big: "{{ ansible_facts.memtotal_mb > 1 }}"
  tasks:
    - command: echo 4
      register: four
    - name: sums
      debug: msg="{{ twice }} {{ half }} {{ big }} {{ four.stdout | int + 1 }} {{ -ansible_facts.processor_vcpus }}"
    - name: a fact in a loop
      debug: msg="{{ item }}"
      loop: "{{ range(ansible_facts.processor_vcpus * 0, 2) | list }}"
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    msg = out.results("sums")["web1"]["msg"]
    twice, half, big, five, minus = msg.split()
    assert int(twice) in (4 * int(half), 4 * int(half) + 2), msg
    assert (big, five) == ("True", "5") and int(minus) < 0, msg
    assert len(out.results("a fact in a loop")["web1"]["results"]) == 2


def test_a_role_variable_from_facts_is_not_refused_by_a_type_check(fleet, play, tmp_path, fleet_inventory):
    write(tmp_path / "roles/tuned/defaults/main.yml",
          "level: \"{{ ansible_facts.processor_vcpus * 0 }}\"\ndeep: \"{{ ansible_facts.memtotal_mb < 0 }}\"\n")
    write(tmp_path / "roles/tuned/tasks/main.yml", """
- name: typed
  debug: msg=tuned verbosity="{{ level }}"
- name: boolean
  file: path={{ root }} state=directory recurse="{{ deep }}"
""")
    book = write(tmp_path / "site.yml", "- hosts: web1\n  roles: [tuned]\n")
    syntax = play(book, "--syntax-check", inventory=fleet_inventory, json_out=False)
    assert syntax.rc == 0, syntax
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    assert out.results("tuned : boolean")["web1"]["changed"] is True


def test_a_filter_given_a_variable_built_from_facts_is_left_to_the_run(fleet, play, tmp_path, fleet_inventory):
    """Before the run the fact is missing, so the variable is undefined; the
    filter must not judge that value (``combine expects dictionaries, got
    Undefined``, found by the differential suite), the run renders it."""
    book = write(tmp_path / "combine.yml", """
- hosts: web1
  vars:
    settings: {server: {port: 8000, workers: 2}}
    overrides: {server: {workers: "{{ ansible_processor_vcpus }}"}}
    config: "{{ settings | combine(overrides, recursive=True) }}"
  tasks:
    - name: merged
      debug: msg="{{ config | to_nice_yaml }}"
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    assert out.results("merged")["web1"]["msg"].startswith("server:\n    port: 8000\n    workers: "), out


def test_what_can_be_known_is_still_checked(play, tmp_path):
    inventory = write(tmp_path / "inventory.yaml", BAD_INVENTORY)
    write(tmp_path / "roles/tuned/defaults/main.yml", "level: many\n")
    write(tmp_path / "roles/tuned/tasks/main.yml", "- debug: msg=x verbosity=\"{{ level }}\"\n")
    book = write(tmp_path / "site.yml", "- hosts: all\n  roles: [tuned]\n")
    out = play(book, "--syntax-check", inventory=inventory, json_out=False)
    assert out.rc == 1 and "argument 'verbosity'" in out.stderr, out


LISTED_AND_CHECKED = [
    "- hosts: all\n  tasks:\n    - debug: msg={{ nope }}\n",
    "- hosts: all\n  tasks:\n    - file: path=/x state=folder\n",
    "- hosts: all\n  tasks:\n    - debug: msg=x verbosity={{ 'many' }}\n",
    "- hosts: all\n  tasks:\n    - ping:\n      loop: 5\n",
    "- hosts: nowhere\n  tasks:\n    - ping:\n",
    "- hosts: all\n  tasks:\n    - debug: msg={{ 1 // 0 }}\n",
]


@pytest.mark.parametrize("text", LISTED_AND_CHECKED)
def test_syntax_check_refuses_what_list_tasks_refuses(play, tmp_path, text):
    inventory = write(tmp_path / "inventory.yaml", BAD_INVENTORY)
    book = write(tmp_path / "site.yml", text)
    listed = play(book, "--list-tasks", inventory=inventory, json_out=False)
    checked = play(book, "--syntax-check", inventory=inventory, json_out=False)
    assert listed.rc == checked.rc == 1, (listed, checked)
    assert listed.stderr == checked.stderr and "Traceback" not in checked.stderr


def test_include_vars_files_known_up_front_are_checked_before_the_run(local_play, tmp_path):
    """A vars file named plainly (or by play and extra variables) that is
    missing or broken stops the run before any host is contacted; one named
    by what only the run knows fails that host's task, saying where."""
    write(tmp_path / "vars/list.yml", "- not\n- a mapping\n")
    missing = write(tmp_path / "missing.yml", "- hosts: all\n  gather_facts: false\n  vars: {name: nope}\n"
                                              "  tasks:\n    - debug: msg=first\n"
                                              "    - include_vars: \"{{ name }}.yml\"\n")
    out = local_play(missing, "-i", "localhost,")
    assert out.rc == 1 and f"{missing}:6:7" in out.stderr and "could not find or access 'nope.yml'" in out.stderr
    assert "first" not in out.stdout, out
    later = write(tmp_path / "later.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n"
                                          "    - set_fact: {name: list}\n"
                                          "    - include_vars: \"{{ name }}.yml\"\n")
    out = local_play(later, "-i", "localhost,")
    (res,) = out.results("include_vars").values()
    assert out.rc == 2 and res["failed"] and f"{tmp_path / 'vars/list.yml'}:1:1" in res["msg"], res


def test_includes_carried_out_at_run_time_are_checked_as_far_as_known(local_play, tmp_path):
    """An include that loops has every file it can name before the run
    checked before any host is contacted (each item of a literal loop);
    one named by a result is checked when it is included, a bad one failing
    the host's include with its file:line; what an included file registers
    is known to the preflight of the tasks after it."""
    write(tmp_path / "tasks/good.yml", "- command: echo {{ n }}\n  register: said\n")
    write(tmp_path / "tasks/bad.yml", "- file: path=/x state=folder\n")
    looped = write(tmp_path / "looped.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n"
                                            "    - debug: msg=first\n"
                                            "    - include_tasks: \"tasks/{{ item }}.yml\"\n"
                                            "      loop: [good, bad]\n")
    out = local_play(looped, "-i", "localhost,")
    assert out.rc == 1 and f"{tmp_path / 'tasks/bad.yml'}:1:" in out.stderr and "state" in out.stderr, out
    missing = write(tmp_path / "missing.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n"
                                              "    - include_tasks: \"tasks/{{ item }}.yml\"\n"
                                              "      loop: [good, gone]\n")
    out = local_play(missing, "-i", "localhost,")
    assert out.rc == 1 and f"{missing}:4:22" in out.stderr and "cannot find 'tasks/gone.yml'" in out.stderr, out
    later = write(tmp_path / "later.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n"
                                          "    - include_tasks: tasks/good.yml\n"
                                          "      loop: [1, 2]\n      loop_control: {loop_var: n}\n"
                                          "    - command: echo bad\n      register: which\n"
                                          "    - include_tasks: \"tasks/{{ which.stdout }}.yml\"\n"
                                          "    - debug: msg=\"{{ said.stdout }}\"\n")
    out = local_play(later, "-i", "localhost,")
    (res,) = out.results("include_tasks").values()
    assert out.rc == 2 and res["failed"] and f"{tmp_path / 'tasks/bad.yml'}:1:" in res["msg"], res
