"""Whole-play bundles: one message carries a host's whole play.

With ``strategy: free`` (or ``bundles: true`` in celeryroot.yaml) the
controller sends each host its play in one message: the task tree, handlers,
the host's own variables and group memberships, the files its templates and
copies read, and what the run already knows of the host (registered results,
facts, handlers left pending). The worker runs it with the same per-task
step and the same `PlayBatch` the controller uses, with a dispatcher that runs
module calls in-process, and streams each task's result back as a Celery
``PROGRESS`` state on the run's reply queue (see app.Progress). The final answer carries what
the controller keeps between plays: results, facts, failures, pending
handlers and the host's recap counts.

A bundle knows only its own host: ``hostvars`` holds the host itself, and
``run_once`` is not available (such plays run linearly).
"""

from __future__ import annotations

import base64
import dataclasses
import os
import shutil
import tempfile
from pathlib import Path

from .dispatch import Reply
from .facts import facts_to_vars
from .inventory import Group, Host, Inventory
from .pending import PendingHandlers
from .playbook import Play
from .result import FAILED, UNREACHABLE, result
from .runner import run_calls
from .source import Where
from .step import Mode
from .selection import Selection
from .strategy import PlayBatch, Run, handler_names
from .tasks import Block, Task, walk

#: Files a bundle may carry from the controller, in all.
SOURCES_LIMIT = 8 << 20
SOURCE_FOLDERS = ("templates", "files")


# -- the play as JSON ---------------------------------------------------------

def encode_nodes(nodes: list) -> list:
    out = []
    for node in nodes:
        if isinstance(node, Block):
            out.append({"block": encode_nodes(node.block), "rescue": encode_nodes(node.rescue),
                        "always": encode_nodes(node.always), "name": node.name, "where": _where(node.where)})
        else:
            fields = dataclasses.asdict(node)
            fields["where"] = _where(node.where)
            out.append({"task": fields})
    return out


def decode_nodes(items: list) -> list:
    out = []
    for item in items:
        if "block" in item:
            out.append(Block(item["name"], Where(**item["where"]), decode_nodes(item["block"]),
                             decode_nodes(item["rescue"]), decode_nodes(item["always"])))
        else:
            out.append(decode_task(item["task"]))
    return out


def decode_task(fields: dict) -> Task:
    fields = dict(fields)
    fields["where"] = Where(**fields["where"])
    fields["tags"] = tuple(fields["tags"])
    fields["search"] = tuple(fields["search"])
    return Task(**fields)


def _where(where: Where | None) -> dict:
    return dataclasses.asdict(where) if where else {"file": "<bundle>"}


def encode_play(play: Play) -> dict:
    return {"name": play.name, "hosts": play.hosts, "where": _where(play.where),
            "sections": [encode_nodes(s) for s in play.sections],
            "handlers": encode_nodes(play.handlers), "gather_facts": play.gather_facts,
            "check_mode": play.check_mode, "diff": play.diff, "force_handlers": play.force_handlers}


def decode_play(doc: dict) -> Play:
    return Play(name=doc["name"], hosts=doc["hosts"], where=Where(**doc["where"]),
                sections=[decode_nodes(s) for s in doc["sections"]], handlers=decode_nodes(doc["handlers"]),
                gather_facts=doc["gather_facts"], check_mode=doc["check_mode"], diff=doc["diff"],
                force_handlers=doc["force_handlers"])


# -- what a bundle reads from the controller's disk ---------------------------

def collect_sources(play: Play) -> dict[str, dict[str, str]]:
    """``{search_dir: {relative_path: base64}}``: the templates/ and files/
    folders of every directory the play's tasks look in, and the files
    named by a static ``src`` directly in one."""
    tasks = play.tasks + play.handlers
    out: dict[str, dict[str, str]] = {}
    total = 0
    for directory in dict.fromkeys(d for t in tasks for d in t.search):
        files = out.setdefault(directory, {})
        base = Path(directory)
        candidates = [p for folder in SOURCE_FOLDERS if (base / folder).is_dir()
                      for p in (base / folder).rglob("*") if p.is_file()]
        candidates += [base / str(t.args["src"]) for t in tasks if isinstance(t.args.get("src"), str)
                       and (base / str(t.args["src"])).is_file()]
        for path in candidates:
            data = path.read_bytes()
            total += len(data)
            if total > SOURCES_LIMIT:
                raise ValueError(f"the play's templates and files exceed {SOURCES_LIMIT >> 20} MiB; "
                                 f"run it with strategy: linear")
            files[str(path.relative_to(base))] = base64.b64encode(data).decode()
    return out


def unpack_sources(sources: dict[str, dict[str, str]], into: str) -> dict[str, str]:
    """Write the bundle's files under ``into``; map each controller directory
    to its local copy."""
    mapping = {}
    for index, (directory, files) in enumerate(sources.items()):
        local = os.path.join(into, str(index))
        os.makedirs(local, exist_ok=True)
        for relative, data in files.items():
            path = os.path.join(local, relative)
            if os.path.commonpath([local, os.path.abspath(path)]) != local:
                continue  # never write outside the bundle's own folder
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(base64.b64decode(data))
        mapping[directory] = local
    return mapping


def relocate(nodes: list, mapping: dict[str, str]) -> None:
    for task in walk(nodes):
        task.search = tuple(mapping.get(d, d) for d in task.search)


# -- the worker's side ----------------------------------------------------------

class LocalDispatcher:
    """Runs a host's module calls in this process: a bundle's dispatcher."""

    def __init__(self, registry):
        self.registry = registry

    def live(self, hosts: list[str]) -> set[str]:
        return set(hosts)

    def step(self, payloads: dict[str, list]):
        for host, (calls, overlay) in payloads.items():
            answer = run_calls(self.registry, calls, overlay)
            yield Reply(host, answer["results"], answer["predicted"])


class ProgressReport:
    """Hands each result and notice to ``emit`` as it happens."""

    def __init__(self, emit):
        self.emit = emit

    def notice(self, text: str) -> None:
        self.emit({"notice": text})

    def task_start(self, title: str, hosts: list[str], kind: str = "TASK") -> None:
        self.emit({"task": title, "kind": kind})

    def host_result(self, host: str, title: str, res: dict) -> None:
        self.emit({"result": res, "title": title})

    def play_start(self, play, hosts) -> None:
        pass

    def play_end(self) -> None:
        pass


def run_bundle(registry, bundle: dict, emit) -> dict:
    """Run one host's play; ``emit`` streams progress. Returns what the
    controller keeps: results, facts, failures, pending handlers, counts."""
    host = bundle["host"]
    workdir = tempfile.mkdtemp(prefix="celeryroot-bundle-")
    try:
        play = decode_play(bundle["play"])
        mapping = unpack_sources(bundle["sources"], workdir)
        for section in play.sections + [play.handlers]:
            relocate(section, mapping)
        play.vars = bundle["play_vars"]
        inventory = _inventory(host, bundle["inventory_vars"], bundle["groups"])
        selection = Selection(None, set(bundle["only_tags"]), set(bundle["skip_tags"]), bundle["start_at"])
        pending = PendingHandlers(None)
        pending.remember(host, set(bundle["pending_handlers"]))
        run = Run(None, inventory, registry, LocalDispatcher(registry), ProgressReport(emit),
                  Mode(**bundle["mode"]), bundle["extra_vars"], selection, None, pending)
        run.registered[host].update(bundle["registered"])
        if bundle["facts"]:
            run.facts[host] = bundle["facts"]
        run.overlay[host].update(bundle["overlay"])
        PlayBatch(run, play, [host], play_hosts=bundle["play_hosts"]).run()
        return {"registered": run.registered[host], "facts": run.facts.get(host), "out": host in run.out,
                "unreachable": False, "pending_handlers": sorted(pending.pending(host)),
                "stats": run.stats.summary().get(host, {}), "overlay": sorted(run.overlay[host])}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _inventory(host: str, host_vars: dict, groups: dict[str, list[str]]) -> Inventory:
    """A one-host inventory: the host's merged variables and the run's group
    memberships (names only; no other host's variables travel)."""
    inventory = Inventory("<bundle>")
    inventory.hosts = {host: Host(host, host_vars)}
    inventory.groups = {name: Group(name, hosts=list(members)) for name, members in groups.items()}
    return inventory


# -- the controller's side --------------------------------------------------------

class BundleBatch(PlayBatch):
    """A play on a batch of hosts, each host running it whole on its worker."""

    def run(self) -> bool:
        from .app import PLAY_TASK

        run = self.run_
        active = list(self.hosts)
        self._report_missing(active)
        self.sent_facts: dict[str, dict | None] = {}
        common = self._common()
        payloads = {host: [self._bundle(host, common)] for host in active}
        for reply in run.dispatcher.step(payloads, PLAY_TASK):
            if reply.progress is not None:
                for event in reply.progress["events"]:
                    self._progress(reply.host, event)
            elif reply.unreachable or reply.error:
                lost = Task(name="(whole play)", module="ping", args={}, where=self.play.where)
                run.report.task_start(lost.title, [reply.host])
                self._done(lost, reply.host, result(UNREACHABLE, reply.unreachable) if reply.unreachable
                           else result(FAILED, reply.error), active)
            else:
                self._merge(reply.host, reply.final)
        if not run.started:
            run.started = any(run.selection.starts_at(t) for t in self.play.tasks)
        failed = [h for h in self.hosts if h in run.out]
        self._check_failures()
        return not self.aborted and not (failed and len(failed) == len(self.hosts))

    def _common(self) -> dict:
        """The parts of a bundle every host of the batch shares."""
        run, play = self.run_, self.play
        return {"play": encode_play(play), "sources": collect_sources(play),
                "play_vars": {**play.vars, **play.vars_files, **play.role_vars}, "groups": self.hostvars.groups,
                "play_hosts": self.hosts, "only_tags": sorted(run.selection.only_tags),
                "skip_tags": sorted(run.selection.skip_tags), "extra_vars": run.extra_vars,
                "start_at": None if run.started else run.selection.start_at,
                "mode": {"check": run.mode.check, "diff": run.mode.diff}}

    def _bundle(self, host: str, common: dict) -> dict:
        run = self.run_
        defined = {n for h in self.play.handlers for n in handler_names(h)}
        facts = run.facts.get(host)
        if facts is None and run.fact_cache is not None and str(self.play.gather_facts).lower() == "smart":
            cached = run.fact_cache.get(host)
            facts = facts_to_vars(cached) if cached else None
        self.sent_facts[host] = facts
        return {**common, "host": host, "inventory_vars": {**self.play.role_defaults,
                                                           **run.inventory.host_vars(host)},
                "registered": run.registered[host], "facts": facts, "overlay": sorted(run.overlay[host]),
                "pending_handlers": sorted(run.pending.pending(host) & defined)}

    def _progress(self, host: str, event: dict) -> None:
        report = self.run_.report
        if "notice" in event:
            report.notice(f"{host}: {event['notice']}")
        elif "task" in event:
            report.task_start(event["task"], [host], event["kind"])
        elif "result" in event:
            report.host_result(host, event["title"], event["result"])

    def _merge(self, host: str, final: dict) -> None:
        run = self.run_
        for counter, value in final["stats"].items():
            run.stats.hosts[host][counter] += value
        run.registered[host] = final["registered"]
        if final["facts"]:
            run.facts[host] = final["facts"]
            if run.fact_cache is not None and final["facts"] != self.sent_facts.get(host):
                run.fact_cache.put(host, final["facts"]["ansible_facts"])
        if final["out"]:
            run.out.add(host)
        run.overlay[host] = set(final["overlay"])
        if not self.mode.check:
            defined = {n for h in self.play.handlers for n in handler_names(h)}
            run.pending.forget(host, defined - set(final["pending_handlers"]))
            run.pending.remember(host, set(final["pending_handlers"]))
