"""Whole-play bundles: one message carries a host's whole play.

For a play that runs as bundles (engine/execution.py decides: by default
every play that does not depend on other hosts, and ``strategy: free``) the
controller sends each host its play in one message: the task tree, handlers,
the host's own variables and groups, the files its templates and copies read, and the host's part of the run's state (engine/state.py:
registered results, facts, check-mode overlay, failure, handlers left
pending, recap counts). The worker runs it with the same per-task step and
the same `PlayBatch` the controller uses, running module calls in its own
process, and streams each task's result back as a Celery ``PROGRESS`` state
on the run's reply queue (see worker/app.Progress). The final answer is that
part again, as the play left it, encoded by the same codec
(engine/codec.py) and merged by `RunState.merge`.

A bundle knows only its own host: ``hostvars`` holds the host itself, and
``run_once`` is not available (such plays run linearly; so do, unless
bundles were asked for, plays that read ``hostvars`` or ``play_hosts``). The lists of other
hosts' names (``groups``, ``play_hosts`` and the like: variables.HOST_LISTS)
travel only to a play that may read them, by a look at its templates before
it is sent: in every host's message they would make a play's bytes grow with
the square of the fleet.
"""

from __future__ import annotations

from ..engine.carried import act_home, copies, places
from ..engine.codec import collect_sources, decode_state, encode_play, encode_state, source_texts
from ..engine.execution import controller_lookups, runs_linearly
from ..engine.strategy import PlayBatch
from ..lang.lookups import CONTROLLER_ONLY, named_in
from ..lang.tasks import Task
from ..lang.templating import reads_any
from ..lang.variables import HOST_LISTS
from ..messages import PLAY_TASK
from ..result import FAILED, UNREACHABLE, result


class BundleBatch(PlayBatch):
    """A play on a batch of hosts, each host running it whole on its worker.

    Only the hook `PlayBatch.run_on` is its own: the batch's set-up and its
    verdict (stop the play? every host failed?) are the linear batch's, so
    the two ways of running a play cannot drift apart.
    """

    def run_on(self, active: list[str]) -> None:
        """Each host of ``active`` runs the play whole on its worker; their
        progress is reported as it streams in, their final answers merged."""
        run = self.run_
        common = self._common()
        controller_only = named_in(list(source_texts(common["sources"]))) & CONTROLLER_ONLY
        if controller_only:  # a template of the play's calls one (its tasks were looked at in strategy.py)
            run.report.notice(runs_linearly(self.play, controller_lookups(controller_only)))
            return super().run_on(active)
        self._report_missing(active)
        self.sent_facts: dict[str, dict | None] = {}
        #: Per host, the controller's places its fetch tasks write to (engine/carried.py).
        self.places: dict[str, list[str]] = {}
        #: Per host, the task it began and has not answered yet ("" once it answered).
        self.running: dict[str, str] = {}
        reads_hosts = self._reads_host_lists(common)
        payloads = {host: [self._bundle(host, common, reads_hosts)] for host in active}
        for reply in run.dispatcher.step(payloads, PLAY_TASK):
            if reply.progress is not None:
                for event in reply.progress["events"]:
                    self._progress(reply.host, event)
            elif reply.unreachable or reply.error:
                lost = Task(name=self._lost_at(reply.host), module="ping", args={}, where=self.play.where)
                if not self.running.get(reply.host):  # else its progress began the task in the report
                    run.report.task_start(lost.title, [reply.host])
                self._done(lost, reply.host, result(UNREACHABLE, reply.unreachable) if reply.unreachable
                           else result(FAILED, reply.error), active)
            else:
                self._merge(reply.host, reply.final)
        run.start.reaches(self.play.tasks)
        self._check_failures()

    def _lost_at(self, host: str) -> str:
        """Where a host lost mid-play is reported: the task it was running,
        as linear would; the play's first task when it never began one."""
        if host not in self.running:
            first = "Gathering Facts" if self.play.gather_facts else getattr(next(iter(self.play.tasks), None), "title", None)
            return first or "(whole play)"
        return self.running[host] or "(rest of the play)"

    def _common(self) -> dict:
        """The parts of a bundle every host of the batch shares."""
        run, play = self.run_, self.play
        return {"play": encode_play(play), "sources": collect_sources(play),
                "play_vars": {**play.vars, **play.vars_files, **play.role_vars},
                "only_tags": sorted(run.selection.only_tags), "skip_tags": sorted(run.selection.skip_tags),
                "extra_vars": run.extra_vars, "start_at": run.start.pending,
                "mode": {"check": run.mode.check, "diff": run.mode.diff}}

    @staticmethod
    def _reads_host_lists(common: dict) -> bool:
        """Whether the play's tasks, handlers, variables or files may read a
        list of other hosts (each host's own variables are looked at in `_bundle`)."""
        return reads_any(common["play"], HOST_LISTS, expressions=True) or \
            reads_any([common["play_vars"], common["extra_vars"]], HOST_LISTS) or \
            any(reads_any(text, HOST_LISTS) for text in source_texts(common["sources"]))

    def _bundle(self, host: str, common: dict, reads_hosts: bool) -> dict:
        run = self.run_
        part = self.state.part(host, self.play.handler_names)
        if part.facts is None and run.fact_cache is not None:  # as linear's _gather_facts, whatever gather_facts says
            part.facts = run.fact_cache.variables(host)
        self.sent_facts[host] = part.facts
        inventory_vars = {**self.play.role_defaults, **run.inventory.host_vars(host)}
        if reads_hosts or reads_any(inventory_vars, HOST_LISTS):
            groups, play_hosts = self.hostvars.groups, self.hosts
        else:
            # Its own groups (group_names) as one-host lists; play_hosts is the host alone on the worker.
            groups, play_hosts = {name: [host] for name in run.inventory.groups_of(host)}, None
        self.places[host] = places(self.play.tasks + self.play.handlers, run.registry, host, self.vars[host])
        return {**common, "host": host, "inventory_vars": inventory_vars, "groups": groups,
                "play_hosts": play_hosts, "state": encode_state(part), "copies": copies(self.places[host])}

    def _progress(self, host: str, event: dict) -> None:
        report = self.run_.report
        if "notice" in event:
            # Notices that name their host already (handlers recalled) say it once.
            text = event["notice"]
            report.notice(text if text.startswith(f"{host}: ") else f"{host}: {text}")
        elif "task" in event:
            self.running[host] = event["task"]
            report.task_start(event["task"], [host], event["kind"])
        elif "retry" in event:
            report.host_retry(host, event["title"], event["result"], event["retry"])
        elif "result" in event:
            # The counts so far: the final answer replaces them, a play cut short keeps them.
            self.state.stats.hosts[host].update(event.get("counts", {}))
            if self.running.get(host) == event["title"]:
                self.running[host] = ""
            report.host_result(host, event["title"], event["result"])

    def _merge(self, host: str, final: dict) -> None:
        part = decode_state(final)
        self.state.merge(host, part, self.play.handler_names, self.mode.check)
        for failure in act_home(self.run_.registry, final.get("carried") or [], self.places.get(host, [])):
            # Its tasks have run on; the host is failed, as linear fails it at the task.
            self.run_.report.notice(f"{host}: {failure}")
            self.state.stats.hosts[host]["failed"] += 1
            self.state.out.add(host)
        fact_cache = self.run_.fact_cache
        if part.facts and fact_cache is not None and part.facts != self.sent_facts.get(host):
            fact_cache.keep(host, part.facts)
        elif part.facts == {} and fact_cache is not None:  # meta: clear_facts
            fact_cache.forget(host)
