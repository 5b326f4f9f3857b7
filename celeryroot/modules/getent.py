"""getent: entries of a name service database as facts (getent_<database>)."""

from __future__ import annotations

from dataclasses import dataclass

from ..host.proc import run
from ..module import Module, ModuleFailure, Plan, arg

#: The databases whose fields are separated by colons; others by blanks.
COLON_SEPARATED = ("passwd", "shadow", "group", "gshadow")
#: What getent's exit status means (getent(1)).
FAILURES = {1: "Missing arguments, or database unknown.",
            2: "One or more supplied key could not be found in the database.",
            3: "Enumeration not supported on this database."}


class Getent(Module):
    """Read a name service database (passwd, group, hosts, services, …)
    with ``getent`` and set it as the fact ``getent_<database>``: each
    entry's first field maps to the list of its other fields.

    Fields are split at ``split``, by default at colons for passwd, shadow,
    group and gshadow and at blanks for the others. A ``key`` that is not
    there fails, unless ``fail_key: no``, which maps it to null. Never
    changes anything.

    Example:
        - getent: database=passwd key=deploy
        - debug: msg="home is {{ getent_passwd.deploy[4] }}"
        - getent:
            database: services
            key: http
            split: ":"
    """

    name = "getent"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        database: str = arg(doc="The database to read (passwd, group, hosts, services, …).")
        key: str | None = arg(None, doc="The entry to read; without it, the whole database.")
        service: str | None = arg(None, doc="The NSS service to ask (getent -s), such as files.")
        split: str | None = arg(None, doc="What separates the fields (default: ':' for passwd, shadow, "
                                          "group, gshadow; blanks for the others).")
        fail_key: bool = arg(True, doc="Fail when key is not there; with no, it maps to null.")

    @classmethod
    def fact_names(cls, raw_args: dict, search: tuple[str, ...] = ()) -> set[str]:
        database = raw_args.get("database")
        return {f"getent_{database}"} if isinstance(database, str) and database.isidentifier() else set()

    def plan(self) -> Plan:
        a = self.args
        argv = ["getent"] + (["-s", a.service] if a.service else []) + [a.database]
        argv += [a.key] if a.key is not None else []
        done = run(argv)
        fact = f"getent_{a.database}"
        if done.rc == 2 and a.key is not None and not a.fail_key:
            return Plan(reason=FAILURES[2], data={"msg": FAILURES[2], "ansible_facts": {fact: {a.key: None}}})
        if done.rc != 0:
            raise ModuleFailure(FAILURES.get(done.rc, f"getent exited {done.rc}"), **done.data())
        split = a.split if a.split is not None else ":" if a.database in COLON_SEPARATED else None
        entries: dict = {}
        for line in filter(str.strip, done.stdout.splitlines()):
            first, *rest = line.split(split) if split is not None else line.split()
            entries.setdefault(first, rest)
        return Plan(reason=f"{len(entries)} entries of {a.database}", data={"ansible_facts": {fact: entries}})
