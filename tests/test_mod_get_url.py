"""get_url: Ansible's semantics as a table run --check, apply, apply again,
against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json

import pytest

from conftest import ABSENT, Case, Dir, File, bad_argument_fails
from support import free_port
from webserver import PAGES, WebServer

PORT = free_port()
URL = f"http://127.0.0.1:{PORT}"
HELLO = "sha256:" + hashlib.sha256(b"hello\n").hexdigest()


@pytest.fixture(scope="module", autouse=True)
def server():
    web = WebServer(PORT)
    yield web
    web.stop()


def get(page: str = "a.txt", dest: str = "f", **args) -> str:
    lines = [f"  url: '{URL}/{page}'", f"  dest: '{{{{ d }}}}/{dest}'"] + [f"  {k}: {json.dumps(v)}"
                                                                          for k, v in args.items()]
    return "get_url:\n" + "\n".join(lines)


CASES = [
    Case("new", get(), then={"f": "hello\n"}),
    Case("exists-no-force", get(), changed=False, given={"f": "old\n"}, then={"f": "old\n"}),
    Case("force-differs", get(force=True), given={"f": "old\n"}, then={"f": "hello\n"}),
    Case("force-same", get(force=True), changed=False, given={"f": "hello\n"}),
    Case("checksum-matches", get(checksum=HELLO), changed=False, given={"f": "hello\n"}),
    Case("checksum-differs", get(checksum=HELLO), given={"f": "old\n"}, then={"f": "hello\n"}),
    Case("checksum-wrong", get(checksum="sha256:" + "0" * 64), fails="did not match", then={"f": ABSENT}),
    Case("into-directory", get("dir/b.bin", dest="sub"), given={"sub": Dir()}),
    Case("mode", get(mode="0600"), then={"f": File("hello\n", 0o600)}),
    Case("mode-only", get(mode="0600"), given={"f": File("old\n", 0o644)}, then={"f": File("old\n", 0o600)}),
    Case("auth", get("auth.txt", url_username="user", url_password="pw"), then={"f": "secret\n"}),
    Case("auth-wrong", get("auth.txt", url_username="user", url_password="no"), fails="401", then={"f": ABSENT}),
    Case("headers", get("header.txt", headers={"X-Token": "t"}), then={"f": "with header\n"}),
    Case("not-found", get("nothing"), fails="404", then={"f": ABSENT}),
    Case("no-parent", get(dest="no/f"), fails="does not exist"),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_get_url(table, case):
    table.verify(case)
    # Nothing but the downloads is left beside them: no temp files.
    assert not [p for p in (table.root / case.id).rglob(".*")], list((table.root / case.id).rglob("*"))


def test_result_fields(table):
    res = table.applied.results("new")[table.host]
    assert res["status_code"] == 200 and res["size"] == 6 and res["msg"] == "OK (6 bytes)"
    assert res["checksum_src"] == hashlib.sha1(b"hello\n").hexdigest() and res["checksum_dest"] is None
    assert res["dest"].endswith("new/f") and res["url"] == f"{URL}/a.txt"
    binary = table.root / "into-directory" / "sub" / "b.bin"
    assert binary.read_bytes() == PAGES["/dir/b.bin"][0] and binary.stat().st_mode & 0o777 == 0o644
    # A matching checksum spares the download, in every run.
    assert table.again.results("checksum-matches")[table.host]["msg"] == "file already exists and has the checksum"


@pytest.mark.parametrize("args, name, needle", [
    ({"dest": "/tmp/x"}, "url", "missing required"),
    ({"url": "file:///etc/passwd", "dest": "/tmp/x"}, "url", "unsupported scheme"),
    ({"url": "http://x/", "dest": "/tmp/x", "checksum": "sha256"}, "checksum", "algorithm:hexdigest"),
    ({"url": "http://x/", "dest": "/tmp/x", "checksum": "sha256:http://x/sums"}, "checksum", "hexadecimal"),
])
def test_bad_arguments_fail_on_the_controller(fleet, play, tmp_path, args, name, needle):
    bad_argument_fails(play, tmp_path, "get_url", args, name, needle)
