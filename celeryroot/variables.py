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
    """Everything one play knows of its hosts' variables."""

    def __init__(self, inventory: Inventory, play_hosts: list[str], play_vars: dict, extra: dict,
                 registered: dict[str, dict], check: bool):
        self.inventory = inventory
        self.play_hosts = play_hosts
        self.play_vars = play_vars
        self.extra = extra
        self.registered = registered
        self.check = check
        self.groups = {name: inventory.group_hosts(name) for name in inventory.groups}
        self.hostvars = {h: inventory.host_vars(h) for h in inventory.hosts}

    def for_host(self, host: str) -> dict:
        special = {
            "inventory_hostname": host,
            "inventory_hostname_short": host.split(".")[0],
            "group_names": [g for g in self.inventory.groups_of(host) if g not in ("all", "ungrouped")],
            "groups": self.groups,
            "hostvars": self.hostvars,
            "play_hosts": self.play_hosts,
            "ansible_play_hosts": self.play_hosts,
            "ansible_play_hosts_all": self.play_hosts,
            "ansible_check_mode": self.check,
            "omit": OMIT,
        }
        base = {**self.inventory.host_vars(host), **special}
        scope = {**base, **self.play_vars, **self.extra}
        out = {**base, **resolve(self.play_vars, scope), **self.registered.get(host, {}),
               **resolve(self.extra, scope)}
        return out
