"""The modules that only look (stat, slurp, find, getent, wait_for): a
table run --check, apply, apply again, never changed, and what they return.
wait_for waits on the host, which is this machine: its ports are ours."""

from __future__ import annotations

import base64
import hashlib
import socket
import threading

import pytest

from conftest import Case, Dir, File, Link, bad_argument_fails, free_port, write


def task(module: str, **args) -> str:
    return f"{module}:\n" + "\n".join(f"  {k}: '{v}'" for k, v in args.items())


TREE = {"ab.txt": "hello world\n", "b.log": "x hello\n", ".dot": "q\n", ".hid/in": "z\n",
        "sub/s.txt": File("s", 0o600), "sub/deep/t.txt": "t\n", "lnk": Link("ab.txt")}

CASES = [
    Case("stat-file", task("stat", path="{{ d }}/f"), changed=False, given={"f": File("hello\n", 0o640)}),
    Case("stat-missing", task("stat", path="{{ d }}/nothing"), changed=False),
    Case("stat-dir", task("stat", path="{{ d }}/sub", get_checksum="no"), changed=False, given={"sub": Dir(0o750)}),
    Case("stat-link", task("stat", path="{{ d }}/l"), changed=False, given={"l": Link("t"), "t": "x"}),
    Case("stat-follow", task("stat", path="{{ d }}/l", follow="yes", checksum_algorithm="sha256"), changed=False,
         given={"l": Link("t"), "t": "x"}),
    Case("slurp", task("slurp", src="{{ d }}/f"), changed=False, given={"f": "hello\n"}),
    Case("slurp-missing", task("slurp", src="{{ d }}/nothing"), fails="file not found"),
    Case("slurp-dir", task("slurp", src="{{ d }}"), fails="is a directory"),
    Case("find-glob", task("find", paths="{{ d }}", patterns="*.txt,*.log", excludes="b*"), changed=False,
         given=TREE),
    Case("find-regex", task("find", paths="{{ d }}", patterns="a", use_regex="yes"), changed=False, given=TREE),
    Case("find-contains", task("find", paths="{{ d }}", contains="hello"), changed=False, given=TREE),
    Case("find-recurse", task("find", paths="{{ d }}", recurse="yes"), changed=False, given=TREE),
    Case("find-hidden", task("find", paths="{{ d }}", recurse="yes", hidden="yes"), changed=False, given=TREE),
    Case("find-dirs", task("find", paths="{{ d }},{{ d }}/nowhere", file_type="directory", recurse="yes",
                           depth="2"), changed=False, given=TREE),
    Case("find-size-mode", task("find", paths="{{ d }}", recurse="yes", size="-2", mode="0600"), changed=False,
         given=TREE),
    Case("find-age", task("find", paths="{{ d }}", age="1d"), changed=False, given=TREE),
    Case("find-young-links", task("find", paths="{{ d }}", age="-1h", file_type="link"), changed=False,
         given=TREE),
    Case("getent-root", task("getent", database="passwd", key="root"), changed=False),
    Case("getent-hosts", task("getent", database="hosts", key="localhost", split=" "), changed=False),
    Case("getent-no-key", task("getent", database="group", key="celeryroot-no-such-group"),
         fails="could not be found"),
    Case("getent-no-key-ok", task("getent", database="group", key="celeryroot-no-such-group", fail_key="no"),
         changed=False),
    Case("getent-no-database", task("getent", database="celeryroot-nodb"), fails="database unknown"),
    Case("wait-file", task("wait_for", path="{{ d }}/f", timeout="5"), changed=False, given={"f": "x"}),
    Case("wait-gone", task("wait_for", path="{{ d }}/f", state="absent", timeout="5"), changed=False),
    Case("wait-regex", task("wait_for", path="{{ d }}/log", search_regex=r"port (?P<port>\d+)", timeout="5"),
         changed=False, given={"log": "starting\nlistening on port 8080\n"}),
    Case("wait-file-timeout", task("wait_for", path="{{ d }}/never", timeout="1", sleep="1"),
         fails="Timeout when waiting for file"),
    Case("wait-regex-timeout", task("wait_for", path="{{ d }}/log", search_regex="ready", timeout="1",
                                    msg="never ready"), given={"log": "starting\n"}, fails="never ready"),
    Case("wait-time", task("wait_for", timeout="1"), changed=False),
]


def returned(table, case_id: str) -> dict:
    """What the case's task returned in the apply run (the same every run)."""
    results = [run.results(case_id)[table.host] for run in (table.checked, table.applied, table.again)]
    strip = ("atime",)
    assert len({repr({k: v for k, v in r.get("stat", {}).items() if k not in strip}) for r in results}) == 1
    return results[1]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_table(table, case):
    table.verify(case)


def test_stat_of_a_file(table):
    st = returned(table, "stat-file")["stat"]
    assert st["exists"] and st["isreg"] and not st["isdir"] and not st["islnk"]
    assert st["mode"] == "0640" and st["size"] == 6 and st["path"].endswith("stat-file/f")
    assert st["checksum"] == hashlib.sha1(b"hello\n").hexdigest()
    assert st["pw_name"] == "root" and st["gr_name"] == "root" and st["uid"] == 0
    assert st["rusr"] and st["rgrp"] and not st["roth"] and isinstance(st["mtime"], float)
    assert st.get("mimetype", "text/plain") == "text/plain"  # where `file` is installed


def test_stat_of_nothing_says_only_that(table):
    assert returned(table, "stat-missing")["stat"] == {"exists": False}


def test_stat_of_a_directory_and_a_link(table):
    st = returned(table, "stat-dir")["stat"]
    assert st["isdir"] and st["mode"] == "0750" and "checksum" not in st
    link = returned(table, "stat-link")["stat"]
    assert link["islnk"] and not link["isreg"] and link["lnk_target"] == "t"
    assert link["lnk_source"] == str(table.root / "stat-link/t") and "checksum" not in link
    followed = returned(table, "stat-follow")["stat"]
    assert followed["isreg"] and not followed["islnk"] and followed["checksum"] == hashlib.sha256(b"x").hexdigest()


def test_slurp_returns_base64(table):
    res = returned(table, "slurp")
    assert base64.b64decode(res["content"]) == b"hello\n" and res["encoding"] == "base64"
    assert res["source"] == str(table.root / "slurp/f")


def found(table, case_id: str) -> tuple[list[str], int]:
    res = returned(table, case_id)
    assert res["matched"] == len(res["files"])
    return [f["path"].removeprefix(str(table.root / case_id) + "/") for f in res["files"]], res["examined"]


def test_find_filters_as_ansible_does(table):
    assert found(table, "find-glob") == (["ab.txt"], 6)
    assert found(table, "find-regex") == (["ab.txt"], 6), "a regular expression matches at the name's start"
    assert found(table, "find-contains") == (["ab.txt"], 6), "contains matches at a line's start"
    # Hidden names are left out, but hidden directories are searched (as Ansible does).
    assert found(table, "find-recurse") == (["ab.txt", "b.log", ".hid/in", "sub/s.txt", "sub/deep/t.txt"], 10)
    assert found(table, "find-hidden")[0] == [".dot", "ab.txt", "b.log", ".hid/in", "sub/s.txt", "sub/deep/t.txt"]
    assert found(table, "find-size-mode")[0] == ["sub/s.txt"]
    assert found(table, "find-age")[0] == []
    assert found(table, "find-young-links")[0] == ["lnk"]


def test_find_returns_stat_keys_and_skipped_paths(table):
    res = returned(table, "find-dirs")
    assert [f["path"].rsplit("/find-dirs/", 1)[1] for f in res["files"]] == ["sub", "sub/deep"]
    assert res["files"][0]["isdir"] and res["files"][0]["mode"] == "0755"
    nowhere = str(table.root / "find-dirs/nowhere")
    assert res["skipped_paths"] == {nowhere: f"'{nowhere}' is not a directory"}
    assert res["msg"] == "Not all paths examined, check warnings for details"
    (small,) = returned(table, "find-size-mode")["files"]
    assert small["size"] == 1 and small["mode"] == "0600" and small["isreg"]


def test_getent_returns_the_entries_as_facts(table):
    assert returned(table, "getent-root")["ansible_facts"] == {
        "getent_passwd": {"root": ["x", "0", "0", "root", "/root", __import__("pwd").getpwnam("root").pw_shell]}}
    hosts = returned(table, "getent-hosts")["ansible_facts"]["getent_hosts"]
    assert any("localhost" in fields for fields in hosts.values()), hosts
    assert returned(table, "getent-no-key-ok")["ansible_facts"] == {
        "getent_group": {"celeryroot-no-such-group": None}}


def test_wait_for_returns_the_match(table):
    res = returned(table, "wait-regex")
    assert res["match_groups"] == ["8080"] and res["match_groupdict"] == {"port": "8080"}
    assert returned(table, "wait-time")["elapsed"] == 1


@pytest.fixture
def banner():
    """A TCP server on the test's machine (the workers' host) that greets every client."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"220 ready v2.5\r\n")

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


def test_wait_for_a_port(fleet, play, tmp_path, banner):
    closed = free_port()
    inventory = write(tmp_path / "inv.yaml", "all:\n  hosts:\n    web1:\n")
    book = write(tmp_path / "ports.yaml", f"""- hosts: web1
  gather_facts: false
  tasks:
    - name: open
      wait_for: port={banner} timeout=10
    - name: banner
      wait_for: port={banner} search_regex='ready v(\\d+)\\.(\\d+)' timeout=10
    - name: stopped
      wait_for: port={closed} state=stopped timeout=10
    - name: drained
      wait_for: port={closed} state=drained exclude_hosts=10.0.0.9 timeout=10
    - name: never open
      wait_for: port={closed} timeout=1
      ignore_errors: true
""")
    out = play(book, "--check", inventory=inventory)
    assert out.rc == 0, out
    out = play(book, inventory=inventory)
    assert out.rc == 0, out
    for name in ("open", "banner", "stopped", "drained"):
        res = out.results(name)["web1"]
        assert not res["failed"] and not res["changed"], (name, res)
    assert out.results("banner")["web1"]["match_groups"] == ["2", "5"]
    never = out.results("never open")["web1"]
    assert never["failed"] and never["msg"] == f"Timeout when waiting for 127.0.0.1:{closed}", never


def test_registered_stat_drives_a_later_when_and_getent_sets_facts(fleet, play, tmp_path):
    inventory = write(tmp_path / "inv.yaml", f"all:\n  hosts:\n    web1:\n      root: {tmp_path}/h\n")
    write(tmp_path / "h/present", "x")
    book = write(tmp_path / "when.yaml", """- hosts: web1
  gather_facts: false
  tasks:
    - stat: path={{ root }}/present
      register: here
    - stat: path={{ root }}/absent
      register: gone
    - name: when it exists
      copy: {content: "seen\\n", dest: "{{ root }}/seen"}
      when: here.stat.exists and here.stat.isreg
    - name: when it does not
      copy: {content: "never\\n", dest: "{{ root }}/never"}
      when: gone.stat.exists
    - getent: database=passwd key=root
    - name: a getent fact is a variable
      copy: {content: "{{ getent_passwd.root[4] }} {{ ansible_facts.getent_passwd.root[0] }}", dest: "{{ root }}/home"}
""")
    out = play(book, inventory=inventory)
    assert out.rc == 0, out
    assert out.results("when it exists")["web1"]["changed"]
    assert out.results("when it does not")["web1"]["skipped"]
    assert (tmp_path / "h/seen").read_text() == "seen\n" and not (tmp_path / "h/never").exists()
    assert (tmp_path / "h/home").read_text() == "/root x"


@pytest.mark.parametrize("module, args, name", [
    ("stat", {"follow": True}, "path"),
    ("stat", {"path": "/x", "checksum_algorithm": "crc"}, "checksum_algorithm"),
    ("slurp", {}, "src"),
    ("getent", {"key": "root"}, "database"),
    ("wait_for", {"port": 80, "path": "/x"}, "path"),
    ("wait_for", {"path": "/x", "state": "stopped"}, "state"),
    ("wait_for", {"port": 80, "exclude_hosts": "10.0.0.1"}, "exclude_hosts"),
    ("wait_for", {"port": "http"}, "port"),
    ("find", {"paths": "/x", "age": "3y"}, "age"),
    ("find", {"paths": "/x", "size": "big"}, "size"),
    ("find", {"paths": "/x", "file_type": "socket"}, "file_type"),
    ("find", {"paths": "/x", "contains": "("}, "contains"),
])
def test_bad_arguments_fail_on_the_controller(fleet, play, tmp_path, module, args, name):
    bad_argument_fails(play, tmp_path, module, args, name)
