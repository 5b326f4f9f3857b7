"""The per-task step, as plain functions of a task and one host's variables.

``prepare`` decides (when), expands (loop) and renders a task into module
calls; ``finish`` turns the calls' results into the task's result (loop
aggregation, changed_when/failed_when, ignore_errors) and registers it;
a loop longer than a round is made ready, run and folded round by round
(`Prepared.next_round`, `Outcome`).
The controller runs them around a dispatch; a whole-play bundle runs them
on the worker; preflight runs ``prepare`` in its deferred mode (see `Mode`).
Nothing here touches the network.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from jinja2 import UndefinedError

from ..module import ArgError, build_args, to_wire
from ..lang.deferred import Deferred, contains_deferred
from ..lang.keywords import AS_THE_WORKER, whole_number
from ..lang.playbook import Play
from ..lang.tasks import Task, check_loop_size
from ..registry import Registry
from ..result import FAILED, SKIPPED, ItemTally, censored, result
from ..lang.templating import Lazy, TemplateFailure, condition, lazy, loop_lookup, loop_terms, names_read, render
from ..lang.variables import OMIT

#: The most module calls of a task made ready at once: a round, which is
#: also the most one message carries to a host (one message of a million
#: calls is more than Redis takes in one bulk). A longer loop's calls are
#: built round by round (`Prepared.next_round`), not held all at once.
CALLS_PER_MESSAGE = 10_000

#: What a task that cannot be rendered raises (its host's result is failed).
_BAD = (TemplateFailure, UndefinedError, ArgError)


@dataclass(frozen=True)
class Mode:
    """Run-wide switches a play or task may override (``check_mode:``/``diff:``).

    ``deferred`` is preflight's mode: the same step, run before any host is
    contacted with `Deferred` stand-ins for what only the run knows
    (registered results, set_fact, facts). One pipeline, so preflight cannot
    accept or reject what the step would not; where they must differ, it is
    here: a bad task raises instead of failing, a ``when`` spares the task
    its check only when it is false already (it reads no stand-in, see
    `_known`), and a loop is checked with its first item.
    """

    check: bool = False
    diff: bool = False
    deferred: bool = False
    #: Check mode whatever a play or task says (``check_mode: false``
    #: included): a drift check on its host (worker/drift.py) changes nothing.
    only_check: bool = False

    def within(self, node: Task | Play) -> "Mode":
        check = self.check if node.check_mode is None or self.only_check else node.check_mode
        return replace(self, check=check, diff=self.diff if node.diff is None else node.diff)


@dataclass
class Prepared:
    """A task made ready for one host: calls to run, or a result already.

    A loop longer than a round (`CALLS_PER_MESSAGE` calls) holds one round
    of calls at a time: ``calls`` and ``args`` are the round's, from call
    ``start`` of the loop's on; `next_round` builds the next in their place.
    """

    #: This round's calls.
    calls: list[dict] = field(default_factory=list)
    #: The variables each call of the task is rendered with (for modules
    #: that run on the controller and read them, and for ``finish``); a
    #: loop's are `ItemScopes`, made when asked, for every round.
    scopes: Sequence[dict] = field(default_factory=list)
    #: Each call's arguments of this round as built (`build_args`, once): a
    #: call run in this process uses them as they are; the wire carries
    #: ``call["args"]``.
    args: list = field(default_factory=list)
    items: list | None = None
    done: dict | None = None
    #: Per-item results decided before running (skipped items of a loop).
    decided: dict[int, dict] = field(default_factory=dict)
    #: The position of this round's first call among the task's calls.
    start: int = 0
    #: What a loop's rounds are built with; None for a task without a loop.
    loop: "Rounds | None" = None

    def round_scopes(self):
        """The variables of this round's calls, in order."""
        return (self.scopes[position] for position in range(self.start, self.start + len(self.calls)))

    def next_round(self) -> bool:
        """Build the loop's next round in place of this one; False when
        there is none. A round that cannot be rendered fails the task
        (``done``): the rounds before it have run, as Ansible's items
        before a bad one have."""
        start = self.start + len(self.calls)
        if self.loop is None or self.done is not None or start >= len(self.scopes):
            return False
        try:
            self.loop.build(self, start)
        except _BAD as exc:
            self.done = _failed(self.loop.task, str(exc))
            return False
        return True


def prepare(task: Task, variables: dict, mode: Mode, registry: Registry, above: dict | None = None) -> Prepared:
    """``above`` holds the host's variables that outrank task vars
    (registered results, set_fact, extra vars). In ``mode.deferred`` a bad
    task raises `TemplateFailure`, `UndefinedError` or `ArgError`."""
    mode = mode.within(task)
    variables = {**variables, **lazy(task.vars), **(above or {}), "ansible_search_path": list(task.search)}
    if task.search:
        variables["playbook_dir"] = task.search[-1]
    try:
        return _expand(task, variables, mode, registry)
    except _BAD as exc:
        if mode.deferred:
            raise
        return Prepared(done=_failed(task, str(exc)))


def _expand(task: Task, variables: dict, mode: Mode, registry: Registry) -> Prepared:
    if task.loop is None:
        if _skips(task, variables, mode):
            return Prepared(done=_skipped(task))
        prepared = Prepared()
        _add_call(prepared, task, variables, mode, registry)
        return prepared
    items = _items(task, variables, mode)
    scopes = ItemScopes(task, variables, items)
    prepared = Prepared(items=items, scopes=scopes, loop=Rounds(task, mode, registry))
    for index in range(len(items)):
        scope = scopes.of(index)
        if _skips(task, scope, mode):
            prepared.decided[index] = {**_skipped(task), **_item_keys(task, scope, index)}
        else:
            scopes.indices.append(index)
    prepared.loop.build(prepared, 0)
    return prepared


@dataclass(frozen=True)
class Rounds:
    """What a loop's rounds of calls are built with, the first in
    `prepare` and each later one when the last has been answered."""

    task: Task
    mode: Mode
    registry: Registry

    def build(self, prepared: Prepared, start: int) -> None:
        """The round of calls from call ``start`` on, in place of the last."""
        prepared.calls, prepared.args, prepared.start = [], [], start
        for position in range(start, min(start + CALLS_PER_MESSAGE, len(prepared.scopes))):
            _add_call(prepared, self.task, prepared.scopes[position], self.mode, self.registry)
            prepared.calls[-1]["index"] = prepared.scopes.indices[position]


class ItemScopes(Sequence):
    """A loop's variables for each of its calls, made when asked from the
    host's variables and the call's item: a copy of every variable held
    per item at once is what made a long loop cost gigabytes (about 4 KB
    an item)."""

    def __init__(self, task: Task, variables: dict, items: list):
        self.task, self.variables, self.items = task, variables, items
        #: The item index of each call (a skipped item has none); an array,
        #: as a million ints in a list cost 36 MB.
        self.indices = array("q")

    def of(self, index: int) -> dict:
        scope = {**self.variables, self.task.loop_var: self.items[index]}
        if self.task.index_var:
            scope[self.task.index_var] = index
        return scope

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, position):
        if isinstance(position, slice):
            return [self.of(i) for i in self.indices[position]]
        return self.of(self.indices[position])


def _skips(task: Task, variables: dict, mode: Mode) -> bool:
    """Whether ``when`` is false. Preflight evaluates it too (an undefined
    variable in it is an error either way) but skips the task only when
    the answer cannot change by the run: a task that may run is checked."""
    if condition(task.when, variables):
        return False
    return not mode.deferred or _known(task.when, variables)


def _known(expression, variables: dict, seen: frozenset = frozenset()) -> bool:
    """Whether ``expression`` reads nothing only the run knows: no stand-in
    (a registered result, set_fact, facts), directly or through a
    variable's template, no fact not gathered yet (``ansible_*``), and no
    ``hostvars`` (which hold other hosts' results)."""
    names = names_read(expression, expression=True)
    if names is None:
        return False
    for name in names - seen:
        if name not in variables:
            if name.startswith("ansible_"):
                return False
            continue
        value = variables[name]
        if name == "hostvars" or contains_deferred(value):
            return False
        if isinstance(value, Lazy) and not _known(value.raw, variables, seen | names):
            return False
    return True


def _items(task: Task, variables: dict, mode: Mode) -> list:
    """The loop's items; in deferred mode, the first (or a stand-in) is enough."""
    if task.loop_with is None:
        items = render(task.loop, variables)
    else:
        terms = loop_terms(task.loop_with, task.loop, variables)
        if mode.deferred and contains_deferred(terms):
            return [Deferred()]
        items = loop_lookup(task.loop_with, terms, variables, task.module)
    if isinstance(items, list):
        check_loop_size(items)
        return (items[:1] or [Deferred()]) if mode.deferred else items
    if mode.deferred and contains_deferred(items):
        return [Deferred()]
    if isinstance(items, dict):
        raise TemplateFailure("loop must be a list; use dict2items for a mapping")
    raise TemplateFailure(f"loop must be a list, got {items!r}")


def _add_call(prepared: Prepared, task: Task, variables: dict, mode: Mode, registry: Registry) -> None:
    """A call rendered with ``variables``; a task without a loop keeps them
    as its one scope (a loop's are its `ItemScopes`)."""
    raw = {k: v for k, v in render(task.args, variables).items() if v != OMIT}
    cls = registry.get(task.module)
    args = build_args(cls.Args, raw, deferred=contains_deferred if mode.deferred else None)
    if args is not None:  # None: a stand-in is among them, checked as far as known
        args = cls.on_controller_prepare(args, variables, task.search)
    call = {"module": task.module, "args": raw if args is None else to_wire(args), "check": mode.check,
            "diff": mode.diff, "no_log": task.no_log}
    if task.timeout:
        call["timeout"] = _seconds(task, variables)
    if task.become_user and condition(task.become, variables):
        user = str(render(task.become_user, variables))
        if user not in AS_THE_WORKER:
            call["become_user"] = user
    if task.environment:
        call["environment"] = {k: str(v) for k, v in render(task.environment, variables).items()}
    prepared.calls.append(call)
    if prepared.items is None:
        prepared.scopes.append(variables)
    prepared.args.append(args)


def _seconds(task: Task, variables: dict):
    """The task's ``timeout`` for this host (a stand-in passes, for preflight)."""
    value = render(task.timeout, variables)
    if contains_deferred(value):
        return None
    try:
        return whole_number("timeout", value)
    except ValueError as exc:
        raise TemplateFailure(str(exc)) from None


def finish(task: Task, prepared: Prepared, results: "list[dict] | LoopFold", variables: dict) -> dict:
    """The task's result for one host, registered into ``variables``; a
    loop's results may come folded already (`LoopFold`, a long loop's
    rounds)."""
    if prepared.done is not None:
        res = prepared.done
    elif prepared.items is None:
        res = _judge(task, results[0], variables)
    else:
        fold = results if isinstance(results, LoopFold) else LoopFold(task, prepared).add(results)
        res = fold.combined()
    if res["failed"] and task.ignore_errors:
        res = {**res, "ignored": True}
    if task.no_log and not res.get("censored"):
        res = censored(res)
    if task.register:
        variables[task.register] = res
    return res


class Outcome:
    """One host's result of a task, gathered as its calls answer, round by
    round: the strategy sends the round's calls from ``answered`` on, adds
    what answers them, and has the task's result once the last round is in
    (a bundle on its host, the same, its calls run in its own process)."""

    def __init__(self, task: Task, prepared: Prepared, variables: dict):
        self.task, self.prepared, self.variables = task, prepared, variables
        self.fold = LoopFold(task, prepared) if prepared.items is not None else None
        self.results: list[dict] = []
        #: This round's calls answered so far.
        self.answered = 0

    def add(self, results: list[dict]) -> dict | None:
        """The task's result once this answers its last call; else None
        (its next calls, maybe a new round's, are ``prepared.calls[answered:]``)."""
        self.answered += len(results)
        if self.fold is None:
            self.results += results
        else:
            self.fold.add(results)
        if self.answered < len(self.prepared.calls):
            return None
        if self.prepared.next_round():
            self.answered = 0
            return None
        return finish(self.task, self.prepared, self.results if self.fold is None else self.fold, self.variables)


class LoopFold:
    """A loop's call results judged and folded in item order as they come
    (its skipped items among them), so a long loop's rounds need not all
    be held: at most `KEPT_ITEMS` item results stay (`ItemTally`)."""

    def __init__(self, task: Task, prepared: Prepared):
        self.task, self.prepared = task, prepared
        self.tally = ItemTally()
        self.folded = 0  # calls folded so far
        self._decided = sorted(prepared.decided)
        self._next_decided = 0

    def add(self, results: list[dict]) -> "LoopFold":
        """Fold the results of the calls that come next, whichever round."""
        for res in results:
            if self.folded >= len(self.prepared.scopes):
                break
            index = self.prepared.scopes.indices[self.folded]
            self._decided_before(index)
            scope = self.prepared.scopes[self.folded]
            self.tally.add({**_judge(self.task, res, scope), **_item_keys(self.task, scope, index)})
            self.folded += 1
        return self

    def combined(self) -> dict:
        self._decided_before(len(self.prepared.items))
        return self.tally.combined()

    def _decided_before(self, index: int) -> None:
        while self._next_decided < len(self._decided) and self._decided[self._next_decided] < index:
            self.tally.add(self.prepared.decided[self._decided[self._next_decided]])
            self._next_decided += 1


def _judge(task: Task, res: dict, variables: dict) -> dict:
    """Apply ``changed_when`` and ``failed_when`` to one module result."""
    if task.changed_when is None and task.failed_when is None:
        return res
    scope = {**variables, **({task.register: res} if task.register else {}), "result": res}
    status = res["status"]
    try:
        if task.changed_when is not None and status not in (FAILED, SKIPPED):
            status = "changed" if condition(task.changed_when, scope) else "ok"
        if task.failed_when is not None and status != SKIPPED:
            if condition(task.failed_when, scope):
                status = FAILED
            elif status == FAILED:
                status = "changed" if res.get("changed") else "ok"
    except (TemplateFailure, UndefinedError) as exc:
        return result(FAILED, f"{task.where}: {exc}")
    return {**res, **result(status, res.get("msg", ""))}


def _item_keys(task: Task, scope: dict, index: int) -> dict:
    """What an item's result says of its item, as Ansible's: the loop
    variable (and ``item``), the index variable, and the label."""
    keys = {task.loop_var: scope[task.loop_var], "item": scope[task.loop_var], "ansible_loop_var": task.loop_var,
            "_label": _label(task, scope)}
    if task.index_var:
        keys.update({task.index_var: index, "ansible_index_var": task.index_var})
    return keys


def _label(task: Task, scope: dict):
    """What the report shows for a loop item: ``loop_control.label`` or the item."""
    if task.label is None:
        return scope[task.loop_var]
    try:
        return render(task.label, scope)
    except (TemplateFailure, UndefinedError):
        return task.label


def until_holds(task: Task, res: dict, variables: dict) -> bool:
    """``until``: evaluated with the attempt's result registered."""
    scope = {**variables, **({task.register: res} if task.register else {}), "result": res}
    try:
        return condition(task.until, scope)
    except (TemplateFailure, UndefinedError):
        return False


def _skipped(task: Task) -> dict:
    return result(SKIPPED, "Conditional result was False", skip_reason="Conditional result was False",
                  false_condition=task.when[-1] if task.when else None)


def _failed(task: Task, message: str) -> dict:
    return result(FAILED, f"{task.where}: task '{task.title}': {message}")
