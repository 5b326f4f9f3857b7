"""file: a table of cases run --check, apply, apply again on a real worker."""

from __future__ import annotations

import os

import pytest

from conftest import ABSENT, Case, Dir, File, Link, bad_argument_fails, write

CASES = [
    Case("dir-new", "file: path={{ d }}/a/b state=directory mode=0750",
         then={"a/b": Dir(0o750)}, diff="+state: directory"),
    Case("dir-mode", "file: path={{ d }}/x state=directory mode=0755", given={"x": Dir(0o700)},
         then={"x": Dir(0o755)}, diff="-mode: 0700\n+mode: 0755"),
    Case("dir-ok", "file: path={{ d }}/x state=directory mode=0755", changed=False, given={"x": Dir(0o755)}),
    Case("dir-on-file", "file: path={{ d }}/x state=directory", given={"x": "text"},
         fails="already exists as a file", then={"x": "text"}),
    Case("symbolic-mode", "file: path={{ d }}/f mode=u=rw,g=r,o=r", given={"f": File("a", 0o600)},
         then={"f": File("a", 0o644)}),
    Case("symbolic-plus-minus", "file: path={{ d }}/f mode=g+w,o-rwx", given={"f": File("a", 0o644)},
         then={"f": File("a", 0o660)}),
    Case("octal-yaml-int", "file:\n  path: '{{ d }}/f'\n  mode: 0600", given={"f": File("a", 0o644)},
         then={"f": File("a", 0o600)}),
    Case("file-missing", "file: path={{ d }}/nothing state=file", fails="is absent, cannot continue",
         then={"nothing": ABSENT}),
    Case("file-mode", "file: path={{ d }}/f state=file mode=0600", given={"f": File("a", 0o644)},
         then={"f": File("a", 0o600)}),
    Case("file-ok", "file: path={{ d }}/f state=file mode=0644", changed=False, given={"f": File("a", 0o644)}),
    Case("touch-new", "file: path={{ d }}/t state=touch mode=0640 modification_time=preserve access_time=preserve",
         then={"t": File("", 0o640)}, diff="+state: file"),
    Case("touch-time", "file: path={{ d }}/t state=touch modification_time=202001021530.00 access_time=preserve",
         given={"t": "x"}, then={"t": "x"}),
    Case("absent-file", "file: path={{ d }}/f state=absent", given={"f": "x"}, then={"f": ABSENT},
         diff="-state: file\n+state: absent"),
    Case("absent-tree", "file: path={{ d }}/t state=absent", given={"t/a/b": "x", "t/c": Dir()},
         then={"t": ABSENT}),
    Case("absent-missing", "file: path={{ d }}/t state=absent", changed=False),
    Case("link-new", "file: src=target path={{ d }}/l state=link", given={"target": "x"},
         then={"l": Link("target")}, diff="+link: target"),
    Case("link-retarget", "file: src=new path={{ d }}/l state=link", given={"l": Link("old"), "new": "x"},
         then={"l": Link("new")}, diff="-link: old\n+link: new"),
    Case("link-ok", "file: src=target path={{ d }}/l state=link", changed=False,
         given={"l": Link("target"), "target": "x"}),
    Case("link-missing-src", "file: src=nowhere path={{ d }}/l state=link", fails="src file does not exist",
         then={"l": ABSENT}),
    Case("link-missing-src-force", "file: src=nowhere path={{ d }}/l state=link force=yes",
         then={"l": Link("nowhere")}),
    Case("link-over-file", "file: src=t path={{ d }}/l state=link", given={"l": "x", "t": "y"},
         fails="refusing to convert from file to link", then={"l": "x"}),
    Case("link-over-file-force", "file: src=t path={{ d }}/l state=link force=yes", given={"l": "x", "t": "y"},
         then={"l": Link("t")}),
    Case("link-over-full-dir", "file: src=t path={{ d }}/l state=link force=yes",
         given={"l/keep": "x", "t": "y"}, fails="not empty, refusing", then={"l/keep": "x"}),
    Case("hard-new", "file: src={{ d }}/t path={{ d }}/h state=hard", given={"t": "same"},
         then={"h": "same", "t": "same"}),
    Case("recurse", "file: path={{ d }}/r state=directory recurse=yes mode=u=rwX,g=rX,o=",
         given={"r/a/b": File("x", 0o600), "r/a/run": File("y", 0o700), "r/l": Link("a")},
         then={"r": Dir(0o750), "r/a": Dir(0o750), "r/a/b": File("x", 0o640), "r/a/run": File("y", 0o750),
               "r/l": Link("a")}),
    Case("owner-group", "file: path={{ d }}/f owner=nobody group=nogroup", given={"f": "x"},
         then={"f": File("x", owner="nobody")}, diff="+owner: nobody"),
    Case("owner-unknown", "file: path={{ d }}/f owner=celeryroot-no-such-user", given={"f": "x"},
         fails="user 'celeryroot-no-such-user' does not exist"),
    Case("touch-no-parent", "file: path={{ d }}/no/such/t state=touch", fails="does not exist"),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_file(table, case):
    table.verify(case)


def test_touch_time_is_set(table):
    stamp = os.stat(table.root / "touch-time/t").st_mtime
    assert stamp == pytest.approx(__import__("time").mktime((2020, 1, 2, 15, 30, 0, 0, 0, -1)))


def test_hard_link_shares_the_inode(table):
    assert os.path.samefile(table.root / "hard-new/h", table.root / "hard-new/t")


def test_touch_without_preserve_is_always_changed(fleet, play, tmp_path):
    inventory = write(tmp_path / "inv.yaml", f"all:\n  hosts:\n    web1:\n      root: {tmp_path}/h\n")
    book = write(tmp_path / "touch.yaml", "- hosts: web1\n  tasks:\n"
                                          "    - file: path={{ root }} state=directory\n"
                                          "    - name: touch\n      file: path={{ root }}/t state=touch\n")
    for _ in range(2):
        out = play(book, inventory=inventory)
        assert out.rc == 0 and out.results("touch")["web1"]["changed"], out


@pytest.mark.parametrize("args, name", [
    ({"path": "/tmp/x", "state": "folder"}, "state"),
    ({"path": "/tmp/x", "mode": "rwxr-xr-x"}, "mode"),
    ({"path": "/tmp/x", "state": "directory", "src": "/tmp/y"}, "src"),
    ({"path": "/tmp/x", "state": "link"}, "src"),
    ({"path": "/tmp/x", "state": "touch", "modification_time": "yesterday"}, "modification_time"),
    ({"path": "/tmp/x", "recurse": "maybe"}, "recurse"),
    ({"state": "directory"}, "path"),
    ({"path": "/tmp/x", "colour": "blue"}, "colour"),
])
def test_bad_arguments_fail_on_the_controller(fleet, play, tmp_path, args, name):
    bad_argument_fails(play, tmp_path, "file", args, name)
