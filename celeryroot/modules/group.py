"""group: local groups, through groupadd/groupmod/groupdel."""

from __future__ import annotations

from dataclasses import dataclass

from ..module import Created, Module, Plan, arg
from ..host.sysops import CommandChange, attribute_text, find_group, removal


class Group(Module):
    """Create, change or remove a local group.

    The group is read from the group database (``grp``) and changed with
    ``groupadd``, ``groupmod -g`` and ``groupdel``. ``system`` only
    matters when the group is created. In check mode a group this task
    would create counts as existing for later tasks of the run (a ``user``
    with ``groups:`` naming it).

    Example:
        - group: name=deploy gid=2001
        - group:
            name: metrics
            system: yes
        - group: name=oldteam state=absent
    """

    name = "group"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        name: str = arg(doc="The group's name.")
        state: str = arg("present", choices=("present", "absent"), doc="Whether the group should exist.")
        gid: int | None = arg(None, doc="The group's numeric id.")
        system: bool = arg(False, doc="Create a system group (id from the system range).")
        non_unique: bool = arg(False, doc="With 'gid', allow an id another group already has.")

    def plan(self) -> Plan:
        a = self.args
        current = find_group(a.name)
        data = {"name": a.name, "state": a.state}
        unique = ["-o"] if a.non_unique and a.gid is not None else []
        if a.state == "absent":
            return removal("group", a.name, current and f"gid: {current.gr_gid}\n", ("groupdel", a.name), data)
        if current is None:
            gid = ["-g", str(a.gid)] if a.gid is not None else []
            after = {"state": "present", **({"gid": a.gid} if a.gid is not None else {})}
            return Plan([CommandChange(f"create group {a.name}", before="state: absent\n",
                                       after=attribute_text(after), path=a.name,
                                       creates=frozenset({Created.group(a.name)}),
                                       argv=("groupadd", *gid, *unique, *(["-r"] if a.system else []), a.name))],
                        data=data)
        if a.gid is None or a.gid == current.gr_gid:
            return Plan(reason=f"group {a.name} exists with gid {current.gr_gid}", data={**data, "gid": current.gr_gid})
        return Plan([CommandChange(f"change gid of group {a.name}", before=f"gid: {current.gr_gid}\n",
                                   after=f"gid: {a.gid}\n", path=a.name,
                                   argv=("groupmod", "-g", str(a.gid), *unique, a.name))], data=data)

    def apply(self, plan: Plan) -> dict:
        """The runner ran the plan's commands; the result reports the gid the group got."""
        current = find_group(self.args.name)
        return {"gid": current.gr_gid} if current else {}

