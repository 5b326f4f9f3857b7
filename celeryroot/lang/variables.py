"""A host's variables, composed in order of precedence.

inventory (all < parent groups < child groups < host) < play vars <
task vars (in the step) < include_vars < registered results < extra vars (``-e``).
Special variables: inventory_hostname, group_names, groups, hostvars,
play_hosts / ansible_play_hosts, ansible_check_mode (--check, not a play's
or task's check_mode: keyword, as in Ansible), ansible_managed, omit.
"""

from __future__ import annotations

from .inventory import Inventory
from .templating import lazy, realise

OMIT = "__omit_place_holder__celeryroot__"
#: The special variables whose values name the other hosts (`HostVars.for_host`):
#: a whole-play bundle carries those lists only to a play that may read one.
HOST_LISTS = frozenset({"groups", "hostvars", "play_hosts", "ansible_play_hosts", "ansible_play_hosts_all",
                        "ansible_play_batch"})
#: Ansible's default ``ansible_managed`` (its DEFAULT_MANAGED_STR), the
#: lowest of all: a variable of that name anywhere replaces it.
ANSIBLE_MANAGED = "Ansible managed"


class HostVars:
    """Everything one play knows of its hosts' variables, layered by precedence:

    role defaults < inventory (all < groups < host, then group_vars/ and
    host_vars/) < facts < play vars < vars_files < role vars < task vars (in
    the step) < include_vars < registered results and set_fact < extra vars.

    Values from the playbook's text that hold templates are `Lazy`: each
    task renders them with its own variables where it uses them.
    """

    def __init__(self, inventory: Inventory, play, play_hosts: list[str], extra: dict,
                 registered: dict[str, dict], facts: dict[str, dict], check: bool,
                 included: dict[str, dict] | None = None):
        self.inventory = inventory
        self.play_hosts = play_hosts
        self.play_vars = lazy({k: v for layer in (play.vars, play.vars_files, play.role_vars)
                               for k, v in layer.items()})
        self.role_defaults = lazy(play.role_defaults)
        self.extra = lazy(extra)
        self.registered = registered
        #: include_vars' variables per host: from the playbook's files, so templates in them are `Lazy`.
        self.included = included if included is not None else {}
        self.facts = facts
        self.check = check
        self.groups = {name: inventory.group_hosts(name) for name in inventory.groups}
        self.hostvars = _HostVarsView(self)

    def inventory_layer(self, host: str) -> dict:
        return {**self.role_defaults, **lazy(self.inventory.host_vars(host)), **self.facts.get(host, {})}

    def for_host(self, host: str) -> dict:
        special = {
            "inventory_hostname": host,
            "inventory_hostname_short": host.split(".")[0],
            "group_names": sorted(g for g in self.inventory.groups_of(host) if g not in ("all", "ungrouped")),
            "groups": self.groups,
            "hostvars": self.hostvars,
            "play_hosts": self.play_hosts,
            "ansible_play_hosts": self.play_hosts,
            "ansible_play_hosts_all": self.play_hosts,
            "ansible_play_batch": self.play_hosts,
            "ansible_check_mode": self.check,
            "omit": OMIT,
        }
        return {"ansible_managed": ANSIBLE_MANAGED, **self.inventory_layer(host), **special, **self.play_vars,
                **self.above(host)}

    def above(self, host: str) -> dict:
        """What outranks a task's own vars: include_vars, registered results
        and set_fact, then extra vars."""
        return {**lazy(self.included.get(host, {})), **self.registered.get(host, {}), **self.extra}


class _HostVarsView(dict):
    """``hostvars[NAME]``: another host's variables, composed when asked for."""

    def __init__(self, owner: HostVars):
        super().__init__()
        self.owner = owner

    def __getitem__(self, host: str) -> dict:
        if host not in self.owner.inventory.hosts:
            raise KeyError(host)
        return _Realised({**self.owner.inventory_layer(host), **lazy(self.owner.included.get(host, {})),
                          **self.owner.registered.get(host, {}),
                          "inventory_hostname": host})

    def get(self, host, default=None):
        return self[host] if host in self else default

    def __contains__(self, host) -> bool:
        return host in self.owner.inventory.hosts

    def keys(self):
        return self.owner.inventory.hosts.keys()

    def __iter__(self):
        return iter(self.owner.inventory.hosts)


class _Realised(dict):
    """One host's variables as ``hostvars[NAME]`` shows them: a `Lazy`
    value rendered with that host's own variables when it is read."""

    def __getitem__(self, name):
        return realise(name, super().__getitem__(name), self)

    def get(self, name, default=None):
        return self[name] if name in self else default
