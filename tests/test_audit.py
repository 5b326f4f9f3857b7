"""The audit log and the module policy, on real workers: each module call
a worker runs is one JSON line with the controller that signed it; a
no_log call's arguments are never in it; a forged message is recorded as
refused and runs nothing; a module the worker denies fails on the worker,
whatever the controller sent (README: Audit log, Least privilege)."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import datetime
from types import SimpleNamespace

import pytest

from conftest import Workers, wait_for, write
from support import TEST_WORKER, lease, push, touch_calls, worker_env

SECRET = "s3cret-" + uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def hosts(redis_server, tmp_path_factory, request):
    """aud1 runs everything; deny1 denies shell (an option); allow1 allows
    only file and command (its celeryroot.yaml)."""
    plain = Workers(redis_server.url, tmp_path_factory.mktemp("aud"))
    denying = Workers(redis_server.url, tmp_path_factory.mktemp("deny"), command=[*TEST_WORKER, "--deny-modules",
                                                                                  "shell"])
    allowing = Workers(redis_server.url, tmp_path_factory.mktemp("allow"))
    write(allowing.logdir / "celeryroot.yaml", "allowed_modules: [file, command]\n")
    for workers, host in ((plain, "aud1"), (denying, "deny1"), (allowing, "allow1")):
        request.addfinalizer(workers.stop)
        workers.start(host, wait=False)
    for workers, host in ((plain, "aud1"), (denying, "deny1"), (allowing, "allow1")):
        wait_for(lambda: workers.alive(host), 30, f"{host}'s worker")
    return SimpleNamespace(aud1=plain, deny1=denying, allow1=allowing)


def controller_cn() -> str:
    from celeryroot import pki
    from support import shared_pki

    return pki.common_name(pki.load_cert(shared_pki().directory / "controller.crt"))


def inventory(tmp_path, host: str):
    return write(tmp_path / "inv.yaml", f"all:\n  hosts:\n    {host}:\n      root: {tmp_path}/{host}\n")


@pytest.mark.parametrize("strategy", ["linear", "free"])
def test_each_module_call_is_one_audit_line(hosts, tmp_path, play, strategy):
    book = write(tmp_path / "p.yaml", f"""
- hosts: all
  gather_facts: false
  strategy: {strategy}
  vars:
    db_password: {SECRET}
  tasks:
    - name: dir
      file: path={{{{ root }}}} state=directory
    - name: content
      copy: content="hello" dest={{{{ root }}}}/greeting
    - name: run
      command: echo hi
    - name: not on the host
      debug: msg=hello
    - name: items
      file: path={{{{ root }}}}/{{{{ item }}}} state=touch
      loop: [x, y]
    - name: secret
      shell: echo {{{{ db_password }}}} > {{{{ root }}}}/secret
      no_log: true
    - name: again
      file: path={{{{ root }}}} state=directory
""")
    before = len(hosts.aud1.audit("aud1"))
    out = play(book, inventory=inventory(tmp_path, "aud1"))
    assert out.rc == 0, out
    assert (tmp_path / "aud1/secret").read_text().strip() == SECRET
    lines = hosts.aud1.audit("aud1")[before:]
    assert [(r["module"], r["status"]) for r in lines] == [
        ("file", "changed"), ("copy", "changed"), ("command", "changed"), ("file", "changed"),
        ("file", "changed"), ("shell", "changed"), ("file", "ok")], lines
    (run,) = {r["run"] for r in lines}
    assert all(r["task_id"].startswith(run + ".") for r in lines)
    task = "celeryroot.play" if strategy == "free" else "celeryroot.run"
    assert {r["task"] for r in lines} == {task}
    assert len({r["task_id"] for r in lines}) == (1 if strategy == "free" else 6)
    for r in lines:
        assert r["event"] == "call" and r["host"] == "aud1" and r["controller"] == controller_cn()
        assert datetime.fromisoformat(r["time"]).utcoffset().total_seconds() == 0
        assert isinstance(r["changed"], bool) and r["failed"] is False and r["check"] is False
    dir_, copy, command, _, _, secret, again = lines
    assert dir_["args"]["path"] == str(tmp_path / "aud1") and dir_["args"]["state"] == "directory"
    assert "create" in dir_["msg"] or "directory" in dir_["msg"], dir_
    assert copy["args"]["content"] == "(5 characters)" and "hello" not in str(copy)
    assert command["rc"] == 0 and "hi" not in command["msg"].replace("echo hi", "")
    assert secret["args"] == "hidden (no_log)" and "msg" not in secret and "rc" not in secret
    assert again["changed"] is False
    assert SECRET not in hosts.aud1.audit_path("aud1").read_text()


def test_a_forged_message_is_audited_as_refused_and_runs_nothing(hosts, redis_server, tmp_path):
    marker = tmp_path / "pwned"
    run_id = uuid.uuid4().hex[:12]
    lease(redis_server.client, run_id)
    task_id = f"{run_id}.0.aud1"
    push(redis_server.client, "celeryroot.host.aud1", "celeryroot.run", touch_calls(marker), task_id)
    record = wait_for(lambda: next((r for r in hosts.aud1.audit("aud1") if r["task_id"] == task_id), None), 10,
                      "the refusal in the audit log")
    assert record["event"] == "refused" and record["task"] == "celeryroot.run" and record["run"] == run_id
    assert record["reason"] == "the message is not in a signed envelope"
    assert "args" not in record and "module" not in record
    assert not marker.exists()
    assert str(marker) not in hosts.aud1.audit_path("aud1").read_text()


@pytest.mark.parametrize("strategy", ["linear", "free"])
def test_a_denied_module_fails_on_the_worker_and_the_others_run(hosts, tmp_path, play, strategy):
    assert "denied modules shell" in hosts.deny1.log("deny1")
    book = write(tmp_path / "p.yaml", f"""
- hosts: all
  gather_facts: false
  strategy: {strategy}
  tasks:
    - file: path={{{{ root }}}} state=directory
    - name: shell
      shell: touch {{{{ root }}}}/by-shell
      ignore_errors: true
    - command: touch {{{{ root }}}}/by-command
""")
    before = len(hosts.deny1.audit("deny1"))
    out = play(book, inventory=inventory(tmp_path, "deny1"))
    assert out.rc == 0, out
    res = out.results("shell")["deny1"]
    assert res["failed"] and res["msg"] == "module 'shell' is denied on this host (denied_modules)", res
    assert not (tmp_path / "deny1/by-shell").exists()
    assert (tmp_path / "deny1/by-command").exists()
    lines = hosts.deny1.audit("deny1")[before:]
    assert [(r["module"], r["status"]) for r in lines] == [("file", "changed"), ("shell", "failed"),
                                                           ("command", "changed")], lines
    assert lines[1]["msg"] == res["msg"]


def test_only_the_allowed_modules_run(hosts, tmp_path, play):
    """allow1's celeryroot.yaml allows file and command: copy fails there,
    debug (which only reads variables) is outside the policy."""
    assert "allowed modules command,file" in hosts.allow1.log("allow1")
    book = write(tmp_path / "p.yaml", """
- hosts: all
  gather_facts: false
  strategy: free
  tasks:
    - file: path={{ root }} state=directory
    - debug: msg=fine
    - name: copy
      copy: content=x dest={{ root }}/copied
""")
    out = play(book, inventory=inventory(tmp_path, "allow1"))
    assert out.rc == 2, out
    assert out.results("copy")["allow1"]["msg"] == \
        "module 'copy' is not allowed on this host (allowed_modules: command, file)"
    assert not (tmp_path / "allow1/copied").exists() and (tmp_path / "allow1").is_dir()


def test_a_misspelt_module_in_the_policy_stops_the_start(tmp_path):
    proc = subprocess.run([*TEST_WORKER, "--hostname", "typo1", "--broker", "redis://127.0.0.1:1/0",
                           "--deny-modules", "shell,comand"], capture_output=True, text=True, timeout=30,
                          env={**worker_env("typo1"), "CELERYROOT_AUDIT_LOG": str(tmp_path / "audit.log")})
    assert proc.returncode == 1
    assert "celeryroot-worker: --deny-modules: no module named 'comand'" in proc.stderr


def test_the_embedded_mode_audits_only_where_configured(local_play, tmp_path):
    book = write(tmp_path / "p.yaml", f"- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                                      f"    - file: path={tmp_path}/local state=touch\n")
    path = tmp_path / "logs" / "audit.log"
    out = local_play(book, env={"CELERYROOT_AUDIT_LOG": str(path)})
    assert out.rc == 0, out
    (record,) = [json.loads(line) for line in path.read_text().splitlines()]
    assert record["module"] == "file" and record["host"] == "localhost" and record["controller"] is None
    assert oct(path.stat().st_mode & 0o777) == "0o640" and oct(path.parent.stat().st_mode & 0o777) == "0o750"
    out = local_play(book)  # nothing configured: no log, anywhere new
    assert out.rc == 0, out
    assert len(path.read_text().splitlines()) == 1
