"""File attributes and atomic writes, once, for file, copy, template, lineinfile.

`attribute_changes` observes owner, group and mode and says what differs;
`apply_attributes` sets them; `atomic_write` replaces a file's content so a
reader (or a crash) only ever sees the old or the new bytes.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shlex
import stat
import tempfile

from .module import Change, ModuleFailure
from .proc import run

_SYMBOLIC = re.compile(r"^([ugoa]*)([-+=])([rwxXst]*|[ugo])$")
_WHO = {"u": 0o4700, "g": 0o2070, "o": 0o1007}
_PERM = {"r": 0o444, "w": 0o222, "x": 0o111, "s": 0o6000, "t": 0o1000}


def mode_arg(value) -> str:
    """Normalise a ``mode`` argument; an int is the mode bits, as in Ansible
    (YAML 1.1 reads ``0644`` as octal; quote modes to be safe)."""
    if isinstance(value, bool):
        raise TypeError("expected a mode such as '0644' or 'u=rw,g=r,o=r', got a boolean")
    if isinstance(value, int):
        return format(value, "04o")
    text = str(value).strip()
    if re.fullmatch(r"0?[0-7]{3,4}", text):
        return format(int(text, 8), "04o")
    if text == "preserve":
        return text
    for clause in text.split(","):
        if not _SYMBOLIC.match(clause):
            raise ValueError(f"bad mode '{text}': use octal like '0644' or symbolic like 'u=rw,g=r,o=r'")
    return text


def resolve_mode(mode: str, current: int, is_dir: bool) -> int:
    """The permission bits ``mode`` asks for, given the current bits."""
    if re.fullmatch(r"[0-7]{4}", mode):
        return int(mode, 8)
    bits = current & 0o7777
    for clause in mode.split(","):
        who, op, perms = _SYMBOLIC.match(clause).groups()
        mask = 0
        for w in who or "a":
            mask |= 0o7777 if w == "a" else _WHO[w]
        if perms in ("u", "g", "o"):
            shift = {"u": 6, "g": 3, "o": 0}[perms]
            three = (bits >> shift) & 0o7
            value = (three << 6) | (three << 3) | three
        else:
            value = 0
            for p in perms:
                if p == "X":
                    if is_dir or bits & 0o111:
                        value |= 0o111
                else:
                    value |= _PERM[p]
        value &= mask
        if op == "+":
            bits |= value
        elif op == "-":
            bits &= ~value
        else:
            bits = (bits & ~mask) | value
    return bits


def lookup_uid(owner: str) -> int:
    try:
        return pwd.getpwnam(owner).pw_uid
    except KeyError:
        if owner.isdigit():
            return int(owner)
        raise ModuleFailure(f"user '{owner}' does not exist on this host") from None


def lookup_gid(group: str) -> int:
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        if group.isdigit():
            return int(group)
        raise ModuleFailure(f"group '{group}' does not exist on this host") from None


def _name_of_uid(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _name_of_gid(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def attribute_changes(path: str, st: os.stat_result | None, *, mode: str | None,
                      owner: str | None, group: str | None, new_file_mode: int = 0o644) -> list[Change]:
    """What differs between the wanted owner/group/mode and ``st``.

    ``st`` is None for a path that does not exist yet (it will be created
    with ``new_file_mode`` and the process's owner).
    """
    changes = []
    is_dir = bool(st and stat.S_ISDIR(st.st_mode))
    current_mode = stat.S_IMODE(st.st_mode) if st else new_file_mode
    if mode and mode != "preserve":
        wanted = resolve_mode(mode, current_mode, is_dir)
        if st is None or wanted != current_mode:
            changes.append(Change(f"mode {format(current_mode, '04o') if st else 'new'} -> {format(wanted, '04o')}",
                                  before=f"mode: {format(current_mode, '04o')}\n" if st else "",
                                  after=f"mode: {format(wanted, '04o')}\n", path=path))
    if owner is not None:
        uid = lookup_uid(owner)
        if st is None or st.st_uid != uid:
            before = _name_of_uid(st.st_uid) if st else None
            changes.append(Change(f"owner {before or 'new'} -> {owner}", before=f"owner: {before}\n" if st else "",
                                  after=f"owner: {owner}\n", path=path))
    if group is not None:
        gid = lookup_gid(group)
        if st is None or st.st_gid != gid:
            before = _name_of_gid(st.st_gid) if st else None
            changes.append(Change(f"group {before or 'new'} -> {group}", before=f"group: {before}\n" if st else "",
                                  after=f"group: {group}\n", path=path))
    return changes


def apply_attributes(path: str, *, mode: str | None, owner: str | None, group: str | None,
                     follow: bool = True) -> None:
    st = os.stat(path) if follow else os.lstat(path)
    if owner is not None or group is not None:
        uid = lookup_uid(owner) if owner is not None else -1
        gid = lookup_gid(group) if group is not None else -1
        if follow:
            os.chown(path, uid, gid)
        else:
            os.lchown(path, uid, gid)
    if mode and mode != "preserve" and (follow or not stat.S_ISLNK(st.st_mode)):
        os.chmod(path, resolve_mode(mode, stat.S_IMODE(st.st_mode), stat.S_ISDIR(st.st_mode)))


def lstat_or_none(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def read_text_or_none(path: str, limit: int = 1 << 20) -> str | None:
    """A file's text for a diff, or None when absent, binary or too large."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except (FileNotFoundError, IsADirectoryError):
        return None
    if len(data) > limit or b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace")


def atomic_write(path: str, data: bytes, *, mode: str | None = None, owner: str | None = None,
                 group: str | None = None, validate: str | None = None) -> None:
    """Write ``data`` to ``path`` through a temp file in the same directory.

    The temp file is fsynced, given the old file's (or the wanted) mode and
    ownership, optionally validated (``validate`` with ``%s``), then renamed
    over ``path``; the directory is fsynced so the rename survives a crash.
    """
    directory = os.path.dirname(os.path.abspath(path)) or "/"
    old = lstat_or_none(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if old is not None:
            os.chown(tmp, old.st_uid, old.st_gid)
            os.chmod(tmp, stat.S_IMODE(old.st_mode))
        else:
            umask = os.umask(0)  # read the umask without keeping a change
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        apply_attributes(tmp, mode=mode, owner=owner, group=group)
        if validate:
            _validate(validate, tmp)
        os.rename(tmp, path)
        tmp = None
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def _validate(command: str, tmp: str) -> None:
    if "%s" not in command:
        raise ModuleFailure(f"validate must contain %s: '{command}'")
    argv = [part.replace("%s", tmp) for part in shlex.split(command)]
    done = run(argv)
    if done.rc != 0:
        raise ModuleFailure(f"failed to validate: {command} exited {done.rc}", **done.data())
