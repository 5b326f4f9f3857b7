"""The audit log: one JSON line for every module call a worker runs on its
host, plain task or bundle alike, and for every message it refuses.

A call's line says when (UTC), which run and task, which controller signed
the message (its certificate's common name), the module, its arguments,
and how it ended; never the content it wrote or printed. Arguments are
shown as the worker received them (those left unset omitted), except:

- a ``no_log`` call's arguments are hidden as a whole, and only its
  outcome is kept (as the controller's report keeps it);
- an argument named like a secret (``password``, ``passwd``,
  ``passphrase``, ``secret``, ``token`` anywhere in its name) is masked;
- a file's content (``content``, ``_content``, the rendered template
  the controller sends, and ``_data``, unarchive's archive) is replaced by
  its length.

A refused message's line has its reason, task id and claimed task name,
nothing of its payload. Modules that only read variables (``on_controller``:
``debug``, ``set_fact``, …) touch nothing on the host and are not audited.

Lines go to a file (``/var/log/celeryroot/audit.log`` by default), opened
with ``O_APPEND`` and written with one ``write()`` each, so lines never
interleave; the file is reopened when it has been moved away (logrotate),
so a rotation needs no signal. Each line also goes to the journal, when
journald's socket exists, as a native-protocol datagram (``MESSAGE`` the
JSON line, ``SYSLOG_IDENTIFIER=celeryroot``, and ``CELERYROOT_RUN``,
``CELERYROOT_TASK``, ``CELERYROOT_EVENT`` to filter by); without the socket
the file is the only record.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import struct
import threading
from datetime import datetime, timezone
from pathlib import Path

from ..config import MASK, SECRET_NAME
from ..lang.source import InputError
from ..messages import run_of

log = logging.getLogger("celeryroot.worker")

DEFAULT_PATH = Path("/var/log/celeryroot/audit.log")
JOURNAL_SOCKET = "/run/systemd/journal/socket"
HIDDEN = "hidden (no_log)"
_CONTENT_NAMES = ("content", "_content", "_data")
#: Characters of a result's message kept (a summary, not the output).
MSG_LIMIT = 200


def audit_path(option: str | None, options: dict, default: Path | None = DEFAULT_PATH) -> Path | None:
    """``--audit-log``, else ``CELERYROOT_AUDIT_LOG``, else ``audit_log`` in
    the configuration, else ``default`` (None: no audit log)."""
    chosen = option or os.environ.get("CELERYROOT_AUDIT_LOG") or options.get("audit_log")
    return Path(chosen) if chosen else default


def open_audit(path: Path, host: str) -> "AuditLog":
    """The audit log at ``path``; an `InputError` when it cannot be opened:
    a worker that cannot record what it does does not start."""
    try:
        return AuditLog(path, host)
    except OSError as exc:
        raise InputError(None, f"cannot open the audit log {path}: {exc.strerror or exc}") from None


class AuditLog:
    """Appends records to the audit file and the journal. Opening it makes
    the directory (0750) and the file (0640). A failed write is logged, and
    the worker goes on: the call it records has run already."""

    def __init__(self, path: Path, host: str, journal: str = JOURNAL_SOCKET):
        self.path = Path(path)
        self.host = host
        self.journal_path = journal
        self.lock = threading.Lock()
        self.fd = self._open()
        self.journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) if os.path.exists(journal) else None

    def call(self, task_id: str, task: str, controller: str | None, call: dict, res: dict) -> None:
        record = self._head("call", task_id, task)
        record.update(controller=controller, module=call["module"], args=shown_args(call),
                      check=bool(call.get("check")), status=res["status"], changed=res["changed"],
                      failed=res["failed"])
        if call.get("become_user"):  # the user the module ran as (become_user), not the worker's
            record["user"] = call["become_user"]
        if not call.get("no_log"):
            record.update(_outcome(res))
        self.write(record)

    def refused(self, task_id: str, task: str, reason: str) -> None:
        record = self._head("refused", task_id, task)
        record["reason"] = reason
        self.write(record)

    def write(self, record: dict) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
        with self.lock:
            try:
                self._follow()
                os.write(self.fd, (line + "\n").encode())
            except OSError as exc:
                log.warning("audit log %s: %s (task %s not recorded there)", self.path, exc, record["task_id"])
            if self.journal is not None:
                self._journal(line, record)

    def _head(self, event: str, task_id: str, task: str) -> dict:
        # Ids and names of a refused message are the sender's: kept short.
        task_id, task = str(task_id)[:200], str(task)[:200]
        return {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "event": event, "host": self.host, "run": run_of(task_id), "task_id": task_id, "task": task}

    def _open(self) -> int:
        directory = self.path.parent
        if not directory.is_dir():
            directory.mkdir(parents=True, exist_ok=True)
            directory.chmod(0o750)  # whatever the umask
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        try:
            fd = os.open(self.path, flags | os.O_EXCL, 0o640)
            os.fchmod(fd, 0o640)
        except FileExistsError:
            fd = os.open(self.path, flags)
        return fd

    def _follow(self) -> None:
        """Reopen the file when the path no longer names it (rotated away)."""
        try:
            here = os.stat(self.path)
        except FileNotFoundError:
            here = None
        held = os.fstat(self.fd)
        if here is None or (here.st_dev, here.st_ino) != (held.st_dev, held.st_ino):
            os.close(self.fd)
            self.fd = self._open()

    def _journal(self, line: str, record: dict) -> None:
        fields = {"MESSAGE": line, "SYSLOG_IDENTIFIER": "celeryroot",
                  "PRIORITY": "4" if record["event"] == "refused" or record.get("failed") else "6",
                  "CELERYROOT_EVENT": record["event"], "CELERYROOT_RUN": record["run"],
                  "CELERYROOT_TASK": record["task_id"]}
        try:
            self.journal.sendto(journal_datagram(fields), self.journal_path)
        except OSError as exc:  # journald restarting, or a line too long for a datagram
            log.warning("audit: the journal did not take the line of task %s: %s", record["task_id"], exc)


def journal_datagram(fields: dict[str, str]) -> bytes:
    """journald's native protocol: ``NAME=value`` lines; a value holding a
    newline (a sender's task id could) goes as NAME, newline, its length
    as 64-bit little-endian, the value, newline."""
    out = bytearray()
    for name, value in fields.items():
        data = value.encode()
        if b"\n" in data:
            out += name.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
        else:
            out += name.encode() + b"=" + data + b"\n"
    return bytes(out)


def shown_args(call: dict):
    """A call's arguments as the audit log shows them (see the module's docstring)."""
    if call.get("no_log"):
        return HIDDEN
    shown = {}
    for name, value in (call.get("args") or {}).items():
        if value is None:  # not given: the module's default
            continue
        if SECRET_NAME.search(name):
            value = MASK
        elif name in _CONTENT_NAMES and isinstance(value, str):
            value = f"({len(value)} characters)"
        shown[name] = value
    return shown


def _outcome(res: dict) -> dict:
    """What a result says, in short: its message (the module's change
    summary, or why nothing changed or what failed), how many diffs it
    carries and its return code; never its output or the diffs' content."""
    out = {"msg": str(res.get("msg") or "")[:MSG_LIMIT]}
    if res.get("diff"):
        out["diffs"] = len(res["diff"])
    if "rc" in res:
        out["rc"] = res["rc"]
    return out
