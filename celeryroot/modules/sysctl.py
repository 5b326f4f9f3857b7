"""sysctl: a kernel parameter in a sysctl file, and in the running kernel."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..host.fileops import content_change, new_content, read_bytes_or_none, write_file
from ..host.proc import run
from ..host.sysops import CommandChange, run_checked
from ..module import ArgError, Change, Created, Module, ModuleFailure, Plan, arg

COMMENT = ("#", ";")


def _value(value) -> str:
    """YAML's ``yes``/``no`` are the kernel's 1 and 0."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def same(a: str, b: str) -> bool:
    """Equal as the kernel reads them: ``32768 60999`` is ``32768\\t60999``."""
    return a.split() == b.split()


def key_of(line: str) -> str | None:
    """The parameter a line of a sysctl file sets (``a/b`` is ``a.b``), or None."""
    text = line.strip()
    if not text or text.startswith(COMMENT) or "=" not in text:
        return None
    return text.split("=", 1)[0].strip().lstrip("-").replace("/", ".")


@dataclass(frozen=True)
class Reload(Change):
    """``sysctl -p FILE`` once the file is written (so not a command the
    runner runs before ``apply``)."""

    argv: tuple[str, ...] = ()


class Sysctl(Module):
    """Set a kernel parameter in a sysctl file (ansible.posix's sysctl).

    The file's line for ``name`` becomes ``name=value`` (added at the end
    when there is none; a line that already has the value is left as it
    is, spaces and all); ``state: absent`` removes it. When the file
    changes and ``reload`` is on, it is loaded with ``sysctl -p FILE``.
    ``sysctl_set`` also sets the running kernel's value with
    ``sysctl -w`` when it differs (values compare with their whitespace
    collapsed, as the kernel prints tabs). The file is written atomically.

    Example:
        - sysctl: name=vm.swappiness value=10
        - sysctl:
            name: net.ipv4.ip_forward
            value: "1"
            sysctl_file: /etc/sysctl.d/60-forward.conf
            sysctl_set: yes
    """

    name = "sysctl"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        name: str = arg(aliases=("key",), doc="The parameter, e.g. vm.swappiness.")
        value: str | None = arg(None, aliases=("val",), convert=_value,
                                doc="Its value; required with state=present.")
        state: str = arg("present", choices=("present", "absent"), doc="Whether the file should set it.")
        sysctl_file: str = arg("/etc/sysctl.conf", host_path=True, doc="The file to edit.")
        reload: bool = arg(True, doc="Load the file (sysctl -p FILE) when it changed.")
        sysctl_set: bool = arg(False, doc="Also set the running kernel's value (sysctl -w) when it differs.")
        ignoreerrors: bool = arg(False, doc="Ignore unknown keys when loading the file (sysctl -e).")

        def check(self) -> None:
            if self.state == "present" and (self.value is None or not self.value.strip()):
                raise ArgError("value", "'value' is required with state=present (and cannot be empty)")

    @property
    def key(self) -> str:
        return self.args.name.strip().replace("/", ".")

    def plan(self) -> Plan:
        a = self.args
        old = read_bytes_or_none(a.sysctl_file)
        if old is None and a.state == "present" and not self._parent_exists():
            raise ModuleFailure(f"the directory of {a.sysctl_file} does not exist")
        text = (old or b"").decode("utf-8", "surrogateescape")
        new = self.edit(text.splitlines(keepends=True))
        changes = []
        if a.state == "present" and a.sysctl_set:
            changes += self.kernel_change()
        written = content_change(a.sysctl_file, old, new.encode("utf-8", "surrogateescape"))
        if written:
            changes.append(written)
            if a.reload:
                changes.append(Reload(f"load {a.sysctl_file}", argv=(
                    "sysctl", *(["-e"] if a.ignoreerrors else []), "-p", a.sysctl_file)))
        wanted = f"{self.key}={a.value}" if a.state == "present" else f"{self.key} unset"
        return Plan(changes, reason=f"{wanted} in {a.sysctl_file}", data={"name": self.key, "value": a.value})

    def _parent_exists(self) -> bool:
        parent = os.path.dirname(os.path.abspath(self.args.sysctl_file))
        return os.path.isdir(parent) or self.ctx.would_exist(Created.path(parent))

    def edit(self, lines: list[str]) -> str:
        """The file's text with the parameter set (its first line) or gone."""
        a = self.args
        out, done = [], a.state == "absent"
        for line in lines:
            if key_of(line) != self.key:
                out.append(line)
            elif not done:
                current = line.split("=", 1)[1]
                out.append(line if same(current, a.value) else f"{self.key}={a.value}\n")
                done = True
        if not done:
            if out and not out[-1].endswith("\n"):
                out[-1] += "\n"
            out.append(f"{self.key}={a.value}\n")
        return "".join(out)

    def kernel_change(self) -> list[CommandChange]:
        done = run(["sysctl", "-n", self.key])
        if done.rc != 0:
            raise ModuleFailure(f"the kernel has no parameter {self.key}: {done.stderr.strip()}", **done.data())
        if same(done.stdout, self.args.value):
            return []
        return [CommandChange(f"set {self.key} in the kernel", before=f"{self.key}: {done.stdout}\n",
                              after=f"{self.key}: {self.args.value}\n", path=f"kernel {self.key}",
                              argv=("sysctl", "-w", f"{self.key}={self.args.value}"))]

    def apply(self, plan: Plan) -> dict:
        data = new_content(plan.changes)
        out = write_file(self.args.sysctl_file, data) if data is not None else {}
        for change in plan.changes:
            if isinstance(change, Reload):
                run_checked(change.argv)
        return out
