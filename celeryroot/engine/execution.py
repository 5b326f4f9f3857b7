"""How a play runs: in lockstep from the controller (linear), or as
whole-play bundles, one message per host (controller/bundles.py).

By default a play runs as bundles when that cannot change what it means,
which `linear_because` decides before the play starts; ``--strategy``, a
play's own ``strategy:`` or ``bundles:`` in the configuration choose for
it (`choose`). Nothing here runs a play: the play loop (strategy.py) asks,
and the report says what was chosen and why, once per play.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..lang.lookups import CONTROLLER_ONLY, named_in
from ..lang.playbook import Play
from ..lang.templating import names_read, reads_any
from ..lang.variables import HOST_LISTS
from ..registry import Registry
from ..modules.include_vars import named_files
from .codec import collect_sources, source_texts

LINEAR, BUNDLES = "linear", "bundles"

#: Variables that name other hosts or hold their variables. ``groups`` is
#: not here: it is the inventory's, the same whichever hosts fail, and a
#: bundle carries it to a play that reads it.
OTHER_HOSTS = HOST_LISTS - {"groups"}
#: The controller's paths (``playbook_dir``): in a bundle they would be the
#: host's copy of the play's files, in a folder of its own. (Lookups that
#: read the controller's world are lookups.CONTROLLER_ONLY; the others run
#: on the host from what the bundle carries.)
CONTROLLER = frozenset({"playbook_dir", "ansible_search_path"})
#: A task's fields that are rendered or evaluated where it runs.
EVALUATED = ("name", "args", "when", "loop", "label", "vars", "changed_when", "failed_when", "until",
             "environment")
#: ``meta`` actions of one host that end the play for the others.
ENDS_FOR_ALL = frozenset({"end_play", "end_batch"})

#: Play keywords that tie the hosts together, with why. One line adds one;
#: a keyword the parser does not know reads as unset.
PLAY_KEYWORDS = {
    "serial": "serial: a rolling batch moves through its tasks together, task by task",
    "any_errors_fatal": "any_errors_fatal: one host's failure stops every host at the next task",
    "max_fail_percentage": "max_fail_percentage: the play stops when too many hosts failed, counted after "
                           "each task",
}
# Not ``order``: it orders the hosts of the report and of serial batches,
# which bundles keep; the hosts of one batch are independent.
#: Task keywords that tie the hosts together: (why, whether a bundle, which
#: knows its own host alone, cannot do it at all even when asked to).
TASK_KEYWORDS = {
    "run_once": ("run_once: one host runs it and its result is every host's", True),
    "delegate_to": ("delegate_to: it runs on another host, which a bundle cannot reach", True),
    "throttle": ("throttle: it limits how many hosts run it at once", True),
    "any_errors_fatal": ("any_errors_fatal: its failure on one host stops every host", False),
}


@dataclass(frozen=True)
class Execution:
    """How one play runs (`LINEAR` or `BUNDLES`), and why, as the report says it."""

    mode: str
    why: str

    def line(self, play: Play) -> str:
        shown = "whole-play bundles" if self.mode == BUNDLES else LINEAR
        return f"play '{play.name}': {shown} ({self.why})"


def choose(play: Play, strategy: str | None, bundles: bool | None, registry: Registry, inventory,
           hosts: list[str], extra_vars: dict) -> Execution:
    """How ``play`` runs on ``hosts``: as ``--strategy`` says (``strategy``),
    else as the play's own ``strategy:`` says, else as ``bundles:`` in the
    configuration says (true: free, false: linear), else automatically.

    A strategy that was written is a request: ``linear`` is obeyed as it is;
    ``free`` runs bundles unless the play needs what a bundle cannot do at
    all (``run_once``). Unwritten, the play runs as bundles exactly when
    `linear_because` finds nothing against it."""
    if strategy:
        said = f"--strategy {strategy}"
    elif play.strategy:
        strategy, said = play.strategy, f"the play says strategy: {play.strategy}"
    elif bundles is not None:
        strategy, said = ("free" if bundles else LINEAR), f"bundles: {str(bundles).lower()} in the configuration"
    else:
        said = "nothing in it depends on other hosts"
    if strategy == LINEAR:
        return Execution(LINEAR, said)
    why = linear_because(play, registry, inventory, hosts, extra_vars, asked=strategy is not None)
    return Execution(LINEAR, why) if why is not None else Execution(BUNDLES, said)


def linear_because(play: Play, registry: Registry, inventory, hosts: list[str], extra_vars: dict,
                   asked: bool = False) -> str | None:
    """Why ``play`` must run linearly to mean what it means, or None when
    whole-play bundles give the same results. With ``asked`` (bundles were
    requested), only what a bundle cannot do at all counts.

    A bundle runs one host's play on that host, knowing that host alone,
    so what forces linear is anything that ties the hosts together or
    reads the controller's world:

    - the play keywords of `PLAY_KEYWORDS` and the task keywords of
      `TASK_KEYWORDS` (tasks of roles, blocks, imports and handlers alike):
      each says why in its line;
    - ``meta: end_play`` (and ``end_batch``): one host ends the play for all;
    - a template, condition or loop that reads `OTHER_HOSTS`: ``hostvars``
      holds other hosts' variables and results, ``play_hosts`` and
      ``ansible_play_batch`` shrink as other hosts fail, task by task;
      looked for in the tasks, the play's and extra vars, each host's
      inventory variables and the template files;
    - a module whose results the controller acts on (``needs_controller``:
      reboot's comes from the next boot's worker), even when bundles were
      asked for; one that may come home in a bundle's answer
      (``comes_home``: fetch) only when the arguments naming where it acts
      read what is known only when it runs (a loop item, a fact, a result:
      the controller sends what it has there with the bundle, engine/carried.py);
    - a lookup of lookups.CONTROLLER_ONLY (``env``, ``pipe``, ``password``
      …: the controller's environment, commands and files) even when
      bundles were asked for, and ``playbook_dir`` (`CONTROLLER`), which in
      a bundle would be the host's;
    - nothing in the play runs on the hosts (no facts, only modules that
      run on the controller): a bundle would only add a message per host,
      and a host without a worker would become unreachable;
    - templates and files beyond what a bundle carries (codec.SOURCES_LIMIT).

    - an include_tasks or include_role carried out when it runs (a loop,
      a name from facts or results), and an include_vars whose file is
      named so: what they read is found then, among the controller's
      files, which a bundle does not carry (even when bundles are asked for).

    Other ``include_*`` are expanded when the play is loaded (lang/tasks.py),
    so every task they bring is looked at here.
    ``--start-at-task``, tags and ``--limit`` mean the same both ways (a
    bundle carries where the run starts).
    """
    tasks = play.tasks + play.handlers
    for task in tasks:
        for keyword, (why, impossible) in TASK_KEYWORDS.items():
            if getattr(task, keyword, None) and (impossible or not asked):
                return _at(task, f"uses {why}")
        if (cls := registry.get(task.module)) is not None and cls.needs_controller:
            if not cls.comes_home:
                return _at(task, f"uses {task.module}: {cls.needs_controller}")
            if unknown := _known_when_run(task, cls.comes_home, play, registry, inventory, hosts, extra_vars):
                return _at(task, f"uses {task.module} with {unknown}, known only when it runs: "
                                 f"{cls.needs_controller}, and a bundle must know where first")
    if lookups := controller_only_lookups(play):
        return controller_lookups(lookups)
    for task in tasks:
        if why := _found_when_run(task):
            return _at(task, why)
    if asked:
        return None
    for keyword, why in PLAY_KEYWORDS.items():
        if getattr(play, keyword, None):
            return f"the play at {play.where} sets {why}"
    if not runs_on_hosts(play, registry):
        return "every task runs on the controller: a bundle would only add a message per host"
    for task in tasks:
        action = task.args.get("action") or task.args.get("_raw_params") if task.module == "meta" else None
        if action in ENDS_FOR_ALL:
            return _at(task, f"uses meta: {action}: one host ends it for every host")
        fields = {name: getattr(task, name) for name in EVALUATED}
        if read := _read(fields, OTHER_HOSTS, expressions=True):
            return _at(task, f"reads {read}, of other hosts")
        if read := _read(fields, CONTROLLER, expressions=True):
            return _at(task, f"reads {read}, of the controller's files, environment or paths")
    variables = {"play vars": {**play.vars, **play.vars_files, **play.role_vars, **play.role_defaults},
                 "extra vars": extra_vars}
    variables.update((f"{host}'s inventory variables", inventory.host_vars(host)) for host in hosts)
    for name, values in variables.items():
        if read := _read(values, OTHER_HOSTS | CONTROLLER):
            return f"the {name} read {read}"
    try:
        texts = source_texts(collect_sources(play))
    except ValueError as exc:  # more than a bundle carries; its advice (strategy: linear) is taken here
        return str(exc).split(";")[0]
    for text in texts:
        if read := _read(text, OTHER_HOSTS | CONTROLLER):
            return f"a template of the play reads {read}"
    return None


def _found_when_run(task) -> str | None:
    """Why a task reads a controller file a bundle cannot carry, for it is
    only known when the task runs (None: it reads none such)."""
    if task.include is not None:
        return (f"uses {task.module} with a loop or a name known when it runs: the play loop loads its tasks "
                "then, from the controller's files")
    if task.module == "include_vars":
        paths = named_files(task.args, task.search)
        if paths is None or any(not any(os.path.commonpath([d, os.path.abspath(p)]) == d for d in task.search)
                                for p in paths):
            return "names its vars by a template or outside the play's folders: a bundle cannot carry them"
    return None


#: Variables every host has before its play runs, besides its inventory's
#: and the play's (lang/variables.py).
KNOWN_BEFORE = frozenset({"inventory_hostname", "inventory_hostname_short", "group_names", "groups"})


def _known_when_run(task, names: tuple[str, ...], play: Play, registry: Registry, inventory, hosts: list[str],
                    extra_vars: dict) -> str:
    """Which of ``task``'s arguments ``names`` may read variables known only
    when it runs, as the report says it ("" for none). Known before are
    `KNOWN_BEFORE` and the inventory's, play's and extra variables whose
    values read nothing else, unless a task of the play may set them (a
    result, set_fact, include_vars) or the task's own ``vars`` name them."""
    values = {**play.role_defaults, **play.vars, **play.vars_files, **play.role_vars, **extra_vars}
    for host in hosts:
        values.update(inventory.host_vars(host))
    every = play.tasks + play.handlers
    set_later = {t.register for t in every if t.register} | set(task.vars) | \
        {name for t in every if (cls := registry.get(t.module)) is not None for name in cls.fact_names(t.args, t.search)}
    known = KNOWN_BEFORE | {name for name, value in values.items()
                            if (read := names_read(value)) is not None and read <= KNOWN_BEFORE} - set_later
    unknown = [name for name in names if name in task.args and
               ((read := names_read(task.args[name])) is None or not read <= known)]
    return " and ".join(f"its {name}" for name in unknown)


def controller_only_lookups(play: Play) -> set[str]:
    """The lookups of `CONTROLLER_ONLY` a play's tasks, handlers or variables call."""
    tasks = play.tasks + play.handlers
    named = {t.loop_with for t in tasks} | named_in([play.vars, play.vars_files, play.role_vars,
                                                    play.role_defaults])
    for task in tasks:
        named |= named_in([getattr(task, name) for name in EVALUATED])
    return named & CONTROLLER_ONLY


def controller_lookups(lookups: set[str]) -> str:
    return f"the lookup {', '.join(sorted(lookups))}, which runs on the controller"


def runs_linearly(play: Play, why: str) -> str:
    return f"play '{play.name}': {LINEAR} ({why})"


def runs_on_hosts(play: Play, registry: Registry) -> bool:
    """Whether anything of ``play`` needs the hosts' workers: its facts, or
    a module that does not run on the controller."""
    return bool(play.gather_facts) or any(not registry.get(t.module).on_controller
                                          for t in play.tasks + play.handlers)


def _at(task, text: str) -> str:
    return f"task '{task.title}' at {task.where} {text}"


def _read(value, names: frozenset, expressions: bool = False) -> str:
    """Which of ``names`` a template in ``value`` may read, as the report
    names them ("" for none; one that does not parse may read any)."""
    if not reads_any(value, names, expressions):  # the common case, in one walk (a host's variables)
        return ""
    return ", ".join(n for n in sorted(names) if reads_any(value, frozenset({n}), expressions))
