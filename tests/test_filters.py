"""ansible.builtin's filters and tests, rendered by ansible-playbook and by
celeryroot: one playbook of ``debug: msg="{{ … }}"`` tasks, one expression
each, run once by each tool (tests/test_differential.py's runs). Every
expression must come out the same: the same value, or a failure in both.

What cannot repeat from run to run is made to: a seed for ``random`` and
``shuffle``, ``| sort`` after set filters of strings (a set's order
follows string hashes, which differ per process), ``| length`` for a
random salt. ``password_hash`` is not here: ansible-core needs passlib for
it, which its virtualenv lacks (tests/unit/test_filters.py checks it
against glibc's crypt instead).
"""

from __future__ import annotations

import json

from test_differential import ansible_playbook, both  # noqa: F401 (fixtures)

VARS = {
    "s": "Hello World", "d": {"a": 1, "b": {"c": 2}}, "ports": [80, 443],
    "text": "a\n\n  b\n", "lines": "a\n\n\nb", "crlf": "\r\n",
    "users": [{"name": "ann", "groups": ["wheel", "adm"], "home": {"dirs": ["/a"]}},
              {"name": "bob", "groups": ["users"], "home": {"dirs": []}}],
    "hostvars_": {"web1": {"ip": "10.0.0.1", "net": {"mtu": 1500}}, "web2": {"ip": "10.0.0.2"}},
    "url_": "http://user:pw@www.example.com:8080/a/b?x=1#frag",
    "res_changed": {"changed": True, "failed": False}, "res_failed": {"failed": True, "msg": "boom"},
    "res_skipped": {"changed": False, "skipped": True}, "res_ok": {"changed": False},
    "res_async": {"started": 1, "finished": 0}, "res_timeout": {"failed": True, "timedout": {"period": 5}},
}

EXPRESSIONS = [
    # comment, every style and option
    "'a' | comment", "text | comment", "lines | comment", "'' | comment", "'a' | comment('c')",
    "text | comment('cblock')", "'a' | comment('erlang')", "text | comment('xml')",
    "'a' | comment(decoration='! ')", "'a' | comment('c', decoration='** ')",
    "'a' | comment(beginning='/*', end='*/', decoration=' * ')", "text | comment(decoration='>>')",
    "'a' | comment(prefix='X', postfix='Y', prefix_count=2, postfix_count=3)", "'a' | comment(prefix='')",
    "'a' | comment(postfix='')", "'a' | comment(prefix_count=0, postfix_count=0)", "'a' | comment(decoration='')",
    "'a' | comment('cblock', prefix='', postfix='')", "text | comment(newline=crlf)", "'a' | comment('nope')",
    # regular expressions (a backslash in a string constant stays one)
    "s | regex_replace('o', '0')", "'ansible' | regex_replace('^a.*i(.*)$', 'a\\1')",
    "'abc123' | regex_replace('^(?P<w>[a-z]+)(\\d+)$', '\\2-\\g<w>')", "s | regex_replace('O', '0', ignorecase=true)",
    "'aaa' | regex_replace('a', 'b', count=2)", "'aaa' | regex_replace('a', 'b', mandatory_count=3)",
    "'aaa' | regex_replace('a', 'b', mandatory_count=2)", "text | regex_replace('^', '> ', multiline=true)",
    "'abc123' | regex_search('\\d+')", "'abc123' | regex_search('([a-z]+)(?P<n>\\d+)', '\\1', '\\g<n>')",
    "'abc' | regex_search('\\d')", "'ABC' | regex_search('b', ignorecase=true)",
    "'a1b22c333' | regex_findall('\\d+')", "'k=v, x=y' | regex_findall('(\\w)=(\\w)')",
    "text | regex_findall('^\\w', multiline=true)", "'a.b*c[d]' | regex_escape",
    "'a.b*c[d]^$' | regex_escape('posix_basic')",
    # JSON and YAML
    "d | to_json", "{'b': 1, 'a': 'x'} | to_json(sort_keys=true)", "{'a': 'é'} | to_json", "d | to_json(indent=1)",
    "{'b': 1, 'a': 'é'} | to_nice_json", "[1, {'a': none}] | to_nice_json", "d | to_nice_json(indent=2)",
    "[3.0, 1e20, 'x', true] | to_json",
    "{'b': 1, 'a': 'é'} | to_yaml", "{'b': [1, 2], 'a': 'yes', 'c': {'x': 1}} | to_yaml", "'abc' | to_yaml",
    "none | to_yaml", "{'z': 1, 'a': 2} | to_yaml(sort_keys=false)", "{'k': text} | to_yaml",
    "{'b': 1, 'a': 'é', 'l': [1, {'x': 'y'}], 'e': {}} | to_nice_yaml", "{'k': text} | to_nice_yaml",
    "['yes', 'on', 'y', 'n', '1.0', '010', '', '~', 'null', 'true', 12, 1.5, true, none] | to_yaml",
    "['yes', 'on', 'y', 'n', '1.0', '010', '', '~', 'null', 'true', 12, 1.5, true, none] | to_nice_yaml",
    "{'a': {'b': [1, [2, 3], {'c': []}]}} | to_nice_yaml",
    "{'a': {'b': [1, [2, 3], {'c': []}]}} | to_nice_yaml(indent=2)",
    "{'a': {'b': [1, [2, 3], {'c': []}]}} | to_yaml(indent=4)", "('x ' * 50) | to_yaml", "('x ' * 50) | to_nice_yaml",
    "('x ' * 50) | to_nice_yaml(width=1000)",
    "{'a': 'x: y', 'b': '#c', 'c': '- d', 'e': ' lead', 'f': '@x', 'g': '{}'} | to_nice_yaml",
    "{'k': [('x ' * 50), {'m': ('y ' * 50)}]} | to_nice_yaml", "{'k': [('x ' * 50), {'m': ('y ' * 50)}]} | to_yaml",
    "[[]] | to_nice_yaml", "[{}] | to_nice_yaml", "{'a': [[1]]} | to_nice_yaml", "{1: 'a', 2: 'b'} | to_nice_yaml",
    "{'a': 'multi' ~ crlf ~ 'line'} | to_nice_yaml", "{'a': text} | to_nice_yaml(indent=2)", "[text] | to_yaml",
    "{'tab': 'a\tb', 'e': 'é'} | to_nice_yaml", "{'t': '2024-01-01', 'n': '1e3', 'o': '0o17', 'x': '0x1F'} | to_yaml",
    "{'f': '1_000', 'sexa': '1:20', 'colon': 'a:b', 'dash': '-', 'q': \"it's\"} | to_yaml",
    "{'star': '*a', 'amp': '&a', 'pct': '%x', 'bang': '!x', 'pipe': '|', 'gt': '>'} | to_yaml",
    "['=', '<<', '.inf', '.nan', 'NaN', '~x', '?', 'a #b', 'a# b', ' '] | to_yaml",
    "[1.0, 1e20, -0.5, 10000000000000000000000] | to_yaml", "{'nested': {'deeper': {'deepest': [1, 2]}}} | to_nice_yaml",
    "'{\"k\": [1]}' | from_json", "'[1, 2' | from_json", "text | from_yaml", "'a: 1' | from_yaml", "'' | from_yaml",
    "'[1, yes, on, 0640]' | from_yaml", "'[1e3, 1.5e3, 1.5e+3, .5, 1_0.5, 190:20:30.15, 0x1F, 0b11, 1:20]' | from_yaml", "d | from_yaml", "none | from_yaml", "none | from_yaml_all", "'' | from_yaml_all | list", "('a: 1' ~ crlf ~ '---' ~ crlf ~ 'b: 2') | from_yaml_all | list",
    # dictionaries
    "d | combine({'b': {'x': 3}})", "d | combine({'b': {'x': 3}}, recursive=true)",
    "{'a': {'b': [1]}} | combine({'a': {'b': [2], 'c': 3}}, recursive=true, list_merge='append')",
    "{'a': {'b': [1]}} | combine({'a': {'b': [2], 'c': 3}}, list_merge='append')",
    "{'a': [1, 2]} | combine({'a': [2, 3]}, list_merge='append_rp')",
    "{'a': [1, 2]} | combine({'a': [2, 3]}, list_merge='prepend')",
    "{'a': [1, 2]} | combine({'a': [2, 3]}, list_merge='prepend_rp')",
    "{'a': [1, 2]} | combine({'a': [2, 3]}, list_merge='keep')",
    "{'a': [1, 2]} | combine({'a': 5}, list_merge='append')",
    "{'a': 1} | combine({'b': 2}, {'a': 3})", "{'a': {'x': 1}} | combine({'a': none}, recursive=true)",
    "{'a': {'x': 1}} | combine([{'a': {'y': 2}}, {'b': 1}], recursive=true)", "[] | combine",
    "[{'a': 1}, {'b': 2}] | combine",
    "d | combine({}, list_merge='merge')",
    "{'x': 1, 'y': 2} | dict2items", "{'x': 1} | dict2items(key_name='k', value_name='v')", "['a'] | dict2items",
    "[{'key': 'x', 'value': 1}] | items2dict", "[{'k': 'a', 'v': 1}] | items2dict(key_name='k', value_name='v')",
    "[['a', 1]] | items2dict", "{'x': 1, 'y': 2} | dict2items | items2dict",
    "users | subelements('groups')", "users | subelements('home.dirs')", "users | subelements(['home', 'dirs'])",
    "[{'n': 'a', 'l': [1]}, {'n': 'b'}] | subelements('l', skip_missing=true)",
    "[{'n': 'a', 'l': [1]}, {'n': 'b'}] | subelements('l')", "{'k1': {'n': 'a', 'l': [1, 2]}} | subelements('l')",
    "users | rekey_on_member('name')", "{'x': {'n': 'a'}} | rekey_on_member('n')",
    "['web1', 'web2'] | map('extract', hostvars_, 'ip') | list",
    "['web1'] | map('extract', hostvars_, ['net', 'mtu']) | list",
    "[0, 2] | map('extract', ['a', 'b', 'c']) | list",
    "['web1', 'nope'] | map('extract', hostvars_, 'ip') | select('defined') | list",
    "['web2'] | map('extract', hostvars_, ['net', 'mtu']) | list", "['nope'] | map('extract', hostvars_) | list",
    # lists
    "[1, 2] | product(['a', 'b'], [true])", "[1, 2] | product(repeat=2)", "[1, 2] | product([]) | list",
    "[1, 2, 3] | zip(['a', 'b'])", "[1, 2, 3] | zip(['a', 'b'], 'xyz') | list",
    "[1, 2, 3] | zip_longest(['a', 'b'])", "[1, 2, 3] | zip_longest(['a', 'b'], fillvalue='z')",
    "[1, 2, 3] | permutations(2)", "[1, 2, 3] | permutations", "[1, 2, 3] | combinations(2)",
    "[[1, [2]], 3, 'abc', none, [none, 'None', 'null']] | flatten",
    "[[1, [2]], 3, none, [none]] | flatten(skip_nulls=false)",
    "[[1, [2, [3]]]] | flatten(levels=2)", "[[1, [2, [3]]]] | flatten(levels=1)", "[[1, [2]], (3, 4)] | flatten",
    "[1, 2, 1, 'a', 'A', 'a'] | unique", "['a', 'A', 'b'] | unique(case_sensitive=true)",
    "[{'a': 1}, {'a': 1}, {'b': 2}] | unique", "[{'n': 'x', 'v': 1}, {'n': 'x', 'v': 2}] | unique(attribute='n')",
    "[3, 1, 2, 1] | union([2, 4])", "[3, 1, 2, 1] | intersect([2, 1, 1])", "[3, 1, 2, 1] | difference([2])",
    "[3, 1, 2, 1] | symmetric_difference([2, 4, 4])", "[{'a': 1}, {'b': 2}] | union([{'a': 1}, {'c': 3}])",
    "[{'a': 1}, {'b': 2}] | intersect([{'b': 2}])", "[{'a': 1}, {'b': 2}] | difference([{'b': 2}])",
    "[{'a': 1}, {'b': 2}] | symmetric_difference([{'b': 2}, 3])",
    "['b', 'a', 'b'] | union(['c']) | sort", "'abc' | union('bcd') | sort", "{'a': 1} | union({'b': 2}) | sort",
    "[3, 1, 2] | max", "[3, 1, 2] | min", "[{'v': 3}, {'v': 1}] | max(attribute='v')", "['b', 'A'] | min",
    "8 | log(2)", "100 | log(10)", "2.718281828459045 | log", "2 | pow(10)", "27 | root(3)", "16 | root",
    "100 | random(seed=1)", "100 | random(seed='abc')", "100 | random(start=10, step=5, seed=7)",
    "['a', 'b', 'c', 'd'] | random(seed='x')", "[1, 2, 3, 4, 5] | shuffle(seed='x')", "'abc' | shuffle(seed=1)",
    "(5 | random) < 5", "[1, 2, 3] | shuffle | sort",
    "1048576 | human_readable", "1048576 | human_readable(isbits=true)", "1500 | human_readable(unit='K')",
    "1 | human_readable", "0 | human_readable", "123456789 | human_readable", "(1024 ** 4 * 3) | human_readable",
    "'1K' | human_to_bytes", "'1.5 MB' | human_to_bytes", "'10Mb' | human_to_bytes(isbits=true)",
    "'2' | human_to_bytes(default_unit='K')", "'10 xyz' | human_to_bytes", "'1 KiB' | human_to_bytes",
    "'5' | human_to_bytes",
    "'3 G' | human_to_bytes", "'2T' | human_to_bytes",
    # strings, encodings, digests
    "'x' | hash('sha256')", "'x' | hash('blake2b')", "'x' | hash", "'x' | md5", "'x' | sha1", "123 | hash",
    "'x' | checksum", "'x' | hash('nope')",
    "'héllo' | b64encode", "'aMOp' | b64decode", "'héllo' | b64encode(encoding='utf-16-le')", "'x' | b64decode",
    "\"a b'c\" | quote", "['a b', 'c'] | quote", "5 | quote", "none | quote", "'plain' | quote", "'example.com' | to_uuid",
    "'example.com' | to_uuid(namespace='6ba7b810-9dad-11d1-80b4-00c04fd430c8')",
    "'a,b,c' | split(',')", "'a b  c' | split", "'a,b,c' | split(',', 1)", "s | split('o')",
    "1 | type_debug", "'a' | type_debug", "[1] | type_debug", "{} | type_debug", "none | type_debug",
    "1.5 | type_debug", "true | type_debug", "d | type_debug", "s | type_debug",
    # default, mandatory, ternary, bool
    "'x' | mandatory", "nothing_here | mandatory", "nothing_here | mandatory('set it')",
    "'' | default('x')", "'' | default('x', true)", "none | default('x')", "none | default('x', true)",
    "0 | default('x', true)", "false | default('x', boolean=true)", "nothing_here | default('x')",
    "nothing_here.deeper | default('x')", "d.nope | d('x')",
    "true | ternary('a', 'b')", "none | ternary('a', 'b')", "none | ternary('a', 'b', 'c')", "'' | ternary('a', 'b')",
    "'false' | ternary('a', 'b')",
    "['yes', 'no', '1', 'True', 'on', 'off', 't', 'f', 'y', 'n', 'abc', '', 'TRUE'] | map('bool') | list",
    "[1, 0, 2, 1.0, 0.0, none, true, false] | map('bool') | list", "[] | bool",
    "[' yes ', 'Yes', 'OFF', '1.0', 1.5, d] | map('bool') | list",
    # paths, URLs, times
    "'/a/b/c.tar.gz' | basename", "'/a/b/' | basename", "'/a/b/c' | dirname", "'a/b.c.d' | splitext",
    "('~/x' | expanduser) == lookup('env', 'HOME') + '/x'", "('$HOME/x' | expandvars) == lookup('env', 'HOME') + '/x'",
    "'/etc/../etc/./hostname' | realpath", "'/etc/ssh/sshd_config' | relpath('/etc')",
    "'/etc/ssh' | relpath('/usr/lib')",
    "['/a', 'b', 'c'] | path_join", "['/a', '/b', 'c'] | path_join", "'abc' | path_join", "5 | path_join",
    "['/a/b/c', '/a/b/d', '/a/x'] | commonpath", "'/a//b/../c/.' | normpath",
    "'C:\\x\\y.txt' | win_basename", "'C:\\x\\y.txt' | win_dirname", "'C:\\x\\y.txt' | win_splitdrive",
    "'/etc/host*' | fileglob | sort", "'/nonexistent/*' | fileglob",
    "url_ | urlsplit", "url_ | urlsplit('hostname')", "url_ | urlsplit('port')", "'http://x.org/a' | urlsplit('port')",
    "url_ | urlsplit('nope')", "'a%20b%2Fc+d' | urldecode", "'a b/c' | urlencode", "{'a': 'b c', 'd': 1} | urlencode",
    "('2024-01-02 03:04:05' | to_datetime).year", "('2024-01-02 03:04:05' | to_datetime).isoformat()",
    "('02/01/2024' | to_datetime('%d/%m/%Y')).month",
    "(('2024-01-02 03:04:05' | to_datetime) - ('2024-01-01 00:00:00' | to_datetime)).total_seconds()",
    "'%Y-%m-%d %H:%M:%S' | strftime(0, utc=true)", "'%Y-%m-%d' | strftime(86400 * 365, utc=true)",
    "'%Y' | strftime('1000000000', utc=true)", "('%Y' | strftime) | int > 2000",
    # Jinja's own, as roles use them with Ansible's
    "users | map(attribute='name') | list", "users | selectattr('name', 'match', 'a') | map(attribute='name') | list",
    "users | rejectattr('groups', 'contains', 'users') | map(attribute='name') | first",
    "ports | map('string') | map('regex_replace', '^', ':') | list", "ports | map('int') | sum",
    "d | dict2items | map(attribute='key') | join(',')", "ports | select('>', 100) | list",
    "-3 | abs", "d | attr('a')", "[1, 2, 3] | batch(2) | list", "'ab cd' | capitalize", "'a' | center(5)",
    "ports | count", "{'b': 1, 'a': 2} | dictsort", "'<a>' | e", "'<a>' | escape", "1000000 | filesizeformat",
    "ports | first", "'1.5' | float", "'<a>' | forceescape", "'%s-%d' | format('a', 3)",
    "users | groupby('name') | map('first') | list", "'a\nb' | indent(2)", "'12' | int", "d | items | list",
    "ports | last", "ports | length", "'ab' | list", "'AB' | lower", "{'a': 1} | pprint",
    "ports | reject('>', 100) | list",
    "users | rejectattr('name', 'eq', 'ann') | map(attribute='name') | list", "s | replace('o', '0', 1)",
    "ports | reverse | list", "2.567 | round(1)", "2.5 | round(0, 'floor')", "'<a>' | safe",
    "[1, 2, 3] | slice(2) | list",
    "[3, 1, 2] | sort", "users | sort(attribute='name', reverse=true) | map(attribute='name') | list", "1 | string",
    "'<b>x</b>  y' | striptags", "ports | sum", "'ab cd' | title", "d | tojson", "'  a  ' | trim", "'xxa' | trim('x')",
    "'a long sentence here' | truncate(9)", "'ab' | upper", "'see http://x.org' | urlize", "'a b c' | wordcount",
    "'aaa bbb ccc' | wordwrap(4)", "{'class': 'x', 'id': 1} | xmlattr",
    # tests
    "'abc' is match('b')", "'abc' is match('a')", "'abc' is match('B', ignorecase=true)", "'abc' is search('b')",
    "'abc' is regex('^a')", "'abc' is regex('b', match_type='match')", "text is search('^b', multiline=true)",
    "text is search('^ +b$', multiline=true)",
    "'/etc' is directory", "'/etc/hostname' is file", "'/etc' is file", "'/proc/self' is link", "'/etc' is link",
    "'/nonexist' is exists", "'/etc' is exists", "'/etc' is abs", "'etc' is abs", "'/' is mount", "'/etc' is mount",
    "'/etc/hostname' is same_file('/etc/../etc/hostname')", "'/proc/self' is link_exists",
    "'/etc' is is_dir", "'/etc/hostname' is is_file", "'/etc' is is_abs", "'/proc/self' is is_link",
    "[1, 2] is subset([1, 2, 3])", "[1, 4] is subset([1, 2, 3])", "[1, 2, 3] is superset([1])",
    "[1, 2] is issubset([1, 2, 3])", "[1, 2, 3] is issuperset([4])", "[1, 2, 3] is contains(2)",
    "'abc' is contains('b')",
    "1 is truthy", "0 is truthy", "'' is falsy", "'no' is falsy", "'no' is falsy(convert_bool=true)",
    "'yes' is truthy(convert_bool=true)", "[] is falsy",
    "res_changed is changed", "res_ok is changed", "res_failed is failed", "res_ok is failed", "res_ok is success",
    "res_failed is succeeded", "res_ok is successful", "res_skipped is skipped", "res_ok is skipped",
    "res_changed is change", "res_failed is failure", "res_skipped is skip", "res_ok is reachable",
    "res_ok is unreachable", "res_async is started", "res_async is finished", "res_ok is finished",
    "res_timeout is timedout", "res_failed is timedout", "s is changed",
    "[true, 1] is all", "[true, 0] is all", "[false, 0, 1] is any", "[] is any", "[] is all",
    "'a' is string", "1 is string", "{} is mapping", "[] is mapping", "[] is sequence", "'a' is sequence",
    "{} is sequence", "1 is sequence", "[] is iterable", "1 is iterable", "1 is number", "1.5 is number",
    "'1' is number", "none is none", "1 is integer", "1.0 is float", "true is boolean", "4 is even",
    "9 is divisibleby(3)", "'a' is in('abc')", "'a' is lower", "'A' is upper",
    "s is callable", "s is defined", "nothing_here is undefined", "1 is eq(1)", "1 is equalto(2)", "1 is ne(2)",
    "'<a>' is escaped", "3 is odd", "false is false", "true is true", "1.0 is float", "2 is ge(2)", "2 is gt(1)",
    "2 is greaterthan(1)", "1 is le(1)", "1 is lt(2)", "1 is lessthan(2)", "d is sameas(d)", "none is none",
    "'http://x.com/a' is url", "'x' is url", "'file:///x' is url", "'urn:isbn:0451450523' is urn", "'http://x' is urn",
    "'mailto:x@y.com' is uri", "'x' is uri", "'http://x' is uri(schemes=['https'])",
    "('nan' | float) is nan", "1.0 is nan", "'abc' is vault_encrypted", "'/etc/hostname' is vaulted_file",
    "'regex_replace' is filter", "'comment' is filter", "'no_such' is filter", "'version' is test",
    "'1.2.3' is version('1.2', '>')", "'1.2.3' is version_compare('1.2.3', '==')", "'1.0' is version('1.0.0', '==')",
    "'1.0' is version('1.0.0', '==', version_type='pep440')", "'1.0rc1' is version('1.0', '<', version_type='pep440')",
    "'1.0.0-rc1' is version('1.0.0', '<', version_type='semver')",
    "'1.0.0-rc.2' is version('1.0.0-rc.10', '<', version_type='semver')",
    "'1.0.0+b1' is version('1.0.0', '==', version_type='semver')",
    "'2.0' is version('1.0', '>=', version_type='semver')",
    "'2.0' is version('10.0', '<', version_type='loose')", "'1.0' is version('1.0', 'eq', strict=true)",
    "'1.2.3' is version('1.2.4', 'lt', version_type='strict')", "'1.2.3.4' is version('1', strict=true)",
    "'1.0a' is version('1.0', '<')", "'1.2-3+deb12u1' is version('1.2-3', '>')", "'12.5' is version('12', '>=')",
    "'1' is version('2', 'bigger')",
]


def _book() -> str:
    """The playbook, JSON (which is YAML): each expression's text as is.
    Each reads ``now``, a fact set by the first task, so that celeryroot's
    check before the run (which fails the run on a template that must
    fail) leaves it to the run, where ``ignore_errors`` takes the failure."""
    tasks = [{"name": "now", "set_fact": {"now": True}}]
    tasks += [{"name": f"e{i}", "debug": {"msg": "{{ (" + e + ") if now else 0 }}"}, "ignore_errors": True}
              for i, e in enumerate(EXPRESSIONS)]
    return json.dumps([{"hosts": "localhost", "gather_facts": False, "vars": VARS, "tasks": tasks}], indent=1,
                      ensure_ascii=False)  # "\ud83d\ude00" would be two halves to ruamel, one emoji to PyYAML


def test_every_expression_renders_as_in_ansible(both):
    ansible, celeryroot = both(_book())
    assert len(ansible.statuses) == len(EXPRESSIONS) + 1, ansible
    assert len(celeryroot.statuses) == len(EXPRESSIONS) + 1, celeryroot
    differ = []
    for expr, (*_, a_status), (*_, c_status), a_msg, c_msg in zip(
            EXPRESSIONS, ansible.statuses[1:], celeryroot.statuses[1:], ansible.messages[1:], celeryroot.messages[1:]):
        if a_status != c_status or (a_status == "ok" and a_msg != c_msg):
            differ.append(f"{expr}\n    ansible    {a_status}: {a_msg!r}\n    celeryroot {c_status}: {c_msg!r}")
    assert not differ, f"{len(differ)} of {len(EXPRESSIONS)} differ:\n" + "\n".join(differ)
