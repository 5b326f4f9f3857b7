"""The whole run checked before any host is contacted.

Every selected task is rendered for every targeted host with the variables
known up front; values only known at run time (``register``ed results) are
stood in for by `Deferred`. An undefined variable, a bad host pattern or an
argument of the wrong type after rendering is an `InputError` naming the
task's file:line:col, and the run stops with nothing sent.
"""

from __future__ import annotations

import re

from jinja2 import UndefinedError

from ..lang.inventory import Inventory
from ..module import ArgError, build_args
from ..lang.playbook import Playbook
from ..lang.tasks import Task
from ..registry import Registry
from ..lang.source import InputError
from ..lang.deferred import Deferred, contains_deferred
from ..lang.templating import TemplateFailure, condition, render
from ..lang.variables import OMIT, HostVars
from .selection import Selection, StartAt



FACT_VARIABLE = re.compile(r"'ansible_\w+' is undefined")


def preflight(playbook: Playbook, inventory: Inventory, registry: Registry, selection: Selection,
              extra_vars: dict, check: bool) -> dict[int, list[str]]:
    """Return the hosts of each play (by index); raise `InputError` on bad input."""
    _check_start_at(playbook, selection)
    later = {t.register for p in playbook.plays for t in p.tasks + p.handlers if t.register}
    later |= {name for p in playbook.plays for t in p.tasks + p.handlers if t.module == "set_fact"
              for name in t.args.get("facts", {})}
    targets = {}
    for index, play in enumerate(playbook.plays):
        hosts = selection.hosts(inventory, play)
        targets[index] = hosts
        deferred = {h: {name: Deferred() for name in later} for h in hosts}
        facts = {h: {"ansible_facts": Deferred()} for h in hosts} if play.gather_facts else {}
        hostvars = HostVars(inventory, play, hosts, extra_vars, deferred, facts, check)
        tasks = [t for t in play.tasks if selection.takes(t)] + play.handlers
        for host in hosts:
            variables = hostvars.for_host(host)
            for task in tasks:
                _check_task(task, variables, registry, facts_later=bool(play.gather_facts))
    return targets


def _check_start_at(playbook: Playbook, selection: Selection) -> None:
    # Ansible runs nothing and fails; ours used to run nothing and exit 0.
    if StartAt(selection).reaches(t for p in playbook.plays for t in p.tasks):
        return
    raise InputError(None, f'No matching task "{selection.start_at}" found. Note: --start-at-task matches '
                           f"a task's name, or 'ROLE : name' for a task of a role.")


def _check_task(task: Task, variables: dict, registry: Registry, facts_later: bool) -> None:
    scope = {**variables, **task.vars}
    try:
        condition(task.when, scope)
        items = render(task.loop, scope) if task.loop is not None else None
        if items is not None and not isinstance(items, (list, Deferred)) and not contains_deferred(items):
            raise TemplateFailure(f"loop must be a list, got {type(items).__name__}")
        item = items[0] if isinstance(items, list) and items else Deferred()
        if task.loop is not None:
            scope[task.loop_var] = item
            if task.index_var:
                scope[task.index_var] = 0
        args = {k: v for k, v in render(task.args, scope).items() if v != OMIT}
        cls = registry.get(task.module)
        if not contains_deferred(args):
            args = cls.on_controller_prepare(args, scope, task.search)
        build_args(cls.Args, args, deferred=contains_deferred)
    except (TemplateFailure, UndefinedError) as exc:
        message = exc.message if isinstance(exc, UndefinedError) else str(exc)
        if facts_later and FACT_VARIABLE.search(message):
            return  # a fact: known once the play has gathered facts
        raise InputError(task.where, f"task '{task.title}' for host '{variables['inventory_hostname']}': "
                                     f"{message}") from None
    except ArgError as exc:
        raise InputError(task.arg_where.get(exc.name or "", task.where),
                         f"task '{task.title}' for host '{variables['inventory_hostname']}': "
                         f"{task.module}: {exc}") from None
