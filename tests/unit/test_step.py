"""The per-task step for one host: when, loops and their controls, and what
each module call is rendered to, before anything is sent."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from celeryroot.lang.deferred import Deferred, contains_deferred
from celeryroot.lang.templating import Lazy, TemplateFailure, render
from celeryroot.lang.variables import OMIT

from celeryroot.engine.step import CALLS_PER_MESSAGE, Mode, Outcome, prepare
from celeryroot.result import result

from .conftest import REGISTRY, expand, load, tasks


def _args(prepared) -> list[dict]:
    return [call["args"] for call in prepared.calls]


def test_loop_renders_one_call_per_item_with_loop_var_and_index(tmp_path):
    (task,) = tasks(tmp_path, """
- name: dirs
  file: path=/srv/{{ d }}/{{ i }} state=directory
  loop: "{{ names }}"
  loop_control: {loop_var: d, index_var: i}
""")
    prepared = expand(task, {"names": ["a", "b", "c"]})
    assert [a["path"] for a in _args(prepared)] == ["/srv/a/0", "/srv/b/1", "/srv/c/2"]
    assert prepared.items == ["a", "b", "c"]


def test_when_is_judged_per_item(tmp_path):
    (task,) = tasks(tmp_path, """
- name: odd
  file: path=/x/{{ item }} state=directory
  loop: [1, 2, 3, 4]
  when: item % 2 == 1
""")
    prepared = expand(task)
    assert [a["path"] for a in _args(prepared)] == ["/x/1", "/x/3"]
    assert sorted(prepared.decided) == [1, 3]
    assert all(r["skipped"] for r in prepared.decided.values())


def test_with_items_flattens_one_level_and_with_dict_gives_key_value(tmp_path):
    flat, pairs = tasks(tmp_path, """
- name: flat
  debug: msg={{ item }}
  with_items: [a, [b, c], [[d]]]
- name: pairs
  debug: msg="{{ item.key }}={{ item.value }}"
  with_dict: {x: 1, y: 2}
""")
    assert expand(flat).items == ["a", "b", "c", ["d"]]
    assert [a["msg"] for a in _args(expand(pairs))] == ["x=1", "y=2"]


def test_with_dict_of_a_variable_is_a_dict2items_of_it(tmp_path):
    (task,) = tasks(tmp_path, "- name: users\n  debug: msg={{ item.key }}\n  with_dict: '{{ users }}'\n")
    assert [a["msg"] for a in _args(expand(task, {"users": {"ann": 1, "bob": 2}}))] == ["ann", "bob"]


def test_a_loop_over_a_mapping_or_a_string_fails_the_task_not_the_run(tmp_path):
    (task,) = tasks(tmp_path, "- name: bad loop\n  debug: msg={{ item }}\n  loop: '{{ value }}'\n")
    mapping = expand(task, {"value": {"a": 1}})
    assert mapping.done["failed"] and "dict2items" in mapping.done["msg"]
    text = expand(task, {"value": "abc"})
    assert text.done["failed"] and "loop must be a list" in text.done["msg"]
    assert "book.yaml:" in text.done["msg"] and "bad loop" in text.done["msg"]


def test_an_empty_loop_makes_no_calls(tmp_path):
    (task,) = tasks(tmp_path, "- name: none\n  debug: msg={{ item }}\n  loop: []\n")
    prepared = expand(task)
    assert prepared.calls == [] and prepared.done is None and prepared.items == []


def test_a_false_when_skips_without_rendering_the_arguments(tmp_path):
    (task,) = tasks(tmp_path, "- name: later\n  debug: msg={{ not_yet_defined }}\n  when: false\n")
    prepared = expand(task)
    assert prepared.done["skipped"] and not prepared.calls


def test_an_undefined_variable_fails_the_task_and_names_it(tmp_path):
    (task,) = tasks(tmp_path, "- name: undefined\n  file: path=/x/{{ nope }} state=directory\n")
    done = expand(task).done
    assert done["failed"] and "nope" in done["msg"]


def test_omit_drops_the_argument_and_task_vars_are_seen(tmp_path):
    (task,) = tasks(tmp_path, """
- name: maybe mode
  file:
    path: "/x/{{ leaf }}"
    state: directory
    mode: "{{ wanted | default(omit) }}"
  vars: {leaf: here}
""")
    (args,) = _args(expand(task, {"omit": OMIT}))
    assert args["path"] == "/x/here" and args["mode"] is None
    (args,) = _args(expand(task, {"omit": OMIT, "wanted": "0750"}))
    assert args["mode"] == "0750"


def test_task_check_mode_overrides_the_run_but_not_ansible_check_mode(tmp_path):
    """As in Ansible: ``check_mode: true`` runs the task in check mode, and
    ``ansible_check_mode`` still says whether --check was given."""
    from celeryroot.lang.inventories import load_inventory
    from celeryroot.lang.variables import HostVars

    forced, plain = tasks(tmp_path, """
- name: forced
  debug: msg="{{ ansible_check_mode }}"
  check_mode: true
- name: plain
  debug: msg="{{ ansible_check_mode }} {{ ansible_managed }}"
""")
    (tmp_path / "inv.yaml").write_text("all:\n  hosts:\n    web1:\n")
    (play,) = load(tmp_path, "- hosts: all\n  tasks: [debug: msg=x]\n")
    for check in (False, True):
        variables = HostVars(load_inventory([str(tmp_path / "inv.yaml")]), play, ["web1"], {}, {}, {},
                             check).for_host("web1")
        (call,) = expand(forced, variables).calls
        assert call["check"] is True and call["args"]["msg"] is check
        (call,) = expand(plain, variables, check=check).calls
        assert call["check"] is check and call["args"]["msg"] == f"{check} Ansible managed"


def test_variables_of_variables_reach_the_module_rendered(tmp_path):
    """A role default, an inventory variable, a play var and an extra var
    that refer to other variables are rendered where the task uses them,
    with the task's own vars among those."""
    from celeryroot.lang.inventories import load_inventory
    from celeryroot.lang.variables import HostVars

    (tmp_path / "roles/svc/defaults").mkdir(parents=True)
    (tmp_path / "roles/svc/defaults/main.yml").write_text('role_default_state: "{{ wanted }}"\n')
    (tmp_path / "roles/svc/tasks").mkdir()
    (tmp_path / "roles/svc/tasks/main.yml").write_text(
        '- service: {name: "{{ unit }}", state: "{{ role_default_state }}", enabled: "{{ on_boot }}"}\n'
        '  vars: {suffix: from-task}\n')
    (tmp_path / "inv.yaml").write_text('all:\n  hosts:\n    web1: {unit: "nginx-{{ suffix }}"}\n')
    (play,) = load(tmp_path, '- hosts: all\n  gather_facts: false\n  vars: {wanted: restarted}\n'
                             '  roles: [svc]\n')
    hostvars = HostVars(load_inventory([str(tmp_path / "inv.yaml")]), play, ["web1"], {"on_boot": "{{ 1 == 1 }}"},
                        {}, {}, check=False)
    (task,) = play.tasks
    (call,) = prepare(task, hostvars.for_host("web1"), Mode(), REGISTRY, hostvars.above("web1")).calls
    assert (call["args"]["name"], call["args"]["state"], call["args"]["enabled"]) == \
        ("nginx-from-task", "restarted", True)


def _preflight(task, variables: dict):
    """The step as preflight runs it: deferred, stand-ins for what only the run knows."""
    return prepare(task, variables, Mode(deferred=True), REGISTRY)


def test_preflight_skips_a_task_only_when_its_when_is_false_already(tmp_path):
    known, by_result, by_var, by_fact = tasks(tmp_path, """
- debug: msg={{ nope }}
  when: off_switch
- debug: msg={{ nope }}
  when: r.rc == 0
- debug: msg={{ nope }}
  when: derived
- debug: msg={{ nope }}
  when: ansible_os_family is defined
""")
    variables = {"off_switch": False, "r": Deferred(), "derived": Lazy("{{ r.rc > 1 }}")}
    assert _preflight(known, variables).done["skipped"] is True
    for task in (by_result, by_var, by_fact):  # may run: checked, so the undefined variable is found
        with pytest.raises((TemplateFailure, UndefinedError)):
            _preflight(task, variables)


def test_arithmetic_on_a_stand_in_is_a_stand_in():
    facts = {"ansible_facts": Deferred()}
    for template in ("{{ ansible_facts.memtotal_mb * 2 }}", "{{ 2 ** ansible_facts.x - 1 }}",
                     "{{ (ansible_facts.x / 2) | round }}", "{{ ansible_facts.x > 3 }}", "{{ -ansible_facts.x % 4 }}"):
        assert contains_deferred(render(template, facts)), template


def test_a_long_loop_is_built_round_by_round_and_folds_as_one(tmp_path):
    """Past one round (CALLS_PER_MESSAGE calls) a loop holds one round of
    calls at a time; answered round by round, its result is the whole
    loop's, the skipped items in their places."""
    (task,) = tasks(tmp_path, """
- name: many
  debug: msg={{ item }}
  loop: "{{ range(25000) | list }}"
  when: item % 1000 != 0
""")
    prepared = expand(task)
    outcome, res, rounds = Outcome(task, prepared, {}), None, []
    while res is None:
        rounds.append((prepared.start, len(prepared.calls), prepared.calls[0]["index"]))
        res = outcome.add([result("ok", str(call["index"])) for call in prepared.calls])
    assert rounds == [(0, CALLS_PER_MESSAGE, 1), (10_000, CALLS_PER_MESSAGE, 10_011), (20_000, 4975, 20_021)]
    summary = res["results_summary"]
    assert summary["items"] == 25_000 and summary["by_status"] == {"ok": 24_975, "skipped": 25}
    assert [r["item"] for r in res["results"][:3]] == [0, 1, 2] and res["results"][0]["skipped"]
    assert res["results"][1]["msg"] == "1"


def test_a_round_that_cannot_be_rendered_fails_the_task_after_the_rounds_before(tmp_path):
    (task,) = tasks(tmp_path, """
- name: bad late
  debug: msg={{ item.name }}
  loop: "{{ [{'name': 'a'}] * 10000 + [{}] }}"
""")
    prepared = expand(task)
    assert prepared.done is None and len(prepared.calls) == CALLS_PER_MESSAGE
    outcome = Outcome(task, prepared, {})
    res = outcome.add([result("ok", "") for _ in prepared.calls])
    assert res["failed"] and "task 'bad late'" in res["msg"] and "name" in res["msg"]
