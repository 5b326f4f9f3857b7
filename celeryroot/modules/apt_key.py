"""apt_key: an OpenPGP key apt trusts, as a keyring file of its own."""

from __future__ import annotations

import os
import ssl
import urllib.request
from dataclasses import dataclass

from ..host import openpgp
from ..host.fileops import (ContentChange, Remove, atomic_write, attribute_changes, content_change,
                            read_bytes_or_none, set_attributes, stat_or_none)
from ..module import ArgError, Created, Module, ModuleFailure, Plan, arg
from .apt import apt_path

#: apt reads keyrings as the unprivileged _apt user.
KEY_MODE = "0644"
MAX_KEY = 1 << 20


def _key_id(value) -> str:
    """An id as Ansible takes it: hex, with or without ``0x``, any case."""
    text = str(value).strip().upper().removeprefix("0X")
    if not text or any(c not in "0123456789ABCDEF" for c in text):
        raise ValueError(f"expected a key id or fingerprint in hex, got '{value}'")
    return text


class AptKey(Module):
    """Add or remove an OpenPGP key apt trusts, as a keyring file.

    Ansible's apt_key runs the deprecated ``apt-key``, which puts every key
    in one keyring trusted for every source. Here a key is a file of its
    own: ``keyring`` (the modern way: ``/etc/apt/keyrings/NAME.asc``, named
    by the source's ``signed-by``), by default ``ID.asc`` (``.gpg`` for a
    binary key) in apt's ``trusted.gpg.d`` (``Dir::Etc::trustedparts``),
    ``ID`` being ``id`` or the key's long id. The key comes from ``data``,
    a ``file`` on the host or a ``url`` (fetched by the host), is written
    as it is, atomically, mode 0644, and is checked to be an OpenPGP
    public key whose fingerprint ends with ``id`` when given.
    ``state=absent`` removes the file (``keyring``, or by ``id`` the default
    ones). Keyservers are not supported.

    Example:
        - apt_key:
            url: https://apt.example.org/key.asc
            keyring: /etc/apt/keyrings/example.asc
        - apt_repository:
            repo: "deb [signed-by=/etc/apt/keyrings/example.asc] https://apt.example.org/debian bookworm main"
        - apt_key: id=0x28EA74194643CAD6 file=/tmp/vendor.asc
        - apt_key: id=28EA74194643CAD6 state=absent
    """

    name = "apt_key"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        id: str | None = arg(None, convert=_key_id,
                             doc="The key's id or fingerprint (checked against the key; names the default file).")
        data: str | None = arg(None, doc="The key itself (armored text).")
        file: str | None = arg(None, host_path=True, doc="A key file on the host.")
        url: str | None = arg(None, doc="Where the host fetches the key from.")
        keyring: str | None = arg(None, host_path=True,
                                  doc="The keyring file to write (default: trusted.gpg.d/ID.asc).")
        keyserver: str | None = arg(None, doc="Not supported: give the key with data, file or url.")
        state: str = arg("present", choices=("present", "absent"), doc="Whether the keyring file holds the key.")
        validate_certs: bool = arg(True, doc="Check the HTTPS certificate of url.")

        def check(self) -> None:
            if self.keyserver is not None:
                raise ArgError("keyserver", "argument 'keyserver' is not supported: give the key with data, "
                                            "file or url")
            given = [n for n in ("data", "file", "url") if getattr(self, n) is not None]
            if len(given) > 1:
                raise ArgError(given[1], f"parameters are mutually exclusive: '{given[0]}'|'{given[1]}'")
            if self.state == "present" and not given:
                raise ArgError("data", "one of 'data', 'file' or 'url' is required with state=present")
            if self.state == "absent" and self.id is None and self.keyring is None:
                raise ArgError("id", "'id' or 'keyring' is required with state=absent")

    def plan(self) -> Plan:
        if self.args.state == "absent":
            paths = [p for p in self._defaults() if os.path.lexists(p)]
            changes = [Remove(f"remove {p}", before=f"key file: {p}\n", after="", path=p) for p in paths]
            return Plan(changes, reason="no such key file", data={"keyring": self.args.keyring})
        data = self._key()
        try:
            fpr = openpgp.fingerprint(data)
        except openpgp.NotAKey as exc:
            raise ModuleFailure(f"not an OpenPGP public key: {exc}") from None
        if self.args.id is not None and not fpr.endswith(self.args.id):
            raise ModuleFailure(f"the key's fingerprint {fpr} does not end with id {self.args.id}")
        dest = self.args.keyring or self._default(self.args.id or openpgp.key_id(fpr), data)
        parent = os.path.dirname(os.path.abspath(dest))
        if not (os.path.isdir(parent) or self.ctx.would_exist(Created.path(parent))):
            raise ModuleFailure(f"the directory of the keyring {dest} does not exist")
        change = content_change(dest, read_bytes_or_none(dest), data)
        changes = [change] if change else []
        changes += attribute_changes(dest, stat_or_none(dest), mode=KEY_MODE, owner=None, group=None)
        return Plan(changes, reason=f"{dest} holds the key {fpr}",
                    data={"fp": fpr, "key_id": openpgp.key_id(fpr), "short_id": fpr[-8:], "keyring": dest})

    def _key(self) -> bytes:
        a = self.args
        if a.data is not None:
            return a.data.encode() if a.data.endswith("\n") else (a.data + "\n").encode()
        if a.file is not None:
            try:
                with open(a.file, "rb") as fh:
                    return fh.read(MAX_KEY)
            except OSError as exc:
                raise ModuleFailure(f"cannot read the key file {a.file}: {exc.strerror}") from None
        context = ssl.create_default_context()
        if not a.validate_certs:
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        try:
            with urllib.request.urlopen(a.url, timeout=30, context=context) as answer:
                return answer.read(MAX_KEY)
        except (OSError, ValueError) as exc:
            raise ModuleFailure(f"cannot fetch the key from {a.url}: {exc}") from None

    def _trusted(self) -> str:
        return apt_path("Dir::Etc::trustedparts/d", "/etc/apt/trusted.gpg.d/", self.ctx.environment)

    def _default(self, name: str, data: bytes) -> str:
        return os.path.join(self._trusted(), f"{name}.{'asc' if openpgp.is_armored(data) else 'gpg'}")

    def _defaults(self) -> list[str]:
        """The files ``state=absent`` removes."""
        if self.args.keyring is not None:
            return [self.args.keyring]
        return [os.path.join(self._trusted(), f"{self.args.id}.{ext}") for ext in ("asc", "gpg")]

    def apply(self, plan: Plan) -> dict:
        for change in plan.changes:
            if isinstance(change, ContentChange):
                atomic_write(change.path, change.data, mode=KEY_MODE)
            elif isinstance(change, Remove):
                change.perform()
        set_attributes(plan.changes)
        return {}
