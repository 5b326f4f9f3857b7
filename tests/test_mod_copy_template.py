"""copy and template: one write path, a table of cases run --check, apply,
apply again on a real worker; controller-side errors with file:line."""

from __future__ import annotations

import glob
import json
import subprocess
import sys

import pytest

from conftest import ABSENT, Case, Dir, File, bad_argument_fails, write

TEMPLATE = "host={{ inventory_hostname }}\n{% for i in [1, 2] %}\nitem {{ i }}\n{% endfor %}\n"
RENDERED = "host=web1\nitem 1\nitem 2\n"
CONTROLLER = {"files/a.txt": "from files\n", "b.txt": "beside the playbook\n",
              "files/run.sh": File("#!/bin/sh\n", 0o750), "templates/t.j2": TEMPLATE,
              "templates/inc.j2": "before\n{% include 'part.j2' %}\nafter\n", "templates/part.j2": "part {{ d | basename }}\n",
              "templates/managed.j2": "# {{ ansible_managed }}\n# from {{ template_path | basename }}\n"}


def copy(dest: str, **args) -> str:
    lines = [f"  dest: '{{{{ d }}}}/{dest}'"] + [f"  {k}: {json.dumps(v)}" for k, v in args.items()]
    return "copy:\n" + "\n".join(lines)


CASES = [
    Case("content-new", copy("f", content="hello\n"), then={"f": "hello\n"}, diff="+hello"),
    Case("content-update-mode", copy("f", content="new\n", mode="0640"), given={"f": File("old\n", 0o600)},
         then={"f": File("new\n", 0o640)}, diff="-old\n+new"),
    Case("content-same", copy("f", content="same\n"), changed=False, given={"f": "same\n"}),
    Case("keeps-mode", copy("f", content="new\n"), given={"f": File("old\n", 0o600)},
         then={"f": File("new\n", 0o600)}),
    Case("symbolic-mode-new", copy("f", content="x", mode="u=rw,g=r,o="), then={"f": File("x", 0o640)}),
    Case("src-files", "copy: src=a.txt dest={{ d }}/a", then={"a": "from files\n"}, controller=CONTROLLER),
    Case("src-beside-playbook", "copy: src=b.txt dest={{ d }}/b", then={"b": "beside the playbook\n"}),
    Case("src-into-dir", "copy: src=a.txt dest={{ d }}/dir", given={"dir": Dir()}, then={"dir/a.txt": "from files\n"}),
    Case("src-into-new-dir", "copy: src=a.txt dest={{ d }}/new/", then={"new/a.txt": "from files\n"}),
    Case("content-into-dir", copy("dir", content="x"), given={"dir": Dir()},
         fails="can not use content with a dir as dest"),
    Case("no-parent", copy("no/f", content="x"), fails="Destination directory", then={"no": ABSENT}),
    Case("force-no", copy("f", content="new", force="no"), changed=False, given={"f": "old"}, then={"f": "old"}),
    Case("backup", copy("f", content="new\n", backup="yes"), given={"f": "old\n"}, then={"f": "new\n"}),
    Case("validate-ok", copy("f", content="good\n", validate="grep -q good %s"), then={"f": "good\n"}),
    Case("validate-fails", copy("f", content="bad\n", validate="grep -q good %s"), given={"f": "old\n"},
         fails="failed to validate", fails_in_check=False, then={"f": "old\n"}),
    Case("owner", copy("f", content="x", owner="nobody", group="nogroup"), then={"f": File("x", owner="nobody")},
         diff="+owner: nobody"),
    Case("json-content", "copy:\n  dest: '{{ d }}/j'\n  content: {a: 1}", then={"j": '{"a": 1}'}),
    Case("remote-src", "copy: src={{ d }}/in remote_src=yes dest={{ d }}/out", given={"in": "on the host\n"},
         then={"out": "on the host\n"}),
    Case("mode-preserve", "copy: src=run.sh dest={{ d }}/run.sh mode=preserve", then={"run.sh": File("#!/bin/sh\n", 0o750)}),
    Case("checksum-ok", copy("f", content="abc", checksum="a9993e364706816aba3e25717850c26c9cd0d89d"),
         then={"f": "abc"}),
    Case("checksum-wrong", copy("f", content="abc", checksum="0" * 40), fails="does not match", then={"f": ABSENT}),
    Case("template-new", "template: src=t.j2 dest={{ d }}/t mode=0600", then={"t": File(RENDERED, 0o600)},
         diff="+host=web1\n+item 1"),
    Case("template-update", "template: src=t.j2 dest={{ d }}/t", given={"t": "host=web1\nitem 0\n"},
         then={"t": RENDERED}, diff=" host=web1\n-item 0\n+item 1\n+item 2"),
    Case("template-same", "template: src=t.j2 dest={{ d }}/t", changed=False, given={"t": RENDERED}),
    Case("template-into-dir", "template: src=t.j2 dest={{ d }}/", then={"t.j2": RENDERED}),
    Case("template-include", "template: src=inc.j2 dest={{ d }}/i", then={"i": "before\npart template-include\nafter\n"}),
    Case("template-managed", "template: src=managed.j2 dest={{ d }}/m",
         then={"m": "# Ansible managed\n# from managed.j2\n"}),
    Case("template-validate-fails", "template: src=t.j2 dest={{ d }}/t validate='grep -q nothing %s'",
         given={"t": "old\n"}, fails="failed to validate", fails_in_check=False, then={"t": "old\n"}),
    Case("template-backup", "template: src=t.j2 dest={{ d }}/t backup=yes", given={"t": "old\n"}, then={"t": RENDERED}),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_copy_and_template(table, case):
    table.verify(case)


@pytest.mark.parametrize("case", ["backup", "template-backup"])
def test_backup_keeps_the_old_content(table, case):
    backups = glob.glob(str(table.root / case / "*~"))
    assert len(backups) == 1, backups
    assert open(backups[0]).read() == "old\n"
    assert table.applied.results(case)["web1"]["backup_file"] == backups[0]


def test_no_temp_files_are_left(table):
    assert not glob.glob(str(table.root / "*" / ".*.tmp"))


def test_diff_is_shown_as_text(fleet, play, tmp_path):
    inventory = write(tmp_path / "inv.yaml", f"all:\n  hosts:\n    web1:\n      root: {tmp_path}\n")
    write(tmp_path / "f", "one\ntwo\n")
    book = write(tmp_path / "d.yaml", "- hosts: web1\n  tasks:\n    - copy:\n        dest: '{{ root }}/f'\n"
                                      "        content: \"one\\nthree\\n\"\n")
    out = play(book, "--diff", inventory=inventory, json_out=False)
    assert out.rc == 0, out
    assert f"--- before: {tmp_path}/f\n+++ after: {tmp_path}/f\n" in out.stdout, out.stdout
    assert " one\n-two\n+three\n" in out.stdout, out.stdout


@pytest.mark.parametrize("module, args, name, needle", [
    ("copy", {"dest": "/tmp/x"}, "src", "is required"),
    ("copy", {"dest": "/tmp/x", "src": "a.txt", "content": "x"}, "content", "mutually exclusive"),
    ("copy", {"dest": "/tmp/x", "src": "missing.txt"}, "src", "could not find"),
    ("copy", {"dest": "/tmp/x", "src": "bin.dat"}, "src", "not UTF-8 text"),
    ("copy", {"dest": "/tmp/x", "content": "x", "validate": "visudo -c"}, "validate", "%s"),
    ("copy", {"content": "x"}, "dest", "missing required"),
    ("template", {"dest": "/tmp/x", "src": "missing.j2"}, "src", "could not find"),
    ("template", {"dest": "/tmp/x", "src": "t.j2", "content": "x"}, "content", "unsupported"),
    ("template", {"dest": "/tmp/x", "src": "t.j2", "backup": "perhaps"}, "backup", "boolean"),
])
def test_bad_arguments_fail_on_the_controller(fleet, play, tmp_path, module, args, name, needle):
    write(tmp_path / "templates/t.j2", "x\n")
    write(tmp_path / "files/a.txt", "x\n")
    (tmp_path / "files/bin.dat").write_bytes(b"\xff\xfe\x00binary")
    bad_argument_fails(play, tmp_path, module, args, name, needle)


@pytest.mark.parametrize("template, where, what", [
    ("line one\nline two {{ nope }}\n", "bad.j2:2", "'nope' is undefined"),
    ("{% for x in [1] %}\n\n{{ x.missing.deeper }}\n{% endfor %}\n", "bad.j2:3", "missing"),
    ("ok\n{% if %}\n", "bad.j2:2", "syntax error"),
])
def test_template_errors_name_the_template_line(fleet, play, tmp_path, template, where, what):
    write(tmp_path / "templates/bad.j2", template)
    book = write(tmp_path / "t.yaml", "- hosts: web1\n  tasks:\n    - template: src=bad.j2 dest=/tmp/never\n")
    out = play(book, inventory=write(tmp_path / "inv.yaml", "all:\n  hosts:\n    web1:\n"))
    assert out.rc == 1, out
    assert "t.yaml:3:" in out.stderr and where in out.stderr and what in out.stderr, out.stderr


def test_copy_module_imports_no_celery():
    """The controller imports modules to validate tasks; they stay light."""
    code = "import sys, celeryroot.modules.template; print('celery' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
