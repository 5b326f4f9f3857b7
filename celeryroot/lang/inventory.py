"""Inventory: Ansible's YAML format, and host patterns.

A host is a name, an optional ``description`` and variables; there are no
connection details, because each host's worker connects to the broker.
Patterns follow Ansible: ``all``, group and host names, globs (``web*``),
``~regex``, ``:``/``,`` union, ``:&`` intersection and ``:!`` exclusion.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

from .source import InputError, Where, expect_mapping, key_where, plain, type_name, value_where, where

GROUP_KEYS = ("hosts", "children", "vars")
IMPLICIT_LOCALHOST = "localhost"
#: A host's name is in its Redis keys (``celeryroot.host.NAME`` and
#: ``celeryroot.host.NAME/…``) and its ACL patterns: a ``/``, a glob
#: character or a space would reach into another host's keys, so names are
#: DNS names' characters (`celeryroot acl` writes the ACL of each).
HOST_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,252}")


def check_host_name(name: str, at: Where | None) -> None:
    if not HOST_NAME.fullmatch(name):
        raise InputError(at, f"bad host name {name!r}: a host name is letters, digits, '.', '_' and '-', starts "
                             "with a letter, digit or '_', and is at most 253 long (it names the host's keys in "
                             "Redis)")


@dataclass
class Group:
    name: str
    vars: dict = field(default_factory=dict)
    #: The group's own hosts, in inventory order: a dict as an ordered set,
    #: so asking whether a host is one costs the same for 10 hosts or 10,000.
    hosts: dict[str, None] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    #: From ``group_vars/`` directories, which outrank every inventory file's group vars.
    dir_vars: dict = field(default_factory=dict)


@dataclass
class Host:
    name: str
    vars: dict = field(default_factory=dict)
    description: str = ""
    #: From ``host_vars/`` directories, which outrank the inventory file's host vars.
    dir_vars: dict = field(default_factory=dict)


class Inventory:
    def __init__(self, source: str = "<none>"):
        self.source = source
        self.groups: dict[str, Group] = {"all": Group("all"), "ungrouped": Group("ungrouped", parents=["all"])}
        self.groups["all"].children.append("ungrouped")
        self.hosts: dict[str, Host] = {}
        #: Each host's own groups (`_own_groups`), made at the first query
        #: after the memberships last changed.
        self._own: dict[str, list[str]] | None = None

    # -- loading ------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path) -> "Inventory":
        inv = cls(str(path))
        inv.add_yaml(path)
        inv.finish()
        return inv

    def add_yaml(self, path: str | Path) -> None:
        """Add one YAML inventory file's groups, hosts and variables."""
        # Here, not at the top: a worker reads its inventory from messages,
        # never from YAML, and its start should not pay for ruamel.
        from .yamlread import load_yaml
        node = load_yaml(path)
        if node is None:
            return
        top = expect_mapping(node, where(node, Where(str(path))), "inventory")
        for name, body in top.items():
            self._load_group(str(name), body, top, parent=None)

    def _load_group(self, name: str, body, container, parent: str | None) -> None:
        at = value_where(container, name)
        body = expect_mapping(body, at, f"group '{name}'")
        group = self.groups.setdefault(name, Group(name))
        if parent and parent not in group.parents:
            group.parents.append(parent)
            self.groups[parent].children.append(name)
        elif parent is None and name != "all" and "all" not in group.parents:
            group.parents.append("all")
            self.groups["all"].children.append(name)
        for key in body:
            if key not in GROUP_KEYS:
                raise InputError(key_where(body, key),
                                 f"unknown key '{key}' in group '{name}' (expected one of: {', '.join(GROUP_KEYS)})")
        group.vars.update(plain(expect_mapping(body.get("vars"), value_where(body, "vars"), f"vars of group '{name}'")))
        hosts = expect_mapping(body.get("hosts"), value_where(body, "hosts"), f"hosts of group '{name}'")
        for host_name, host_body in hosts.items():
            self._load_host(str(host_name), host_body, hosts, group)
        children = expect_mapping(body.get("children"), value_where(body, "children"),
                                  f"children of group '{name}'")
        for child, child_body in children.items():
            self._load_group(str(child), child_body, children, parent=name)

    def _load_host(self, name: str, body, container, group: Group) -> None:
        check_host_name(name, key_where(container, name))
        at = value_where(container, name)
        if body is not None and not isinstance(body, dict):
            raise InputError(at, f"host '{name}' must map to its variables, got {type_name(body)}")
        host = self.hosts.setdefault(name, Host(name))
        values = plain(body or {})
        description = values.pop("description", None)
        if description is not None:
            host.description = str(description)
        host.vars.update(values)
        group.hosts[name] = None
        self._own = None

    def add_group(self, name: str) -> Group:
        """The group of this name; a new one starts under ``all``, as a
        top-level group of a YAML inventory does."""
        if name not in self.groups:
            self.groups[name] = Group(name, parents=["all"])
            self.groups["all"].children.append(name)
        return self.groups[name]

    def add_child(self, parent: str, child: str) -> None:
        """Make ``child`` a subgroup of ``parent``; ValueError on a loop."""
        if parent == child or parent in self._descendants(self.add_group(child).name):
            raise ValueError(f"making '{child}' a child of '{parent}' would make a group its own ancestor")
        if child not in self.add_group(parent).children:
            self.groups[parent].children.append(child)
            self.groups[child].parents.append(parent)

    def _descendants(self, name: str) -> set[str]:
        found: set[str] = set()
        todo = list(self.groups[name].children)
        while todo:
            child = todo.pop()
            if child not in found:
                found.add(child)
                todo += self.groups[child].children
        return found

    def add_host(self, group: str, name: str, variables: dict, at: Where | None = None) -> Host:
        """Put a host in a group; a later source's variables win over an earlier one's."""
        check_host_name(name, at)
        host = self.hosts.setdefault(name, Host(name))
        host.vars.update(variables)
        self.add_group(group).hosts[name] = None
        self._own = None
        return host

    def finish(self) -> None:
        """Once every source is added: ``ungrouped`` is every host in no other group."""
        grouped = {h for g in self.groups.values() if g.name not in ("all", "ungrouped") for h in g.hosts}
        everyone = self.groups["all"].hosts
        for name in self.hosts:
            if name not in grouped:
                everyone.setdefault(name)
        self.groups["ungrouped"].hosts = {h: None for h in everyone if h not in grouped}
        self._own = None

    # -- queries ------------------------------------------------------------

    def group_hosts(self, name: str) -> list[str]:
        """Hosts of a group and all its descendants, in inventory order."""
        return list(self._members(name, set()))

    def _members(self, name: str, seen: set) -> dict[str, None]:
        if name in seen:
            return {}
        seen.add(name)
        group = self.groups[name]
        out = dict(group.hosts)
        for child in group.children:
            # A host already there keeps its place, as in the group's own order.
            out.update(self._members(child, seen))
        return out

    def _own_groups(self) -> dict[str, list[str]]:
        """Each host's own groups (those that list it), in inventory order."""
        if self._own is None:
            self._own = {}
            for group in self.groups.values():
                for host in group.hosts:
                    self._own.setdefault(host, []).append(group.name)
        return self._own

    def groups_of(self, host: str) -> list[str]:
        """Every group a host belongs to, ancestors first (``all`` first)."""
        direct = self._own_groups().get(host, [])
        order: list[str] = []

        def visit(name: str) -> None:
            for parent in self.groups[name].parents:
                visit(parent)
            if name not in order:
                order.append(name)

        for name in direct:
            visit(name)
        if "all" in order:
            order.remove("all")
        return ["all"] + order

    def host_vars(self, host: str) -> dict:
        """Inventory variables of a host, as Ansible ranks them: the files'
        group vars (all, then parents before children) < ``group_vars/``
        (in the same order) < the files' host vars < ``host_vars/``."""
        groups = [self.groups[name] for name in self.groups_of(host)]
        out: dict = {}
        for group in groups:
            out.update(group.vars)
        for group in groups:
            out.update(group.dir_vars)
        if host in self.hosts:
            out.update(self.hosts[host].vars)
            out.update(self.hosts[host].dir_vars)
        return out

    def all_hosts(self) -> list[str]:
        return self.group_hosts("all")

    # -- patterns -----------------------------------------------------------

    def match(self, pattern: str | list, at: Where | None = None) -> list[str]:
        """Hosts matching an Ansible host pattern, in inventory order."""
        terms = pattern if isinstance(pattern, list) else _split_pattern(str(pattern))
        union: dict[str, None] = {}  # an ordered set
        intersect: list[set[str]] = []
        exclude: set[str] = set()
        for term in terms:
            if term.startswith("&"):
                intersect.append(set(self._term(term[1:], pattern, at)))
            elif term.startswith("!"):
                exclude.update(self._term(term[1:], pattern, at))
            else:
                union.update(dict.fromkeys(self._term(term, pattern, at)))
        return [h for h in union if h not in exclude and all(h in hosts for hosts in intersect)]

    def _term(self, term: str, pattern, at: Where | None) -> list[str]:
        term = term.strip()
        if term in ("all", "*"):
            return self.all_hosts()
        if term in self.groups:
            return self.group_hosts(term)
        if term in self.hosts:
            return [term]
        if term.startswith("~"):
            try:
                regex = re.compile(term[1:])
            except re.error as exc:
                raise InputError(at, f"host pattern '{term}' (in '{_show(pattern)}') is not a valid regular "
                                     f"expression: {exc}") from None
            found = [h for h in self.all_hosts() if regex.search(h)]
            found += [g for name in self.groups if regex.search(name) for g in self.group_hosts(name)]
        elif any(ch in term for ch in "*?["):
            found = [h for h in self.all_hosts() if fnmatch.fnmatchcase(h, term)]
            for name in self.groups:
                if fnmatch.fnmatchcase(name, term):
                    found += self.group_hosts(name)
        elif term == IMPLICIT_LOCALHOST:
            self.hosts[term] = Host(term, description="implicit localhost")
            return [term]
        else:
            found = []
        if not found:
            raise InputError(at, f"host pattern '{term}' (in '{_show(pattern)}') matches no host or group "
                                 f"of inventory {self.source}")
        return list(dict.fromkeys(found))


def _split_pattern(pattern: str) -> list[str]:
    if "," in pattern:
        parts = pattern.split(",")
    else:
        # ':' separates terms, but a term may itself be an IPv6-free host name.
        parts = re.split(r":(?=[&!]?[^:])", pattern)
    return [p.strip() for p in parts if p.strip()]


def _show(pattern) -> str:
    return ":".join(pattern) if isinstance(pattern, list) else str(pattern)
