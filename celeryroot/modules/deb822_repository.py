"""deb822_repository: an apt source in the deb822 format, NAME.sources."""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass

from ..host.fileops import (ContentChange, Remove, atomic_write, attribute_changes, content_change, mode_arg,
                            read_bytes_or_none, risky_mode, set_attributes, stat_or_none)
from ..module import ArgError, Created, Module, ModuleFailure, Plan, arg
from .apt import apt_path

NEW_FILE_MODE = "0644"


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else "yes" if value else "no"


class Deb822Repository(Module):
    """Add or remove an apt source written in the deb822 format.

    The source is the file ``sources.list.d/NAME.sources`` (apt's
    ``Dir::Etc::sourceparts``), written whole and atomically, mode 0644
    when new (or ``mode``): ``Types``, ``URIs``, ``Suites``,
    ``Components``, ``Architectures``, ``Signed-By``, ``Enabled`` and
    ``Trusted`` from the arguments, after an ``X-Repolib-Name`` line, as
    Ansible writes it. ``signed_by`` is a keyring file on the host or an
    armored public key, which is put in the file itself (a URL is not
    fetched: write the key with ``apt_key`` first). Run ``apt:
    update_cache=yes`` afterwards to read the new source.

    Example:
        - deb822_repository:
            name: vendor
            uris: https://apt.example.org/debian
            suites: bookworm
            components: main
            signed_by: /etc/apt/keyrings/vendor.asc
        - deb822_repository: name=vendor state=absent
    """

    name = "deb822_repository"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        name: str = arg(doc="The source's name: its file is NAME.sources.")
        types: list[str] = arg(["deb"], doc="deb and/or deb-src.")
        uris: list[str] | None = arg(None, doc="The repositories' URIs.")
        suites: list[str] | None = arg(None, doc="Suites (a flat repository: a path ending in /).")
        components: list[str] | None = arg(None, doc="Components (none for a flat repository).")
        architectures: list[str] | None = arg(None, doc="Only these architectures.")
        signed_by: str | None = arg(None, doc="A keyring file on the host, or an armored public key.")
        enabled: bool | None = arg(None, doc="Enabled: no keeps the source without using it.")
        trusted: bool | None = arg(None, doc="Trusted: yes takes the source without checking signatures.")
        state: str = arg("present", choices=("present", "absent"), doc="Whether the file exists.")
        mode: str | None = arg(None, convert=mode_arg, lint=risky_mode,
                               doc="The file's permissions (default 0644 for a new file).")

        def check(self) -> None:
            if "/" in self.name or not self.name.strip():
                raise ArgError("name", "argument 'name': a name for the file, without a '/'")
            if any(t not in ("deb", "deb-src") for t in self.types):
                raise ArgError("types", "argument 'types': each one of deb, deb-src")
            if self.state == "present" and not (self.uris and self.suites):
                raise ArgError("uris", "'uris' and 'suites' are required with state=present")
            if self.signed_by and re.match(r"\w+://", self.signed_by):
                raise ArgError("signed_by", "argument 'signed_by': a URL is not fetched; write the key with "
                                            "apt_key and name its file here")

    def text(self) -> str:
        """The file as it should be."""
        a = self.args
        fields = [("X-Repolib-Name", a.name), ("Types", " ".join(a.types)), ("URIs", " ".join(a.uris)),
                  ("Suites", " ".join(a.suites)), ("Components", " ".join(a.components or ())),
                  ("Architectures", " ".join(a.architectures or ())), ("Enabled", _yes_no(a.enabled)),
                  ("Trusted", _yes_no(a.trusted)), ("Signed-By", self._signed_by())]
        return "".join(f"{key}:{'' if value.startswith(chr(10)) else ' '}{value}\n" for key, value in fields if value)

    def _signed_by(self) -> str | None:
        """A key given inline is a multi-line field: each line indented, an
        empty line written as ``.`` (deb822's folding)."""
        key = (self.args.signed_by or "").strip()
        if not key.startswith("-----BEGIN"):
            return key or None
        return "".join(f"\n {line.strip() or '.'}" for line in key.splitlines())

    def plan(self) -> Plan:
        a = self.args
        parts = apt_path("Dir::Etc::sourceparts/d", "/etc/apt/sources.list.d/", self.ctx.environment)
        dest = os.path.join(parts, f"{a.name}.sources")
        st = stat_or_none(dest)
        if a.state == "absent":
            changes = [Remove(f"remove {dest}", before=(read_bytes_or_none(dest) or b"").decode("utf-8", "replace"),
                              after="", path=dest)] if st else []
            return Plan(changes, reason=f"{dest} does not exist", data={"dest": dest})
        if not (os.path.isdir(parts) or self.ctx.would_exist(Created.path(parts))):
            raise ModuleFailure(f"the directory of apt's sources {parts} does not exist")
        text = self.text()
        change = content_change(dest, read_bytes_or_none(dest), text.encode())
        # A later apt task of a check run may install from the new source.
        changes = [dataclasses.replace(change, creates=change.creates | {Created.source(dest)})] if change else []
        changes += attribute_changes(dest, st, mode=a.mode, owner=None, group=None)
        return Plan(changes, reason=f"{dest} is as wanted", data={"dest": dest, "repo": text})

    def apply(self, plan: Plan) -> dict:
        for change in plan.changes:
            if isinstance(change, ContentChange):
                new = stat_or_none(change.path) is None
                atomic_write(change.path, change.data, mode=(self.args.mode or NEW_FILE_MODE) if new else None)
            elif isinstance(change, Remove):
                change.perform()
        set_attributes(plan.changes)
        return {}
