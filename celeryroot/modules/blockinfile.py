"""blockinfile: a block of lines between two marker lines, Ansible's way."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ..host.fileops import (AttributeArgs, attribute_changes, content_change, new_content, read_bytes_or_none,
                            stat_or_none, validate_arg, write_file)
from ..module import ArgError, Created, Module, ModuleFailure, Plan, arg

ENCODING = ("utf-8", "surrogateescape")  # keeps bytes that are not UTF-8 as they were


class Blockinfile(Module):
    """Make sure a block of lines, between two marker lines, is in a text
    file (or is not).

    The markers are ``marker`` with ``{mark}`` replaced by ``marker_begin``
    and ``marker_end``; keep ``{mark}`` in a custom marker, and make it
    differ for each block of the same file, or the block is found again in
    the wrong place. An existing block (the last pair of markers) is
    replaced where it is. A new one goes at the end, or after the last line
    matching ``insertafter``, or before the last one matching
    ``insertbefore`` (``BOF``: at the beginning); an expression with
    ``(?m)`` is matched against the whole text instead, where its first
    match counts; when nothing matches, the block goes at the end. An empty
    ``block``, or ``state: absent``, removes the block with its markers.

    A missing file fails unless ``create: yes`` (which also creates missing
    parent directories). In check mode, a file that
    an earlier task of the run would create is taken as empty. The file is
    rewritten atomically, as copy does; ``backup``, ``validate``, ``mode``,
    ``owner`` and ``group`` work as there.

    Example:
        - blockinfile:
            path: /etc/ssh/sshd_config
            block: |
              Match User deploy
                PasswordAuthentication no
            validate: /usr/sbin/sshd -t -f %s
        - blockinfile:
            path: /etc/hosts
            marker: "# {mark} app hosts"
            insertbefore: BOF
            block: "10.0.0.5 db1"
    """

    name = "blockinfile"
    as_user = True

    @dataclass(frozen=True, kw_only=True)
    class Args(AttributeArgs):
        path: str = arg(aliases=("dest", "destfile", "name"), host_path=True, doc="The file to edit.")
        block: str = arg("", aliases=("content",), doc="The lines between the markers; empty removes the block.")
        state: str = arg("present", choices=("present", "absent"), doc="Whether the block should be there.")
        marker: str = arg("# {mark} ANSIBLE MANAGED BLOCK", doc="The marker line, with {mark} for "
                                                                "marker_begin or marker_end.")
        marker_begin: str = arg("BEGIN", doc="What {mark} is in the first marker.")
        marker_end: str = arg("END", doc="What {mark} is in the last marker.")
        insertafter: str | None = arg(None, doc="Regular expression or EOF: a new block goes after the last "
                                                "matching line. Default: EOF.")
        insertbefore: str | None = arg(None, doc="Regular expression or BOF: a new block goes before the last "
                                                 "matching line.")
        create: bool = arg(False, doc="Create the file when it is missing.")
        prepend_newline: bool = arg(False, doc="Put a blank line before a new block, unless one is there.")
        append_newline: bool = arg(False, doc="Put a blank line after a new block, unless one is there.")
        backup: bool = arg(False, doc="Keep a timestamped copy of the old file (returned as backup_file).")
        validate: str | None = arg(None, convert=validate_arg, doc="Command checking the new file, %s for its path.")

        def check(self) -> None:
            if self.insertafter is not None and self.insertbefore is not None:
                raise ArgError("insertbefore", "parameters are mutually exclusive: 'insertafter'|'insertbefore'")
            for name in ("insertafter", "insertbefore"):
                try:
                    re.compile(getattr(self, name) or "")
                except re.error as exc:
                    raise ArgError(name, f"argument '{name}': not a valid regular expression: {exc}") from None

        @property
        def removing(self) -> bool:
            return self.state == "absent" or not self.block

    def plan(self) -> Plan:
        a = self.args
        if os.path.isdir(a.path):
            raise ModuleFailure(f"Path {a.path} is a directory !", rc=256)
        old = read_bytes_or_none(a.path)
        if old is None and not (a.create or self.ctx.would_exist(Created.path(a.path))):
            raise ModuleFailure(f"Path {a.path} does not exist !", rc=257)
        if old is None and a.state == "absent":
            return Plan(reason=f"File {a.path} not present")
        text = (old or b"").decode(*ENCODING)
        new = self.edit(text).encode(*ENCODING)
        change = content_change(a.path, old, new, make_parents=a.create)
        changes = [change] if change else []
        changes += attribute_changes(a.path, stat_or_none(a.path), mode=a.mode, owner=a.owner, group=a.group,
                                     would_exist=self.ctx.would_exist)
        msg = "File created" if old is None else "Block removed" if a.removing else "Block inserted"
        return Plan(changes, reason="the block is as wanted", data={"msg": msg} if change else {})

    def edit(self, text: str) -> str:
        """``text`` with the block in its place (or taken out)."""
        a = self.args
        begin, end = (a.marker.replace("{mark}", mark) for mark in (a.marker_begin, a.marker_end))
        lines = text.splitlines(keepends=True)
        first = _last_index(lines, begin)
        last = _last_index(lines, end)
        if first is None or last is None:
            at = self.insertion_point(text, lines)
        else:
            # The old block goes, markers and all; the new one takes its place.
            at, stop = min(first, last), max(first, last)
            del lines[at:stop + 1]
        if a.removing:
            return "".join(lines)
        block = [begin] + a.block.splitlines() + [end]
        if at > 0 and not lines[at - 1].endswith("\n"):
            lines[at - 1] += "\n"
        if a.prepend_newline and at > 0 and lines[at - 1] != "\n":
            block.insert(0, "")
        if a.append_newline and at < len(lines) and lines[at] != "\n":
            block.append("")
        lines[at:at] = [line + "\n" for line in block]
        return "".join(lines)

    def insertion_point(self, text: str, lines: list[str]) -> int:
        """The line index where a new block goes."""
        a = self.args
        if a.insertbefore == "BOF":
            return 0
        anchor = a.insertbefore if a.insertbefore is not None else a.insertafter
        if anchor in (None, "EOF"):
            return len(lines)
        pattern = re.compile(anchor)
        if pattern.flags & re.MULTILINE:
            found = pattern.search(text)
            if found is None:
                return len(lines)
            if a.insertafter is not None:
                return text.count("\n", 0, found.end()) + 1
            return text.count("\n", 0, found.start())
        for index in range(len(lines) - 1, -1, -1):
            if pattern.search(lines[index]):
                return index + 1 if a.insertafter is not None else index
        return len(lines)

    def apply(self, plan: Plan) -> dict:
        a = self.args
        return write_file(a.path, new_content(plan.changes), mode=a.mode, owner=a.owner, group=a.group,
                          backup=a.backup, validate=a.validate, make_parents=a.create)


def _last_index(lines: list[str], marker: str) -> int | None:
    found = None
    for index, line in enumerate(lines):
        if line.rstrip("\r\n") == marker:
            found = index
    return found
