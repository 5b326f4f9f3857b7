"""user: local user accounts, through useradd/usermod/userdel."""

from __future__ import annotations

import grp
import os
import pwd
from dataclasses import dataclass

from ..module import Created, Module, ModuleFailure, Plan, arg
from ..host.sysops import CommandChange, attribute_text, find_group, find_user, removal


class User(Module):
    """Create, change or remove a local user account.

    The account is read from the password and group databases (``pwd``,
    ``grp``) and changed with ``useradd``, ``usermod`` and ``userdel``.
    Only the attributes given are managed. ``groups`` sets the
    supplementary groups exactly (an empty list removes them all), or only
    adds the missing ones with ``append: yes``. ``password`` is a crypted
    hash, as in /etc/shadow (never shown in a diff). A new user gets a home
    directory unless ``create_home: no``; ``home`` on an existing user
    changes the path only, unless ``move_home: yes``.

    In check mode a group or user that an earlier ``group``/``user`` task
    of the run would create counts as existing, and a created user's home
    counts as an existing directory for later tasks.

    Example:
        - user: name=deploy shell=/bin/bash groups=sudo,adm append=yes
        - user:
            name: metrics
            system: yes
            create_home: no
            shell: /usr/sbin/nologin
        - user: name=olduser state=absent remove=yes
    """

    name = "user"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        name: str = arg(aliases=("user",), doc="The user's login name.")
        state: str = arg("present", choices=("present", "absent"), doc="Whether the account should exist.")
        uid: int | None = arg(None, doc="The user's numeric id.")
        group: str | None = arg(None, doc="The primary group (name or gid); default on creation: useradd's.")
        groups: list[str] | None = arg(None, doc="Supplementary groups, a list or comma-separated.")
        append: bool = arg(False, doc="Add the groups in 'groups' and leave the user's other groups alone.")
        shell: str | None = arg(None, doc="The login shell.")
        home: str | None = arg(None, doc="The home directory.")
        create_home: bool = arg(True, aliases=("createhome",),
                                doc="Create the home directory when the user is created.")
        move_home: bool = arg(False, doc="With a new 'home' for an existing user, move the files there.")
        system: bool = arg(False, doc="Create a system account (id from the system range); not changed later.")
        comment: str | None = arg(None, doc="The GECOS field (full name).")
        password: str | None = arg(None, doc="The crypted password hash (e.g. from mkpasswd).")
        update_password: str = arg("always", choices=("always", "on_create"),
                                   doc="on_create: set 'password' only for a new user.")
        non_unique: bool = arg(False, doc="With 'uid', allow an id another user already has.")
        remove: bool = arg(False, doc="With state=absent, also remove the home directory and mail spool.")
        force: bool = arg(False, doc="With state=absent, remove the user even while it is logged in.")

    def plan(self) -> Plan:
        a = self.args
        current = find_user(a.name)
        data = {"name": a.name, "state": a.state}
        if a.state == "absent":
            argv = ("userdel", *(["-r"] if a.remove else []), *(["-f"] if a.force else []), a.name)
            return removal("user", a.name, current and attribute_text(_shown(current)), argv, data)
        self._need_groups()
        if current is None:
            return Plan([self._create()], data=data)
        before, after, flags = self._differences(current)
        if not flags:
            return Plan(reason=f"user {a.name} is as wanted", data={**data, **_facts(current)})
        return Plan([CommandChange(f"change user {a.name}: {', '.join(after)}", before=attribute_text(before),
                                   after=attribute_text(after), path=a.name,
                                   argv=("usermod", *flags, a.name))], data=data)

    def _need_groups(self) -> None:
        for name in [*([self.args.group] if self.args.group else []), *(self.args.groups or ())]:
            if find_group(name) is None and not self.ctx.would_exist(Created.group(name)):
                raise ModuleFailure(f"group {name} does not exist")

    def _create(self) -> CommandChange:
        a = self.args
        wanted = {"uid": a.uid, "group": a.group, "groups": ",".join(a.groups) if a.groups else None,
                  "shell": a.shell, "home": a.home, "comment": a.comment}
        flags = [*_flags(wanted, a.non_unique), "-m" if a.create_home else "-M", *(["-r"] if a.system else [])]
        if a.password is not None:
            flags += ["-p", a.password]
        shown = {k: v for k, v in wanted.items() if v is not None}
        # useradd also makes the user's own group (USERGROUPS_ENAB) and, with -m, its home.
        creates = {Created.user(a.name), Created.group(a.name)}
        if a.create_home:
            creates.add(Created.path(a.home or os.path.join(_home_base(), a.name)))
        return CommandChange(f"create user {a.name}", before="state: absent\n",
                             after=attribute_text({"state": "present", **shown}), path=a.name,
                             creates=frozenset(creates), argv=("useradd", *flags, a.name))

    def _differences(self, current: pwd.struct_passwd) -> tuple[dict, dict, list[str]]:
        a = self.args
        have = _shown(current)
        wanted = {"uid": a.uid, "shell": a.shell, "home": a.home, "comment": a.comment,
                  "group": _group_name(a.group) if a.group is not None else None}
        differ = {k: v for k, v in wanted.items() if v is not None and str(v) != str(have[k])}
        flags = _flags(differ, a.non_unique)
        if "home" in differ and a.move_home:
            flags.append("-m")
        if a.groups is not None:
            flags += self._group_flags(set(filter(None, have["groups"].split(","))), differ)
        before = {k: have[k] for k in differ}
        if a.password is not None and a.update_password == "always" and a.password != _hash(a.name):
            flags += ["-p", a.password]
            before["password"], differ["password"] = "(old hash)", "(new hash)"
        return before, differ, flags

    def _group_flags(self, have: set[str], differ: dict) -> list[str]:
        """usermod's -G: the missing groups with append (-a), else the whole set."""
        wanted = set(self.args.groups)
        if self.args.append:
            missing = wanted - have
            if missing:
                differ["groups"] = ",".join(sorted(have | missing))
            return ["-a", "-G", ",".join(sorted(missing))] if missing else []
        if wanted == have:
            return []
        differ["groups"] = ",".join(sorted(wanted))
        return ["-G", differ["groups"]]

    def apply(self, plan: Plan) -> dict:
        """The runner ran the plan's commands; the result reports the account as it is now."""
        current = find_user(self.args.name)
        return _facts(current) if current else {}


FLAGS = {"uid": "-u", "group": "-g", "groups": "-G", "shell": "-s", "home": "-d", "comment": "-c"}


def _flags(values: dict, non_unique: bool) -> list[str]:
    flags = []
    for key, flag in FLAGS.items():
        if values.get(key) is not None:
            flags += [flag, str(values[key])]
    if non_unique and values.get("uid") is not None:
        flags.append("-o")
    return flags


def _group_name(name_or_gid: str) -> str:
    found = find_group(name_or_gid)
    return found.gr_name if found else name_or_gid


def _shown(pw: pwd.struct_passwd) -> dict:
    primary = _group_name(str(pw.pw_gid))
    # Every group that lists the user, its primary group too, as Ansible compares them.
    groups = sorted(g.gr_name for g in grp.getgrall() if pw.pw_name in g.gr_mem)
    return {"uid": pw.pw_uid, "group": primary, "groups": ",".join(groups), "shell": pw.pw_shell,
            "home": pw.pw_dir, "comment": pw.pw_gecos}


def _facts(pw: pwd.struct_passwd) -> dict:
    shown = _shown(pw)
    return {**shown, "groups": shown["groups"].split(",") if shown["groups"] else []}


def _hash(name: str) -> str | None:
    with open("/etc/shadow") as f:
        for line in f:
            fields = line.rstrip("\n").split(":")
            if fields[0] == name:
                return fields[1]
    return None


def _home_base() -> str:
    """useradd's HOME default, from /etc/default/useradd."""
    try:
        with open("/etc/default/useradd") as f:
            for line in f:
                if line.startswith("HOME="):
                    return line.strip().partition("=")[2]
    except OSError:
        pass
    return "/home"
