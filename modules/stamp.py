"""stamp: an example site-local module, loaded by workers from ``modules/``.

A site module is a file like this one in a directory of the modules path:
one `Module` subclass with a ``name``, an ``Args`` spec and plan/apply.
"""

from dataclasses import dataclass

from celeryroot.host.fileops import atomic_write, read_text_or_none
from celeryroot.module import Change, Module, Plan, arg


class Stamp(Module):
    """Write a one-line "managed by" stamp file, so people on the host know
    who manages it.

    Example:
        - stamp:
            path: /etc/celeryroot-managed
            owner: platform-team
    """

    name = "stamp"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        path: str = arg(doc="Where the stamp file goes.")
        owner: str = arg(doc="Who manages this host (a team or a person).")

    def text(self) -> str:
        return f"This host is managed by celeryroot on behalf of {self.args.owner}.\n"

    def plan(self) -> Plan:
        current = read_text_or_none(self.args.path)
        if current == self.text():
            return Plan(reason=f"{self.args.path} is stamped for {self.args.owner}")
        return Plan([Change(f"stamp {self.args.path}", before=current or "", after=self.text(),
                            path=self.args.path)])

    def apply(self, plan: Plan) -> dict:
        atomic_write(self.args.path, self.text().encode(), mode="0644")
        return {"path": self.args.path}
