"""A whole-play bundle on the host's side: the play runs here with the
same `PlayBatch` the controller uses, without a dispatcher: module calls
run in this process with the arguments the step built; each result
streams back as it happens.

A bundle knows only its own host: ``hostvars`` holds the host itself, and
``run_once`` is not available (such plays run linearly).
"""

from __future__ import annotations

import shutil
import tempfile

from ..engine.carried import Carrier
from ..engine.codec import decode_play, decode_state, encode_state, homeward, relocate, unpack_sources
from ..engine.selection import Selection
from ..engine.state import RunState
from ..engine.step import Mode
from ..engine.strategy import PlayBatch, Run
from ..lang.inventory import Group, Host, Inventory


class ProgressReport:
    """Hands each result and notice to ``emit`` as it happens; a result with
    the host's recap counts as they are after it (``counts``), so a play cut
    short (the host lost, the run interrupted) is counted as far as it went,
    as the linear run counts it."""

    def __init__(self, emit, counts: dict | None = None):
        self.emit = emit
        self.counts = counts

    def notice(self, text: str) -> None:
        self.emit({"notice": text})

    def task_start(self, title: str, hosts: list[str], kind: str = "TASK") -> None:
        self.emit({"task": title, "kind": kind})

    def host_retry(self, host: str, title: str, res: dict, left: int) -> None:
        self.emit({"retry": left, "title": title, "result": res})

    def host_result(self, host: str, title: str, res: dict) -> None:
        self.emit({"result": res, "title": title, "counts": dict(self.counts or {})})

    def play_start(self, play, hosts) -> None:
        pass

    def play_end(self) -> None:
        pass


def run_bundle(registry, bundle: dict, emit, may_go=None, guard=None, mode: Mode | None = None) -> dict:
    """Run one host's play; ``emit`` streams progress; ``may_go()`` says
    whether the run may go on before each task; ``guard`` sees each module
    call (engine/runner.py); ``mode``, when given, is the play's whatever
    the bundle says (a drift check's). Returns the host's part of the run's
    state as the play left it (engine/state.py), and under ``carried`` what
    its results carry for the controller (engine/carried.py)."""
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
        state = RunState.of(host, decode_state(bundle["state"]))
        report = ProgressReport(lambda event: emit(homeward(event, mapping)), state.stats.hosts[host])
        carrier = Carrier(bundle.get("copies", {}), mapping)
        run = Run(inventory, registry, report, mode or Mode(**bundle["mode"]), bundle["extra_vars"],
                  selection, state, may_go=may_go, guard=guard, carrier=carrier)
        PlayBatch(run, play, [host], play_hosts=bundle["play_hosts"]).run()
        # What the results carry home (fetch's files) is not a path to map.
        return {**homeward(encode_state(state.part(host, state.pending.pending(host))), mapping),
                "carried": carrier.carried}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _inventory(host: str, host_vars: dict, groups: dict[str, list[str]]) -> Inventory:
    """A one-host inventory: the host's merged variables and the groups the
    controller sent: every group's hosts (names only; no other host's
    variables travel) to a play that may read them, else the host's own
    groups, with the host alone in each."""
    inventory = Inventory("<bundle>")
    inventory.hosts = {host: Host(host, host_vars)}
    inventory.groups = {name: Group(name, hosts=dict.fromkeys(members)) for name, members in groups.items()}
    return inventory
