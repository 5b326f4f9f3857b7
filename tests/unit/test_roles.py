"""Where roles are found: Ansible's places in Ansible's order, a name that
is a path joined to each, and a path that is no role an error."""

import pytest

from celeryroot.lang.playbook import load_playbook
from celeryroot.lang.source import InputError

from .conftest import REGISTRY


def _role(base, name, task="t"):
    (base / name / "tasks").mkdir(parents=True)
    (base / name / "tasks/main.yml").write_text(f"- name: {task}\n  ping:\n")


def _book(path, roles):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"- hosts: all\n  gather_facts: false\n  roles: {roles}\n")
    return path


def _loaded(book, roles_path=()):
    return [(t.role, t.name) for t in load_playbook(book, REGISTRY, roles_path=roles_path).plays[0].tasks]


def test_galaxys_tests_wrapper_names_the_role_it_sits_in(tmp_path):
    _role(tmp_path, "myrole")
    assert _loaded(_book(tmp_path / "myrole/tests/test.yml", "['../../']")) == [("myrole", "t")]


def test_the_roles_path_comes_before_the_playbooks_own_directory(tmp_path):
    _role(tmp_path / "shelf", "common", "from the roles path")
    _role(tmp_path, "common", "beside the playbook")
    _role(tmp_path / "roles", "web", "from roles/")
    _role(tmp_path / "shelf", "web", "web from the roles path")
    assert _loaded(_book(tmp_path / "book.yml", "[web, common]"), [str(tmp_path / "shelf")]) == \
        [("web", "from roles/"), ("common", "from the roles path")]


def test_a_dependency_is_found_beside_the_role_that_needs_it(tmp_path):
    _role(tmp_path / "vendor", "parent", "parent")
    (tmp_path / "vendor/parent/meta").mkdir()
    (tmp_path / "vendor/parent/meta/main.yml").write_text("dependencies: [child]\n")
    _role(tmp_path / "vendor", "child", "child")
    assert _loaded(_book(tmp_path / "book.yml", "[vendor/parent]")) == [("child", "child"), ("parent", "parent")]


def test_a_role_with_only_defaults_is_a_role(tmp_path):
    (tmp_path / "roles/settings/defaults").mkdir(parents=True)
    (tmp_path / "roles/settings/defaults/main.yml").write_text("x: 1\n")
    book = _book(tmp_path / "book.yml", "[settings]")
    assert load_playbook(book, REGISTRY).plays[0].role_defaults == {"x": 1}


def test_a_path_that_is_no_role_is_an_error_at_its_line(tmp_path):
    (tmp_path / "myrole/tests").mkdir(parents=True)
    book = _book(tmp_path / "myrole/tests/test.yml", "['../']")
    with pytest.raises(InputError) as caught:
        load_playbook(book, REGISTRY)
    assert str(caught.value).startswith(f"{book}:3:11: role '../' is {tmp_path / 'myrole/tests'}, which is not a role")


def test_a_role_entrys_keywords_are_its_tasks_and_other_keys_its_parameters(tmp_path):
    _role(tmp_path / "roles", "web")
    book = _book(tmp_path / "book.yml", "[{role: web, become: true, become_user: www-data, no_log: true, "
                                        "environment: {LANG: C}, port_number: 8080}]")
    (task,) = load_playbook(book, REGISTRY).plays[0].tasks
    assert (task.become, task.become_user, task.no_log, task.environment) == (True, "www-data", True, {"LANG": "C"})
    assert task.vars == {"port_number": 8080}
