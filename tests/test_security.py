"""Attacks, done as an attacker with write access to Redis would: messages
and replies pushed straight into the queues with redis-py, a real worker
and a real controller on the other side (README: Threat model)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis

from conftest import Workers, controller_env, wait_for, write
from support import Pki, lease, push, touch_calls

SECRET = "hunter2-" + uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def target(redis_server, tmp_path_factory):
    """One worker (sec1), and the controller identity of the session's PKI."""
    workdir = tmp_path_factory.mktemp("security")
    workers = Workers(redis_server.url, workdir)
    workers.start("sec1")
    from celeryroot import pki
    from celeryroot.envelope import ControllerSeal

    trust = pki.Trust(workers.pki.directory)
    seal = ControllerSeal(pki.controller_identity(workers.pki.directory, trust),
                          {h: pki.host_certificate(workers.pki.directory, trust, h)
                           for h in ("sec1", "sec2") if workers.pki.host(h)}, {})
    yield SimpleNamespace(workers=workers, dir=workdir, seal=seal, client=redis_server.client, pki=workers.pki)
    workers.stop()


def rogue_seal(target, tmp_path: Path, host: str = "sec1"):
    """A controller of another CA. It seals to the real host's key (public,
    in its certificate), so only the signature is wrong."""
    from celeryroot import pki
    from celeryroot.envelope import ControllerSeal

    rogue = Pki(tmp_path / "rogue")
    real = pki.load_cert(target.pki.host(host) / "host.crt")
    return ControllerSeal(pki.controller_identity(rogue.directory, pki.Trust(rogue.directory)), {host: real}, {})


def refused(target, task_id: str, timeout: float = 10) -> str:
    """The worker's log line refusing ``task_id``."""
    def line():
        for text in target.workers.log("sec1").splitlines():
            if f"refused task {task_id}" in text:
                return text
        return None
    return wait_for(line, timeout, f"the worker to refuse {task_id}")


def attack(target, tmp_path, name: str, make) -> tuple[Path, str]:
    """Push the message ``make(marker, task_id)`` builds; the marker file
    must not appear, the worker must log the refusal."""
    marker = tmp_path / f"pwned-{name}"
    run_id = uuid.uuid4().hex[:12]
    lease(target.client, run_id)
    task_id = f"{run_id}.0.sec1"
    task, args, reply = make(marker, task_id)
    push(target.client, "celeryroot.host.sec1", task, args, task_id, reply_to=reply)
    line = refused(target, task_id)
    return marker, line


def _signed(target, marker, task_id, host="sec1", ttl=30.0, task="celeryroot.run", seal=None):
    seal = seal or target.seal
    return seal.seal_task(host, task_id, task, "celeryroot.reply.x", touch_calls(marker), ttl)


def _tampered(target, marker, task_id):
    (env,) = _signed(target, marker, task_id)
    other = target.seal.seal_task("sec1", task_id, "celeryroot.run", "celeryroot.reply.x",
                                  touch_calls(marker.with_name(marker.name + "-other")), 30)[0]
    env["box"], env["key"], env["nonce"] = other["box"], other["key"], other["nonce"]
    return [env]


def _host_signed(target, marker, task_id):
    """Signed with a host's key and certificate (sec2's), as if a host were a controller."""
    from celeryroot import pki
    from celeryroot.envelope import ControllerSeal

    host_dir = target.pki.host("sec2")
    identity = pki.load_identity(host_dir, "host")
    seal = ControllerSeal(identity, {"sec1": pki.load_cert(target.pki.host("sec1") / "host.crt")}, {})
    return seal.seal_task("sec1", task_id, "celeryroot.run", "celeryroot.reply.x", touch_calls(marker), 30)


ATTACKS = {
    # The attack of the issue: a hand-made JSON message, nothing signed.
    "unsigned": lambda t, m, tid: ("celeryroot.run", touch_calls(m), "celeryroot.reply.x"),
    "unsigned-bundle": lambda t, m, tid: ("celeryroot.play", [{"host": "sec1"}], "celeryroot.reply.x"),
    "tampered": lambda t, m, tid: ("celeryroot.run", _tampered(t, m, tid), "celeryroot.reply.x"),
    "host-key": lambda t, m, tid: ("celeryroot.run", _host_signed(t, m, tid), "celeryroot.reply.x"),
    "wrong-host": lambda t, m, tid: ("celeryroot.run", _signed(t, m, tid, host="sec2"), "celeryroot.reply.x"),
    "expired": lambda t, m, tid: ("celeryroot.run", _signed(t, m, tid, ttl=-1), "celeryroot.reply.x"),
    "other-task": lambda t, m, tid: ("celeryroot.play", _signed(t, m, tid), "celeryroot.reply.x"),
    "other-reply-queue": lambda t, m, tid: ("celeryroot.run", _signed(t, m, tid), "celeryroot.reply.attacker"),
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_a_forged_message_runs_nothing(target, tmp_path, name):
    marker, line = attack(target, tmp_path, name, lambda m, tid: ATTACKS[name](target, m, tid))
    time.sleep(0.3)
    assert not marker.exists()
    assert not marker.with_name(marker.name + "-other").exists()
    # Said without the payload: the path the message carried is not in the log.
    assert str(marker) not in target.workers.log("sec1")
    assert "refused task" in line


def test_a_message_of_another_ca_runs_nothing(target, tmp_path):
    rogue = rogue_seal(target, tmp_path)
    marker, line = attack(target, tmp_path, "rogue-ca", lambda m, tid: (
        "celeryroot.run", _signed(target, m, tid, seal=rogue), "celeryroot.reply.x"))
    assert not marker.exists()
    assert "not a trusted controller" in line and "not issued by the trusted CA" in line


def test_a_signed_message_runs_once_and_a_replay_nothing(target, tmp_path):
    marker = tmp_path / "once"
    run_id = uuid.uuid4().hex[:12]
    lease(target.client, run_id)
    task_id = f"{run_id}.0.sec1"
    envelope = _signed(target, marker, task_id)
    push(target.client, "celeryroot.host.sec1", "celeryroot.run", envelope, task_id)
    wait_for(marker.exists, 10, "the signed task to run")
    marker.unlink()
    push(target.client, "celeryroot.host.sec1", "celeryroot.run", envelope, task_id)
    assert "replayed" in refused(target, task_id)
    assert not marker.exists()


def test_a_message_signed_before_the_worker_started_runs_nothing(target, tmp_path, redis_server):
    """A redelivery after a crash (or a replay across a restart)."""
    marker = tmp_path / "before"
    run_id = uuid.uuid4().hex[:12]
    lease(target.client, run_id)
    task_id = f"{run_id}.0.sec1"
    envelope = _signed(target, marker, task_id)
    target.workers.stop(["sec1"])
    target.workers.start("sec1")
    push(target.client, "celeryroot.host.sec1", "celeryroot.run", envelope, task_id)
    assert "signed before this worker started" in refused(target, task_id)
    assert not marker.exists()


class _Touch:
    """Unpickled, runs ``touch PATH``: Celery's classic remote code execution
    when a worker accepts pickle."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.path}",)


def test_a_pickled_message_is_never_unpickled(target, tmp_path):
    """A message of content type pickle, its body a payload that runs a
    command when unpickled, pushed into the host's queue under a live lease:
    the worker takes it off the queue and runs nothing (it accepts JSON only,
    and signed envelopes in it)."""
    import base64
    import pickle

    marker = tmp_path / "pwned-pickle"
    run_id = uuid.uuid4().hex[:12]
    lease(target.client, run_id)
    task_id = f"{run_id}.0.sec1"
    queue = "celeryroot.host.sec1"
    message = {"body": base64.b64encode(pickle.dumps(_Touch(marker))).decode(), "content-encoding": "binary",
               "content-type": "application/x-python-serialize",
               "headers": {"lang": "py", "task": "celeryroot.run", "id": task_id, "root_id": task_id,
                           "retries": 0, "argsrepr": "", "kwargsrepr": "{}", "origin": "attacker"},
               "properties": {"correlation_id": task_id, "reply_to": "celeryroot.reply.x", "delivery_mode": 2,
                              "delivery_info": {"exchange": "", "routing_key": queue}, "priority": 0,
                              "body_encoding": "base64", "delivery_tag": str(uuid.uuid4())}}
    target.client.lpush(queue, json.dumps(message))
    wait_for(lambda: target.client.llen(queue) == 0, 15, "the worker to take the message")
    time.sleep(1)
    assert not marker.exists(), "a pickled message was unpickled"


def test_the_worker_serves_on_after_refusals(target, tmp_path, play):
    """After every attack above, a real run still works, and the refusals were counted."""
    inventory = write(tmp_path / "inv.yaml", "all:\n  hosts:\n    sec1:\n")
    book = write(tmp_path / "p.yaml", f"- hosts: all\n  gather_facts: false\n  tasks:\n"
                                      f"    - file: path={tmp_path}/ok state=touch\n")
    out = play(book, inventory=inventory)
    assert out.rc == 0, out
    assert (tmp_path / "ok").exists()
    assert "refused so far" in target.workers.log("sec1")


@pytest.mark.parametrize("strategy", ["linear", "bundles"])
def test_a_forged_reply_is_a_security_error_not_a_result(target, tmp_path, redis_server, strategy):
    """While sec1 runs a slow task, replies for it are pushed into the run's
    reply queue: unsigned, and signed by another host (sec2). Either way
    of running the play reports the refusal on the task sec1 was running."""
    from celeryroot import pki
    from celeryroot.envelope import HostSeal

    inventory = write(tmp_path / "inv.yaml", "all:\n  hosts:\n    sec1:\n")
    book = write(tmp_path / "p.yaml", "- hosts: all\n  gather_facts: false\n  tasks:\n"
                                      "    - name: slow\n      command: sleep 3\n")
    proc = subprocess.Popen([sys.executable, "-m", "celeryroot.cli.play", str(book), "-i", str(inventory), "--json",
                             *(["--strategy", "linear"] if strategy == "linear" else [])],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env=controller_env(redis_server.url))
    # (the attacks above left leases of their own, valued "test")
    keys = wait_for(lambda: [k for k in target.client.keys("celeryroot.lease.*") if target.client.get(k) != b"test"],
                    10, "the run's lease")
    run_id = keys[0].decode().rsplit(".", 1)[1]
    time.sleep(0.5)
    sec2_dir = target.pki.host("sec2")
    sec2 = HostSeal(pki.load_identity(sec2_dir, "host"), pki.Trust(sec2_dir), "sec1")  # claims to be sec1
    forged = {"results": [{"status": "ok", "changed": False, "failed": False, "skipped": False, "msg": "FORGED"}]}
    for seq in range(3):
        task_id = f"{run_id}.{seq}.sec1"
        push(target.client, f"celeryroot.reply.{run_id}", "", [], task_id,
             status_reply={"task_id": task_id, "status": "SUCCESS", "result": forged})
        push(target.client, f"celeryroot.reply.{run_id}", "", [], task_id,
             status_reply={"task_id": task_id, "status": "SEALED",
                           "result": sec2.seal_reply(task_id, "SUCCESS", forged)})
    stdout, stderr = proc.communicate(timeout=60)
    doc = json.loads(stdout)
    assert proc.returncode == 2, stdout + stderr
    assert doc["plays"][0]["play"]["execution"]["mode"] == strategy
    [task] = doc["plays"][0]["tasks"]
    msg = task["hosts"]["sec1"]["msg"]
    assert "SECURITY ERROR" in msg and ("unsigned reply" in msg or "not signed by sec1" in msg), msg
    assert "FORGED" not in stdout


def test_no_log_secrets_reach_no_output_log_or_redis_key(target, tmp_path, redis_server):
    """A secret in a no_log task's arguments, a template and a bundle's
    variables: not in the controller's output (text and --json), the
    worker's log or any Redis key during and after the run."""
    inventory = write(tmp_path / "inv.yaml", "all:\n  hosts:\n    sec1:\n")
    write(tmp_path / "secret.j2", "password={{ db_password }}\n")
    book = write(tmp_path / "p.yaml", f"""
- hosts: all
  gather_facts: false
  vars:
    db_password: {SECRET}
  tasks:
    - name: write it
      shell: echo {{{{ db_password }}}} > {tmp_path}/out && sleep 0.5
      no_log: true
    - name: template it
      template: src=secret.j2 dest={tmp_path}/conf
      no_log: true
    - name: fail with it
      shell: echo {{{{ db_password }}}}; exit 3
      no_log: true
      ignore_errors: true
- hosts: all
  gather_facts: false
  strategy: free
  vars:
    db_password: {SECRET}
  tasks:
    - name: in a bundle
      shell: echo {{{{ db_password }}}} && sleep 0.5
      no_log: true
""")
    seen: list[bytes] = []
    done = threading.Event()

    def snapshot():
        client = redis.Redis.from_url(redis_server.url)
        while not done.is_set():
            for key in client.scan_iter(count=1000):
                kind = client.type(key)
                if kind == b"list":
                    seen.extend(client.lrange(key, 0, -1))
                elif kind == b"string":
                    seen.append(client.get(key) or b"")
                elif kind == b"hash":
                    seen.extend(client.hvals(key))
                elif kind == b"set":
                    seen.extend(client.smembers(key))
                elif kind == b"zset":
                    seen.extend(client.zrange(key, 0, -1))
            time.sleep(0.01)

    watcher = threading.Thread(target=snapshot)
    watcher.start()
    env = controller_env(redis_server.url)
    try:
        outs = [subprocess.run([sys.executable, "-m", "celeryroot.cli.play", str(book), "-i", str(inventory), *extra],
                               capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
                for extra in ((), ("--json",), ("-vvv", "--diff"))]
    finally:
        done.set()
        watcher.join()
    assert (tmp_path / "out").read_text().strip() == SECRET  # it did run
    for out in outs:
        assert out.returncode == 0, out.stdout + out.stderr
        assert SECRET not in out.stdout + out.stderr
    assert len(seen) > 10  # the watcher saw the messages go by
    assert not [value for value in seen if SECRET.encode() in value]
    assert SECRET not in target.workers.log("sec1")
    for key in redis_server.client.scan_iter():
        assert SECRET.encode() not in redis_server.client.dump(key)


@pytest.mark.parametrize("value", [SECRET, "{{ secret }}"], ids=["as-written", "rendered"])
def test_a_no_log_argument_that_fails_validation_is_not_printed(target, tmp_path, play, value):
    inventory = write(tmp_path / "inv.yaml", "all:\n  hosts:\n    sec1:\n")
    book = write(tmp_path / "p.yaml", f"- hosts: all\n  vars: {{secret: {SECRET}}}\n  tasks:\n"
                                      f"    - file: path=/tmp/x mode={value}\n      no_log: true\n")
    out = play(book, inventory=inventory, json_out=False)
    assert out.rc == 1, out
    assert "argument 'mode' is not valid; the output has been hidden" in out.stderr, out
    assert "p.yaml:4:" in out.stderr  # the task's line
    assert SECRET not in out.stdout + out.stderr


def test_keys_readable_by_others_are_refused(tmp_path):
    directory = Pki(tmp_path / "pki").host("loose1")
    (directory / "host.key").chmod(0o644)
    proc = subprocess.run([sys.executable, "-m", "celeryroot.cli.worker", "--hostname", "loose1", "--broker",
                           "redis://127.0.0.1:1/0", "--pki", str(directory)], capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 1
    assert "host.key: the key is readable by others (mode 0644); chmod 600 it" in proc.stderr
