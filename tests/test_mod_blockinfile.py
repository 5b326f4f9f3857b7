"""blockinfile: Ansible's semantics as a table run --check, apply, apply again."""

from __future__ import annotations

import json

import pytest

from conftest import ABSENT, Case, Dir, File, bad_argument_fails

B, E = "# BEGIN ANSIBLE MANAGED BLOCK\n", "# END ANSIBLE MANAGED BLOCK\n"


def bif(path: str = "f", **args) -> str:
    lines = [f"  path: '{{{{ d }}}}/{path}'"] + [f"  {k}: {json.dumps(v)}" for k, v in args.items()]
    return "blockinfile:\n" + "\n".join(lines)


CASES = [
    Case("add-at-eof", bif(block="x=1\ny=2\n"), given={"f": "a\n"}, then={"f": f"a\n{B}x=1\ny=2\n{E}"},
         diff=" a\n+" + B),
    Case("no-final-newline", bif(block="x"), given={"f": "a"}, then={"f": f"a\n{B}x\n{E}"}),
    Case("already-there", bif(block="x"), changed=False, given={"f": f"a\n{B}x\n{E}b\n"}),
    Case("replaced-in-place", bif(block="new"), given={"f": f"a\n{B}old\nolder\n{E}b\n"},
         then={"f": f"a\n{B}new\n{E}b\n"}, diff="-old\n-older\n+new"),
    Case("custom-marker", bif(block="x", marker="// {mark} app", marker_begin="start", marker_end="stop"),
         given={"f": "a\n"}, then={"f": "a\n// start app\nx\n// stop app\n"}),
    Case("insertafter", bif(block="x", insertafter="^b"), given={"f": "a\nb1\nc\nb2\nd\n"},
         then={"f": f"a\nb1\nc\nb2\n{B}x\n{E}d\n"}),
    Case("insertbefore", bif(block="x", insertbefore="^b"), given={"f": "a\nb1\nc\nb2\nd\n"},
         then={"f": f"a\nb1\nc\n{B}x\n{E}b2\nd\n"}),
    Case("insertbefore-bof", bif(block="x", insertbefore="BOF"), given={"f": "a\n"}, then={"f": f"{B}x\n{E}a\n"}),
    Case("insertafter-no-match", bif(block="x", insertafter="^zzz"), given={"f": "a\n"}, then={"f": f"a\n{B}x\n{E}"}),
    Case("insertafter-multiline", bif(block="x", insertafter="(?m)^a\nb$"), given={"f": "a\nb\nc\na\nb\n"},
         then={"f": f"a\nb\n{B}x\n{E}c\na\nb\n"}),
    Case("blank-lines-around", bif(block="x", insertafter="^b", prepend_newline=True, append_newline=True),
         given={"f": "a\nb\nc\n"}, then={"f": f"a\nb\n\n{B}x\n{E}\nc\n"}),
    Case("absent", bif(state="absent"), given={"f": f"a\n{B}x\n{E}b\n"}, then={"f": "a\nb\n"}, diff="-x"),
    Case("empty-block-removes", bif(block=""), given={"f": f"a\n{B}x\n{E}"}, then={"f": "a\n"}),
    Case("absent-nothing", bif(state="absent"), changed=False, given={"f": "a\n"}),
    Case("absent-missing-create", bif(state="absent", create=True), changed=False, then={"f": ABSENT}),
    Case("missing-file", bif(block="x"), fails="does not exist", then={"f": ABSENT}),
    Case("create", bif("new/f", block="x", create=True, mode="0600"), then={"new/f": File(f"{B}x\n{E}", 0o600)},
         diff="+x"),
    Case("directory", bif("dir", block="x"), given={"dir": Dir()}, fails="is a directory"),
    Case("keeps-mode", bif(block="x"), given={"f": File("a\n", 0o600)}, then={"f": File(f"a\n{B}x\n{E}", 0o600)}),
    Case("validate-fails", bif(block="x", validate="grep -q nothing %s"), given={"f": "a\n"},
         fails="failed to validate", fails_in_check=False, then={"f": "a\n"}),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_blockinfile(table, case):
    table.verify(case)


def test_result_says_what_was_done(table):
    msgs = {case: table.applied.results(case)[table.host]["msg"] for case in ("add-at-eof", "absent", "create")}
    assert msgs == {"add-at-eof": "Block inserted", "absent": "Block removed", "create": "File created"}


@pytest.mark.parametrize("args, name, needle", [
    ({"block": "x"}, "path", "missing required"),
    ({"path": "/tmp/x", "insertafter": "a", "insertbefore": "b"}, "insertbefore", "mutually exclusive"),
    ({"path": "/tmp/x", "insertafter": "[a"}, "insertafter", "regular expression"),
    ({"path": "/tmp/x", "state": "gone"}, "state", "must be one of"),
])
def test_bad_arguments_fail_on_the_controller(fleet, play, tmp_path, args, name, needle):
    bad_argument_fails(play, tmp_path, "blockinfile", args, name, needle)
