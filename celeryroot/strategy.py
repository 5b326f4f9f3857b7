"""The linear strategy: plays in order, each task on every host, then the next.

For each task the controller prepares every host's calls (step.prepare),
fans them out in one dispatch step, and finishes each host's result as its
reply arrives (step.finish). A host that fails or becomes unreachable gets
none of the play's later tasks; the others carry on. Handlers run at the end
of the play, once per host, in definition order, where a notifying task
changed something.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from .dispatch import Dispatcher
from .inventory import Inventory
from .playbook import Play, Playbook, Task
from .registry import Registry
from .result import UNREACHABLE, result
from .runner import run_call
from .stats import Stats
from .step import Mode, finish, prepare
from .tags import selected
from .variables import HostVars


@dataclass
class Selection:
    """What the command line narrows a run to."""

    limit: list[str] | None = None
    only_tags: set[str] = field(default_factory=set)
    skip_tags: set[str] = field(default_factory=set)

    def hosts(self, inventory: Inventory, play: Play) -> list[str]:
        hosts = inventory.match(play.hosts, play.where)
        if self.limit is not None:
            hosts = [h for h in hosts if h in self.limit]
        return hosts

    def tasks(self, play: Play) -> list[Task]:
        return [t for t in play.tasks if selected(set(play.tags) | set(t.tags), self.only_tags, self.skip_tags)]


class LinearStrategy:
    def __init__(self, playbook: Playbook, inventory: Inventory, registry: Registry, dispatcher: Dispatcher,
                 report, mode: Mode, extra_vars: dict, selection: Selection):
        self.playbook = playbook
        self.inventory = inventory
        self.registry = registry
        self.dispatcher = dispatcher
        self.report = report
        self.mode = mode
        self.extra_vars = extra_vars
        self.selection = selection
        self.stats = Stats()
        #: Registered results per host; they outlive the play, as in Ansible.
        self.registered: dict[str, dict] = defaultdict(dict)
        #: Check mode: what earlier tasks would have created, per host.
        self.overlay: dict[str, set[str]] = defaultdict(set)
        #: Hosts that failed or became unreachable: no later play targets
        #: them, as in Ansible.
        self.out: set[str] = set()

    def run(self) -> Stats:
        for play in self.playbook.plays:
            self.run_play(play)
        return self.stats

    def run_play(self, play: Play) -> None:
        hosts = [h for h in self.selection.hosts(self.inventory, play)]
        self.report.play_start(play, hosts)
        for host in hosts:
            self.stats.touch(host)
        mode = Mode(check=self.mode.check if play.check_mode is None else play.check_mode,
                    diff=self.mode.diff if play.diff is None else play.diff)
        hostvars = HostVars(self.inventory, hosts, play.vars, self.extra_vars, self.registered, mode.check)
        variables = {h: hostvars.for_host(h) for h in hosts}
        tasks = self.selection.tasks(play)
        active = [h for h in hosts if h not in self.out]
        missing = set(active) - self.dispatcher.live(active) if self._needs_workers(play) else set()
        notified: dict[str, list[str]] = defaultdict(list)
        for task in tasks:
            self.run_task(task, active, variables, mode, notified, unreachable=missing)
            missing = set()
        for handler in play.handlers:
            targets = [h for h in active if handler.name in notified[h]
                       or any(topic in notified[h] for topic in handler.listen)]
            self.run_task(handler, targets, variables, mode, notified, kind="RUNNING HANDLER")
        self.report.play_end()

    def _needs_workers(self, play: Play) -> bool:
        return any(not self.registry.get(t.module).on_controller for t in play.tasks + play.handlers)

    def run_task(self, task: Task, active: list[str], variables: dict, mode: Mode,
                 notified: dict, kind: str = "TASK", unreachable: set[str] = frozenset()) -> None:
        if not active:
            return
        hosts = list(active)
        self.report.task_start(task.title, hosts, kind)
        for host in unreachable:
            self._done(task, host, result(UNREACHABLE, "no live worker for this host (no heartbeat)"),
                       active, notified)
        hosts = [h for h in hosts if h not in unreachable]
        on_controller = self.registry.get(task.module).on_controller
        prepared = {h: prepare(task, variables[h], mode, self.registry) for h in hosts}
        payloads = {}
        for host, ready in prepared.items():
            if ready.done is not None or not ready.calls or on_controller:
                results = [run_call(self.registry, c, variables=variables[host])[0] for c in ready.calls]
                self._done(task, host, finish(task, ready, results, variables[host]), active, notified)
            else:
                payloads[host] = {"calls": ready.calls, "overlay": sorted(self.overlay[host])}
        for reply in self.dispatcher.step(payloads):
            if reply.unreachable:
                self._done(task, reply.host, result(UNREACHABLE, reply.unreachable), active, notified)
                continue
            self.overlay[reply.host].update(reply.predicted or ())
            res = finish(task, prepared[reply.host], reply.results, variables[reply.host])
            self._done(task, reply.host, res, active, notified)

    def _done(self, task: Task, host: str, res: dict, active: list[str], notified: dict) -> None:
        self.stats.count(host, res)
        self.report.host_result(host, task.title, res)
        if task.register:
            self.registered[host][task.register] = res
        if res["failed"] and not res.get("ignored"):
            self.out.add(host)
            if host in active:
                active.remove(host)
        elif res["changed"] and task.notify:
            notified[host].extend(task.notify)
