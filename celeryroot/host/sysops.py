"""Changes that are commands, and the account lookups user, group and the
file attributes share.

apt, service, systemd, user and group change the host through its own tools
(apt-get, systemctl, useradd…). Their plans are lists of `CommandChange`:
what the change is, its before/after for ``--diff``, and the argument list
that performs it. The runner runs a plan's commands in order, so these
modules have no apply of their own and nothing is decided twice.
"""

from __future__ import annotations

import grp
import pwd
from dataclasses import dataclass

from ..module import Change, ModuleFailure, Plan
from .proc import Completed, run


@dataclass(frozen=True)
class CommandChange(Change):
    """A change that is one command; a module may subclass it to run it its
    own way (apt waits for dpkg's lock). ``stdin`` is fed to it (the new
    crontab for ``crontab -``)."""

    argv: tuple[str, ...] = ()
    stdin: str | None = None

    def run(self, env: dict) -> dict:
        """Run the command with the task's ``environment:``; its output is
        result data. A non-zero exit status fails the module."""
        return run_checked(self.argv, env, stdin=self.stdin).data()


def run_checked(argv: list[str] | tuple[str, ...], env: dict | None = None, stdin: str | None = None) -> Completed:
    """Run a command; a non-zero exit status fails the module with its output."""
    done = run(list(argv), env=env, stdin=stdin)
    if done.rc != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise ModuleFailure(f"{' '.join(argv)} failed (rc {done.rc})" + (f": {detail[-1]}" if detail else ""),
                            **done.data(), cmd=list(argv))
    return done


def attribute_text(values: dict) -> str:
    """``key: value`` lines, the before/after text of a diff."""
    return "".join(f"{key}: {value}\n" for key, value in values.items())


def removal(kind: str, name: str, before: str | None, argv: tuple[str, ...], data: dict) -> Plan:
    """The plan for ``state=absent``: ``before`` is None when nothing is there."""
    if before is None:
        return Plan(reason=f"{kind} {name} does not exist", data=data)
    return Plan([CommandChange(f"remove {kind} {name}", before=before, after="state: absent\n", path=name,
                               argv=argv)], data=data)


def find_user(name_or_uid: str) -> pwd.struct_passwd | None:
    """A user by name, else by a numeric uid; None if there is none."""
    return _find(pwd.getpwnam, pwd.getpwuid, name_or_uid)


def find_group(name_or_gid: str) -> grp.struct_group | None:
    """A group by name, else by a numeric gid; None if there is none."""
    return _find(grp.getgrnam, grp.getgrgid, name_or_gid)


def _find(by_name, by_id, key: str):
    try:
        return by_name(key)
    except KeyError:
        pass
    try:
        return by_id(int(key)) if key.isdigit() else None
    except KeyError:
        return None


def user_id(owner: str) -> int:
    """The uid a file's ``owner`` names (a number may have no account)."""
    return _account_id(find_user(owner), owner, "pw_uid", "user")


def group_id(group: str) -> int:
    return _account_id(find_group(group), group, "gr_gid", "group")


def _account_id(found, key: str, field: str, kind: str) -> int:
    if found is not None:
        return getattr(found, field)
    if key.isdigit():
        return int(key)
    raise ModuleFailure(f"{kind} '{key}' does not exist on this host")


def user_name(uid: int) -> str:
    """The account name of ``uid``, or the number where there is none."""
    found = find_user(str(uid))
    return found.pw_name if found is not None else str(uid)


def group_name(gid: int) -> str:
    found = find_group(str(gid))
    return found.gr_name if found is not None else str(gid)
