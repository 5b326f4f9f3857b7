"""The filters' edges that tests/test_filters.py (the same expressions
through ansible-playbook and celeryroot) cannot reach: the whole
ansible.builtin list against what is here, password_hash against glibc's
crypt, and the errors."""

from __future__ import annotations

import re

import pytest

from celeryroot.lang.filters import SKIPPED
from celeryroot.lang.filters.crypt import SCHEMES, password_hash
from celeryroot.lang.templating import ENV, TemplateFailure, render

#: ``ansible-doc -t filter -l`` and ``-t test -l`` of ansible-core 2.19,
#: the ansible.builtin ones (Jinja's own included: Ansible lists them).
ANSIBLE_FILTERS = """
abs attr b64decode b64encode basename batch bool capitalize center checksum combinations combine
comment commonpath count d default dict2items dictsort difference dirname e escape expanduser
expandvars extract fileglob filesizeformat first flatten float forceescape format from_json
from_yaml from_yaml_all groupby hash human_readable human_to_bytes indent int intersect items
items2dict join last length list log lower mandatory map max md5 min normpath password_hash
path_join permutations pow pprint product quote random realpath regex_escape regex_findall
regex_replace regex_search reject rejectattr rekey_on_member relpath replace reverse root round
safe select selectattr sha1 shuffle slice sort split splitext strftime string striptags subelements
sum symmetric_difference ternary title to_datetime to_json to_nice_json to_nice_yaml to_uuid
to_yaml tojson trim truncate type_debug union unique unvault upper urldecode urlencode urlize
urlsplit vault win_basename win_dirname win_splitdrive wordcount wordwrap xmlattr zip zip_longest
""".split()
ANSIBLE_TESTS = """
abs all any boolean callable change changed contains defined directory divisibleby eq equalto
escaped even exists failed failure false falsy file filter finished float ge greaterthan gt in
integer is_abs is_dir is_file is_link is_mount is_same_file isnan issubset issuperset iterable le
lessthan link link_exists lower lt mapping match mount nan ne none number odd reachable regex
same_file sameas search sequence skip skipped started string subset succeeded success successful
superset test timedout true truthy undefined unreachable upper uri url urn vault_encrypted
vaulted_file version version_compare
""".split()


def test_every_ansible_builtin_filter_and_test_is_here_or_skipped_with_a_reason():
    assert [n for n in ANSIBLE_FILTERS if n not in ENV.filters and n not in SKIPPED] == []
    assert [n for n in ANSIBLE_TESTS if n not in ENV.tests and n not in SKIPPED] == []
    assert [n for n in SKIPPED if n in ENV.filters or n in ENV.tests] == []
    assert all(reason.strip() for reason in SKIPPED.values())


# glibc's crypt(3), computed with Python 3.11's crypt module; the first
# four are the SHA-crypt specification's own examples.
@pytest.mark.parametrize("password, hashtype, salt, rounds, expected", [
    ("Hello world!", "sha256", "saltstring", 5000, "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"),
    ("Hello world!", "sha512", "saltstring", 5000,
     "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"),
    ("Hello world!", "sha256_crypt", "saltstringsaltst", 10000,
     "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA"),
    ("Hello world!", "sha512_crypt", "anotherlongsalts", 1400,
     "$6$rounds=1400$anotherlongsalts$5FGyu8c4BZDX4wJgs0Un26YOw2XibT5eTkHF1I1aP3QqStoJI9BHD2YPJYsAjEePVGUyBjdZxcNqMWlrrbIOC."),
    ("héllo wörld", "sha512", "Ab./9z", 1000,
     "$6$rounds=1000$Ab./9z$xnh37TVlOIZ8iOWFEEAFj8mzUEtpmp8Q3Lo1KEQwjo3l2szxhxK3CFq/3mgv89kmYL/uidl1GgwLKH4EA4sDy0"),
    ("", "sha256", "x", 1000, "$5$rounds=1000$x$kIBhdUvT3pHpfTjzR8s1XJu3y/HRJeFxMSffBtF8jx9"),
    ("secret", "md5", "mysalt", None, "$1$mysalt$n/EfEiV74OYgBdqhKQzSW/"),
    ("x" * 40, "md5_crypt", "abcdefgh", None, "$1$abcdefgh$qbqmpT5c4yFc3.1Qef15o."),
    ("héllo", "md5", "Ab./9z", None, "$1$Ab./9z$82pYsRA/mAZxwe7Qc6yfx1"),
])
def test_password_hash_is_crypts(password, hashtype, salt, rounds, expected):
    assert password_hash(password, hashtype, salt, rounds=rounds) == expected


def test_password_hash_defaults_are_ansibles_with_passlib():
    # the rounds ansible-core asks passlib for, so they are written in the hash
    assert (SCHEMES["sha256_crypt"].rounds, SCHEMES["sha512_crypt"].rounds) == (535000, 656000)
    one, two = (render("{{ 'pw' | password_hash('sha512', rounds=1000) }}", {}) for _ in range(2))
    assert re.fullmatch(r"\$6\$rounds=1000\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}", one) and one != two
    assert re.fullmatch(r"\$5\$[./0-9A-Za-z]{4}\$.{43}", password_hash("pw", "sha256", salt_size=4, rounds=5000))
    assert re.fullmatch(r"\$1\$[./0-9A-Za-z]{8}\$.{22}", password_hash("pw", "md5"))


@pytest.mark.parametrize("text, message", [
    ("{{ 'pw' | password_hash('bcrypt') }}", "'bcrypt' is not supported here"),
    ("{{ 'pw' | password_hash('sha512', 'bad salt!') }}", "a salt of sha512_crypt is at most 16 of the characters"),
    ("{{ 'pw' | password_hash('sha512', 'a' * 17) }}", "a salt of sha512_crypt is at most 16"),
    ("{{ 'pw' | password_hash('md5', 'a' * 9) }}", "a salt of md5_crypt is at most 8"),
    ("{{ 'pw' | password_hash('sha512', 'ab', rounds=10) }}", "rounds must be between 1000"),
    ("{{ 'a' | comment('fortran') }}", "Invalid style 'fortran'."),
    ("{{ 'aaa' | regex_replace('a', 'b', mandatory_count=2) }}", "'a' should match 2 times, but matches 3 times"),
    ("{{ 'a' | regex_escape('perl') }}", "re_type must be python or posix_basic"),
    ("{{ 'a' | hash('nope') }}", "unknown algorithm 'nope'"),
    ("{{ 'a' | to_uuid(namespace='x') }}", "invalid namespace 'x'"),
    ("{{ [1] | combine }}", "combine expects dictionaries, got 1"),
    ("{{ [['a', 1]] | items2dict }}", "items2dict requires a list of dictionaries"),
    ("{{ [{'k': 1}] | items2dict }}", "an item has no key 'key'"),
    ("{{ [{'l': 1}] | subelements('l') }}", "the key l should point to a list, got 1"),
    ("{{ [{'n': 1}] | subelements('l') }}", "could not find 'l' key in iterated item {'n': 1}"),
    ("{{ [{'n': 1}, {'n': 1}] | rekey_on_member('n') }}", "key 1 is not unique"),
    ("{{ [{'n': 1}] | rekey_on_member('m') }}", "key 'm' was not found"),
    ("{{ [{'a': [1]}] | unique(attribute='a') }}", "unique: attribute needs items that can be hashed"),
    ("{{ {'a': 1} | random }}", "random can only be used on sequences and integers"),
    ("{{ '1 KiB' | human_to_bytes }}", "the unit must be one of KB, MB, GB"),
    ("{{ 'lots' | human_to_bytes }}", "can't interpret 'lots'"),
    ("{{ 'http://x' | urlsplit('host') }}", "unknown URL component 'host'"),
    ("{{ 'x' is regex('x', match_type='find') }}", "match_type must be match, search or fullmatch"),
    ("{{ '1.0' is version('1.0.0', version_type='semver') }}", "invalid semantic version '1.0'"),
])
def test_errors_say_what_is_wrong(text, message):
    with pytest.raises(TemplateFailure) as caught:
        render(text, {})
    assert message in str(caught.value)


@pytest.mark.parametrize("text, expected", [
    # comment: each part on its own, and a decoration of several lines' worth
    ("{{ 'a' | comment(beginning='B', end='E', prefix='', postfix='', postfix_count=0) }}", "B\n# a\nE"),
    ("{{ 'a\nb' | comment('c', newline='\n') }}", "//\n// a\n// b\n//"),
    ("{{ 'a' | comment(postfix_count=2, postfix='=') }}", "#\n# a\n=\n="),
    # the sets of items that cannot be hashed keep their order
    ("{{ [{'a': 1}, [2]] | union([[2], {'c': 3}]) }}", [{"a": 1}, [2], {"c": 3}]),
    ("{{ [[1], [2], [1]] | symmetric_difference([[3]]) }}", [[1], [2], [3]]),
    ("{{ [[1], [1]] | unique }}", [[1]]),
    # sizes
    ("{{ '10 bytes' | human_to_bytes }}", 10), ("{{ '1 byte' | human_to_bytes }}", 1),
    ("{{ '8 bits' | human_to_bytes(isbits=true) }}", 8), ("{{ '2 Kb' | human_to_bytes(isbits=true) }}", 2048),
    ("{{ '1.25 KB' | human_to_bytes }}", 1280), ("{{ 2048 | human_readable(unit='M') }}", "0.00 MB"),
    ("{{ 1 | human_readable(isbits=true) }}", "1.00 bits"),
    # versions: a pre-release before its release, fields as numbers or words
    ("{{ '1.0.0-alpha' is version('1.0.0-alpha.1', '<', version_type='semver') }}", True),
    ("{{ '1.0.0-alpha.beta' is version('1.0.0-beta', '<', version_type='semantic') }}", True),
    ("{{ '1.0.0-rc.1' is version('1.0.0', '<', version_type='semver') }}", True),
    # async results
    ("{{ {'finished': 0} is finished }}", False), ("{{ {} is started }}", True),
    ("{{ 'x' | regex_escape('posix_basic') }}", "x"), ("{{ '[a]' | regex_escape('posix_basic') }}", "\\[a\\]"),
    ("{{ 'abc' is regex('abc', match_type='fullmatch') }}", True),
])
def test_edges(text, expected):
    assert render(text, {}) == expected


def test_filters_of_the_machine_now_are_asked_each_time(tmp_path):
    """Not once when Jinja compiles the (cached) template."""
    text = f"{{{{ '{tmp_path}/x' is exists }}}}:{{{{ '{tmp_path}/*' | fileglob }}}}"
    assert render(text, {}) == "False:[]"
    (tmp_path / "x").write_text("")
    assert render(text, {}) == f"True:['{tmp_path}/x']"
    assert len({render("{{ 1000000 | random }}", {}) for _ in range(5)}) > 1
