"""The linear strategy: plays in order, each task on every host, then the next.

For each task the controller prepares every host's calls (step.prepare;
a long loop's a round at a time), fans them out in one dispatch step, and
finishes each host's result as its replies arrive (step.Outcome); a
delegated task's calls go to its delegate
instead, or run here for localhost (delegation.py). A host that fails or
becomes unreachable gets none of the run's later tasks; the others carry
on. Blocks rescue and always; handlers run after each section of a play,
once per host, in definition order, where a notifying task changed
something. ``serial`` splits a play's hosts into batches that each run the
whole play.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import defaultdict

from jinja2 import UndefinedError

from ..lang.inventory import Inventory
from ..lang.playbook import Play, Playbook
from ..lang.source import InputError
from ..registry import Registry
from ..result import CACHEABLE, FAILED, UNREACHABLE, result
from .execution import BUNDLES, choose, runs_on_hosts
from .runner import run_call
from .state import RunState
from .stats import Stats
from .delegation import CONTROLLER, Delegate, delegate_of
from .step import Mode, Outcome, Prepared, finish, prepare, until_holds
from .selection import Selection, StartAt, batches
from ..lang.tasks import Block, Task
from ..lang.templating import TemplateFailure
from ..lang.variables import HostVars


class Run:
    """One run: what every play batch works with (the run's settings, and
    its `RunState`, which outlives a play). The controller runs a playbook
    with it; a bundle on its host, a single play."""

    def __init__(self, inventory: Inventory, registry: Registry, report, mode: Mode, extra_vars: dict,
                 selection: Selection, state: RunState, dispatcher=None, facts=None, strategy: str | None = None,
                 bundles: bool | None = None, bundle_batch=None, may_go=None, guard=None, carrier=None):
        self.inventory = inventory
        self.registry = registry
        #: Sends calls to the hosts; None inside a bundle on its host, where
        #: every call runs in this process.
        self.dispatcher = dispatcher
        self.report = report
        self.mode = mode
        self.extra_vars = extra_vars
        self.selection = selection
        self.state = state
        self.fact_cache = facts
        self.start = StartAt(selection)
        #: ``--strategy`` (it outranks a play's own), and ``bundles:`` in the
        #: configuration (a play's own outranks it); None for neither: each
        #: play then runs as bundles where that means the same (execution.py).
        self.strategy = strategy
        self.bundles = bundles
        #: The batch that sends whole plays (the controller's); None where
        #: there is no one to send them to (inside a bundle).
        self.bundle_batch = bundle_batch
        #: Inside a bundle: whether the run may go on (its lease is held),
        #: asked before each task, so a bundle stops within one task of its
        #: controller.
        self.may_go = may_go
        #: Inside a bundle: the worker's guard on each module call it runs
        #: (its allowed modules, its audit log; engine/runner.py).
        self.guard = guard
        #: Inside a bundle: the controller's side of a module that needs it
        #: (fetch; engine/carried.py).
        self.carrier = carrier

    def run(self, playbook: Playbook) -> Stats:
        for play in playbook.plays:
            self.run_play(play)
        return self.state.stats

    def run_play(self, play: Play) -> None:
        matched = self.selection.hosts(self.inventory, play)
        hosts = [h for h in matched if h not in self.state.out]
        self.report.play_start(play, hosts)
        if not matched:
            self.report.notice("skipping: no hosts matched")
        for host in hosts:
            self.state.stats.touch(host)
        batch_class = PlayBatch
        if hosts and self.bundle_batch is not None:
            execution = choose(play, self.strategy, self.bundles, self.registry, self.inventory, hosts,
                               self.extra_vars)
            self.report.play_execution(play, execution)
            if execution.mode == BUNDLES:
                batch_class = self.bundle_batch
        for batch in batches(hosts, play.serial):
            if not batch_class(self, play, batch).run():
                break
        self.report.play_end()

    def takes(self, task: Task) -> bool:
        """Tags, and ``--start-at-task``: nothing runs before the named task."""
        return self.start.takes(task) and self.selection.takes(task)


def _shown(res: dict, delegate: Delegate | None) -> dict:
    """A delegated task's result says where it ran (``host -> delegate`` in the report)."""
    return res if delegate is None else {**res, "_delegated_to": delegate.name}


def _runs(each: list) -> list[tuple]:
    """Consecutive positions with the same delegate: (delegate, positions), in order."""
    runs: list = []
    for position, delegate in enumerate(each):
        if runs and runs[-1][0] == delegate:
            runs[-1][1].append(position)
        else:
            runs.append((delegate, [position]))
    return runs


def throttled(hosts: list[str], most: int) -> list[list[str]]:
    """``throttle``: the hosts in groups of at most ``most`` (0: one group)."""
    if not most:
        return [hosts]
    return [hosts[i:i + most] for i in range(0, len(hosts), most)]


class PlayBatch:
    """One play on one batch of hosts (in a bundle: on its one host, with
    the controller's batch as ``play_hosts``)."""

    def __init__(self, run: Run, play: Play, hosts: list[str], play_hosts: list[str] | None = None):
        self.run_ = run
        self.play = play
        self.hosts = hosts
        self.mode = run.mode.within(play)
        self.state = run.state
        # ansible_check_mode is --check alone, whatever the play's check_mode (as Ansible).
        self.hostvars = HostVars(run.inventory, play, play_hosts or hosts, run.extra_vars, self.state.registered,
                                 self.state.facts, run.mode.check, self.state.included)
        self.vars = {h: self.hostvars.for_host(h) for h in hosts}
        #: Notifications not yet looked up, and the handlers they made due.
        self.notified: dict[str, list[str]] = defaultdict(list)
        self.due: dict[str, set[int]] = defaultdict(set)
        self.unreachable: set[str] = set()
        self.rescuable = 0
        self.aborted = False

    # -- the batch ------------------------------------------------------------

    def run(self) -> bool:
        """Run the play on this batch; False when the play must stop here."""
        self.run_on(list(self.hosts))
        failed = [h for h in self.hosts if h in self.state.out]
        return not self.aborted and not (failed and len(failed) == len(self.hosts))

    def run_on(self, active: list[str]) -> None:
        """The play itself, task by task on ``active`` (the batch's hosts,
        less those that fail): facts, handlers pending from earlier runs,
        each section and its handlers.

        The one hook where a whole-play bundle differs (controller/bundles.py
        sends each host the play instead); what comes before and after, the
        batch's verdict, stays here for both.
        """
        if self._needs_workers():
            self._report_missing(active)
        self._gather_facts(active)
        self._recall_pending(active)
        # Ansible flushes after pre_tasks, tasks and post_tasks, empty or
        # not; before the first task there is nothing to flush but handlers
        # recalled from an earlier run, which wait for a task section.
        started = False
        for section in self.play.sections:
            self.run_nodes(section, active)
            if self.aborted:
                break
            started = started or bool(section)
            if started:
                self.flush_handlers(active)
        self._remember_pending()

    def _needs_workers(self) -> bool:
        return self.run_.dispatcher is not None and runs_on_hosts(self.play, self.run_.registry)

    def _report_missing(self, active: list[str]) -> None:
        """Hosts the dispatcher cannot reach (no heartbeat, no certificate)
        are UNREACHABLE at once and get no messages; a host another run
        holds fails here, naming the holder."""
        absent = self.run_.dispatcher.absent(active)
        if absent:
            check = Task(name="Checking workers", module="ping", args={}, where=self.play.where)
            self.run_.report.task_start(check.title, list(absent))
            for host, why in absent.items():
                self._done(check, host, result(UNREACHABLE, why), active)
        held = self.run_.dispatcher.claim([h for h in active if h not in absent])
        if held:
            claim = Task(name="Taking the hosts' run locks", module="ping", args={}, where=self.play.where)
            self.run_.report.task_start(claim.title, list(held))
            for host, holder in held.items():
                self._done(claim, host, result(FAILED, f"another run holds this host: {holder}"), active)

    def _gather_facts(self, active: list[str]) -> None:
        cache = self.run_.fact_cache
        if cache is not None:
            for host in active:
                if host not in self.state.facts and (cached := cache.variables(host)):
                    self.state.facts[host] = cached
                    self.vars[host] = self.hostvars.for_host(host)
        if not self.play.gather_facts:
            return
        smart = str(self.play.gather_facts).lower() == "smart"
        # Facts a module such as getent set are not the gathered ones.
        targets = [h for h in active if not (smart and self.state.facts.get(h, {}).get("ansible_facts", {})
                                             .get("module_setup"))]
        task = Task(name="Gathering Facts", module="setup", args=dict(self.play.fact_args), where=self.play.where,
                    check_mode=False, when=list(self.play.when), tags=self.play.tags or ("always",))
        if self.run_.selection.takes(task):  # as Ansible: a tagged play's tags, else always
            self.run_task(task, active, only=targets)

    def _set_facts(self, host: str, facts: dict, gathered: bool) -> None:
        """``facts`` join the host's ``ansible_facts``.

        Gathered facts (setup's, the cache's) are named without Ansible's
        prefix and become ``ansible_NAME`` variables; another module's
        (getent's ``getent_passwd``) are variables by their own names too,
        as Ansible injects them."""
        from ..host.facts import facts_to_vars

        old = self.state.facts.get(host, {})
        merged = {**old.get("ansible_facts", {}), **facts}
        own = {k: v for k, v in old.items() if not k.startswith("ansible_")}
        if not gathered:
            own.update(facts)
        self.state.facts[host] = {**own, **facts_to_vars(merged)}
        if host in self.vars or host in self.hosts:
            self.vars[host] = self.hostvars.for_host(host)

    # -- tasks and blocks -------------------------------------------------------

    def run_nodes(self, nodes: list, active: list[str]) -> None:
        for node in nodes:
            if self.aborted or not active:
                return
            if isinstance(node, Block):
                self.run_block(node, active)
            elif self.run_.takes(node):
                self.run_task(node, active)

    def run_block(self, block: Block, active: list[str]) -> None:
        before = list(active)
        inner = list(active)
        self.rescuable += bool(block.rescue)
        self.run_nodes(block.block, inner)
        self.rescuable -= bool(block.rescue)
        # Membership in sets: a list's `in` would make each line O(hosts^2).
        still = set(inner)
        failed = [h for h in before if h not in still and h not in self.unreachable]
        rescued: list[str] = []
        if block.rescue and failed:
            rescued = list(failed)
            self.run_nodes(block.rescue, rescued)
            for host in rescued:
                self.state.stats.hosts[host]["rescued"] += 1
            self.state.out.update(set(failed) - set(rescued))
        kept = still | set(rescued)
        keep = [h for h in before if h in kept]
        if block.always:
            always = [h for h in before if h not in self.unreachable]
            self.run_nodes(block.always, always)
            through = set(always)
            keep = [h for h in keep if h in through]
        active[:] = keep

    def run_task(self, task: Task, active: list[str], kind: str = "TASK", only: list[str] | None = None) -> None:
        present = set(active)
        hosts = [h for h in (only if only is not None else active) if h in present]
        if not hosts:
            return
        if task.run_once:
            hosts = hosts[:1]
        if task.module == "meta":
            self._meta(task, hosts, active, kind)
            return
        self.run_.report.task_start(task.title, hosts, kind)
        if task.include is not None:
            self._include(task, hosts, active)
            return
        out_before = len(self.state.out)
        pending, attempt = hosts, 0
        while pending:
            attempt += 1
            retry = []
            for host, res in (pair for group in throttled(pending, task.throttle)
                              for pair in self._attempt(task, group)):
                if task.until is not None:
                    res["attempts"] = attempt
                    if attempt <= task.retries and not res.get("unreachable") and \
                            not until_holds(task, res, self.vars[host]):
                        retry.append(host)
                        self.run_.report.host_retry(host, task.title, res, task.retries + 1 - attempt)
                        continue
                self._done(task, host, res, active)
                if task.run_once:
                    self._share_once(task, host, res, active)
            if retry:
                time.sleep(task.delay)
            pending = retry
        if task.any_errors_fatal and len(self.state.out) > out_before:
            self._abort(f"any_errors_fatal: task '{task.title}' failed on a host, so the play stops for every host")
        self._check_failures()

    def _attempt(self, task: Task, hosts: list[str]):
        """Run one attempt of ``task`` on ``hosts``; yield (host, result) as they come."""
        run = self.run_
        if run.may_go is not None and not run.may_go():
            for host in hosts:
                yield host, result(UNREACHABLE, "the run's lease is gone (its controller has exited)")
            return
        here = run.dispatcher is None or run.registry.get(task.module).on_controller
        prepared = {h: prepare(task, self.vars[h], self.mode, run.registry, self.hostvars.above(h)) for h in hosts}
        delegated, by_item = self._delegates(task, prepared)
        for host, why in self._absent_delegates(delegated, prepared, here).items():
            yield host, result(UNREACHABLE, why, _delegated_to=delegated.pop(host).name)
            del prepared[host]
        sending: dict[str, Outcome] = {}
        for host, ready in prepared.items():
            outcome = Outcome(task, ready, self.vars[host])
            if host in by_item:
                yield host, self._in_rounds(outcome, lambda: self._in_turn(host, ready, by_item[host], here))
                continue
            delegate = delegated.get(host)
            runs_on = (delegate.host or CONTROLLER) if delegate else host
            if ready.done is not None or not ready.calls or here or (delegate and delegate.here):
                yield host, _shown(self._in_rounds(outcome, lambda: self._run_here(runs_on, ready)), delegate)
            else:
                sending[host] = outcome
        if not sending:
            return
        to = {h: d.host for h, d in delegated.items() if h in sending}
        # A long loop goes in rounds (step.CALLS_PER_MESSAGE calls a host),
        # each built when the last is answered, its replies folded as they
        # come (step.Outcome): no host's whole loop is held at once, here,
        # in Redis or on the worker.
        while sending:
            round_ = {h: [prepared[h].calls[outcome.answered:], sorted(self.state.overlay[to.get(h, h)])]
                      for h, outcome in sending.items()}
            for reply in run.dispatcher.step(round_, to=to):
                round_.pop(reply.host, None)
                delegate = delegated.get(reply.host)
                if reply.unreachable or reply.error:
                    del sending[reply.host]
                    yield reply.host, _shown(result(UNREACHABLE, reply.unreachable) if reply.unreachable
                                             else result(FAILED, reply.error), delegate)
                    continue
                self.state.overlay[to.get(reply.host, reply.host)].update(reply.predicted or ())
                outcome = sending[reply.host]
                res = outcome.add(self._on_controller(task, prepared[reply.host], reply.results,
                                                      start=outcome.answered))
                if res is not None:
                    del sending[reply.host]
                    yield reply.host, _shown(res, delegate)
            for host in round_:  # no reply at all (the run was stopped): as in one message
                del sending[host]

    def _in_rounds(self, outcome: Outcome, run_round) -> dict:
        """The task's result for a host whose calls ``run_round`` runs, a
        round at a time: it gives the round's results, or the one result
        that stands for them all (an unreachable delegate)."""
        while True:
            results = run_round()
            if isinstance(results, dict):
                return results
            res = outcome.add(self._on_controller(outcome.task, outcome.prepared, results))
            if res is not None:
                return res

    def _on_controller(self, task: Task, ready, results: list[dict], start: int = 0) -> list[dict]:
        """The results of a module that needs the controller (fetch), acted
        on here, or inside a bundle carried home to be acted on there."""
        cls = self.run_.registry.get(task.module)
        if cls is None or cls.needs_controller is None:
            return results
        act = cls.on_controller_result if self.run_.carrier is None else \
            (lambda args, res: self.run_.carrier.carry(cls, args, res))
        # ``start``: the first call of this round ``results`` answer.
        args = itertools.islice(ready.args, start, None)
        return [act(a, res) for a, res in zip(args, results)]

    def _delegates(self, task: Task, prepared: dict) -> tuple[dict[str, Delegate], dict[str, list]]:
        """``delegate_to``: each host's delegate (none for a host that runs
        the task itself), and for a loop whose items name different ones,
        each call's; a host whose delegate cannot be named fails."""
        one: dict[str, Delegate] = {}
        by_item: dict[str, list] = {}
        if task.delegate_to is None:
            return one, by_item
        for host, ready in prepared.items():
            if ready.done is not None:
                continue
            try:
                # Rendered with each call's variables: a loop's item may name it.
                each = [delegate_of(task, host, scope, self.run_.inventory.hosts)
                        for scope in ready.scopes or [self.vars[host]]]
            except (TemplateFailure, UndefinedError) as exc:
                prepared[host] = Prepared(done=result(FAILED, f"{task.where}: task '{task.title}': {exc}"))
                continue
            if len(set(each)) > 1:
                by_item[host] = each
            elif each[0] is not None:
                one[host] = each[0]
        return one, by_item

    def _in_turn(self, host: str, ready: Prepared, each: list, here: bool) -> list[dict] | dict:
        """A round of ``host``'s loop whose items go to different delegates
        (``each`` call's): each run of calls with one delegate in turn, to
        it; each item's result says where it ran. A delegate that cannot be
        reached, or fails to answer, is the host's result."""
        results = []
        for delegate, positions in _runs(each[ready.start:ready.start + len(ready.calls)]):
            part = Prepared(calls=[ready.calls[i] for i in positions], args=[ready.args[i] for i in positions],
                            scopes=[ready.scopes[ready.start + i] for i in positions])
            answer = self._run_part(host, part, delegate, here)
            if isinstance(answer, dict):
                return _shown(answer, delegate)
            results += [_shown(r, delegate) for r in answer]
        return results

    def _run_part(self, host: str, part: Prepared, delegate: Delegate | None, here: bool) -> list[dict] | dict:
        """Some of ``host``'s calls, where ``delegate`` says: their results, or
        the one result (unreachable, failed) that stands for them all."""
        runs_on = (delegate.host or CONTROLLER) if delegate else host
        if here or (delegate is not None and delegate.here):
            return self._run_here(runs_on, part)
        if delegate is not None:
            absent = self._absent_delegates({host: delegate}, {host: part}, here)
            if absent:
                return result(UNREACHABLE, absent[host])
        to = {host: delegate.host} if delegate is not None else {}
        # One host, one module task: its one reply.
        (reply,) = self.run_.dispatcher.step({host: [part.calls, sorted(self.state.overlay[runs_on])]}, to=to)
        if reply.unreachable or reply.error:
            return result(UNREACHABLE, reply.unreachable) if reply.unreachable else result(FAILED, reply.error)
        self.state.overlay[runs_on].update(reply.predicted or ())
        return reply.results

    def _absent_delegates(self, delegated: dict, prepared: dict, here: bool) -> dict[str, str]:
        """The hosts whose delegate has no worker to send to, or is held by
        another run (a delegate's run lock is taken as a target's is), and why."""
        sent = {h: d.host for h, d in delegated.items() if d.host and not here and prepared[h].calls
                and prepared[h].done is None}
        if not sent:
            return {}
        dispatcher = self.run_.dispatcher
        why = dispatcher.absent(sorted(set(sent.values())))
        held = dispatcher.claim(sorted(set(sent.values()) - set(why)))
        why.update({to: f"another run holds this host: {holder}" for to, holder in held.items()})
        return {h: f"its delegate {to}: {why[to]}" for h, to in sent.items() if to in why}

    def _run_here(self, host: str, ready) -> list[dict]:
        """A task's calls run in this process, with the arguments the step
        built: modules that only read variables, calls delegated to the
        controller, and every call of a bundle on its own host (no
        dispatcher). What a call predicts joins the check-mode overlay of
        ``host`` (where it ran), as a worker's answer does."""
        overlay = self.state.overlay[host]
        results = []
        carrier = self.run_.carrier
        for call, scope, args in zip(ready.calls, ready.round_scopes(), ready.args):
            if carrier is not None and (cls := self.run_.registry.get(call["module"])) is not None and cls.comes_home:
                args = carrier.seen(cls, args)
            res, predicted = run_call(self.run_.registry, call, frozenset(overlay), scope, args, self.run_.guard)
            overlay |= predicted
            results.append(res)
        return results

    def _done(self, task: Task, host: str, res: dict, active: list[str]) -> None:
        run = self.run_
        rescuable_failure = res["failed"] and not res.get("ignored") and self.rescuable and \
            not res.get("unreachable")
        if not rescuable_failure:
            self.state.stats.count(host, res)
        run.report.host_result(host, task.title, res)
        if task.register:
            self.state.registered[host][task.register] = res
        facts = res.get("ansible_facts")
        if facts and not res["failed"]:
            # delegate_facts: they are the delegate's facts, not the host's.
            owner = res["_delegated_to"] if task.delegate_facts and "_delegated_to" in res else host
            if task.module == "set_fact":
                self.state.registered[owner].update(facts)
                if owner in self.vars:
                    self.vars[owner].update(facts)
                if res.get(CACHEABLE):  # also the host's facts, so the fact cache keeps them (as Ansible)
                    self._keep_facts(host, owner, facts, gathered=False)
            elif task.module == "include_vars":
                self.state.included[host].update(facts)
                self.vars[host] = self.hostvars.for_host(host)
            else:
                self._keep_facts(host, owner, facts, gathered=run.registry.resolve(task.module) == "setup")
        if res.get("unreachable"):
            self.unreachable.add(host)
            self.state.out.add(host)
        if res["failed"] and not res.get("ignored"):
            if not rescuable_failure:
                self.state.out.add(host)
            if host in active:
                active.remove(host)
        elif res["changed"] and task.notify:
            self.notified[host].extend(task.notify)

    def _keep_facts(self, host: str, owner: str, facts: dict, gathered: bool) -> None:
        """``facts`` a task of ``host`` returned join ``owner``'s (the host,
        or its delegate with delegate_facts), and its fact cache entry."""
        self._set_facts(owner, facts, gathered)
        cache = self.run_.fact_cache
        if cache is not None and (owner == host or owner in self.run_.inventory.hosts):
            cache.keep(owner, self.state.facts[owner])

    def _share_once(self, task: Task, host: str, res: dict, active: list[str]) -> None:
        """``run_once``: the one result counts for every host of the batch."""
        for other in active:
            if other != host and task.register:
                self.state.registered[other][task.register] = res
                self.vars[other][task.register] = res

    def _check_failures(self) -> None:
        failed = [h for h in self.hosts if h in self.state.out]
        if not failed:
            return
        limit = self.play.max_fail_percentage
        if self.play.any_errors_fatal:
            self._abort("any_errors_fatal: a host failed, so the play stops for every host")
        elif limit is not None and len(failed) * 100 / len(self.hosts) > limit:
            self._abort(f"max_fail_percentage {limit:g}% exceeded: {len(failed)} of {len(self.hosts)} "
                        f"hosts failed or were unreachable")

    def _abort(self, why: str) -> None:
        if not self.aborted:
            self.aborted = True
            self.run_.report.notice(f"NO MORE HOSTS LEFT: {why}")

    def _meta(self, task: Task, hosts: list[str], active: list[str], kind: str) -> None:
        """The strategy's own actions; ``when`` decides per host as for any
        task. Only a host that skips it (or fails its ``when``) is reported:
        Ansible's callbacks hear nothing of a meta action that runs."""
        action = task.args.get("action") or task.args.get("_raw_params")
        chosen = []
        for host in hosts:
            ready = prepare(task, self.vars[host], self.mode, self.run_.registry)
            if ready.done is None:
                chosen.append(host)
            else:
                self.run_.report.task_start(task.title, [host], kind)
                self.run_.report.host_result(host, task.title, ready.done)
        if action == "flush_handlers" and chosen:
            self.flush_handlers(active)
        elif action == "end_play" and chosen:
            active.clear()
        elif action == "end_host":
            ended = set(chosen)
            active[:] = [h for h in active if h not in ended]
        elif action == "clear_facts":
            for host in chosen:
                self._clear_facts(host)

    def _clear_facts(self, host: str) -> None:
        """``meta: clear_facts``: the host's facts are gone, here and in the
        fact cache (an empty mapping, not none: a bundle brings it home so);
        ``set_fact`` values stay, as Ansible's non-cacheable ones do."""
        self.state.facts[host] = {}
        self.vars[host] = self.hostvars.for_host(host)
        if self.run_.fact_cache is not None:
            self.run_.fact_cache.forget(host)

    def _include(self, task: Task, hosts: list[str], active: list[str]) -> None:
        """An include carried out now (lang/tasks.Include): each host's
        ``when`` and loop decide what it includes, each item's file is
        loaded and checked (a bad one fails that host's include, naming its
        file:line), then the included tasks run, host by host in the order
        they were included, every host that included the same file with the
        same arguments and item together, as Ansible's linear strategy."""
        included: dict[str, list] = {}
        for host in hosts:
            ready = prepare(task, self.vars[host], self.mode, self.run_.registry, self.hostvars.above(host))
            entries = []
            outcome, res = Outcome(task, ready, self.vars[host]), None
            try:
                while res is None:
                    for call, scope in zip(ready.calls, ready.round_scopes()):
                        item = {} if ready.items is None else {task.loop_var: scope[task.loop_var]}
                        if ready.items is not None and task.index_var:
                            item[task.index_var] = call["index"]
                        nodes = task.include.load(call["args"], item, task.where)
                        entries.append((json.dumps([call["args"], item], sort_keys=True, default=str), nodes))
                    res = outcome.add([result("ok", "") for _ in ready.calls])
            except InputError as exc:
                ready.done = result(FAILED, f"{task.where}: task '{task.title}': {exc}")
                res = finish(task, ready, [], self.vars[host])
            self._done(task, host, res, active)
            if ready.done is None:
                included[host] = entries
                for _ in entries[1:]:  # Ansible's recap counts each file included, item by item
                    self.state.stats.count(host, result("ok", ""))
        while included and not self.aborted:
            key, nodes = next(iter(included.values()))[0]
            group = [h for h, entries in included.items() if entries[0][0] == key]
            for host in group:
                included[host].pop(0)
                if not included[host]:
                    del included[host]
            present = set(active)
            running = [h for h in group if h in present]
            self.run_nodes(nodes, running)
            gone = set(group) - set(running)
            active[:] = [h for h in active if h not in gone]
            for host in gone:
                included.pop(host, None)

    # -- handlers ---------------------------------------------------------------

    def flush_handlers(self, active: list[str]) -> None:
        """Ansible's flush: one pass over the play's handlers as defined, each
        run once on the hosts where it is due, however often notified. What
        a handler notifies is due at once, so a handler defined after it
        runs in this pass, and one defined before it (itself too) at the
        next flush (ansible-core's handler_notify_earlier_handler test)."""
        eligible = list(active)
        if self.play.force_handlers:
            present = set(active)
            eligible += [h for h in self.hosts if h not in present and h not in self.unreachable]
        for index, handler in enumerate(self.play.handlers):
            targets = [h for h in eligible if index in self._due(h)]
            if not targets:
                continue
            for host in targets:
                self.due[host].discard(index)
            self.run_task(handler, eligible, kind="RUNNING HANDLER", only=targets)
            for host in targets:
                if host in eligible and not self.mode.check:
                    self.state.pending.forget(host, handler.handler_names)

    def _due(self, host: str) -> set[int]:
        """The handlers (by index) due on ``host``: its notifications so far,
        each turned into every handler that answers to it."""
        names = set(self.notified.pop(host, ()))
        if names:
            self.due[host].update(i for i, h in enumerate(self.play.handlers) if names & h.handler_names)
        return self.due[host]

    def _recall_pending(self, active: list[str]) -> None:
        defined = self.play.handler_names
        for host in active:
            left = self.state.pending.pending(host) & defined
            if left:
                self.notified[host].extend(sorted(left))
                self.run_.report.notice(f"{host}: will run handlers notified in an earlier run that never ran: "
                                        f"{', '.join(sorted(left))}")

    def _remember_pending(self) -> None:
        if self.mode.check:
            return
        for host in self.hosts:
            handlers = (self.play.handlers[i] for i in self.due[host])
            left = set(self.notified[host]) | {h.name or h.listen[0] for h in handlers}
            if left:
                self.state.pending.remember(host, left)
