"""The audit log's file and journal, on a temporary directory and a real
Unix datagram socket standing where journald's would."""

from __future__ import annotations

import json
import socket
import struct

from celeryroot.result import CHANGED, result
from celeryroot.worker.audit import AuditLog, journal_datagram, shown_args
from celeryroot.worker.policy import ModulePolicy

CALL = {"module": "user", "args": {"name": "app", "password": "$6$hash", "update_password": "always",
                                   "api_token": "t0k", "shell": None}, "check": False, "no_log": False}


def test_secret_like_arguments_are_masked_and_content_is_its_length():
    assert shown_args(CALL) == {"name": "app", "password": "********", "update_password": "********",
                                "api_token": "********"}
    copy = {"module": "copy", "args": {"dest": "/etc/motd", "content": "hello\n"}}
    assert shown_args(copy) == {"dest": "/etc/motd", "content": "(6 characters)"}
    assert shown_args({**copy, "no_log": True}) == "hidden (no_log)"


def test_one_line_per_record_reopened_after_rotation(tmp_path):
    path = tmp_path / "log" / "audit.log"
    audit = AuditLog(path, "web1", journal=str(tmp_path / "no-journal"))
    assert path.stat().st_mode & 0o777 == 0o640 and path.parent.stat().st_mode & 0o777 == 0o750
    res = result(CHANGED, "create /x", diff=[{"before": "a", "after": "b"}])
    audit.call("run1.0.web1", "celeryroot.run", "ops", {"module": "file", "args": {"path": "/x"}}, res)
    path.rename(path.with_suffix(".log.1"))  # logrotate, without copytruncate
    audit.refused("run2.0.web1", "celeryroot.run", "the message is not in a signed envelope")
    (rotated,) = [json.loads(line) for line in path.with_suffix(".log.1").read_text().splitlines()]
    (fresh,) = [json.loads(line) for line in path.read_text().splitlines()]
    assert rotated["run"] == "run1" and rotated["controller"] == "ops" and rotated["diffs"] == 1
    assert rotated["msg"] == "create /x" and "diff" not in rotated
    assert fresh["event"] == "refused" and fresh["reason"] == "the message is not in a signed envelope"
    assert path.stat().st_mode & 0o777 == 0o640


def test_each_line_goes_to_the_journal_in_its_native_protocol(tmp_path):
    journal = tmp_path / "journal.socket"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(journal))
        audit = AuditLog(tmp_path / "audit.log", "web1", journal=str(journal))
        audit.refused("run1.0.web1\nPRIORITY=0", "celeryroot.run", "forged")
        datagram = server.recv(65536)
    line = (tmp_path / "audit.log").read_text().rstrip("\n")
    assert datagram.startswith(f"MESSAGE={line}\nSYSLOG_IDENTIFIER=celeryroot\nPRIORITY=4\n".encode())
    # A sender's newline travels length-prefixed: it makes no field of its own.
    value = b"run1.0.web1\nPRIORITY=0"
    assert datagram.endswith(b"CELERYROOT_TASK\n" + struct.pack("<Q", len(value)) + value + b"\n")
    assert journal_datagram({"A": "b"}) == b"A=b\n"


def test_the_policy_says_why():
    policy = ModulePolicy(allowed=frozenset({"file", "copy"}), denied=frozenset({"copy"}))
    assert policy.refusal("file") is None
    assert policy.refusal("copy") == "module 'copy' is denied on this host (denied_modules)"
    assert policy.refusal("shell") == "module 'shell' is not allowed on this host (allowed_modules: copy, file)"
    assert policy.describe() == "allowed modules copy,file, denied modules copy"
    assert ModulePolicy().describe() == "" and ModulePolicy().refusal("shell") is None
