"""stamp: an example site-local module, loaded by workers from ``modules/``.

A site module is a file like this one in a directory of the modules path:
one `Module` subclass with a ``name``, an ``Args`` spec (its ``check()``
judges the arguments together, on the controller and on the worker),
``plan()`` that observes the host and returns typed changes, and
``apply()`` that performs them from the plan alone. A change says what it
looks like before and after (the ``--diff``), what it creates (``creates``,
names made by `Created`, which later tasks of a check run take as
existing) and carries its work (here, the bytes to write).
"""

import os
from dataclasses import dataclass

from celeryroot.host.fileops import ContentChange, new_content, read_text_or_none, write_file
from celeryroot.module import ArgError, Created, Module, ModuleFailure, Plan, arg


class Stamp(Module):
    """Write a one-line "managed by" stamp file, so people on the host know
    who manages it.

    The file is written atomically, as copy writes (a reader only ever sees
    the old or the new text), and only when its text differs. In check
    mode a directory that an earlier task of the run would create counts as
    there, and the stamp counts as written for the tasks after it.

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

        def check(self) -> None:
            if not self.owner.strip():
                raise ArgError("owner", "'owner' must name a team or a person")

    def text(self) -> str:
        return f"This host is managed by celeryroot on behalf of {self.args.owner}.\n"

    def plan(self) -> Plan:
        path = self.args.path
        parent = os.path.dirname(os.path.abspath(path))
        if not (os.path.isdir(parent) or self.ctx.would_exist(Created.path(parent))):
            raise ModuleFailure(f"cannot stamp {path}: directory {parent} does not exist")
        current = read_text_or_none(path)
        if current == self.text():
            return Plan(reason=f"{path} is stamped for {self.args.owner}")
        made = frozenset() if os.path.lexists(path) else frozenset({Created.path(path)})
        return Plan([ContentChange(f"stamp {path}", before=current or "", after=self.text(), path=path,
                                   creates=made, data=self.text().encode())])

    def apply(self, plan: Plan) -> dict:
        write_file(self.args.path, new_content(plan.changes), mode="0644")
        return {"path": self.args.path}
