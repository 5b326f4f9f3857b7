"""The whole run checked before any host is contacted.

Every selected task is rendered for every targeted host with the variables
known up front; values only known at run time (``register``ed results) are
stood in for by `Deferred`. An undefined variable, a bad host pattern or an
argument of the wrong type after rendering is an `InputError` naming the
task's file:line:col, and the run stops with nothing sent.

Each task is checked by the step itself (`step.prepare` in its deferred
mode), not by a copy of it: what preflight lets through is what the step
will render, and a rule added to the step is checked here too.
"""

from __future__ import annotations

import re

from jinja2 import UndefinedError

from ..lang.inventory import Inventory
from ..module import ArgError
from ..lang.playbook import Playbook
from ..lang.arguments import arg_problem
from ..lang.tasks import Task, walk
from ..registry import Registry
from ..lang.source import InputError
from ..lang.deferred import Deferred
from ..lang.templating import TemplateFailure, cause, is_template
from ..lang.variables import HostVars
from .delegation import delegate_of
from .selection import Selection, StartAt
from .step import Mode, prepare



FACT_VARIABLE = re.compile(r"'ansible_\w+' is undefined")
#: How Python names the stand-in when a filter or function cannot take it
#: (``range(fact)``, ``fact | round``): the value is unknown until the run.
STAND_IN = re.compile(r"\bDeferred\b")


def preflight(playbook: Playbook, inventory: Inventory, registry: Registry, selection: Selection,
              extra_vars: dict, check: bool) -> dict[int, list[str]]:
    """Return the hosts of each play (by index); raise `InputError` on bad input."""
    _check_start_at(playbook, selection)
    every = [t for p in playbook.plays for t in _with_included(p.tasks + p.handlers)]
    later = {t.register for t in every if t.register}
    later |= {name for t in every if registry.get(t.module) is not None
              for name in registry.get(t.module).fact_names(t.args, t.search)}
    targets = {}
    for index, play in enumerate(playbook.plays):
        hosts = selection.hosts(inventory, play)
        targets[index] = hosts
        mode = Mode(check=check, deferred=True).within(play)
        deferred = {h: {name: Deferred() for name in later} for h in hosts}
        facts_later = _facts_later(play, registry)
        facts = {h: {"ansible_facts": Deferred()} for h in hosts} if facts_later else {}
        hostvars = HostVars(inventory, play, hosts, extra_vars, deferred, facts, check)
        tasks = [t for t in play.tasks if selection.takes(t)] + play.handlers
        for host in hosts:
            variables = hostvars.for_host(host)
            above = hostvars.above(host)
            for task in tasks:
                _check_task(task, variables, above, mode, registry, facts_later=facts_later)
        for task in tasks:
            _check_delegate(task, hosts, inventory)
    return targets


def _with_included(tasks: list[Task]):
    """The tasks, and those of the files their includes carried out at run
    time can name (loaded already: lang/tasks.Include.known), whose results
    later tasks may read."""
    for task in tasks:
        yield task
        if task.include is not None:
            yield from _with_included(list(walk(task.include.known)))


def _check_delegate(task: Task, hosts: list[str], inventory: Inventory) -> None:
    """A ``delegate_to`` written as a name must name a host the run can reach
    (a template is judged per host when the task runs)."""
    if task.delegate_to is None or is_template(task.delegate_to) or not hosts:
        return
    try:
        delegate_of(task, hosts[0], {}, inventory.hosts)
    except TemplateFailure as exc:
        raise InputError(task.where, f"task '{task.title}': {exc}") from None


def _facts_later(play, registry: Registry) -> bool:
    """Whether the play's hosts will have ``ansible_facts``: gathered, or
    set by a module that runs on the host (getent; set_fact's are variables)."""
    return bool(play.gather_facts) or any(
        not cls.on_controller and cls.fact_names(t.args, t.search)
        for t in play.tasks + play.handlers if (cls := registry.get(t.module)) is not None)


def _check_start_at(playbook: Playbook, selection: Selection) -> None:
    # Ansible runs nothing and fails; ours used to run nothing and exit 0.
    if StartAt(selection).reaches(t for p in playbook.plays for t in p.tasks):
        return
    raise InputError(None, f'No matching task "{selection.start_at}" found. Note: --start-at-task matches '
                           f"a task's name, or 'ROLE : name' for a task of a role.")


def _check_task(task: Task, variables: dict, above: dict, mode: Mode, registry: Registry,
                facts_later: bool) -> None:
    """The step's own ``prepare``, in its deferred mode; its error, with the task's place."""
    try:
        prepare(task, variables, mode, registry, above)
    except (TemplateFailure, UndefinedError) as exc:
        message = exc.message if isinstance(exc, UndefinedError) else str(exc)
        if facts_later and FACT_VARIABLE.search(message):
            return  # a fact: known once the play has gathered facts
        if STAND_IN.search(message):
            return  # computed from what only the run knows: the run judges it
        raise InputError(task.where, f"task '{task.title}' for host '{variables['inventory_hostname']}': "
                                     f"{message}") from None
    except ArgError as exc:
        raise InputError(task.arg_where.get(exc.name or "", task.where),
                         f"task '{task.title}' for host '{variables['inventory_hostname']}': "
                         f"{task.module}: {arg_problem(task, exc)}") from None
    except Exception as exc:  # a check must end in a message, never a traceback
        if STAND_IN.search(str(exc)):
            return
        raise InputError(task.where, f"task '{task.title}' for host '{variables['inventory_hostname']}': "
                                     f"cannot be checked before the run: {cause(exc)}") from None
