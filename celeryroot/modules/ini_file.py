"""ini_file: one option (or a section) of an INI file, community.general's way."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ..host.fileops import (AttributeArgs, attribute_changes, content_change, new_content, read_bytes_or_none,
                            stat_or_none, write_file)
from ..module import ArgError, Created, Module, ModuleFailure, Plan, arg, boolean

ENCODING = ("utf-8", "surrogateescape")  # keeps bytes that are not UTF-8 as they were
_SECTION = re.compile(r"^\s*\[\s*(?P<name>[^\]]*?)\s*\]")


def _no_backup(value) -> bool:
    if boolean(value):
        raise ValueError("backup: true is not supported here; keep a copy with copy: remote_src=yes first")
    return False


class IniFile(Module):
    """Set, add or remove one option of an INI file, or a whole section
    (community.general.ini_file).

    ``section`` is the ``[name]`` the option belongs to; null means the
    lines before the first section. With ``state: present`` the option gets
    ``value`` (or each of ``values``, one line each): an existing line is
    changed where it is, a new one goes after the section's last option,
    and a missing section is added at the end. ``exclusive`` (the default)
    removes the option's other lines of that section. With ``state:
    absent`` the option's lines go (with ``exclusive: no`` and a value, only
    the lines with that value); without ``option`` the whole section goes.
    Without ``option`` and ``state: present`` the section is made to exist.

    Lines are written ``option = value`` (``option=value`` with
    ``no_extra_spaces``); ``allow_no_value`` writes a bare ``option``.
    Commented-out options are left alone. A file without a final newline
    gets one. A missing file is created unless ``create: no``. The file is
    rewritten atomically, as copy does; ``mode``, ``owner`` and ``group``
    work as there; ``backup`` is not supported. ``--diff`` shows the change.

    Example:
        - community.general.ini_file:
            path: /etc/php/8.2/fpm/php.ini
            section: PHP
            option: memory_limit
            value: 256M
        - ini_file:
            path: /etc/app.ini
            section: legacy
            state: absent
    """

    name = "ini_file"

    @dataclass(frozen=True, kw_only=True)
    class Args(AttributeArgs):
        path: str = arg(aliases=("dest",), host_path=True, doc="The INI file.")
        section: str | None = arg(doc="Section name, without brackets; null for the lines before the first section.")
        option: str | None = arg(None, aliases=("key",), doc="The option; omitted, the task is about the section.")
        value: str | None = arg(None, doc="The option's value.")
        values: list[str] = arg([], doc="Several values, one line each (instead of value).")
        state: str = arg("present", choices=("present", "absent"), doc="Whether the option (or section) is there.")
        exclusive: bool = arg(True, doc="Remove the option's other lines in the section (present), or every line "
                                        "of it whatever its value (absent).")
        no_extra_spaces: bool = arg(False, doc="Write option=value, without spaces around =.")
        allow_no_value: bool = arg(False, doc="Allow an option without value (a bare 'option' line).")
        create: bool = arg(True, doc="Create the file when it is missing; with no, a missing file fails.")
        backup: bool = arg(False, convert=_no_backup, doc="Only false: backups are not supported.")

        def check(self) -> None:
            if self.value is not None and self.values:
                raise ArgError("values", "parameters are mutually exclusive: 'value', 'values'")
            if self.values and self.option is None:
                raise ArgError("values", "values needs option")
            if (self.state == "present" and self.option is not None and self.value is None and not self.values
                    and not self.allow_no_value):
                raise ArgError("value", "parameter 'value' (or 'values') must be defined if state=present and allow_no_value=False")

        @property
        def wanted(self) -> list[str | None]:
            return list(self.values) if self.values else [self.value]

    def plan(self) -> Plan:
        a = self.args
        if os.path.isdir(a.path):
            raise ModuleFailure(f"Destination {a.path} is a directory !", path=a.path)
        old = read_bytes_or_none(a.path)
        if old is None and not (a.create or self.ctx.would_exist(Created.path(a.path))):
            raise ModuleFailure(f"Destination {a.path} does not exist !", path=a.path)
        if old is None and a.state == "absent":
            return Plan(reason=f"{a.path} does not exist", data={"path": a.path})
        lines = [line if line.endswith("\n") else line + "\n"
                 for line in (old or b"").decode(*ENCODING).splitlines(keepends=True)]
        msg = self.edit(lines)
        change = content_change(a.path, old, "".join(lines).encode(*ENCODING))
        changes = [change] if change else []
        changes += attribute_changes(a.path, stat_or_none(a.path), mode=a.mode, owner=a.owner, group=a.group,
                                     would_exist=self.ctx.would_exist)
        return Plan(changes, reason="OK", data={"path": a.path, **({"msg": msg} if change else {})})

    # -- the edit, on a list of lines ending in newlines ----------------------

    def edit(self, lines: list[str]) -> str:
        """Edit ``lines`` in place; return what was done, in Ansible's words."""
        a = self.args
        span = _section_span(lines, a.section)
        if a.state == "absent" and a.option is None:
            if span is not None:
                start = span[0] - (a.section is not None)  # the header goes with it
                del lines[start:span[1]]
            return "section removed"
        if span is None:
            if a.state == "absent":
                return "OK"
            if lines and lines[-1].strip():
                lines.append("\n")  # a blank line before the new section
            lines.append(f"[{a.section}]\n")
            lines += [self.line(v) for v in a.wanted] if a.option is not None else []
            return "section and option added" if a.option is not None else "section added"
        if a.option is None:
            return "OK"
        start, end = span
        found = [i for i in range(start, end) if _option_of(lines[i]) == a.option]
        if a.state == "absent":
            doomed = [i for i in found if a.exclusive or a.value is None or _value_of(lines[i]) == a.value]
            for i in reversed(doomed):
                del lines[i]
            return "option changed" if doomed else "OK"
        return self._set(lines, start, end, found)

    def _set(self, lines: list[str], start: int, end: int, found: list[int]) -> str:
        a = self.args
        wanted = [self.line(v) for v in a.wanted]
        missing = [w for w in wanted if w not in (lines[i] for i in found)]
        spare = [i for i in found if lines[i] not in wanted or lines[i] in (lines[j] for j in found if j < i)]
        # A spare line (another value, or a repeat) is reused for a missing value where it stands.
        for i in list(spare):
            if not missing:
                break
            lines[i] = missing.pop(0)
            spare.remove(i)
        doomed = spare if a.exclusive else []
        for i in reversed(doomed):
            del lines[i]
        end -= len(doomed)
        if missing:
            at = end
            while at > start and not lines[at - 1].strip():
                at -= 1  # after the section's last line, before its blank lines
            lines[at:at] = missing
        return "option added" if missing and not found else "option changed"

    def line(self, value: str | None) -> str:
        a = self.args
        if value is None:
            return f"{a.option}\n"
        sep = "=" if a.no_extra_spaces else " = "
        return f"{a.option}{sep}{value}\n"

    def apply(self, plan: Plan) -> dict:
        a = self.args
        return write_file(a.path, new_content(plan.changes), mode=a.mode, owner=a.owner, group=a.group)


def _section_span(lines: list[str], section: str | None) -> tuple[int, int] | None:
    """The lines of ``section`` (after its header, up to the next one), or None."""
    if section is None:
        end = next((i for i, line in enumerate(lines) if _SECTION.match(line)), len(lines))
        return 0, end
    for i, line in enumerate(lines):
        found = _SECTION.match(line)
        if found and found.group("name") == section:
            end = next((j for j in range(i + 1, len(lines)) if _SECTION.match(lines[j])), len(lines))
            return i + 1, end
    return None


def _option_of(line: str) -> str | None:
    text = line.strip()
    if not text or text[0] in "#;[":
        return None
    return text.split("=", 1)[0].strip()


def _value_of(line: str) -> str | None:
    parts = line.strip().split("=", 1)
    return parts[1].strip() if len(parts) == 2 else None
