"""fetch: a file of the host brought back and written on the controller."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass, replace

from ..host.fileops import atomic_write
from ..module import ArgError, Change, Module, ModuleFailure, Plan, arg, boolean
from ..result import FAILED, FOR_CONTROLLER, result

#: The file travels back inside the reply, so it is kept to this size.
MAX_SIZE = 64 << 20


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def _file_sha1(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return _sha1(fh.read())
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _dest_dir(dest: str, search: tuple[str, ...]) -> str:
    """``dest`` on the controller: relative to the playbook's folder."""
    dest = os.path.expanduser(dest)
    return dest if os.path.isabs(dest) else os.path.join(search[-1] if search else os.getcwd(), dest)


class Fetch(Module):
    """Copy a file from the host to the controller.

    The copy goes to ``dest/<inventory_hostname>/<src>`` (``fetched/web1/etc/hosts``
    for ``src: /etc/hosts``), or with ``flat: yes`` to ``dest`` itself
    (``dest`` ending in ``/``: the source's base name in it). A relative
    ``dest`` is beside the playbook. The controller sends the checksum of
    its copy with the task; the host answers ``ok`` when its file has the
    same, and otherwise sends the file back inside the reply (at most
    64 MiB), which the controller writes atomically, creating directories,
    and checks against the host's checksum (``validate_checksum``). So a
    second run is ``ok`` and ``--check`` says ``changed`` only for a copy
    that differs, writing nothing.

    A missing ``src`` fails, unless ``fail_on_missing: no`` (then ``ok``
    with a message). In a whole-play bundle the controller sends the
    checksums of its copies where the task may write (``dest``, named
    before the run), and writes the files the bundle's answer brings back.

    Example:
        - fetch:
            src: /etc/ssh/ssh_host_ed25519_key.pub
            dest: host_keys/
        - fetch:
            src: /var/log/app/report.csv
            dest: "reports/{{ inventory_hostname }}.csv"
            flat: yes
    """

    name = "fetch"
    needs_controller = "the controller writes the file it brings back"
    comes_home = ("dest", "flat")

    @dataclass(frozen=True, kw_only=True)
    class Args:
        src: str = arg(doc="The file on the host (not a directory).")
        dest: str = arg(doc="Directory on the controller (or, with flat, the file), relative to the playbook.")
        flat: bool = arg(False, doc="Write to dest itself instead of dest/<inventory_hostname>/<src>.")
        fail_on_missing: bool = arg(True, doc="Fail when src does not exist.")
        validate_checksum: bool = arg(True, doc="Check the written copy against the host's checksum.")
        _dest: str | None = arg(None, doc="Set by the controller: the path of its copy.")
        _checksum: str | None = arg(None, doc="Set by the controller: SHA-1 of its copy, if there is one.")

        def check(self) -> None:
            if not self.flat and not os.path.isabs(self.src):
                raise ArgError("src", f"argument 'src': '{self.src}' must be an absolute path to name its copy "
                                      "(or use flat: yes)")

    @classmethod
    def on_controller_prepare(cls, args: Args, variables: dict, search: tuple[str, ...]) -> Args:
        dest = _dest_dir(args.dest, search)
        if args.flat:
            target = os.path.join(dest, os.path.basename(args.src)) if args.dest.endswith("/") else dest
        else:
            host = str(variables.get("inventory_hostname", "localhost"))
            target = os.path.join(dest, host, os.path.normpath(args.src).lstrip("/"))
        return replace(args, _dest=os.path.normpath(target), _checksum=_file_sha1(target))

    @classmethod
    def controller_place(cls, args: dict, host: str, search: tuple[str, ...]) -> str:
        """Where a task of ``host`` with these ``dest`` and ``flat`` writes
        its copies, whatever ``src``: the host's folder under ``dest``, the
        folder ``dest/`` (flat), or the file ``dest`` (flat)."""
        dest = _dest_dir(str(args["dest"]), search)
        return os.path.normpath(dest if boolean(args.get("flat", False)) else os.path.join(dest, host))

    @classmethod
    def in_bundle(cls, args: Args, copy_checksum) -> Args:
        """In a bundle the controller's copy is known by the checksum it sent."""
        return replace(args, _checksum=copy_checksum(args._dest))

    @classmethod
    def acts_on(cls, args: Args) -> str:
        return args._dest or ""

    def plan(self) -> Plan:
        a = self.args
        if a._dest is None:
            raise ModuleFailure("fetch's destination was not prepared on the controller")
        data = {"file": a.src, "dest": a._dest}
        if os.path.isdir(a.src):
            raise ModuleFailure("remote file is a directory, fetch cannot work on directories", **data)
        try:
            with open(a.src, "rb") as fh:
                content = fh.read(MAX_SIZE + 1)
        except FileNotFoundError:
            if a.fail_on_missing:
                raise ModuleFailure("the remote file does not exist, not transferring", **data) from None
            return Plan(reason="the remote file does not exist, not transferring, ignored", data=data)
        except PermissionError:
            raise ModuleFailure("the remote file is not readable, not transferring", **data) from None
        if len(content) > MAX_SIZE:
            raise ModuleFailure(f"{a.src} is larger than {MAX_SIZE >> 20} MiB; fetch returns it inside the reply",
                                **data)
        checksum = _sha1(content)
        data.update(checksum=checksum, remote_checksum=checksum)
        if checksum == a._checksum:
            return Plan(reason="the controller's copy is the same", data=data)
        # The checksum travels with the bytes: a no_log result keeps only them.
        payload = {} if self.ctx.check else {FOR_CONTROLLER: {"data": base64.b64encode(content).decode("ascii"),
                                                              "checksum": checksum}}
        return Plan([Change(f"fetch {a.src} to the controller's {a._dest} ({len(content)} bytes)")],
                    data={**data, **payload})

    @classmethod
    def on_controller_result(cls, args: Args, res: dict) -> dict:
        """Write the file the host sent back (none in check mode, or when the
        controller's copy is the same)."""
        res = dict(res)
        carried = res.pop(FOR_CONTROLLER, None)
        if carried is None or res.get("failed"):
            return res
        content = base64.b64decode(carried["data"])
        if args.validate_checksum and _sha1(content) != carried["checksum"]:
            return {**res, **result(FAILED, "checksum mismatch: the file arrived damaged")}
        try:
            os.makedirs(os.path.dirname(args._dest), exist_ok=True)
            atomic_write(args._dest, content)
        except OSError as exc:
            return {**res, **result(FAILED, f"cannot write {args._dest} on the controller: {exc}")}
        return res
