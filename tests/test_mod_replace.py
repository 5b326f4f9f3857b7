"""replace: Ansible's semantics as a table run --check, apply, apply again."""

from __future__ import annotations

import glob
import json

import pytest

from conftest import ABSENT, Case, Dir, File, bad_argument_fails


def rep(path: str = "f", **args) -> str:
    lines = [f"  path: '{{{{ d }}}}/{path}'"] + [f"  {k}: {json.dumps(v)}" for k, v in args.items()]
    return "replace:\n" + "\n".join(lines)


CASES = [
    Case("every-match", rep(regexp="old", replace="new"), given={"f": "old a\nb old old\n"},
         then={"f": "new a\nb new new\n"}, diff="-b old old\n+new a"),
    Case("multiline-anchors", rep(regexp="^#(.*)$", replace=r"\1"), given={"f": "#a\nb\n#c\n"},
         then={"f": "a\nb\nc\n"}),
    Case("named-group", rep(regexp=r"^port=(?P<n>\d)$", replace=r"port=\g<n>0"), given={"f": "port=8\n"},
         then={"f": "port=80\n"}),
    Case("remove-matches", rep(regexp=r"\s*# comment"), given={"f": "a # comment\nb\n"}, then={"f": "a\nb\n"}),
    Case("no-match", rep(regexp="zzz", replace="y"), changed=False, given={"f": "a\n"}, then={"f": "a\n"}),
    Case("same-text", rep(regexp="a", replace="a"), changed=False, given={"f": "aaa\n"}),
    Case("after-before", rep(regexp="^b=1$", replace="b=2", after=r"\[x\]", before=r"\[y\]"),
         given={"f": "b=1\n[x]\nb=1\n[y]\nb=1\n"}, then={"f": "b=1\n[x]\nb=2\n[y]\nb=1\n"}),
    Case("after-only", rep(regexp="k", replace="K", after="START"), given={"f": "k\nSTART k\nk\n"},
         then={"f": "k\nSTART K\nK\n"}),
    Case("before-only", rep(regexp="k", replace="K", before="STOP"), given={"f": "k\nk STOP\nk\n"},
         then={"f": "K\nK STOP\nk\n"}),
    Case("after-no-match", rep(regexp="k", replace="K", after="nowhere"), changed=False, given={"f": "k\n"},
         then={"f": "k\n"}),
    Case("missing-file", rep(regexp="a"), fails="does not exist", then={"f": ABSENT}),
    Case("directory", rep("dir", regexp="a"), given={"dir": Dir()}, fails="is a directory"),
    Case("keeps-mode", rep(regexp="a", replace="b"), given={"f": File("a\n", 0o600)}, then={"f": File("b\n", 0o600)}),
    Case("mode-only", rep(regexp="zzz", mode="0600"), given={"f": File("a\n", 0o644)}, then={"f": File("a\n", 0o600)}),
    Case("backup", rep(regexp="a", replace="b", backup=True), given={"f": "a\n"}, then={"f": "b\n"}),
    Case("validate-fails", rep(regexp="a", replace="b", validate="grep -q nothing %s"), given={"f": "a\n"},
         fails="failed to validate", fails_in_check=False, then={"f": "a\n"}),
    # Read as latin-1, the two bytes of UTF-8 é are two characters.
    Case("latin-1", rep(regexp="caf..", replace="tea", encoding="latin-1"), given={"f": "café\n"},
         then={"f": "tea\n"}),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_replace(table, case):
    table.verify(case)


def test_result_says_how_many_replacements(table):
    assert table.applied.results("every-match")[table.host]["msg"] == "3 replacements made"


def test_backup_keeps_the_old_content(table):
    (backup,) = glob.glob(str(table.root / "backup" / "f.*~"))
    assert open(backup).read() == "a\n"


@pytest.mark.parametrize("args, name, needle", [
    ({"path": "/tmp/x"}, "regexp", "missing required"),
    ({"path": "/tmp/x", "regexp": "("}, "regexp", "regular expression"),
    ({"path": "/tmp/x", "regexp": "a", "after": "[a"}, "after", "regular expression"),
    ({"path": "/tmp/x", "regexp": "a", "encoding": "klingon"}, "encoding", "unknown encoding"),
])
def test_bad_arguments_fail_on_the_controller(fleet, play, tmp_path, args, name, needle):
    bad_argument_fails(play, tmp_path, "replace", args, name, needle)
