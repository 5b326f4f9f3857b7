"""file: files, directories, links and their attributes."""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass

from ..fileops import apply_attributes, attribute_changes, lstat_or_none, mode_arg
from ..module import Change, Module, ModuleFailure, Plan, arg

KIND = {stat.S_IFDIR: "directory", stat.S_IFREG: "file", stat.S_IFLNK: "link"}


class File(Module):
    """Manage a path's existence, type, owner, group and mode.

    ``state=file`` only sets attributes of an existing file (it fails on a
    missing one, as Ansible does); ``touch`` creates it. ``directory``
    creates missing parents. ``link``/``hard`` point ``path`` at ``src``.
    ``absent`` removes files, links and whole directory trees.

    Example:
        - file: path=/srv/app state=directory mode=0755 owner=www-data
        - file:
            path: /etc/app/current
            src: /etc/app/v2
            state: link
    """

    name = "file"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        path: str = arg(aliases=("dest", "name"), doc="The path to manage.")
        state: str | None = arg(None, choices=("file", "directory", "absent", "touch", "link", "hard"),
                                doc="What the path should be; default: its current kind, or file.")
        mode: str | None = arg(None, convert=mode_arg, doc="Octal (0644) or symbolic (u=rw,g=r,o=r) mode.")
        owner: str | None = arg(None, doc="User that should own the path.")
        group: str | None = arg(None, doc="Group that should own the path.")
        src: str | None = arg(None, doc="Target of the link, for state=link or hard.")
        recurse: bool = arg(False, doc="With state=directory, apply owner/group/mode to everything below.")
        force: bool = arg(False, doc="With state=link/hard, replace whatever is at path.")
        follow: bool = arg(True, doc="Set attributes on a link's target rather than the link.")

    def state(self, st) -> str:
        if self.args.state:
            return self.args.state
        if self.args.src:
            return "link"
        return KIND.get(stat.S_IFMT(st.st_mode), "file") if st else "file"

    def plan(self) -> Plan:
        a = self.args
        st = lstat_or_none(a.path)
        state = self.state(st)
        if state == "absent":
            if st is None:
                return Plan(reason=f"{a.path} is absent")
            return Plan([Change(f"remove {KIND.get(stat.S_IFMT(st.st_mode), 'path')} {a.path}",
                                before=f"state: {KIND.get(stat.S_IFMT(st.st_mode), 'file')}\n",
                                after="state: absent\n", path=a.path)])
        changes = self._existence(state, st)
        target_st = None if changes else st
        if target_st is not None and state != "link" and a.follow and stat.S_ISLNK(st.st_mode):
            target_st = os.stat(a.path)
        if state != "link":
            changes += attribute_changes(a.path, target_st, mode=a.mode, owner=a.owner, group=a.group,
                                         new_file_mode=0o755 if state == "directory" else 0o644)
        if state == "directory" and a.recurse and st is not None:
            changes += self._recursive_changes()
        return Plan(changes, reason=f"{a.path} is a {state} as wanted")

    def _existence(self, state: str, st) -> list[Change]:
        a = self.args
        have = KIND.get(stat.S_IFMT(st.st_mode)) if st else None
        if state == "file":
            if st is None and not self.ctx.would_exist(a.path):
                raise ModuleFailure(f"file ({a.path}) is absent, cannot continue; use state=touch to create it")
            if have == "directory":
                raise ModuleFailure(f"{a.path} is a directory, not a file")
            return []
        if state == "touch":
            if st is None:
                return [Change(f"create file {a.path}", before="state: absent\n", after="state: file\n", path=a.path)]
            return [Change(f"touch {a.path}")]
        if state == "directory":
            if st is None:
                return [Change(f"create directory {a.path}", before="state: absent\n",
                               after="state: directory\n", path=a.path)]
            if have != "directory":
                raise ModuleFailure(f"{a.path} already exists as a {have}, not a directory")
            return []
        if not a.src:
            raise ModuleFailure(f"src is required for state={state}")
        if state == "link":
            if have == "link" and os.readlink(a.path) == a.src:
                return []
        elif st is not None and os.path.exists(a.src) and os.path.samefile(a.path, a.src):
            return []
        if st is not None and have != "link" and not a.force:
            raise ModuleFailure(f"refusing to replace {have} {a.path} with a {state} (use force=yes)")
        before = f"{have}: {os.readlink(a.path)}\n" if have == "link" else f"state: {have or 'absent'}\n"
        return [Change(f"{state} {a.path} -> {a.src}", before=before, after=f"{state}: {a.src}\n", path=a.path)]

    def _recursive_changes(self) -> list[Change]:
        a = self.args
        changes = []
        for root, dirs, files in os.walk(a.path):
            for name in dirs + files:
                child = os.path.join(root, name)
                changes += attribute_changes(child, os.lstat(child), mode=a.mode, owner=a.owner, group=a.group)
        return changes

    def apply(self, plan: Plan) -> dict:
        a = self.args
        st = lstat_or_none(a.path)
        state = self.state(st)
        if state == "absent":
            if st and stat.S_ISDIR(st.st_mode):
                shutil.rmtree(a.path)
            elif st:
                os.unlink(a.path)
            return {"path": a.path, "state": "absent"}
        if state == "touch":
            with open(a.path, "a"):
                os.utime(a.path)
        elif state == "directory":
            os.makedirs(a.path, exist_ok=True)
        elif state in ("link", "hard"):
            self._link(st, state)
        if state != "link":
            apply_attributes(a.path, mode=a.mode, owner=a.owner, group=a.group, follow=a.follow)
        if state == "directory" and a.recurse:
            for root, dirs, files in os.walk(a.path):
                for name in dirs + files:
                    apply_attributes(os.path.join(root, name), mode=a.mode, owner=a.owner, group=a.group,
                                     follow=False)
        return {"path": a.path, "state": state}

    def _link(self, st, state: str) -> None:
        a = self.args
        tmp = f"{a.path}.celeryroot-tmp"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        if state == "link":
            os.symlink(a.src, tmp)
        else:
            os.link(a.src, tmp)
        if st is not None and stat.S_ISDIR(st.st_mode):
            shutil.rmtree(a.path)
        os.replace(tmp, a.path)

    def predicts(self, plan: Plan) -> set[str]:
        return {self.args.path} if self.args.state != "absent" else set()
