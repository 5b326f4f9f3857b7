"""ini_file: community.general's semantics as a table run --check, apply, apply again."""

from __future__ import annotations

import json

import pytest

from conftest import ABSENT, Case, Dir, File, bad_argument_fails


def ini(path: str = "f", module: str = "ini_file", **args) -> str:
    lines = [f"  path: '{{{{ d }}}}/{path}'"] + [f"  {k}: {json.dumps(v)}" for k, v in args.items()]
    return f"{module}:\n" + "\n".join(lines)


CASES = [
    Case("change-value", ini(section="s", option="a", value="2"), given={"f": "[s]\na = 1\nb = 1\n"},
         then={"f": "[s]\na = 2\nb = 1\n"}, diff="-a = 1\n+a = 2"),
    Case("same-value", ini(section="s", option="a", value="1"), changed=False, given={"f": "[s]\na = 1\n"}),
    Case("add-option", ini(section="s", option="c", value="3"), given={"f": "[s]\na = 1\n\n[t]\nx = 1\n"},
         then={"f": "[s]\na = 1\nc = 3\n\n[t]\nx = 1\n"}),
    Case("add-section", ini("f", "community.general.ini_file", section="new", option="k", value="v"),
         given={"f": "[s]\na = 1"}, then={"f": "[s]\na = 1\n\n[new]\nk = v\n"}),
    Case("create", ini("f", section="s", option="k", value="v", mode="0600"), then={"f": File("[s]\nk = v\n", 0o600)},
         diff="+k = v"),
    Case("no-create", ini(section="s", option="k", value="v", create=False), fails="does not exist",
         then={"f": ABSENT}),
    Case("no-extra-spaces", ini(section="s", option="k", value="v", no_extra_spaces=True), given={"f": "[s]\n"},
         then={"f": "[s]\nk=v\n"}),
    Case("no-section", ini(section=None, option="top", value="1"), given={"f": "# c\n[s]\na = 1\n"},
         then={"f": "# c\ntop = 1\n[s]\na = 1\n"}),
    Case("no-value", ini(section="mysqld", option="skip-name-resolve", allow_no_value=True),
         given={"f": "[mysqld]\nport = 1\n"}, then={"f": "[mysqld]\nport = 1\nskip-name-resolve\n"}),
    Case("exclusive-dupes", ini(section="s", option="a", value="1"), given={"f": "[s]\na = 1\na = 2\n"},
         then={"f": "[s]\na = 1\n"}),
    Case("values", ini(section="s", option="a", values=["1", "2"]), given={"f": "[s]\na = 0\nb = 1\n"},
         then={"f": "[s]\na = 1\nb = 1\na = 2\n"}),
    Case("values-kept-others", ini(section="s", option="a", values=["1"], exclusive=False),
         given={"f": "[s]\na = 0\n"}, then={"f": "[s]\na = 1\n"}),
    Case("absent-option", ini(section="s", option="a", state="absent"), given={"f": "[s]\na = 1\nb = 2\na = 3\n"},
         then={"f": "[s]\nb = 2\n"}, diff="-a = 1"),
    Case("absent-one-value", ini(section="s", option="a", value="3", state="absent", exclusive=False),
         given={"f": "[s]\na = 1\na = 3\n"}, then={"f": "[s]\na = 1\n"}),
    Case("absent-section", ini(section="old", state="absent"), given={"f": "[s]\na = 1\n[old]\nx = 1\n[t]\n"},
         then={"f": "[s]\na = 1\n[t]\n"}),
    Case("absent-nothing", ini(section="s", option="zz", state="absent"), changed=False, given={"f": "[s]\na = 1\n"}),
    Case("absent-missing-file", ini(section="s", option="a", state="absent"), changed=False, then={"f": ABSENT}),
    Case("comment-untouched", ini(section="s", option="a", value="1"), given={"f": "[s]\n# a = 0\n"},
         then={"f": "[s]\n# a = 0\na = 1\n"}),
    Case("final-newline", ini(section="s", option="a", value="1"), given={"f": "[s]\na = 1"}, then={"f": "[s]\na = 1\n"}),
    Case("directory", ini("dir", section="s", option="a", value="1"), given={"dir": Dir()}, fails="is a directory"),
    Case("mode-only", ini(section="s", option="a", value="1", mode="0600"), given={"f": File("[s]\na = 1\n", 0o644)},
         then={"f": File("[s]\na = 1\n", 0o600)}),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_ini_file(table, case):
    table.verify(case)


def test_result_says_what_was_done(table):
    res = {case: table.applied.results(case)[table.host] for case in ("change-value", "add-section", "absent-section")}
    assert {c: r["msg"] for c, r in res.items()} == {
        "change-value": "option changed", "add-section": "section and option added",
        "absent-section": "section removed"}
    assert res["change-value"]["path"].endswith("change-value/f")


@pytest.mark.parametrize("args, name, needle", [
    ({"section": "s"}, "path", "missing required"),
    ({"path": "/tmp/x", "option": "a"}, "section", "missing required"),
    ({"path": "/tmp/x", "section": "s", "option": "a"}, "value", "must be defined"),
    ({"path": "/tmp/x", "section": "s", "option": "a", "value": "1", "values": ["2"]}, "values", "mutually exclusive"),
    ({"path": "/tmp/x", "section": "s", "backup": True}, "backup", "not supported"),
])
def test_bad_arguments_fail_on_the_controller(fleet, play, tmp_path, args, name, needle):
    bad_argument_fails(play, tmp_path, "ini_file", args, name, needle)
