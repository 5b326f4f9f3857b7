"""lineinfile: Ansible's semantics as a table run --check, apply, apply again."""

from __future__ import annotations

import glob
import json

import pytest

from conftest import ABSENT, Case, Dir, File, bad_argument_fails


def lif(path: str = "f", **args) -> str:
    lines = [f"  path: '{{{{ d }}}}/{path}'"] + [f"  {k}: {json.dumps(v)}" for k, v in args.items()]
    return "lineinfile:\n" + "\n".join(lines)


CASES = [
    Case("add-at-eof", lif(line="c"), given={"f": "a\nb\n"}, then={"f": "a\nb\nc\n"}, diff=" b\n+c"),
    Case("already-there", lif(line="c"), changed=False, given={"f": "a\nc\nb\n"}),
    Case("no-final-newline", lif(line="b"), given={"f": "a"}, then={"f": "a\nb\n"}),
    Case("regexp-replaces-last", lif(regexp="^x=", line="x=9"), given={"f": "x=1\ny\nx=2\n"},
         then={"f": "x=1\ny\nx=9\n"}, diff="-x=2\n+x=9"),
    Case("regexp-firstmatch", lif(regexp="^x=", line="x=9", firstmatch=True), given={"f": "x=1\ny\nx=2\n"},
         then={"f": "x=9\ny\nx=2\n"}),
    Case("regexp-no-match-appends", lif(regexp="^z=", line="z=1"), given={"f": "a\n"}, then={"f": "a\nz=1\n"}),
    Case("regexp-line-already-there", lif(regexp="^z=", line="x"), changed=False, given={"f": "x\n"}),
    Case("insertafter", lif(line="new=1", insertafter=r"^\[main\]"), given={"f": "[main]\na=1\n[other]\nb=2\n"},
         then={"f": "[main]\nnew=1\na=1\n[other]\nb=2\n"}),
    Case("insertafter-last-match", lif(line="x", insertafter="^s"), given={"f": "s1\na\ns2\nb\n"},
         then={"f": "s1\na\ns2\nx\nb\n"}),
    Case("insertafter-no-match", lif(line="x", insertafter="^zzz"), given={"f": "a\n"}, then={"f": "a\nx\n"}),
    Case("insertbefore", lif(line="x", insertbefore="^c"), given={"f": "a\nb\nc\n"}, then={"f": "a\nb\nx\nc\n"}),
    Case("insertbefore-bof", lif(line="first", insertbefore="BOF"), given={"f": "a\n"}, then={"f": "first\na\n"}),
    Case("insertafter-bof", lif(line="first", insertafter="BOF"), given={"f": "a\n"}, then={"f": "first\na\n"}),
    Case("regexp-wins-over-insertafter", lif(regexp="^k=", line="k=2", insertafter="^a"),
         given={"f": "a\nk=1\n"}, then={"f": "a\nk=2\n"}),
    Case("absent-regexp", lif(regexp="^#", state="absent"), given={"f": "a\n#x\nb\n#y\n"}, then={"f": "a\nb\n"},
         diff="-#x"),
    Case("absent-line", lif(line="a", state="absent"), given={"f": "a\nb\na\n"}, then={"f": "b\n"}),
    Case("absent-search-string", lif(search_string="secret", state="absent"), given={"f": "x secret y\nz\n"},
         then={"f": "z\n"}),
    Case("absent-nothing", lif(line="q", state="absent"), changed=False, given={"f": "a\n"}),
    Case("absent-missing-file", lif(line="a", state="absent"), changed=False, then={"f": ABSENT}),
    Case("missing-file", lif(line="a"), fails="Destination", then={"f": ABSENT}),
    Case("create", lif("new/sub/f", line="x", create=True, mode="0600"), then={"new/sub/f": File("x\n", 0o600)},
         diff="+x"),
    Case("backrefs", lif(regexp=r"^port = (\d+)$", line=r"Port \1", backrefs=True), given={"f": "port = 22\n"},
         then={"f": "Port 22\n"}),
    Case("backrefs-no-match", lif(regexp="^nomatch(.*)", line=r"x\1", backrefs=True), changed=False,
         given={"f": "a\n"}, then={"f": "a\n"}),
    Case("search-string", lif(search_string="bar", line="baz"), given={"f": "foo bar\nq\n"}, then={"f": "baz\nq\n"}),
    Case("backup", lif(line="b", backup=True), given={"f": "a\n"}, then={"f": "a\nb\n"}),
    Case("validate-fails", lif(line="b", validate="grep -q nothing %s"), given={"f": "a\n"},
         fails="failed to validate", fails_in_check=False, then={"f": "a\n"}),
    Case("directory", lif("dir", line="a"), given={"dir": Dir()}, fails="is a directory"),
    Case("mode-only", lif(line="a", mode="0600"), given={"f": File("a\n", 0o644)}, then={"f": File("a\n", 0o600)}),
    Case("keeps-mode", lif(line="b"), given={"f": File("a\n", 0o600)}, then={"f": File("a\nb\n", 0o600)}),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_lineinfile(table, case):
    table.verify(case)


def test_backup_keeps_the_old_content(table):
    (backup,) = glob.glob(str(table.root / "backup" / "f.*~"))
    assert open(backup).read() == "a\n"


@pytest.mark.parametrize("args, name, needle", [
    ({"path": "/tmp/x"}, "line", "required with state=present"),
    ({"path": "/tmp/x", "line": "a", "insertafter": "x", "insertbefore": "y"}, "insertbefore", "mutually exclusive"),
    ({"path": "/tmp/x", "line": "a", "regexp": "("}, "regexp", "regular expression"),
    ({"path": "/tmp/x", "line": "a", "insertafter": "[a"}, "insertafter", "regular expression"),
    ({"path": "/tmp/x", "line": "a", "backrefs": True}, "regexp", "required with backrefs"),
    ({"path": "/tmp/x", "state": "absent"}, "line", "one of 'line'"),
    ({"path": "/tmp/x", "line": "a", "state": "gone"}, "state", "must be one of"),
    ({"line": "a"}, "path", "missing required"),
])
def test_bad_arguments_fail_on_the_controller(fleet, play, tmp_path, args, name, needle):
    bad_argument_fails(play, tmp_path, "lineinfile", args, name, needle)
