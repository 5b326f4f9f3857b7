"""hostname: the host's name, now and after the next boot."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

from ..host import services
from ..host.fileops import content_change, new_content, read_bytes_or_none, write_file
from ..host.sysops import CommandChange
from ..module import ArgError, Module, Plan, arg

HOSTNAME_FILE = "/etc/hostname"
#: Ansible's strategies that mean "a Debian-like Linux" here.
STRATEGIES = ("systemd", "debian", "generic")
#: RFC 1123 labels, dot-separated.
VALID = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$")


class Hostname(Module):
    """Set the host's name: the running one and the one it boots with.

    With systemd running (or ``use: systemd``), ``hostnamectl
    set-hostname`` sets both; otherwise the running name is set with
    ``hostname NAME`` and ``/etc/hostname`` is written atomically. Either
    is ``changed`` only when it differs. /etc/hosts is not touched (as in
    Ansible). Returns ``ansible_facts`` with the new ``hostname`` (the part
    before the first dot) and ``nodename``.

    Example:
        - hostname: name=web01
        - hostname:
            name: "{{ inventory_hostname }}"
    """

    name = "hostname"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        name: str = arg(doc="The new name (letters, digits, hyphens; dots between labels).")
        use: str | None = arg(None, doc="The strategy: systemd, debian or generic (default: found at run time).")

        def check(self) -> None:
            if not VALID.match(self.name) or len(self.name) > 253:
                raise ArgError("name", f"argument 'name': '{self.name}' is not a valid host name")
            if self.use is not None and self.use not in STRATEGIES:
                raise ArgError("use", f"argument 'use': '{self.use}' is not a strategy for this platform "
                                      f"(one of: {', '.join(STRATEGIES)})")

    def plan(self) -> Plan:
        name = self.args.name
        running = socket.gethostname()
        old = read_bytes_or_none(HOSTNAME_FILE)
        permanent = (old or b"").decode(errors="replace").strip()
        data = {"name": name, "ansible_facts": {"hostname": name.split(".")[0], "nodename": name}}
        if running == name and permanent == name:
            return Plan(reason=f"the host is named {name}", data=data)
        before = f"hostname: {running}\n" + (f"permanent: {permanent}\n" if permanent != running else "")
        if self._systemd():
            return Plan([CommandChange(f"rename the host {name}", before=before, after=f"hostname: {name}\n",
                                       path="hostname", argv=("hostnamectl", "set-hostname", name))], data=data)
        changes = []
        if running != name:
            changes.append(CommandChange(f"rename the running host {name}", before=f"hostname: {running}\n",
                                         after=f"hostname: {name}\n", path="hostname", argv=("hostname", name)))
        written = content_change(HOSTNAME_FILE, old, f"{name}\n".encode())
        if written:
            changes.append(written)
        return Plan(changes, data=data)

    def _systemd(self) -> bool:
        use = self.args.use
        return use == "systemd" or use is None and services.running_init() == "systemd"

    def apply(self, plan: Plan) -> dict:
        data = new_content(plan.changes)
        return write_file(HOSTNAME_FILE, data) if data is not None else {}
