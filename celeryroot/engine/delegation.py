"""``delegate_to``: which host runs a task for another.

The task is rendered with the variables of the host it runs for (its
``inventory_hostname`` stays that host's), then sent to the delegate's
worker; its result is the original host's, shown as ``host -> delegate``.
A delegate is an inventory host (with a worker), or the controller's own
machine for ``localhost`` and its addresses (and ``local_action``) when
the inventory has no host of that name: the controller runs the module
itself, as its user, as the embedded local mode does.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..lang.keywords import LOCAL_NAMES
from ..lang.playbook import Playbook
from ..lang.tasks import Task, walk
from ..lang.templating import TemplateFailure, is_template, render

#: The delegate that is the controller itself.
CONTROLLER = "localhost"


@dataclass(frozen=True)
class Delegate:
    """Where one host's task runs: ``host`` (an inventory host), or the
    controller (``here``); ``name`` as the report shows it (``localhost``
    for the controller), and the host its ``delegate_facts`` go to."""

    name: str
    host: str | None = None

    @property
    def here(self) -> bool:
        return self.host is None


def delegate_of(task: Task, host: str, variables: dict, inventory_hosts) -> Delegate | None:
    """``host``'s delegate for ``task`` (None: the host runs it itself);
    `TemplateFailure` when ``delegate_to`` renders to no host we can reach."""
    if task.delegate_to is None:
        return None
    name = str(render(task.delegate_to, variables)).strip()
    if name == host:
        return None
    if name in inventory_hosts:
        return Delegate(name, name)
    if name in LOCAL_NAMES:
        if CONTROLLER in inventory_hosts:
            return None if host == CONTROLLER else Delegate(CONTROLLER, CONTROLLER)
        return Delegate(CONTROLLER)
    raise TemplateFailure(f"delegate_to '{name}' is not a host of the inventory (celeryroot reaches only "
                          "inventory hosts, through their workers, and localhost)")


def delegates(playbook: Playbook, inventory_hosts) -> set[str]:
    """The inventory hosts the playbook's tasks may delegate to: those
    named, and every host when a ``delegate_to`` is a template. The run
    reaches them (their brokers, their certificates) beside its targets."""
    found: set[str] = set()
    for play in playbook.plays:
        for task in [*(t for section in play.sections for t in walk(section)), *play.handlers]:
            target = task.delegate_to
            if target is None:
                continue
            if is_template(target):
                return set(inventory_hosts)
            if target in inventory_hosts:
                found.add(target)
            elif target in LOCAL_NAMES and CONTROLLER in inventory_hosts:
                found.add(CONTROLLER)
    return found
