"""copy: content from the controller into a file on the host, written atomically."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, replace

from ..host.fileops import (AttributeArgs, attribute_changes, checksum, content_change, missing_dirs, new_content,
                            read_bytes_or_none, stat_or_none, validate_arg, write_file)
from ..lang.files import find_source
from ..module import ArgError, Change, Created, Module, ModuleFailure, Plan, arg

#: Sources travel inside the task's message as text, so they are kept small.
MAX_SOURCE = 4 << 20


@dataclass(frozen=True, kw_only=True)
class WriteArgs(AttributeArgs):
    """What copy and template share: where the content goes and how."""

    dest: str = arg(host_path=True, doc="Path of the file on the host. A directory (existing, or given with a trailing /) "
                        "receives the source's base name.")
    backup: bool = arg(False, doc="Keep a timestamped copy of the old file (its path is returned as backup_file).")
    validate: str | None = arg(None, convert=validate_arg,
                               doc="Command that checks the new file before it replaces the old one, with %s "
                                   "for its path (e.g. 'visudo -cf %s'); on failure the old file stays.")
    force: bool = arg(True, aliases=("thirsty",),
                      doc="Replace the content of an existing file; with no, only a missing file is written.")


def _text(value) -> str:
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


class Copy(Module):
    """Copy content from the controller into a file on the host, atomically.

    ``content`` is written as given (a mapping or list as JSON).
    ``src`` is a file on the controller, looked up in ``files/`` beside the
    playbook (or the role), then beside it; it is read on the controller and
    sent inside the task's message, so it must be UTF-8 text of at most
    4 MiB, and a directory is not copied. With ``remote_src: yes``, ``src``
    is a file on the host instead (any bytes, any size).

    The host compares checksums and writes only when the content differs:
    through a temp file in the same directory, fsynced and renamed over the
    old one, so the file is always either the old or the new content.
    ``mode``/``owner``/``group`` are set on the new file before the rename
    (an existing file's are kept otherwise). ``--diff`` shows a unified diff.

    Example:
        - copy:
            src: sshd_banner.txt
            dest: /etc/ssh/banner
            mode: "0644"
        - copy:
            content: "{{ sudo_rules }}"
            dest: /etc/sudoers.d/ops
            validate: visudo -cf %s
            backup: yes
    """

    name = "copy"
    as_user = True

    @dataclass(frozen=True, kw_only=True)
    class Args(WriteArgs):
        src: str | None = arg(None, host_path=True, doc="File to copy: on the controller (in files/ or beside the playbook), "
                                        "or on the host with remote_src.")
        content: str | None = arg(None, convert=_text, doc="Text to write instead of src (a mapping or list "
                                                           "is written as JSON).")
        remote_src: bool = arg(False, doc="src is a path on the host, not on the controller.")
        checksum: str | None = arg(None, doc="SHA-1 the content must have; the copy fails otherwise.")
        _original_basename: str | None = arg(None, doc="Set by the controller: the base name of src.")

        def check(self) -> None:
            if self.src is not None and self.content is not None:
                raise ArgError("content", "parameters are mutually exclusive: 'content', 'src'")
            if self.src is None and self.content is None:
                raise ArgError("src", "one of 'src' or 'content' is required")

    @classmethod
    def on_controller_prepare(cls, args: Args, variables: dict, search: tuple[str, ...]) -> Args:
        if args.src is None or args.remote_src:
            return args
        path = find_source(args.src, search, "files", "src")
        return replace(args, src=None, content=read_source(path, "src"),
                       _original_basename=os.path.basename(path), mode=preserved(args.mode, path))

    # -- what to write: the parts template overrides -------------------------

    def payload(self) -> bytes:
        a = self.args
        if a.remote_src:
            data = read_bytes_or_none(a.src)
            if data is None:
                raise ModuleFailure(f"Source {a.src} not found")
            return data
        if a.content is None:
            raise ModuleFailure("src (or content) is required")
        return a.content.encode()

    def expected_checksum(self) -> str | None:
        return self.args.checksum

    def basename(self) -> str | None:
        a = self.args
        return a._original_basename or (os.path.basename(a.src) if a.src else None)

    # -- the one write path ---------------------------------------------------

    def destination(self) -> str:
        dest = self.args.dest
        if dest.endswith("/") or os.path.isdir(dest):
            if not self.basename():
                raise ModuleFailure("can not use content with a dir as dest")
            return os.path.join(dest, self.basename())
        return dest

    def plan(self) -> Plan:
        a = self.args
        data = self.payload()
        wanted = self.expected_checksum()
        if wanted and checksum(data) != wanted:
            raise ModuleFailure(f"content checksum {checksum(data)} does not match the expected {wanted}")
        dest = self.destination()
        changes = self._parent_changes(dest)
        st = stat_or_none(dest)
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise ModuleFailure(f"dest {dest} is a directory")
        exists = st is not None or self.ctx.would_exist(Created.path(dest))
        change = content_change(dest, read_bytes_or_none(dest), data) if a.force or not exists else None
        changes += [change] if change else []
        changes += attribute_changes(dest, st, mode=a.mode, owner=a.owner, group=a.group,
                                     would_exist=self.ctx.would_exist)
        reason = f"{dest} has the wanted content" if a.force or st is None else f"{dest} exists (force=no)"
        return Plan(changes, reason=reason, data={"dest": dest, "checksum": checksum(data), "size": len(data)})

    def _parent_changes(self, dest: str) -> list[Change]:
        parent = os.path.dirname(os.path.abspath(dest))
        if os.path.isdir(parent) or self.ctx.would_exist(Created.path(parent)):
            return []
        if self.args.dest.endswith("/"):
            # Ansible creates a destination directory written with a trailing slash.
            return [Change(f"create directory {parent}", before="state: absent\n", after="state: directory\n",
                           path=parent, creates=missing_dirs(parent))]
        raise ModuleFailure(f"Destination directory {parent} does not exist")

    def apply(self, plan: Plan) -> dict:
        a = self.args
        return write_file(plan.data["dest"], new_content(plan.changes), mode=a.mode, owner=a.owner, group=a.group,
                          backup=a.backup, validate=a.validate, make_parents=a.dest.endswith("/"))


def read_source(path: str, arg_name: str) -> str:
    if os.path.getsize(path) > MAX_SOURCE:
        raise ArgError(arg_name, f"argument '{arg_name}': {path} is larger than {MAX_SOURCE >> 20} MiB; sources travel in the task's "
                                 "message (use remote_src, or a package, for large files)")
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.read()
    except UnicodeDecodeError:
        raise ArgError(arg_name, f"argument '{arg_name}': {path} is not UTF-8 text; sources travel in the task's message as text "
                                 "(use remote_src, or a package, for binary files)") from None


def preserved(mode: str | None, path: str) -> str | None:
    """``mode: preserve`` means the controller file's own mode."""
    return format(stat.S_IMODE(os.stat(path).st_mode), "04o") if mode == "preserve" else mode
