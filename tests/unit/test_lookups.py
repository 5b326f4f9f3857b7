"""Lookups at their edges: how ``lookup`` shapes a result, ``errors=``, the
plugins' own checks, the controller files they read and write, and the
``with_*`` loops the step runs them for (tests/test_lookups.py compares
the ordinary cases with ansible-playbook)."""

from __future__ import annotations

import os
import stat

import pytest

from celeryroot.engine.step import Mode, prepare
from celeryroot.lang.deferred import Deferred
from celeryroot.lang.templating import TemplateFailure, UndefinedFailure, render

from .conftest import REGISTRY, expand, tasks

GROUPS = {"all": ["web1", "web2", "db1"], "ungrouped": [], "web": ["web1", "web2"], "db": ["db1"]}


@pytest.fixture
def book(tmp_path):
    """A playbook directory with files/ and templates/, and its variables."""
    for rel, text in {"files/a.csv": "k\tone\ttwo\nq\tx\ty\n", "files/app.ini": "[main]\nName = Ann\n",
                      "files/x1.conf": "", "files/sub/y1.conf": "", "templates/t.j2": "T {{ v }}\n",
                      "files/t.j2": "F\n"}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path, {"playbook_dir": str(tmp_path), "ansible_search_path": [str(tmp_path)], "groups": GROUPS,
                      "v": 1, "letters": ["a", "b"]}


def value(text: str, variables: dict):
    return render(text, variables)


def failure(text: str, variables: dict) -> str:
    with pytest.raises(TemplateFailure) as caught:
        render(text, variables)
    return str(caught.value)


@pytest.mark.parametrize("text, expected", [
    ("{{ lookup('list', []) }}", []),
    ("{{ lookup('list', 'a') }}", "a"),
    ("{{ lookup('list', 'a', 'b') }}", "a,b"),
    ("{{ lookup('list', 1, 2) }}", [1, 2]),
    ("{{ lookup('list', 'a', wantlist=true) }}", ["a"]),
    ("{{ query('list', 'a') }}", ["a"]),
    ("{{ lookup('file', 'nope', errors='ignore') }}", None),
    ("{{ lookup('file', 'nope', errors='ignore', wantlist=true) }}", []),
    ("{{ query('file', 'nope', errors='ignore') }}", []),
])
def test_lookup_shapes_its_result_as_ansibles_does(book, text, expected):
    assert value(text, book[1]) == expected


def test_errors_warn_says_so_on_stderr_and_goes_on(book, capsys):
    assert value("{{ lookup('file', 'nope', errors='warn') }}", book[1]) is None
    assert "[WARNING]: an error occurred while running the lookup plugin 'file'" in capsys.readouterr().err


def test_an_undefined_term_fails_whatever_errors_says(book):
    with pytest.raises(UndefinedFailure, match="nothing_here"):
        render("{{ lookup('file', nothing_here, errors='ignore') }}", book[1])


@pytest.mark.parametrize("text, message", [
    ("{{ lookup('nope') }}", "lookup plugin 'nope' not found (celeryroot has: csvfile, dict"),
    ("{{ lookup('list', 1, errors='loud') }}", "errors must be one of strict, warn, ignore"),
    ("{{ lookup('dict', [1]) }}", "the dict lookup expects a mapping"),
    ("{{ query('nested') }}", "with_nested needs at least one list"),
    ("{{ query('together') }}", "with_together needs at least one list"),
    ("{{ query('sequence', 'start=5 end=1') }}", "to count backwards make stride negative"),
    ("{{ query('sequence', 'start=1 end=5 stride=-1') }}", "to count forward don't make stride negative"),
    ("{{ query('sequence', 'count=2 end=5') }}", "give count or end, not both"),
    ("{{ query('sequence', 'start=1') }}", "give count or end"),
    ("{{ query('sequence', 'end=3 step=1') }}", "unrecognized argument 'step=1'"),
    ("{{ query('sequence', 'end=x') }}", "can't parse 'x' as an integer"),
    ("{{ query('sequence', 'end=3 format=%d%d') }}", "bad formatting string"),
    ("{{ query('subelements', [{'a': 1}], 'b') }}", "could not find 'b' key"),
    ("{{ query('subelements', [{'a': 1}], 'a') }}", "the key a should point to a list"),
    ("{{ query('subelements', [1], 'a') }}", "subelements expects mappings, got 1"),
    ("{{ query('subelements', 'x', 'a') }}", "subelements expects a list or mapping"),
    ("{{ query('subelements', [], 'a', {'skip': 1}) }}", "the third term may only be"),
    ("{{ lookup('vars', 'nope') }}", "no variable named 'nope' was found"),
    ("{{ query('varnames', '(') }}", "'(' is not a regular expression"),
    ("{{ lookup('pipe', 'exit 3') }}", "lookup_plugin.pipe(exit 3) returned 3"),
    ("{{ query('lines', 'false') }}", "lookup_plugin.lines(false) returned 1"),
    ("{{ lookup('first_found', ['no1', 'no2']) }}", "none of these files was found: no1, no2"),
    ("{{ lookup('first_found', {'files': ['a'], 'path': ['b']}) }}", "unknown option 'path'"),
    ("{{ lookup('ini', 'x', section='nope', file='app.ini') }}", "no section 'nope' in app.ini"),
    ("{{ lookup('ini', 'x', bogus=1) }}", "unexpected keyword argument 'bogus'"),
    ("{{ lookup('csvfile', 'k', file='missing.csv') }}", "could not find or access 'missing.csv'"),
    ("{{ lookup('csvfile', 'k nope=1', file='a.csv') }}", "'nope' is not an option"),
    ("{{ lookup('csvfile', 'file=a.csv') }}", "no key to look up"),
    ("{{ lookup('password', '/dev/null encrypt=sha512_crypt') }}", "keeps passwords in clear only"),
    ("{{ lookup('password', 'pw lenght=5') }}", "unrecognized parameter 'lenght=5'"),
])
def test_a_lookup_that_cannot_says_why(book, text, message):
    assert message in failure(text, book[1])


@pytest.mark.parametrize("text, expected", [
    ("{{ query('sequence', 'start=0x0f00 count=3 format=%04x') }}", ["0f00", "0f01", "0f02"]),
    ("{{ query('sequence', 'start=010 end=012') }}", ["10", "11", "12"]),
    ("{{ query('sequence', 'start=3 end=1 stride=-1') }}", ["3", "2", "1"]),
    ("{{ query('sequence', 'count=0') }}", []),
    ("{{ query('sequence', '4:host%02d') }}", ["host01", "host02", "host03", "host04"]),
    ("{{ query('sequence', start=2, end=3) }}", ["2", "3"]),
    ("{{ query('flattened', [1, [2, [3, [4]]]]) }}", [1, 2, 3, 4]),
    ("{{ query('subelements', [{'n': 1, 'a': {'b': [1, 2]}}], 'a.b') | map(attribute=1) | list }}", [1, 2]),
    ("{{ query('subelements', {'skipped': true, 'results': []}, 'x') }}", []),
    ("{{ query('subelements', [{'n': 1, 'skipped': true}, {'n': 2, 'l': [3]}], 'l') }}", [[{"n": 2}, 3]]),
    ("{{ query('subelements', [{'a': {'b': [1], 'c': 2}}], 'a.b') }}", [[{"a": {"c": 2}}, 1]]),
    ("{{ query('random_choice') }}", []),
    ("{{ query('inventory_hostnames', 'web:!web2') }}", ["web1"]),
    ("{{ query('inventory_hostnames', 'db', 'web1') }}", ["db1", "web1"]),
    ("{{ query('inventory_hostnames', 'nowhere') }}", []),
    ("{{ query('varnames', '^lett', '^v$') }}", ["letters", "v"]),
    ("{{ lookup('env', 'CELERYROOT_SURELY_UNSET') }}", ""),
    ("{{ lookup('csvfile', 'k', file='a.csv') }}", "one"),
    ("{{ lookup('csvfile', 'q file=a.csv col=2') }}", "y"),
    ("{{ query('csvfile', 'zzz', file='a.csv') }}", []),
    ("{{ lookup('ini', 'name', section='main', file='app.ini') }}", "Ann"),
    ("{{ query('ini', 'Name', section='main', file='app.ini', case_sensitive=true) }}", ["Ann"]),
    ("{{ lookup('ini', 'nope', section='main', file='app.ini', default='d') }}", "d"),
    ("{{ query('fileglob', 'sub/*.conf') | map('basename') | list }}", ["y1.conf"]),
    ("{{ query('first_found', {'files': 'no,x1.conf', 'paths': 'files'}) | map('basename') | list }}",
     ["x1.conf"]),
    ("{{ lookup('pipe', 'pwd') | basename }}", None),  # filled in below: the playbook's directory
])
def test_lookup_edges(book, text, expected):
    path, variables = book
    assert value(text, variables) == (path.name if expected is None else expected)


def test_password_is_made_once_on_the_controller_readable_by_its_owner_only(book):
    path, variables = book
    made = value("{{ lookup('password', 'secrets/db length=16') }}", variables)
    again = value("{{ lookup('password', 'secrets/db length=99 chars=digits') }}", variables)
    assert made == again and len(made) == 16
    stored = path / "secrets" / "db"
    assert stored.read_text() == made + "\n"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE((path / "secrets").stat().st_mode) == 0o700
    assert [p.name for p in (path / "secrets").iterdir()] == ["db"]  # no temporary file left


def test_password_chars_seed_and_a_salt_ansible_kept(book):
    path, variables = book
    digits = value("{{ lookup('password', '/dev/null length=30 chars=digits') }}", variables)
    assert digits.isdigit() and len(digits) == 30
    assert not (path / "dev").exists()
    seeded = "{{ lookup('password', '/dev/null seed=7 chars=ascii_lowercase,,') }}"
    assert value(seeded, variables) == value(seeded, variables)
    assert set(value(seeded, variables)) <= set("abcdefghijklmnopqrstuvwxyz,")
    (path / "old").write_text("s3cret salt=abcdefgh\n")
    assert value("{{ lookup('password', 'old') }}", variables) == "s3cret"


def test_with_loops_run_their_lookup_with_the_tasks_variables(book, tmp_path):
    _, variables = book
    flat, pairs, first, seq = tasks(tmp_path, """
- debug: msg={{ item }}
  with_items: "{{ nested }}"
- debug: msg={{ item.key }}
  with_dict: "{{ users }}"
- template: {src: "{{ item }}", dest: /tmp/x}
  with_first_found: [nope.j2, t.j2]
- debug: msg={{ item }}
  with_sequence: start=1 end={{ last }}
""")
    scope = {**variables, "nested": [1, [2, 3]], "users": {"ann": 1}, "last": 2}
    assert expand(flat, scope).items == [1, 2, 3]
    assert expand(pairs, scope).items == [{"key": "ann", "value": 1}]
    # with_first_found on a template task looks in templates/ first, as Ansible's does
    assert expand(first, scope).items == [os.path.join(variables["playbook_dir"], "templates", "t.j2")]
    assert expand(seq, scope).items == ["1", "2"]


def test_with_first_found_passes_over_names_of_undefined_variables(book, tmp_path):
    _, variables = book
    (task,) = tasks(tmp_path, """
- debug: msg={{ item }}
  with_first_found:
    - "{{ ansible_distribution }}.conf"
    - files: ["{{ nope }}", x1.conf]
""")
    assert expand(task, variables).items == [os.path.join(variables["playbook_dir"], "files", "x1.conf")]
    (strict,) = tasks(tmp_path, "- debug: msg={{ item }}\n  with_file: ['{{ nope }}']\n")
    assert "undefined variable: 'nope' is undefined" in expand(strict, variables).done["msg"]


def test_a_failing_with_lookup_fails_the_task_and_preflight_waits_for_what_only_the_run_knows(tmp_path):
    (task,) = tasks(tmp_path, "- debug: msg={{ item }}\n  with_subelements: ['{{ found }}', files]\n")
    failed = expand(task, {"found": [{"name": "x"}]})
    assert failed.done["failed"] and "could not find 'files' key" in failed.done["msg"]
    deferred = prepare(task, {"found": Deferred()}, Mode(deferred=True), REGISTRY)
    assert len(deferred.items) == 1 and isinstance(deferred.items[0], Deferred)


def test_the_index_var_is_there_for_when_and_in_each_items_result(tmp_path):
    from celeryroot.engine.step import finish

    (task,) = tasks(tmp_path, "- debug: msg={{ item }}\n  with_list: [a, b]\n"
                              "  loop_control: {index_var: i}\n  when: i == 1\n")
    prepared = expand(task)
    assert sorted(prepared.decided) == [0] and len(prepared.calls) == 1
    res = finish(task, prepared, [{"status": "ok", "changed": False, "failed": False, "skipped": False, "msg": "b"}],
                 {})
    assert [(r["i"], r["ansible_index_var"], r["ansible_loop_var"]) for r in res["results"]] == \
        [(0, "i", "item"), (1, "i", "item")]
