"""File attributes and atomic writes, once, for file, copy, template, lineinfile.

`attribute_changes` observes owner, group and mode and says what differs,
each change carrying the attributes wanted; `set_attributes` gives them to
the paths of a plan (`apply_attributes` sets them on one path). `content_change` says how a file's bytes would
change (its before/after is the ``--diff``) and carries the new bytes;
`write_file` writes them: a timestamped backup when asked, then
`atomic_write`, which replaces the bytes so that a reader, or a crash, only
ever sees the old or the new content.
"""

from __future__ import annotations

import os
import re
import hashlib
import shlex
import shutil
import stat
import tempfile
import time

from dataclasses import dataclass

from ..module import Change, Created, ModuleFailure, arg
from .proc import run
from .sysops import group_id, group_name, user_id, user_name

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


def risky_mode(value) -> str | None:
    """ansible-lint's risky-octal: ``mode: 755`` is the decimal 755, which
    is the mode 1363 (sticky bit, -wxrw--wx), not rwxr-xr-x."""
    # A YAML 1.1 ``0755`` is loaded as ruamel's OctalInt (and 0x1ed as a
    # HexInt); only a number written in decimal is a plain int.
    if type(value) is not int or value < 8:
        return None
    if set(str(value)) <= set("01234567"):
        fix = f"quote it ('0{value}') or write 0{value}"
    else:
        fix = f"write it in octal (0{value:o}) or as a string ('0{value:o}')"
    return f"mode: {value} is the decimal integer {value} (octal {value:04o}); {fix}"


def missing_dirs(directory: str) -> frozenset[str]:
    """``directory`` and those of its parents that do not exist: what
    ``os.makedirs`` would create, as ``Change.creates`` names them."""
    out = set()
    directory = os.path.abspath(directory)
    while directory != "/" and not os.path.exists(directory):
        out.add(Created.path(directory))
        directory = os.path.dirname(directory)
    return frozenset(out)


def validate_arg(value) -> str:
    """A ``validate`` command must name the file it checks with ``%s``."""
    text = str(value)
    if "%s" not in text:
        raise ValueError(f"must contain %s where the file to check goes, got '{text}'")
    return text


@dataclass(frozen=True, kw_only=True)
class AttributeArgs:
    """The attribute arguments every file-writing module takes (Ansible's
    common file arguments)."""

    mode: str | None = arg(None, convert=mode_arg, lint=risky_mode,
                           doc="Octal (0644, quoted) or symbolic (u=rw,g=r,o=r) permissions.")
    owner: str | None = arg(None, doc="User that should own the file (name or uid).")
    group: str | None = arg(None, doc="Group that should own the file (name or gid).")


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



@dataclass(frozen=True)
class Attributes:
    """The owner, group and mode a path should have (None: leave it);
    ``follow``: set them on a link's target, not the link."""

    mode: str | None = None
    owner: str | None = None
    group: str | None = None
    follow: bool = True


@dataclass(frozen=True)
class AttributeChange(Change):
    """Something about ``path`` differs, and afterwards it has ``wanted``
    (None: a change that leaves the attributes alone, such as a symlink)."""

    wanted: Attributes | None = None


def set_attributes(changes: list[Change]) -> None:
    """Give each path of a plan the attributes its changes want, once: all of
    them together, owner before mode (chown clears the set-id bits)."""
    done = set()
    for change in changes:
        if isinstance(change, AttributeChange) and change.wanted and change.path not in done:
            done.add(change.path)
            w = change.wanted
            apply_attributes(change.path, mode=w.mode, owner=w.owner, group=w.group, follow=w.follow)


def attribute_changes(path: str, st: os.stat_result | None, *, mode: str | None,
                      owner: str | None, group: str | None, new_file_mode: int = 0o644,
                      would_exist=None, follow: bool = True) -> list[AttributeChange]:
    """What differs between the wanted owner/group/mode and ``st``.

    ``st`` is None for a path that does not exist yet (it will be created
    with ``new_file_mode`` and the process's owner). ``would_exist`` is the
    check-mode overlay (`Context.would_exist`): an owner or group that an
    earlier task would create predicts a change instead of failing.
    """
    changes = []
    wanted_all = Attributes(mode, owner, group, follow)
    is_dir = bool(st and stat.S_ISDIR(st.st_mode))
    current_mode = stat.S_IMODE(st.st_mode) if st else new_file_mode
    if mode and mode != "preserve":
        wanted = resolve_mode(mode, current_mode, is_dir)
        if st is None or wanted != current_mode:
            changes.append(AttributeChange(
                f"mode {format(current_mode, '04o') if st else 'new'} -> {format(wanted, '04o')}",
                before=f"mode: {format(current_mode, '04o')}\n" if st else "",
                after=f"mode: {format(wanted, '04o')}\n", path=path, wanted=wanted_all))
    # A new path gets the worker's own uid and gid.
    changes += _id_change(path, "owner", owner, st.st_uid if st else os.geteuid(), st is not None, would_exist,
                          wanted_all)
    changes += _id_change(path, "group", group, st.st_gid if st else os.getegid(), st is not None, would_exist,
                          wanted_all)
    return changes


def _id_change(path: str, label: str, wanted: str | None, current: int, exists: bool,
               would_exist, wanted_all: Attributes) -> list[AttributeChange]:
    if wanted is None:
        return []
    lookup, name_of, created = (user_id, user_name, Created.user) if label == "owner" else \
        (group_id, group_name, Created.group)
    try:
        wanted_id = lookup(wanted)
    except ModuleFailure:
        if not (would_exist and would_exist(created(wanted))):
            raise
        wanted_id = None
    if current == wanted_id:
        return []
    before = name_of(current)
    return [AttributeChange(f"{label} {before if exists else 'new'} -> {wanted}",
                            before=f"{label}: {before}\n" if exists else "", after=f"{label}: {wanted}\n", path=path,
                            wanted=wanted_all)]


def apply_attributes(path: str, *, mode: str | None, owner: str | None, group: str | None,
                     follow: bool = True) -> None:
    st = os.stat(path) if follow else os.lstat(path)
    if owner is not None or group is not None:
        uid = user_id(owner) if owner is not None else -1
        gid = group_id(group) if group is not None else -1
        if follow:
            os.chown(path, uid, gid)
        else:
            os.lchown(path, uid, gid)
    if mode and mode != "preserve" and (follow or not stat.S_ISLNK(st.st_mode)):
        os.chmod(path, resolve_mode(mode, stat.S_IMODE(st.st_mode), stat.S_ISDIR(st.st_mode)))


def stat_or_none(path: str) -> os.stat_result | None:
    """``os.stat`` (through links), or None when nothing is there."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def lstat_or_none(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def read_bytes_or_none(path: str) -> bytes | None:
    """A file's bytes (through links), or None when nothing is there."""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def read_text_or_none(path: str, limit: int = 1 << 20) -> str | None:
    """A file's text for a diff, or None when absent, binary or too large."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except (FileNotFoundError, IsADirectoryError):
        return None
    return _shown(data, limit)


def _shown(data: bytes | None, limit: int = 1 << 20) -> str | None:
    if data is None or len(data) > limit or b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace")


def checksum(data: bytes) -> str:
    """SHA-1 of ``data``, the checksum Ansible's copy reports and accepts."""
    return hashlib.sha1(data).hexdigest()


@dataclass(frozen=True)
class ContentChange(Change):
    """New bytes for the file at ``path``: what the write path writes."""

    data: bytes = b""


@dataclass(frozen=True)
class Remove(Change):
    """``path`` removed: a whole tree when it is a directory
    (file, and the sources and keys of apt_repository and apt_key)."""

    tree: bool = False

    def perform(self) -> None:
        if self.tree:
            shutil.rmtree(self.path)
        else:
            os.unlink(self.path)


def content_change(path: str, old: bytes | None, new: bytes, make_parents: bool = False) -> ContentChange | None:
    """The change that turns ``old`` (None: no file) into ``new``, or None.

    Its before/after is the unified diff; binary or very large content
    gets no diff, only the size. A new file creates its path, and with
    ``make_parents`` the directories missing above it.
    """
    if old == new:
        return None
    verb = "create" if old is None else "update"
    creates = frozenset()
    if old is None:
        parents = missing_dirs(os.path.dirname(os.path.abspath(path))) if make_parents else frozenset()
        creates = parents | {Created.path(path)}
    before, after = ("" if old is None else _shown(old)), _shown(new)
    if before is None or after is None:
        return ContentChange(f"{verb} {path} ({len(new)} bytes, no text diff)", path=path, creates=creates, data=new)
    return ContentChange(f"{verb} {path}", before=before, after=after, path=path, creates=creates, data=new)


def new_content(changes: list[Change]) -> bytes | None:
    """The bytes a plan writes, or None when only attributes change."""
    return next((c.data for c in changes if isinstance(c, ContentChange)), None)


def write_file(path: str, data: bytes | None, *, mode: str | None = None, owner: str | None = None,
               group: str | None = None, backup: bool = False, validate: str | None = None,
               make_parents: bool = False) -> dict:
    """Give ``path`` the content ``data`` (None: keep it) and the attributes.

    The one write path of copy, template and lineinfile. Returns
    ``backup_file`` when a backup was made.
    """
    if data is None:
        apply_attributes(path, mode=mode, owner=owner, group=group)
        return {}
    out = {}
    if backup and os.path.isfile(path):
        out["backup_file"] = backup_file(path)
    if make_parents:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write(path, data, mode=mode, owner=owner, group=group, validate=validate)
    return out


def backup_file(path: str) -> str:
    """Copy ``path`` beside itself with pid and time in the name, as Ansible
    names backups (``motd.1234.2024-05-01@12:00:00~``); returns the copy's path."""
    target = f"{path}.{os.getpid()}.{time.strftime('%Y-%m-%d@%H:%M:%S~')}"
    shutil.copy2(path, target)
    st = os.stat(path)
    os.chown(target, st.st_uid, st.st_gid)
    return target


def current_umask() -> int:
    """The worker's umask, read from /proc: `os.umask` can only be read by
    setting it, and a worker that lives for weeks must not touch its own."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def atomic_write(path: str, data: bytes, *, mode: str | None = None, owner: str | None = None,
                 group: str | None = None, validate: str | None = None) -> None:
    """Write ``data`` to ``path`` through a temp file in the same directory
    (`temp_beside`), then `install` it over ``path``."""
    fd, tmp = temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except BaseException:
        os.unlink(tmp)
        raise
    install(tmp, path, mode=mode, owner=owner, group=group, validate=validate)


def temp_beside(path: str) -> tuple[int, str]:
    """A new temp file (fd, path) in ``path``'s directory, so that renaming
    it over ``path`` is atomic (one filesystem)."""
    directory = os.path.dirname(os.path.abspath(path)) or "/"
    return tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)


def install(tmp: str, path: str, *, mode: str | None = None, owner: str | None = None,
            group: str | None = None, validate: str | None = None) -> None:
    """Rename the written file ``tmp`` (beside ``path``) over ``path``.

    ``tmp`` is fsynced, given the old file's (or the wanted) mode and
    ownership, optionally validated (``validate`` with ``%s``), then renamed
    over ``path``; the directory is fsynced so the rename survives a crash.
    A failure leaves ``path`` untouched and ``tmp`` removed.
    """
    directory = os.path.dirname(os.path.abspath(path)) or "/"
    old = stat_or_none(path)
    try:
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        if old is not None:
            os.chown(tmp, old.st_uid, old.st_gid)
            os.chmod(tmp, stat.S_IMODE(old.st_mode))
        else:
            os.chmod(tmp, 0o666 & ~current_umask())
        apply_attributes(tmp, mode=mode, owner=owner, group=group)
        if validate:
            _validate(validate, tmp)
        os.rename(tmp, path)
        tmp = None
        _fsync_directory(directory)
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def _fsync_directory(directory: str) -> None:
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _validate(command: str, tmp: str) -> None:
    argv = [part.replace("%s", tmp) for part in shlex.split(command)]
    done = run(argv)
    if done.rc != 0:
        raise ModuleFailure(f"failed to validate: {command} exited {done.rc}", **done.data())
