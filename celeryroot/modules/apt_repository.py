"""apt_repository: one source line of apt, in a file of sources.list.d."""

from __future__ import annotations

import dataclasses
import glob
import os
import re
from dataclasses import dataclass

from ..host.fileops import (ContentChange, Remove, atomic_write, attribute_changes, content_change, mode_arg,
                            read_bytes_or_none, risky_mode, set_attributes, stat_or_none)
from ..module import ArgError, Change, Created, Module, ModuleFailure, Plan, arg
from .apt import apt_path, update_lists

TYPES = ("deb", "deb-src")
#: The mode Ansible gives a new sources file, whatever the umask.
NEW_FILE_MODE = "0644"


def source(line: str) -> str | None:
    """A one-line source as apt reads it (comment, spaces inside ``[ ]`` and
    runs of spaces gone), or None for a line that is no source."""
    text = line.split("#", 1)[0]
    text = re.sub(r"\[\s*([^\]]*?)\s*\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    words = text.split()
    return " ".join(words) if words and words[0] in TYPES else None


def default_filename(repo: str) -> str:
    """Ansible's name for a repository's file, so a file Ansible wrote is
    found again: the URI without options, ``scheme://`` or credentials,
    every run of other characters an underscore."""
    text = re.sub(r"\[[^\]]*\]", "", repo)
    text = re.sub(r"\w+://", "", text)
    uri = [word for word in text.split() if word not in TYPES][0]
    return "_".join(re.sub(r"[^a-zA-Z0-9]", " ", uri.split("@", 1)[-1]).split())


@dataclass(frozen=True)
class Update(Change):
    """``apt-get update`` once the file is written, so not a command the
    runner would run before ``apply``."""


class AptRepository(Module):
    """Add or remove a one-line apt source: deb [options] URI suite [components].

    ``state=present`` adds ``repo`` to ``/etc/apt/sources.list.d/FILENAME.list``
    unless a source file already has it (``sources.list`` or any ``*.list``
    there; lines compare as apt reads them, comments and extra spaces left
    out); ``absent`` removes it from every source file, and removes a file
    of ``sources.list.d`` it leaves empty. The file is written atomically,
    with mode 0644 when new (or ``mode``). When a file changed,
    ``update_cache`` runs ``apt-get update``, as ``apt`` does. The
    directories are apt's (``Dir::Etc::sourcelist`` and ``sourceparts``),
    so an ``APT_CONFIG`` in the task's ``environment:`` is obeyed.
    Launchpad's ``ppa:`` names are not supported: write the line and give
    its key with ``signed-by`` (see ``apt_key``).

    Example:
        - apt_repository:
            repo: "deb [signed-by=/etc/apt/keyrings/vendor.asc] https://apt.example.org/debian bookworm main"
            filename: vendor
        - apt_repository: repo="deb file:/srv/repo ./" state=absent update_cache=no
    """

    name = "apt_repository"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        repo: str = arg(doc="The source line: deb or deb-src, [options], URI, suite, components.")
        state: str = arg("present", choices=("present", "absent"), doc="Whether a source file has the line.")
        filename: str | None = arg(None, doc="The file's name in sources.list.d, without .list "
                                             "(default: made from the URI, as Ansible makes it).")
        update_cache: bool = arg(True, aliases=("update-cache",),
                                 doc="Run apt-get update when a source file changed.")
        mode: str | None = arg(None, convert=mode_arg, lint=risky_mode,
                               doc="The file's permissions (default 0644 for a new file).")

        def check(self) -> None:
            if self.repo.startswith("ppa:"):
                raise ArgError("repo", "argument 'repo': ppa: repositories are not supported; write the deb "
                                       "line, with its key in signed-by")
            if source(self.repo) is None or len(source(self.repo).split()) < 3:
                raise ArgError("repo", f"argument 'repo': '{self.repo}' is not a source line "
                                       "(deb [options] URI suite [components])")
            if self.filename is not None and ("/" in self.filename or not self.filename.strip()):
                raise ArgError("filename", "argument 'filename': a file name in sources.list.d, without a '/'")

    def plan(self) -> Plan:
        a = self.args
        env = self.ctx.environment
        parts = apt_path("Dir::Etc::sourceparts/d", "/etc/apt/sources.list.d/", env)
        files = [apt_path("Dir::Etc::sourcelist/f", "/etc/apt/sources.list", env),
                 *sorted(glob.glob(os.path.join(glob.escape(parts), "*.list")))]
        target = os.path.join(parts, f"{a.filename or default_filename(a.repo)}.list")
        wanted = source(a.repo)
        holders = [path for path in files if wanted in self._sources(path)]
        if a.state == "absent":
            changes = [self._without(path, wanted, removable=path.startswith(parts)) for path in holders]
            reason = f"no source file has {wanted}"
        elif not holders:
            changes, reason = self._added(target, wanted), ""
        else:
            # Already there: only the mode of its own file is this task's.
            changes = attribute_changes(target, stat_or_none(target), mode=a.mode, owner=None, group=None) \
                if target in holders else []
            reason = f"{wanted} is in {holders[0]}"
        if a.update_cache and any(isinstance(c, (ContentChange, Remove)) for c in changes):
            changes.append(Update("update the package lists"))
        return Plan(changes, reason=reason, data={"repo": a.repo, "state": a.state, "file": target})

    @staticmethod
    def _sources(path: str) -> list[str]:
        data = read_bytes_or_none(path)
        return [s for s in map(source, (data or b"").decode("utf-8", "replace").splitlines()) if s]

    def _added(self, target: str, wanted: str) -> list[Change]:
        parent = os.path.dirname(target)
        if not (os.path.isdir(parent) or self.ctx.would_exist(Created.path(parent))):
            raise ModuleFailure(f"the directory of apt's sources {parent} does not exist")
        old = read_bytes_or_none(target)
        text = (old or b"").decode("utf-8", "surrogateescape")
        new = (text if not text or text.endswith("\n") else text + "\n") + wanted + "\n"
        change = content_change(target, old, new.encode("utf-8", "surrogateescape"))
        # A later apt task of a check run may install from the new source.
        return [dataclasses.replace(change, creates=change.creates | {Created.source(target)}),
                *attribute_changes(target, stat_or_none(target), mode=self.args.mode, owner=None, group=None)]

    @staticmethod
    def _without(path: str, wanted: str, removable: bool) -> Change:
        old = read_bytes_or_none(path) or b""
        kept = [line for line in old.decode("utf-8", "surrogateescape").splitlines(keepends=True)
                if source(line) != wanted]
        if removable and not "".join(kept).strip():
            return Remove(f"remove {path}", before=old.decode("utf-8", "replace"), after="", path=path)
        return content_change(path, old, "".join(kept).encode("utf-8", "surrogateescape"))

    def apply(self, plan: Plan) -> dict:
        a = self.args
        written = []
        for change in plan.changes:
            if isinstance(change, ContentChange):
                new = stat_or_none(change.path) is None
                atomic_write(change.path, change.data, mode=(a.mode or NEW_FILE_MODE) if new else None)
            elif isinstance(change, Remove):
                change.perform()
            if isinstance(change, (ContentChange, Remove)):
                written.append(change.path)
        set_attributes(plan.changes)
        if any(isinstance(change, Update) for change in plan.changes):
            update_lists(self.ctx.environment, lock_timeout=120)
        # Ansible's names: the files that gained or lost the source.
        return {"sources_added": written if a.state == "present" else [],
                "sources_removed": written if a.state == "absent" else []}
