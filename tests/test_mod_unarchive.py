"""unarchive: Ansible's semantics as a table run --check, apply, apply again,
with tar, tar.gz and zip archives built here with tarfile and zipfile."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import ABSENT, Case, Dir, File, Link, Table, bad_argument_fails

SITE = {"top/": None, "top/a.txt": ("A\n", 0o644), "top/bin/": None, "top/bin/run": ("#!/bin/sh\n", 0o755),
        "top/link": "a.txt"}


def tar_bytes(members: dict, compression: str = "") -> bytes:
    """A tar of ``members``: a name ending in / is a directory, a str a
    symlink's target, a (text, mode) pair a file."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=f"w:{compression}") as tar:
        for name, what in members.items():
            info = tarfile.TarInfo(name.rstrip("/"))
            if what is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif isinstance(what, str):
                info.type, info.linkname = tarfile.SYMTYPE, what
                tar.addfile(info)
            else:
                data = what[0].encode()
                info.size, info.mode = len(data), what[1]
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def zip_bytes(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, (text, mode) in members.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | mode) << 16
            zf.writestr(info, text)
    return buf.getvalue()


ARCHIVES = {
    "site.tar.gz": tar_bytes(SITE, "gz"),
    "site.tar": tar_bytes(SITE),
    "app.zip": zip_bytes({"app/x.txt": ("x\n", 0o640), "app/y.txt": ("y\n", 0o644)}),
    "evil.tar": tar_bytes({"../evil": ("x", 0o644)}),
    "evil-link.tar": tar_bytes({"passwd": "/etc/passwd"}),
}


def una(src: str, dest: str = "", **args) -> str:
    lines = [f"  src: '{src}'", f"  dest: '{{{{ d }}}}{'/' + dest if dest else ''}'"]
    return "unarchive:\n" + "\n".join(lines + [f"  {k}: {json.dumps(v)}" for k, v in args.items()])


EXTRACTED = {"top/a.txt": File("A\n", 0o644), "top/bin/run": File("#!/bin/sh\n", 0o755), "top/link": Link("a.txt"),
             "top/bin": Dir(0o755)}

CASES = [
    Case("tgz", una("site.tar.gz"), then=EXTRACTED),
    Case("tar", una("site.tar"), then=EXTRACTED),
    Case("partly-there", una("site.tar.gz"), given={"top/a.txt": "old\n", "top/bin/run": File("#!/bin/sh\n", 0o700)},
         then=EXTRACTED),
    Case("all-there", una("site.tar.gz"), changed=False,
         given={"top/a.txt": File("A\n", 0o644), "top/bin": Dir(0o755), "top/bin/run": File("#!/bin/sh\n", 0o755),
                "top/link": Link("a.txt")}),
    Case("strip", una("site.tar", extra_opts=["--strip-components=1"]),
         then={"a.txt": "A\n", "bin/run": "#!/bin/sh\n", "top": ABSENT}),
    Case("exclude", una("site.tar", exclude=["top/bin", "*.txt"]),
         then={"top/link": Link("a.txt"), "top/bin": ABSENT, "top/a.txt": ABSENT}),
    Case("zip", una("app.zip"), then={"app/x.txt": File("x\n", 0o640), "app/y.txt": File("y\n", 0o644)}),
    Case("mode", una("app.zip", mode="0600"), then={"app/x.txt": File("x\n", 0o600), "app/y.txt": File("y\n", 0o600)}),
    Case("remote-src", una("{{ d }}/site.tar", "out", remote_src=True), given={"out": Dir()},
         then={"out/top/a.txt": "A\n"}),
    Case("creates", una("site.tar", creates="{{ d }}/marker"), changed=False, given={"marker": ""},
         then={"top": ABSENT}),
    Case("escape", una("evil.tar"), fails="outside"),
    Case("link-escape", una("evil-link.tar"), fails="outside", then={"passwd": ABSENT}),
    Case("not-an-archive", una("plain.txt"), fails="Failed to find handler"),
    Case("no-dest", una("site.tar", "nowhere"), fails="must be an existing dir"),
    Case("remote-missing", una("{{ d }}/none.tar", remote_src=True), fails="does not exist"),
]


@pytest.fixture(scope="module")
def table(fleet, redis_server, tmp_path_factory):
    """The table, with the archives in the playbook's files/ and one on the host."""
    workdir = tmp_path_factory.mktemp("table")
    files = workdir / "files"
    files.mkdir()
    for name, data in ARCHIVES.items():
        (files / name).write_bytes(data)
    (files / "plain.txt").write_text("not an archive\n")
    remote = workdir / "hosts" / "web1" / "remote-src"
    remote.mkdir(parents=True)
    (remote / "site.tar").write_bytes(ARCHIVES["site.tar"])
    outcome = Table(redis_server.url, workdir, CASES)
    assert outcome.after_check == outcome.before, "--check changed the host"
    return outcome


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_unarchive(table, case):
    table.verify(case)


def test_result_fields(table, fleet, play, tmp_path):
    res = table.applied.results("tgz")[table.host]
    assert res["handler"] == "TgzArchive" and res["dest"].endswith("/tgz") and res["src"] == "site.tar.gz"
    assert table.applied.results("zip")[table.host]["handler"] == "ZipArchive"
    book = tmp_path / "list.yaml"
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "app.zip").write_bytes(ARCHIVES["app.zip"])
    (tmp_path / "out").mkdir()
    book.write_text(f"- hosts: web1\n  gather_facts: false\n  tasks:\n    - name: listed\n      unarchive:\n"
                    f"        src: app.zip\n        dest: {tmp_path}/out\n        list_files: true\n")
    inventory = tmp_path / "inv.yaml"
    inventory.write_text("all:\n  hosts:\n    web1:\n")
    for strategy in ((), ("--strategy", "linear")):
        out = play(book, *strategy, inventory=inventory)
        assert out.rc == 0, out
        assert out.results("listed")["web1"]["files"] == ["app/x.txt", "app/y.txt"]


@pytest.mark.parametrize("args, name, needle", [
    ({"src": "x.tar"}, "dest", "missing required"),
    ({"src": "x.tar", "dest": "/tmp", "extra_opts": ["-v"]}, "extra_opts", "only --strip-components"),
    ({"src": "nothing-here.tar", "dest": "/tmp"}, "src", "could not find"),
])
def test_bad_arguments_fail_on_the_controller(fleet, play, tmp_path, args, name, needle):
    bad_argument_fails(play, tmp_path, "unarchive", args, name, needle)
