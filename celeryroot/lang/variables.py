"""A host's variables, composed in order of precedence.

inventory (all < parent groups < child groups < host) < play vars <
task vars (in the step) < registered results < extra vars (``-e``).
Special variables: inventory_hostname, group_names, groups, hostvars,
play_hosts / ansible_play_hosts, ansible_check_mode, omit.
"""

from __future__ import annotations

from .inventory import Inventory
from .templating import TemplateFailure, is_template, render

OMIT = "__omit_place_holder__celeryroot__"
#: The special variables whose values name the other hosts (`HostVars.for_host`):
#: a whole-play bundle carries those lists only to a play that may read one.
HOST_LISTS = frozenset({"groups", "hostvars", "play_hosts", "ansible_play_hosts", "ansible_play_hosts_all",
                        "ansible_play_batch"})


def resolve(values: dict, scope: dict, passes: int = 4) -> dict:
    """Render variables that refer to other variables (``b: "{{ a }}/x"``)."""
    out = dict(values)
    for _ in range(passes):
        pending = [k for k, v in out.items() if _templated(v)]
        if not pending:
            break
        for key in pending:
            try:
                out[key] = render(out[key], {**scope, **out})
            except TemplateFailure:
                pass  # left for the task that uses it to report, naming the variable
    return out


def _templated(value) -> bool:
    if isinstance(value, dict):
        return any(_templated(v) for v in value.values())
    if isinstance(value, list):
        return any(_templated(v) for v in value)
    return is_template(value)


class HostVars:
    """Everything one play knows of its hosts' variables, layered by precedence:

    role defaults < inventory (all < groups < host, then group_vars/ and
    host_vars/) < facts < play vars < vars_files < role vars < task vars (in
    the step) < registered results and set_fact < extra vars.
    """

    def __init__(self, inventory: Inventory, play, play_hosts: list[str], extra: dict,
                 registered: dict[str, dict], facts: dict[str, dict], check: bool):
        self.inventory = inventory
        self.play_hosts = play_hosts
        self.play_layers = [play.vars, play.vars_files, play.role_vars]
        self.role_defaults = play.role_defaults
        self.extra = extra
        self.registered = registered
        self.facts = facts
        self.check = check
        self.groups = {name: inventory.group_hosts(name) for name in inventory.groups}
        self.hostvars = _HostVarsView(self)

    def inventory_layer(self, host: str) -> dict:
        return {**self.role_defaults, **self.inventory.host_vars(host), **self.facts.get(host, {})}

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
        base = {**self.inventory_layer(host), **special}
        play_vars = {k: v for layer in self.play_layers for k, v in layer.items()}
        scope = {**base, **play_vars, **self.extra}
        return {**base, **resolve(play_vars, scope), **self.registered.get(host, {}),
                **resolve(self.extra, scope)}


class _HostVarsView(dict):
    """``hostvars[NAME]``: another host's variables, composed when asked for."""

    def __init__(self, owner: HostVars):
        super().__init__()
        self.owner = owner

    def __getitem__(self, host: str) -> dict:
        if host not in self.owner.inventory.hosts:
            raise KeyError(host)
        return {**self.owner.inventory_layer(host), **self.owner.registered.get(host, {}),
                "inventory_hostname": host}

    def get(self, host, default=None):
        return self[host] if host in self else default

    def __contains__(self, host) -> bool:
        return host in self.owner.inventory.hosts

    def keys(self):
        return self.owner.inventory.hosts.keys()

    def __iter__(self):
        return iter(self.owner.inventory.hosts)
