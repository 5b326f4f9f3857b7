"""file, copy and lineinfile on a temporary directory, in process: each
case runs --check (predicts, changes nothing), apply (changes), apply again
(ok). The real filesystem, as a worker sees it."""

from __future__ import annotations

import os
import pwd
import stat

import pytest

from .conftest import run


def snapshot(base) -> dict:
    out = {}
    for dirpath, dirnames, filenames in os.walk(base):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            body = open(path, "rb").read() if stat.S_ISREG(st.st_mode) else None
            out[os.path.relpath(path, base)] = (st.st_mode, body)
    return out


def three_runs(base, module: str, **args) -> dict:
    """The three runs' results; fails if --check touched anything."""
    before = snapshot(base)
    checked = run(module, check=True, diff=True, **args)
    assert snapshot(base) == before, "--check changed the directory"
    applied = run(module, diff=True, **args)
    again = run(module, diff=True, **args)
    for name, res in {"check": checked, "apply": applied, "again": again}.items():
        assert not res["failed"], (name, res)
    assert checked["changed"] == applied["changed"], (checked, applied)
    assert not again["changed"], again
    return {"check": checked, "apply": applied, "again": again}


def mode(path) -> int:
    return os.stat(path).st_mode & 0o7777


def test_file_directory_with_mode(tmp_path):
    target = tmp_path / "a" / "b"
    runs = three_runs(tmp_path, "file", path=str(target), state="directory", mode="0750")
    assert runs["apply"]["changed"] and target.is_dir() and mode(target) == 0o750
    assert mode(tmp_path / "a") != 0o750, "mode is for the path itself, not its parents"


def test_file_mode_only_changes_what_differs(tmp_path):
    target = tmp_path / "f"
    target.write_text("keep")
    target.chmod(0o600)
    assert not run("file", path=str(target), mode="0600")["changed"]
    three_runs(tmp_path, "file", path=str(target), mode="u=rw,g=r")
    assert mode(target) == 0o640 and target.read_text() == "keep"


def test_file_absent_and_link(tmp_path):
    (tmp_path / "gone").mkdir()
    (tmp_path / "gone" / "inner").write_text("x")
    three_runs(tmp_path, "file", path=str(tmp_path / "gone"), state="absent")
    assert not (tmp_path / "gone").exists()
    three_runs(tmp_path, "file", path=str(tmp_path / "ln"), src="/etc/hostname", state="link")
    assert os.readlink(tmp_path / "ln") == "/etc/hostname"


def test_file_state_file_on_a_missing_path_fails(tmp_path):
    res = run("file", path=str(tmp_path / "nothing"), state="file")
    assert res["failed"] and not (tmp_path / "nothing").exists()


def test_copy_content_then_a_changed_content_shows_a_diff(tmp_path):
    dest = tmp_path / "conf"
    three_runs(tmp_path, "copy", content="one\n", dest=str(dest), mode="0644")
    assert dest.read_text() == "one\n" and mode(dest) == 0o644
    runs = three_runs(tmp_path, "copy", content="two\n", dest=str(dest))
    (diff,) = runs["check"]["diff"]
    assert (diff["before"], diff["after"]) == ("one\n", "two\n")
    assert dest.read_text() == "two\n" and mode(dest) == 0o644, "a rewrite keeps the mode"


def test_copy_backup_keeps_the_old_content(tmp_path):
    dest = tmp_path / "conf"
    dest.write_text("old\n")
    run("copy", content="new\n", dest=str(dest), backup=True)
    backups = [p for p in tmp_path.iterdir() if p.name.startswith("conf.") and p != dest]
    assert dest.read_text() == "new\n" and [b.read_text() for b in backups] == ["old\n"]


LINEINFILE = [
    # (initial text, arguments, final text)
    ("a\nb\n", {"line": "c"}, "a\nb\nc\n"),
    ("a\nb", {"line": "c"}, "a\nb\nc\n"),
    ("#Port 22\nX\n", {"regexp": "^#?Port ", "line": "Port 2222"}, "Port 2222\nX\n"),
    ("k=1\nk=2\n", {"regexp": "^k=", "line": "k=3"}, "k=1\nk=3\n"),
    ("k=1\nk=2\n", {"regexp": "^k=", "line": "k=3", "firstmatch": True}, "k=3\nk=2\n"),
    ("a\nb\n", {"line": "top", "insertbefore": "BOF"}, "top\na\nb\n"),
    ("[x]\nq=1\n[y]\n", {"line": "n=2", "insertafter": r"^\[x\]"}, "[x]\nn=2\nq=1\n[y]\n"),
    ("[x]\n[y]\n", {"line": "n=2", "insertbefore": r"^\[y\]"}, "[x]\nn=2\n[y]\n"),
    ("a\nb\na\n", {"line": "a", "state": "absent"}, "b\n"),
    ("x1\ny\nx2\n", {"regexp": "^x", "state": "absent"}, "y\n"),
    ("a.b\n", {"search_string": "a.b", "line": "c"}, "c\n"),
]


@pytest.mark.parametrize("text, args, final", LINEINFILE, ids=[str(c[1]) for c in LINEINFILE])
def test_lineinfile(tmp_path, text, args, final):
    path = tmp_path / "f"
    path.write_text(text)
    runs = three_runs(tmp_path, "lineinfile", path=str(path), **args)
    assert runs["apply"]["changed"] and path.read_text() == final


def test_lineinfile_already_there_is_ok_and_missing_file_needs_create(tmp_path):
    path = tmp_path / "f"
    path.write_text("a\n")
    assert not run("lineinfile", path=str(path), line="a")["changed"]
    missing = tmp_path / "sub" / "new"
    failed = run("lineinfile", path=str(missing), line="x")
    assert failed["failed"] and not missing.exists()
    three_runs(tmp_path, "lineinfile", path=str(missing), line="x", create=True)
    assert missing.read_text() == "x\n"


def test_a_host_path_expands_tilde_user_where_the_module_runs():
    res = run("file", path="~root", state="directory")
    assert not res["failed"] and not res["changed"] and res["path"] == pwd.getpwnam("root").pw_dir, res
