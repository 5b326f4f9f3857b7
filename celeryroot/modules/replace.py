"""replace: every match of a regular expression in a file replaced, Ansible's way."""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass

from ..host.fileops import (AttributeArgs, attribute_changes, content_change, new_content, read_bytes_or_none,
                            stat_or_none, validate_arg, write_file)
from ..module import Created, Module, ModuleFailure, Plan, arg, regex


def _encoding(value) -> str:
    try:
        codecs.lookup(str(value))
    except LookupError:
        raise ValueError(f"unknown encoding '{value}'") from None
    return str(value)


class Replace(Module):
    """Replace every match of ``regexp`` in a file with ``replace``.

    ``regexp`` is a Python regular expression in MULTILINE mode (``^`` and
    ``$`` match at each line); ``replace`` may use ``\\1`` or ``\\g<name>``
    backreferences, and is empty by default, which removes the matches.
    ``after`` and ``before`` (DOTALL expressions) limit the work to the text
    after the first match of ``after`` and before the first match of
    ``before`` that follows it; when they match nothing, nothing is done.

    Idempotence is the pattern's: it must not match its own replacement. The
    file must exist (a file that an earlier task of a check run would create
    is taken as empty). It is rewritten atomically, as copy does; ``backup``,
    ``validate``, ``mode``, ``owner`` and ``group`` work as there.

    Example:
        - replace:
            path: /etc/hosts
            regexp: '(\\s+)old\\.example\\.com(\\s+.*)?$'
            replace: '\\1new.example.com\\2'
        - replace:
            path: /etc/apache2/sites-available/default.conf
            after: '<VirtualHost [*]>'
            before: '</VirtualHost>'
            regexp: '^(.+)$'
            replace: '# \\1'
    """

    name = "replace"
    as_user = True

    @dataclass(frozen=True, kw_only=True)
    class Args(AttributeArgs):
        path: str = arg(aliases=("dest", "destfile", "name"), host_path=True, doc="The file to edit.")
        regexp: str = arg(convert=regex, doc="Python regular expression (MULTILINE) to replace.")
        replace: str = arg("", doc="Replacement for each match, with \\1 or \\g<1> backreferences; "
                                   "empty removes the matches.")
        after: str | None = arg(None, convert=regex, doc="Only replace after the first match of this (DOTALL).")
        before: str | None = arg(None, convert=regex, doc="Only replace before the first match of this (DOTALL).")
        backup: bool = arg(False, doc="Keep a timestamped copy of the old file (returned as backup_file).")
        validate: str | None = arg(None, convert=validate_arg, doc="Command checking the new file, %s for its path.")
        encoding: str = arg("utf-8", convert=_encoding, doc="Character encoding of the file.")

    def plan(self) -> Plan:
        a = self.args
        if os.path.isdir(a.path):
            raise ModuleFailure(f"Path {a.path} is a directory !", rc=256)
        old = read_bytes_or_none(a.path)
        if old is None and not self.ctx.would_exist(Created.path(a.path)):
            raise ModuleFailure(f"Path {a.path} does not exist !", rc=257)
        text = (old or b"").decode(a.encoding, "surrogateescape")
        start, end = self.section(text)
        if start is None:
            return Plan(reason=f"Pattern for before/after params did not match the given file: {self.section_pattern()}",
                        data={"rc": 0})
        new_section, count = re.subn(a.regexp, a.replace, text[start:end], flags=re.MULTILINE)
        new = (text[:start] + new_section + text[end:]).encode(a.encoding, "surrogateescape")
        change = content_change(a.path, old, new) if old is not None else None
        changes = [change] if change else []
        changes += attribute_changes(a.path, stat_or_none(a.path), mode=a.mode, owner=a.owner, group=a.group,
                                     would_exist=self.ctx.would_exist)
        reason = "no match to replace" if not count else f"{count} replacements made, none of them a change"
        return Plan(changes, reason=reason, data={"rc": 0, **({"msg": f"{count} replacements made"} if change else {})})

    def section_pattern(self) -> str:
        a = self.args
        return f"{a.after or ''}(?P<subsection>.{'*?' if a.before else '*'}){a.before or ''}"

    def section(self, text: str) -> tuple[int | None, int | None]:
        """Where the text to work on starts and ends (None: after/before match nothing)."""
        if self.args.after is None and self.args.before is None:
            return 0, len(text)
        found = re.search(self.section_pattern(), text, re.DOTALL)
        return (found.start("subsection"), found.end("subsection")) if found else (None, None)

    def apply(self, plan: Plan) -> dict:
        a = self.args
        return write_file(a.path, new_content(plan.changes), mode=a.mode, owner=a.owner, group=a.group,
                          backup=a.backup, validate=a.validate)
