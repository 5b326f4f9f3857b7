"""file: files, directories, links and their attributes."""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass

from ..host.fileops import (AttributeArgs, AttributeChange, Attributes, Remove, attribute_changes, lstat_or_none,
                            missing_dirs, set_attributes)
from ..module import ArgError, Change, Created, Module, ModuleFailure, Plan, arg

KIND = {stat.S_IFDIR: "directory", stat.S_IFREG: "file", stat.S_IFLNK: "link"}
TIME_FORMAT = "%Y%m%d%H%M.%S"


def _kind(st) -> str | None:
    return KIND.get(stat.S_IFMT(st.st_mode), "special file") if st else None


class File(Module):
    """Manage a path's existence, type, owner, group, mode and times.

    ``state=file`` only sets attributes of an existing file (it fails on a
    missing one, as Ansible does); ``touch`` creates it (and, by default,
    updates its times: it is then always ``changed``; set
    ``modification_time``/``access_time`` to ``preserve`` to only create).
    ``directory`` creates missing parents. ``link``/``hard`` point ``path``
    at ``src`` (a relative ``src`` of a symlink is relative to the link's
    directory); ``force`` replaces a file or an empty directory there, or
    makes a symlink to a missing ``src``. ``absent`` removes files, links
    and whole directory trees. Without ``state``, the path keeps its
    current kind (a missing path is a ``file``, or a ``directory`` with
    ``recurse``).

    Example:
        - file: path=/srv/app state=directory mode=0755 owner=www-data
        - file:
            path: /etc/app/current
            src: /etc/app/v2
            state: link
        - file: path=/var/log/app.log state=touch mode=u=rw,g=r,o= modification_time=preserve access_time=preserve
    """

    name = "file"
    as_user = True

    @dataclass(frozen=True, kw_only=True)
    class Args(AttributeArgs):
        path: str = arg(aliases=("dest", "name"), host_path=True, doc="The path to manage.")
        state: str | None = arg(None, choices=("file", "directory", "absent", "touch", "link", "hard"),
                                doc="What the path should be; default: its current kind, or file.")
        src: str | None = arg(None, host_path=True, doc="Target of the link, for state=link or hard.")
        recurse: bool = arg(False, doc="With state=directory, apply owner/group/mode to everything below.")
        force: bool = arg(False, doc="With state=link/hard, replace a file or empty directory at path, "
                                     "or link to a src that does not exist.")
        follow: bool = arg(True, doc="Set attributes on a link's target rather than the link.")
        modification_time: str | None = arg(None, doc="'now', 'preserve' or a time in modification_time_format "
                                                       "(default: now for touch, else preserve).")
        modification_time_format: str = arg(TIME_FORMAT, doc="strftime format of modification_time.")
        access_time: str | None = arg(None, doc="'now', 'preserve' or a time in access_time_format "
                                                "(default: now for touch, else preserve).")
        access_time_format: str = arg(TIME_FORMAT, doc="strftime format of access_time.")

        def check(self) -> None:
            if self.src is not None and self.state not in (None, "link", "hard"):
                raise ArgError("src", "'src' option requires state to be 'link' or 'hard'")
            if self.state in ("link", "hard") and self.src is None:
                raise ArgError("src", f"'src' is required for state={self.state}")
            for name in ("modification_time", "access_time"):
                try:
                    _wanted_time(getattr(self, name), getattr(self, name + "_format"), self.state)
                except ValueError as exc:
                    raise ArgError(name, f"argument '{name}': {exc}") from None

    def state(self, st) -> str:
        if self.args.state:
            return self.args.state
        if self.args.src is not None:
            return "link"
        if st is not None:
            return _kind(st) if _kind(st) in KIND.values() else "file"
        return "directory" if self.args.recurse else "file"

    def plan(self) -> Plan:
        a = self.args
        st = lstat_or_none(a.path)
        state = self.state(st)
        data = {"path": a.path, "state": state}
        if state == "absent":
            gone = [] if st is None else [Remove(f"remove {_kind(st)} {a.path}", before=f"state: {_kind(st)}\n",
                                                 after="state: absent\n", path=a.path,
                                                 tree=stat.S_ISDIR(st.st_mode))]
            return Plan(gone, reason=f"{a.path} is absent", data=data)
        changes = getattr(self, f"_ensure_{state}")(st)
        target_st = None if changes else st
        if target_st is not None and state != "link" and a.follow and stat.S_ISLNK(st.st_mode):
            target_st = os.stat(a.path)
        if state != "link":
            changes += attribute_changes(a.path, target_st, mode=a.mode, owner=a.owner, group=a.group,
                                         new_file_mode=0o755 if state == "directory" else 0o644,
                                         would_exist=self.ctx.would_exist, follow=a.follow)
            changes += self._time_changes(state, target_st)
        if state == "directory" and a.recurse and st is not None:
            changes += self._recursive_changes()
        return Plan(changes, reason=f"{a.path} is a {state} as wanted", data=data)

    # -- existence, one method per state ------------------------------------

    def _ensure_file(self, st) -> list[Change]:
        a = self.args
        if st is None and not self.ctx.would_exist(Created.path(a.path)):
            raise ModuleFailure(f"file ({a.path}) is absent, cannot continue; use state=touch to create it")
        if st is not None and self._followed_kind(st) != "file":
            raise ModuleFailure(f"file ({a.path}) is a {self._followed_kind(st)}, not a file")
        return []

    def _ensure_touch(self, st) -> list[Change]:
        if st is None:
            self._need_parent()
            return [self._create("file", creates=frozenset({Created.path(self.args.path)}))]
        return []

    def _ensure_directory(self, st) -> list[Change]:
        a = self.args
        if st is None:
            return [] if self.ctx.would_exist(Created.path(a.path)) else \
                [self._create("directory", creates=missing_dirs(a.path))]
        if self._followed_kind(st) != "directory":
            raise ModuleFailure(f"{a.path} already exists as a {_kind(st)}, not a directory")
        return []

    def _followed_kind(self, st) -> str:
        if self.args.follow and stat.S_ISLNK(st.st_mode) and os.path.exists(self.args.path):
            return _kind(os.stat(self.args.path))
        return _kind(st)

    def _ensure_link(self, st) -> list[Change]:
        a = self.args
        if st is not None and stat.S_ISLNK(st.st_mode) and os.readlink(a.path) == a.src:
            return []
        target = os.path.join(os.path.dirname(a.path), a.src)
        if not (a.force or os.path.lexists(target) or self.ctx.would_exist(Created.path(target))):
            raise ModuleFailure(f'src file does not exist, use "force=yes" if you really want to create the link: '
                                f"{target}")
        return self._replacing(st, "link")

    def _ensure_hard(self, st) -> list[Change]:
        a = self.args
        if not os.path.exists(a.src):
            if self.ctx.would_exist(Created.path(a.src)):
                return self._replacing(st, "hard")
            raise ModuleFailure(f"src does not exist: {a.src}")
        if st is not None and not stat.S_ISLNK(st.st_mode) and os.path.samefile(a.path, a.src):
            return []
        return self._replacing(st, "hard")

    def _replacing(self, st, state: str) -> list[Change]:
        a = self.args
        have = _kind(st)
        if st is None:
            self._need_parent()
        elif stat.S_ISDIR(st.st_mode) and os.listdir(a.path):
            raise ModuleFailure(f"the directory {a.path} is not empty, refusing to convert it")
        elif have != "link" and not a.force:
            raise ModuleFailure(f"refusing to convert from {have} to {state} for {a.path} (use force=yes)")
        before = f"link: {os.readlink(a.path)}\n" if have == "link" else f"state: {have or 'absent'}\n"
        return [self._create(state, what=f"{state} {a.path} -> {a.src}", before=before, after=f"{state}: {a.src}\n",
                             src=a.src, replaces_dir=bool(st and stat.S_ISDIR(st.st_mode)),
                             creates=frozenset({Created.path(a.path)}))]

    def _create(self, kind: str, **fields) -> Create:
        """The change that makes ``path`` a ``kind``; what it makes is new to
        the plan, so it carries the attributes and times to give it (a
        symlink's own are left alone)."""
        a = self.args
        fields = {"what": f"create {kind} {a.path}", "before": "state: absent\n", "after": f"state: {kind}\n",
                  **fields}
        if kind == "link":
            return Create(**fields, path=a.path, kind=kind)
        times = self._times(a.state or kind)
        return Create(**fields, path=a.path, kind=kind, wanted=Attributes(a.mode, a.owner, a.group, a.follow),
                      times=(times["access_time"], times["modification_time"]))

    def _need_parent(self) -> None:
        parent = os.path.dirname(os.path.abspath(self.args.path))
        if not (os.path.isdir(parent) or self.ctx.would_exist(Created.path(parent))):
            raise ModuleFailure(f"cannot create {self.args.path}: directory {parent} does not exist")

    # -- attributes -----------------------------------------------------------

    def _times(self, state: str) -> dict[str, float | str | None]:
        a = self.args
        return {"access_time": _wanted_time(a.access_time, a.access_time_format, state),
                "modification_time": _wanted_time(a.modification_time, a.modification_time_format, state)}

    def _time_changes(self, state: str, st) -> list[Change]:
        if st is None:
            return []
        wanted = self._times(state)
        times = (wanted["access_time"], wanted["modification_time"])
        if "now" in times:
            return [Retime(f"touch {self.args.path}", path=self.args.path, times=times)]
        current = {"access_time": st.st_atime, "modification_time": st.st_mtime}
        differ = sorted(k for k, v in wanted.items() if v is not None and v != current[k])
        if not differ:
            return []
        return [Retime(f"set {' and '.join(differ)} of {self.args.path}",
                       before="".join(f"{k}: {time.ctime(current[k])}\n" for k in differ),
                       after="".join(f"{k}: {time.ctime(wanted[k])}\n" for k in differ), path=self.args.path,
                       times=times)]

    def _recursive_changes(self) -> list[Change]:
        a = self.args
        changes = []
        for child, st in _below(a.path):
            # A link's own mode means nothing on Linux; chmod would follow it.
            mode = None if stat.S_ISLNK(st.st_mode) else a.mode
            changes += attribute_changes(child, st, mode=mode, owner=a.owner, group=a.group,
                                         would_exist=self.ctx.would_exist, follow=False)
        return changes

    # -- apply ----------------------------------------------------------------

    def apply(self, plan: Plan) -> dict:
        for change in plan.changes:
            if isinstance(change, (Remove, Create, Retime)):
                change.perform()
        set_attributes(plan.changes)
        return {}


@dataclass(frozen=True)
class Create(AttributeChange):
    """``path`` made a file, a directory, a symlink or a hard link to ``src``
    (replacing a link, a file or an empty directory), then given ``times``."""

    kind: str = "file"
    src: str | None = None
    replaces_dir: bool = False
    times: tuple = (None, None)

    def perform(self) -> None:
        if self.kind == "file":
            with open(self.path, "a"):
                pass
        elif self.kind == "directory":
            os.makedirs(self.path, exist_ok=True)
        else:
            self._link()
        _set_times(self.path, self.times)

    def _link(self) -> None:
        tmp = f"{self.path}.celeryroot-tmp"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        if self.kind == "link":
            os.symlink(self.src, tmp)
        else:
            os.link(self.src, tmp)
        if self.replaces_dir:
            os.rmdir(self.path)  # empty: _replacing refused a directory with content
        os.replace(tmp, self.path)


@dataclass(frozen=True)
class Retime(Change):
    """``path``'s access and modification times set: a time, ``now``, or None (kept)."""

    times: tuple = (None, None)

    def perform(self) -> None:
        _set_times(self.path, self.times)


def _set_times(path: str, times: tuple) -> None:
    if times == (None, None):
        return
    st = os.stat(path)
    now = time.time()
    os.utime(path, tuple(now if v == "now" else (current if v is None else v)
                         for v, current in zip(times, (st.st_atime, st.st_mtime))))


def _below(root: str):
    """Every path under ``root`` with its lstat, links not followed."""
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            child = os.path.join(folder, name)
            yield child, os.lstat(child)


def _wanted_time(value: str | None, fmt: str, state: str | None) -> float | str | None:
    """``now``, a timestamp, or None for "leave as it is" (``preserve``)."""
    if value is None:
        value = "now" if state == "touch" else "preserve"
    if value == "preserve":
        return None
    if value == "now":
        return value
    return time.mktime(time.strptime(value, fmt))
