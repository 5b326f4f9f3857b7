"""A whole-play bundle on the host's side: the play runs here with the
same `PlayBatch` the controller uses, with a dispatcher that runs module
calls in this process, and each result streams back as it happens.

A bundle knows only its own host: ``hostvars`` holds the host itself, and
``run_once`` is not available (such plays run linearly).
"""

from __future__ import annotations

import shutil
import tempfile

from ..engine.codec import decode_play, relocate, unpack_sources
from ..engine.pending import PendingHandlers
from ..engine.replies import Reply
from ..engine.runner import run_calls
from ..engine.selection import Selection
from ..engine.step import Mode
from ..engine.strategy import PlayBatch, Run
from ..lang.inventory import Group, Host, Inventory

class LocalDispatcher:
    """Runs a host's module calls in this process: a bundle's dispatcher."""

    def __init__(self, registry, may_go=None):
        self.registry = registry
        self.may_go = may_go

    def live(self, hosts: list[str]) -> set[str]:
        return set(hosts)

    def claim(self, hosts: list[str]) -> dict[str, str]:
        return {}  # the controller holds the host's run lock for the bundle

    def step(self, payloads: dict[str, list]):
        for host, (calls, overlay) in payloads.items():
            # Between tasks too: a bundle stops within one task of its controller.
            if self.may_go is not None and not self.may_go():
                yield Reply(host, unreachable="the run's lease is gone (its controller has exited)")
                continue
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


def run_bundle(registry, bundle: dict, emit, may_go=None) -> dict:
    """Run one host's play; ``emit`` streams progress; ``may_go()`` says
    whether the run may go on before each task. Returns what the
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
        run = Run(None, inventory, registry, LocalDispatcher(registry, may_go), ProgressReport(emit),
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
