"""Jinja2 as Ansible users write it: a table of expressions and their values,
rendered through celeryroot.lang.templating.render. Expected values were checked
against ansible-core's own filters where the two could differ."""

import hashlib
import os

import pytest
from conftest import write

from celeryroot.lang.templating import TemplateFailure, render

USERS = [{"name": "ann", "admin": True, "shell": "/bin/bash"},
         {"name": "bob", "admin": False, "shell": "/bin/sh"}]
VARS = {
    "s": "Hello World", "n": "42", "empty": "", "nothing": None, "path": "/etc/nginx/nginx.conf",
    "d": {"a": 1, "b": {"c": 2}}, "users": USERS, "ports": [80, 443],
    "hostvars": {"web1": {"ip": "10.0.0.1", "net": {"mtu": 1500}}, "web2": {"ip": "10.0.0.2"}},
    "ok_res": {"changed": False, "failed": False, "skipped": False},
    "changed_res": {"changed": True, "failed": False},
    "failed_res": {"changed": False, "failed": True, "msg": "boom"},
    "skipped_res": {"changed": False, "skipped": True},
    "loop_res": {"results": [{"changed": False}, {"changed": True}]},
    "unreachable_res": {"failed": True, "unreachable": True},
}

CASES = [
    # the text around one expression, as ansible-core 2.19 renders it: a
    # string keeps its trailing newline, one newline after a value drops
    # (Jinja's), any other text makes a string
    ("{{ s }}\n", "Hello World\n"), ("{{ s }}\n\n", "Hello World\n\n"), ("{{ ports }}\n", [80, 443]),
    ("{{ ports }}\n\n", "[80, 443]\n\n"), (" {{ 5 }}", " 5"), ("{{ 5 }} ", "5 "), ("\n{{ s }}", "\nHello World"),
    ("{{ nothing }}\n", None),
    # default, including Ansible's chains through missing attributes
    ("{{ missing | default('x') }}", "x"),
    ("{{ missing.attr.deeper | default('x') }}", "x"),
    ("{{ d.nope | default('x') }}", "x"),
    ("{{ d.a | default('x') }}", 1),
    ("{{ empty | default('x') }}", ""),
    ("{{ empty | default('x', true) }}", "x"),
    ("{{ missing | d(ports) }}", [80, 443]),
    # bool and int
    ("{{ 'yes' | bool }}", True), ("{{ 'Off' | bool }}", False), ("{{ 'TRUE' | bool }}", True),
    ("{{ 1 | bool }}", True), ("{{ 2 | bool }}", False), ("{{ 'y' | bool }}", False), ("{{ nothing | bool }}", False),
    ("{{ n | int + 1 }}", 43), ("{{ 'x' | int }}", 0), ("{{ '0x1F' | int(base=16) }}", 31),
    ("{{ '12.7' | float | round | int }}", 13),
    # strings, paths, encodings
    ("{{ ports | join(',') }}", "80,443"),
    ("{{ path | basename }}", "nginx.conf"), ("{{ path | dirname }}", "/etc/nginx"),
    ("{{ path | splitext }}", ["/etc/nginx/nginx", ".conf"]),
    ("{{ \"it's here\" | quote }}", "'it'\"'\"'s here'"),
    ("{{ 'hi there' | b64encode }}", "aGkgdGhlcmU="), ("{{ 'aGkgdGhlcmU=' | b64decode }}", "hi there"),
    ("{{ 'a,b,,c' | split(',') }}", ["a", "b", "", "c"]),
    ("{{ 'x' | hash('md5') }}", hashlib.md5(b"x").hexdigest()),
    ("{{ 'x' | checksum }}", hashlib.sha1(b"x").hexdigest()),
    ("{{ 'example.com' | to_uuid }}", "ae780c3a-a3ab-53c2-bfb4-098da300b3fe"),
    ("{{ s | mandatory }}", "Hello World"),
    ("{{ (n | int > 40) | ternary('big', 'small') }}", "big"),
    ("{{ nothing | ternary('y', 'n', 'none') }}", "none"),
    # regular expressions
    ("{{ s | regex_replace('o', '0') }}", "Hell0 W0rld"),
    ("{{ 'abc123' | regex_replace('^([a-z]+)(\\d+)$', '\\2-\\1') }}", "123-abc"),
    ("{{ s | regex_replace('WORLD', 'there', ignorecase=true) }}", "Hello there"),
    ("{{ 'abc123' | regex_search('\\d+') }}", "123"),
    ("{{ 'abc123' | regex_search('([a-z]+)(?P<num>\\d+)', '\\1', '\\g<num>') }}", ["abc", "123"]),
    ("{{ 'nothing here' | regex_search('\\d+') }}", None),
    ("{{ 'a1b22c333' | regex_findall('\\d+') }}", ["1", "22", "333"]),
    ("{{ 'a.b*' | regex_escape }}", "a\\.b\\*"),
    # JSON and YAML
    ("{{ d | to_json }}", '{"a": 1, "b": {"c": 2}}'),
    ("{{ {'b': 1, 'a': [1]} | to_nice_json }}", '{\n    "a": [\n        1\n    ],\n    "b": 1\n}'),
    ("{{ {'b': [1, 2], 'a': 'yes', 'c': {'x': 'on', 'z': ''}} | to_nice_yaml }}",
     "a: 'yes'\nb:\n- 1\n- 2\nc:\n    x: 'on'\n    z: ''\n"),
    ("{{ {'b': [1, 2], 'a': 'yes', 'c': {'x': 1}} | to_yaml }}", "a: 'yes'\nb: [1, 2]\nc: {x: 1}\n"),
    ("{{ 'a: 1\nb: [x, yes]' | from_yaml }}", {"a": 1, "b": ["x", True]}),
    ("{{ '---\nmode: 0640\nx: on\ny: y' | from_yaml }}", {"mode": 0o640, "x": True, "y": "y"}),
    ("{{ '{\"k\": [1]}' | from_json }}", {"k": [1]}),
    # dictionaries and lists
    ("{{ d | combine({'b': {'x': 3}}) }}", {"a": 1, "b": {"x": 3}}),
    ("{{ d | combine({'b': {'x': 3}}, recursive=true) }}", {"a": 1, "b": {"c": 2, "x": 3}}),
    ("{{ {'l': [1, 2]} | combine({'l': [2, 3]}, list_merge='append') }}", {"l": [1, 2, 2, 3]}),
    ("{{ {'l': [1, 2]} | combine({'l': [2, 3]}, list_merge='append_rp') }}", {"l": [1, 2, 3]}),
    ("{{ {'l': [1, 2]} | combine({'l': [3]}, list_merge='prepend') }}", {"l": [3, 1, 2]}),
    ("{{ [{'a': 1}, {'b': 2}] | combine }}", {"a": 1, "b": 2}),
    ("{{ {'x': 1, 'y': 2} | dict2items }}", [{"key": "x", "value": 1}, {"key": "y", "value": 2}]),
    ("{{ {'x': 1} | dict2items(key_name='k', value_name='v') }}", [{"k": "x", "v": 1}]),
    ("{{ [{'key': 'x', 'value': 1}] | items2dict }}", {"x": 1}),
    ("{{ {'x': 1, 'y': 2} | dict2items | items2dict }}", {"x": 1, "y": 2}),
    ("{{ [1, [2, [3, None]], 'null'] | flatten }}", [1, 2, 3]),
    ("{{ [1, [2, [3]]] | flatten(levels=1) }}", [1, 2, [3]]),
    ("{{ [1, 2, 2] | union([3, 1]) }}", [1, 2, 3]),
    ("{{ [1, 2, 3] | intersect([3, 2, 9]) }}", [2, 3]),
    ("{{ [1, 2, 3] | difference([2]) }}", [1, 3]),
    ("{{ [1, 2] | symmetric_difference([2, 3]) }}", [1, 3]),
    ("{{ ['a', 'b'] | zip([1, 2]) | list }}", [["a", 1], ["b", 2]]),
    ("{{ ['a'] | product([1, 2]) | list }}", [["a", 1], ["a", 2]]),
    ("{{ ['web1', 'web2'] | map('extract', hostvars, 'ip') | list }}", ["10.0.0.1", "10.0.0.2"]),
    ("{{ ['web1'] | map('extract', hostvars, ['net', 'mtu']) | list }}", [1500]),
    # selectattr / map chains (Jinja2's own filters with Ansible's tests)
    ("{{ users | selectattr('admin') | map(attribute='name') | list }}", ["ann"]),
    ("{{ users | rejectattr('shell', 'equalto', '/bin/sh') | map(attribute='name') | join(',') }}", "ann"),
    ("{{ users | selectattr('shell', 'match', '.*bash$') | list | length }}", 1),
    ("{{ users | map(attribute='name') | map('upper') | list }}", ["ANN", "BOB"]),
    ("{{ users | selectattr('name', 'in', ['bob', 'eve']) | map(attribute='shell') | first }}", "/bin/sh"),
    ("{{ ports | select('>', 100) | list }}", [443]),
    ("{{ users | map(attribute='name') | select('search', '^a') | list }}", ["ann"]),
    # tests
    ("{{ s is defined }}", True), ("{{ missing is defined }}", False),
    ("{{ missing.x.y is defined }}", False), ("{{ missing is undefined }}", True),
    ("{{ d.b.c is defined }}", True),
    ("{{ changed_res is changed }}", True), ("{{ ok_res is changed }}", False),
    ("{{ loop_res is changed }}", True),
    ("{{ failed_res is failed }}", True), ("{{ failed_res is succeeded }}", False),
    ("{{ ok_res is success }}", True), ("{{ skipped_res is skipped }}", True),
    ("{{ ok_res is skipped }}", False), ("{{ unreachable_res is unreachable }}", True),
    ("{{ ok_res is reachable }}", True),
    ("{{ s is match('Hello') }}", True), ("{{ s is match('World') }}", False),
    ("{{ s is search('World') }}", True), ("{{ s is regex('w.rld', ignorecase=true) }}", True),
    ("{{ '12.5' is version('12', '>=') }}", True), ("{{ '1.10' is version('1.9', 'gt') }}", True),
    ("{{ '1.0a' is version('1.0', '>') }}", True), ("{{ '2.0' is version('2.0.1', 'lt') }}", True),
    ("{{ '1.2-3+deb12u1' is version('1.2-3', '>') }}", True),
    # PEP 440 orders a release candidate before its release; the loose order puts it after
    ("{{ '1.0rc1' is version('1.0', '<', version_type='pep440') }}", True),
    ("{{ '1.0rc1' is version('1.0', '<') }}", False),
    ("{{ '1.10' is version('1.9', '>', strict=true) }}", True),
    # Ansible's boolean words, in any case, for the bool filter as for keywords and arguments
    ("{{ ['On', 'YES', 'true', '1', 'off', 'No', '0', 'nonsense'] | map('bool') | list }}",
     [True, True, True, True, False, False, False, False]),
    ("{{ [1] is subset([1, 2]) }}", True), ("{{ [1, 2] is superset([3]) }}", False),
    ("{{ ports is contains(80) }}", True),
    ("{{ 'yes' is truthy(convert_bool=true) }}", True), ("{{ '' is falsy }}", True),
    ("{{ '/' is directory }}", True), ("{{ '/etc/os-release' is file }}", True),
    ("{{ '/no/such' is exists }}", False), ("{{ 'rel/path' is abs }}", False),
    # templates that are not a single expression render to text
    ("port {{ ports | first }}{% if s is defined %}!{% endif %}", "port 80!"),
    ("{{ ports[0] }}-{{ ports[1] }}", "80-443"),
    ("  {{ {'k': {'n': 1}} }}  ", "  {'k': {'n': 1}}  "),
]


@pytest.mark.parametrize("text, expected", CASES, ids=[c[0] for c in CASES])
def test_expression(text, expected):
    assert render(text, VARS) == expected


ERRORS = [
    ("{{ missing }}", "'missing' is undefined"),
    ("{{ missing.attr | upper }}", "'missing' is undefined"),
    ("{{ d.nope.deeper }}", "has no attribute 'nope'"),
    ("{{ missing | mandatory }}", "Mandatory variable 'missing' not defined."),
    ("{{ missing | mandatory('set it with -e') }}", "set it with -e"),
    ("{{ s is changed }}", "the 'changed' test expects a registered result"),
    ("{{ d | combine({}, list_merge='merge') }}", "list_merge must be one of"),
    ("{{ '1' is version('2', 'bigger') }}", "invalid operator"),
    ("{{ 'x.y' is version('1', version_type='pep440') }}", "'x.y' is not a PEP 440 version"),
    ("{{ '1.2.3.4' is version('1', strict=true) }}", "is not a strict version"),
    ("{{ '1' is version('1', version_type='calver') }}", "version_type must be one of loose, strict, semver, semantic, pep440"),
    ("{{ 'abc' | dict2items }}", "dict2items requires a dictionary"),
    ("{{ lookup('nope', 'x') }}", "lookup plugin 'nope' not found"),
    ("{{ lookup('env', 'HOME', bogus=1) }}", "unexpected keyword argument 'bogus'"),
]


@pytest.mark.parametrize("text, message", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_say_what_is_wrong(text, message):
    with pytest.raises(TemplateFailure) as caught:
        render(text, VARS)
    assert message in str(caught.value)


@pytest.fixture
def project(tmp_path):
    """A playbook directory and a role, each with files/ and templates/."""
    book, role = tmp_path / "book", tmp_path / "book" / "roles" / "web"
    write(role / "files" / "motd", "role motd\n\n")
    write(book / "files" / "motd", "playbook motd\n")
    write(book / "files" / "banner", "  banner  \n")
    write(book / "notes.txt", "beside the playbook\n")
    write(book / "templates" / "site.conf.j2", "server {{ inventory_hostname }} {{ ports | join(' ') }}\n")
    write(role / "templates" / "greet.j2", "{{ greeting | default('hello') }} from the role\n")
    variables = {**VARS, "inventory_hostname": "web1", "playbook_dir": str(book),
                 "ansible_search_path": [str(role), str(book)]}
    return book, role, variables


@pytest.mark.parametrize("text, expected", [
    ("{{ lookup('file', 'motd') }}", "role motd"),
    ("{{ lookup('file', 'banner') }}", "  banner"),
    ("{{ lookup('file', 'banner', lstrip=true) }}", "banner"),
    ("{{ lookup('file', 'banner', rstrip=false) }}", "  banner  \n"),
    ("{{ lookup('file', 'notes.txt') }}", "beside the playbook"),
    ("{{ lookup('file', 'motd', 'notes.txt') }}", "role motd,beside the playbook"),
    ("{{ query('file', 'motd', 'notes.txt') }}", ["role motd", "beside the playbook"]),
    ("{{ q('file', 'motd') }}", ["role motd"]),
    ("{{ lookup('file', 'motd', wantlist=true) }}", ["role motd"]),
    ("{{ lookup('template', 'site.conf.j2') }}", "server web1 80 443\n"),
    ("{{ lookup('template', 'greet.j2') }}", "hello from the role\n"),
    ("{{ lookup('template', 'greet.j2', template_vars={'greeting': 'hi'}) }}", "hi from the role\n"),
    ("{{ lookup('env', 'CELERYROOT_TEST_SURELY_UNSET') }}", ""),
    ("{{ lookup('env', 'CELERYROOT_TEST_SURELY_UNSET', default='fallback') }}", "fallback"),
])
def test_lookups_search_role_then_playbook(project, text, expected):
    _, _, variables = project
    assert render(text, variables) == expected


def test_lookup_env_reads_the_controllers_environment(project):
    _, _, variables = project
    assert render("{{ lookup('env', 'PATH', 'HOME') }}", variables) == f"{os.environ['PATH']},{os.environ['HOME']}"


def test_lookup_by_absolute_path_and_playbook_dir_fallback(project):
    book, _, variables = project
    assert render(f"{{{{ lookup('file', '{book}/files/motd') }}}}", variables) == "playbook motd"
    without_search = {k: v for k, v in variables.items() if k != "ansible_search_path"}
    assert render("{{ lookup('file', 'motd') }}", without_search) == "playbook motd"


def test_missing_lookup_file_names_where_it_looked(project):
    _, role, variables = project
    with pytest.raises(TemplateFailure) as caught:
        render("{{ lookup('file', 'absent.txt') }}", variables)
    assert "could not find or access 'absent.txt'" in str(caught.value)
    assert str(role / "files" / "absent.txt") in str(caught.value)


def test_template_lookup_errors_name_the_template_line(project):
    book, _, variables = project
    write(book / "templates" / "bad.j2", "line one\n{{ no_such_var }}\n")
    with pytest.raises(TemplateFailure, match=r"bad\.j2:2: undefined variable"):
        render("{{ lookup('template', 'bad.j2') }}", variables)
