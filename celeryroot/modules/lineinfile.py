"""lineinfile: one line of a text file present (or absent), Ansible's way."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ..host.fileops import (AttributeArgs, attribute_changes, content_change, new_content, read_bytes_or_none,
                            stat_or_none, validate_arg, write_file)
from ..module import ArgError, Created, Module, ModuleFailure, Plan, arg, regex

ENCODING = ("utf-8", "surrogateescape")  # keeps bytes that are not UTF-8 as they were


class Lineinfile(Module):
    """Make sure one line is in a text file, or that lines are not.

    With ``regexp``, the last line that matches is replaced by ``line``
    (the first with ``firstmatch``); when none matches, ``line`` is added
    unless it is already there: after the last line matching
    ``insertafter`` (or at ``EOF``, the default, or ``BOF``), or before the
    last one matching ``insertbefore``; when the anchor matches nothing, at
    the end. ``state: absent`` removes every line matching ``regexp``
    (or ``search_string``, or equal to ``line``).

    A missing file fails unless ``create: yes`` (which also creates missing
    parent directories). In check mode, a file that an earlier task of the
    run would create is taken as empty. The file is rewritten atomically, as
    copy does; ``backup``, ``validate``, ``mode``, ``owner`` and ``group``
    work as there.

    Example:
        - lineinfile:
            path: /etc/ssh/sshd_config
            regexp: '^#?PermitRootLogin'
            line: PermitRootLogin no
            validate: /usr/sbin/sshd -t -f %s
        - lineinfile: path=/etc/hosts line="10.0.0.5 db1" create=yes
    """

    name = "lineinfile"
    as_user = True

    @dataclass(frozen=True, kw_only=True)
    class Args(AttributeArgs):
        path: str = arg(aliases=("dest", "destfile", "name"), host_path=True, doc="The file to edit.")
        line: str | None = arg(None, aliases=("value",), doc="The line to insert or replace (state=present).")
        regexp: str | None = arg(None, aliases=("regex",), convert=regex,
                                 doc="Python regular expression searched in each line.")
        search_string: str | None = arg(None, doc="Literal text searched in each line (instead of regexp).")
        state: str = arg("present", choices=("present", "absent"), doc="Whether the line should be there.")
        insertafter: str | None = arg(None, doc="Regular expression, EOF or BOF: where a new line goes "
                                                "(after the last matching line). Default: EOF.")
        insertbefore: str | None = arg(None, doc="Regular expression or BOF: insert before the last matching line.")
        backrefs: bool = arg(False, doc="Expand \\1-style groups of regexp in line; do nothing when it matches no line.")
        firstmatch: bool = arg(False, doc="Use the first match of regexp or insertafter/insertbefore, not the last.")
        create: bool = arg(False, doc="Create the file (and its parent directories) when it is missing.")
        backup: bool = arg(False, doc="Keep a timestamped copy of the old file (returned as backup_file).")
        validate: str | None = arg(None, convert=validate_arg, doc="Command checking the new file, %s for its path.")

        def check(self) -> None:
            pairs = (("insertafter", "insertbefore"), ("regexp", "search_string"), ("backrefs", "search_string"))
            for one, other in pairs:
                if getattr(self, one) and getattr(self, other):
                    raise ArgError(other, f"parameters are mutually exclusive: '{one}'|'{other}'")
            if self.state == "present" and self.line is None:
                raise ArgError("line", "'line' is required with state=present")
            if self.state == "present" and self.backrefs and self.regexp is None:
                raise ArgError("regexp", "'regexp' is required with backrefs=true")
            if self.state == "absent" and (self.regexp, self.search_string, self.line) == (None, None, None):
                raise ArgError("line", "one of 'line', 'search_string' or 'regexp' is required with state=absent")
            for name in ("insertafter", "insertbefore"):
                try:
                    regex(getattr(self, name) or "")
                except ValueError as exc:
                    raise ArgError(name, f"argument '{name}': {exc}") from None

    def plan(self) -> Plan:
        a = self.args
        if os.path.isdir(a.path):
            raise ModuleFailure(f"Path {a.path} is a directory !", rc=256)
        old = read_bytes_or_none(a.path)
        if old is None and a.state == "absent":
            return Plan(reason="file not present", data={"found": 0})
        if old is None and not (a.create or self.ctx.would_exist(Created.path(a.path))):
            raise ModuleFailure(f"Destination {a.path} does not exist !", rc=257)
        lines = (old or b"").decode(*ENCODING).splitlines(keepends=True)
        lines, message, data = self.edit(lines)
        new = "".join(lines).encode(*ENCODING)
        change = content_change(a.path, old, new, make_parents=a.create)
        changes = [change] if change else []
        changes += attribute_changes(a.path, stat_or_none(a.path), mode=a.mode, owner=a.owner, group=a.group,
                                     would_exist=self.ctx.would_exist)
        return Plan(changes, reason=message, data=data)

    def edit(self, lines: list[str]) -> tuple[list[str], str, dict]:
        if self.args.state == "absent":
            kept = [text for text in lines if not self.matches(text)]
            found = len(lines) - len(kept)
            return kept, f"{found} line(s) removed" if found else "no line to remove", {"found": found}
        return (*self.present(lines), {})

    def matches(self, text: str):
        a = self.args
        if a.regexp is not None:
            return re.search(a.regexp, text)
        if a.search_string is not None:
            return a.search_string in text
        return text.rstrip("\r\n") == a.line

    def present(self, lines: list[str]) -> tuple[list[str], str]:
        a = self.args
        searched = a.regexp is not None or a.search_string is not None
        found = _last(lines, self.matches, a.firstmatch) if searched else None
        if found is not None:
            index, match = found
            new = match.expand(a.line) if a.backrefs else a.line
            new += "" if new.endswith("\n") else "\n"
            if lines[index] == new:
                return lines, "line is already there"
            return lines[:index] + [new] + lines[index + 1:], "line replaced"
        if a.backrefs:
            return lines, "regexp matches no line (backrefs: nothing to do)"
        exact = _last(lines, lambda text: text.rstrip("\r\n") == a.line, False)
        if exact is not None:
            index = exact[0]
            if lines[index].endswith(("\n", "\r")):
                return lines, "line is already there"
            return lines[:index] + [a.line + "\n"] + lines[index + 1:], "line replaced"
        return self.insert(lines), "line added"

    def insert(self, lines: list[str]) -> list[str]:
        a = self.args
        text = a.line + "\n"
        if "BOF" in (a.insertafter, a.insertbefore):
            return [text] + lines
        anchor = a.insertafter if a.insertafter not in (None, "EOF") else a.insertbefore
        found = _last(lines, lambda t: re.search(anchor, t), a.firstmatch) if anchor else None
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines = lines[:-1] + [lines[-1] + "\n"]
        if found is None:
            return lines + [text]
        index = found[0] + 1 if a.insertafter else found[0]
        return lines[:index] + [text] + lines[index:]

    def apply(self, plan: Plan) -> dict:
        a = self.args
        return write_file(a.path, new_content(plan.changes), mode=a.mode, owner=a.owner, group=a.group,
                          backup=a.backup, validate=a.validate, make_parents=a.create)


def _last(lines: list[str], test, first: bool):
    """(index, match) of the last line passing ``test`` (the first with ``first``)."""
    found = None
    for index, text in enumerate(lines):
        match = test(text)
        if match:
            found = (index, match)
            if first:
                break
    return found
