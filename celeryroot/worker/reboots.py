"""A reboot that outlives its worker (modules/reboot.py).

The reboot module's result asks for a reboot (``result.REBOOT``). Its
worker then writes the pending reboot to disk — the task's id and reply
queue, the controller its reply is sealed to, the boot id, the result so
far — says in its heartbeat that the host reboots, and runs the reboot
command. It sends no reply (Celery's ``Ignore``): the worker of the next
boot finds the record as it becomes ready, removes it, and answers the
task. The message was acknowledged when it was taken (``task_acks_late``
is off) and a message signed before a worker started is refused
(envelope.py): the reboot is never made twice.

The boot id (/proc/sys/kernel/random/boot_id) tells whether the host did
reboot: a worker restarted within the same boot answers that it did not.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import time
from types import SimpleNamespace

from celery.exceptions import Ignore
from celery.worker import state
from cryptography.hazmat.primitives import serialization

from ..result import FAILED, REBOOT, result

log = logging.getLogger("celeryroot.worker")

BOOT_ID = "/proc/sys/kernel/random/boot_id"
#: Where the pending reboot waits for the next boot.
PENDING = "/var/lib/celeryroot/reboot-pending.json"


def boot_id() -> str:
    with open(BOOT_ID) as f:
        return f.read().strip()


class Reboots:
    """This host's pending reboot: made by `begin`, answered by `answer`."""

    def __init__(self, app, heartbeat):
        self.app = app
        self.heartbeat = heartbeat
        self.path = PENDING

    def begin(self, request, answer: dict) -> dict:
        """Reboot if a result of ``answer`` (a run's) asks for it; else ``answer``."""
        asking = [i for i, r in enumerate(answer.get("results", [])) if REBOOT in r]
        if not asking:
            return answer
        index = asking[0]
        order = answer["results"][index].pop(REBOOT)
        peer = self.app.seal.peers.get(request.id) if self.app.seal.sealing else None
        record = {"task_id": request.id, "reply_to": request.reply_to, "correlation_id": request.correlation_id,
                  "boot_id": boot_id(), "at": time.time(), "order": order, "answer": answer, "index": index,
                  "peer": peer.public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
                  if peer is not None else None}
        self.heartbeat.rebooting(order["reboot_timeout"])
        try:
            done = self._reboot(request.id, record)
        except Ignore:
            raise  # the host goes down: the next boot's worker answers
        finally:
            if not self._stopping():
                self._given_up()
        why = f": {done.stderr.strip()}" if done.stderr.strip() else ""
        answer["results"][index].update(result(
            FAILED, f"the host did not reboot (reboot command rc {done.returncode}{why})", rebooted=False))
        return answer

    def _reboot(self, task_id: str, record: dict) -> subprocess.CompletedProcess:
        """Record the reboot, make it, and wait for the host to go down
        (`Ignore`); the reboot command's outcome if it does not."""
        order = record["order"]
        self._write(record)
        log.warning("task %s reboots this host in %d s: %s", task_id, order["pre_reboot_delay"],
                    order["reboot_command"])
        time.sleep(order["pre_reboot_delay"])
        done = subprocess.run(order["reboot_command"], shell=True, capture_output=True, text=True)
        deadline = time.monotonic() + order["reboot_timeout"]
        while done.returncode == 0 and time.monotonic() < deadline:
            if self._stopping():
                raise Ignore()
            time.sleep(0.2)
        return done

    @staticmethod
    def _stopping() -> bool:
        """Whether the worker was told to stop (systemd stops it on the way down)."""
        return state.should_stop is not None or state.should_terminate is not None

    def _given_up(self) -> None:
        """No reboot comes: nothing pending, and the heartbeat says up again."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self.heartbeat.reboot_until = None

    def answer(self) -> None:
        """Answer the reboot pending from before this worker started, if any."""
        try:
            with open(self.path) as f:
                record = json.load(f)
        except FileNotFoundError:
            return
        os.unlink(self.path)  # first: whatever happens next, it is answered at most once
        res = record["answer"]["results"][record["index"]]
        order = record["order"]
        if record["boot_id"] == boot_id():
            res.update(result(FAILED, "the worker restarted but the host did not reboot", rebooted=False))
        else:
            time.sleep(order["post_reboot_delay"])
            test = subprocess.run(order["test_command"], shell=True, capture_output=True, text=True)
            res["elapsed"] = round(time.time() - record["at"])
            if test.returncode != 0:
                res.update(result(FAILED, f"the host rebooted, but test_command failed (rc {test.returncode})",
                                  stdout=test.stdout, stderr=test.stderr, rebooted=True))
        seal = self.app.seal
        if record["peer"] is not None:
            seal.peers[record["task_id"]] = serialization.load_pem_public_key(record["peer"].encode())
        request = SimpleNamespace(id=record["task_id"], reply_to=record["reply_to"],
                                  correlation_id=record["correlation_id"])
        self.app.backend.store_result(record["task_id"], record["answer"], "SUCCESS", request=request)
        log.info("answered task %s after the reboot: %s", record["task_id"], res["msg"])

    def _write(self, record: dict) -> None:
        os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
        staged = f"{self.path}.new"
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(record, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(staged, self.path)
