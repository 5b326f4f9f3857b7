"""stat: what is at a path on the host, as Ansible's stat returns it."""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass

from ..host.fileinfo import ALGORITHMS, file_checksum, file_info
from ..host.proc import run
from ..module import Module, Plan, arg

class Stat(Module):
    """Report what is at a path: whether it exists, its type, mode, owner,
    size, times, and a file's checksum. Never changes anything.

    The result's ``stat`` holds ``exists`` and, when it does, Ansible's keys:
    ``isdir``, ``isreg``, ``islnk`` (and the other types), ``mode`` as an
    octal string ('0644'), ``uid``/``gid``/``pw_name``/``gr_name``, ``size``,
    ``atime``/``mtime``/``ctime``, the permission flags (``rusr``, ``xoth``,
    …), ``readable``/``writeable``/``executable`` for the worker's user, a
    link's ``lnk_source`` (the path it resolves to) and ``lnk_target`` (its
    text), a regular file's ``checksum`` and, where ``file`` is installed,
    ``mimetype`` and ``charset``. File attributes (lsattr) are not gathered.

    Example:
        - stat: path=/etc/app.conf
          register: conf
        - command: app --init
          when: not conf.stat.exists
    """

    name = "stat"
    as_user = True

    @dataclass(frozen=True, kw_only=True)
    class Args:
        path: str = arg(aliases=("dest", "name"), host_path=True, doc="The path to look at.")
        follow: bool = arg(False, doc="Follow a symbolic link and describe its target.")
        get_checksum: bool = arg(True, doc="Return the checksum of a regular file.")
        checksum_algorithm: str = arg("sha1", choices=ALGORITHMS, aliases=("checksum", "checksum_algo"),
                                      doc="Algorithm of the checksum.")
        get_mime: bool = arg(True, aliases=("mime", "mime_type", "mime-type"),
                             doc="Return mimetype and charset (from the file command, where installed).")
        get_attributes: bool = arg(True, aliases=("attr", "attributes"),
                                   doc="Accepted for compatibility; file attributes are not gathered.")

    def plan(self) -> Plan:
        a = self.args
        try:
            st = os.stat(a.path) if a.follow else os.lstat(a.path)
        except FileNotFoundError:
            return Plan(reason=f"{a.path} does not exist", data={"stat": {"exists": False}})
        info = {"exists": True, **file_info(a.path, st), "blocks": st.st_blocks, "block_size": st.st_blksize,
                "device_type": st.st_rdev, "readable": os.access(a.path, os.R_OK),
                "writeable": os.access(a.path, os.W_OK), "executable": os.access(a.path, os.X_OK)}
        if stat.S_ISLNK(st.st_mode):
            info.update(lnk_source=os.path.realpath(a.path), lnk_target=os.readlink(a.path))
        if stat.S_ISREG(st.st_mode) and a.get_checksum and info["readable"]:
            info["checksum"] = file_checksum(a.path, a.checksum_algorithm)
        if a.get_mime:
            info.update(mime(a.path))
        return Plan(reason=f"{a.path} exists", data={"stat": info})


def mime(path: str) -> dict:
    """``mimetype`` and ``charset`` as ``file -i`` says them (none without it)."""
    if shutil.which("file") is None:
        return {}
    done = run(["file", "-b", "-i", path])
    kind, _, charset = done.stdout.partition("; charset=")
    return {"mimetype": kind.strip(), "charset": charset.strip()} if done.rc == 0 else {}
