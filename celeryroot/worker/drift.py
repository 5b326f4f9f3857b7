"""Drift checks: a playbook the controller left with this host
(``celeryroot drift push``), run here in check mode on a schedule, and
what it would change published for the controller (``celeryroot drift``).

A schedule is one key under the host's own prefix (config.drift_keys): per
play of the playbook, the host's whole-play bundle in check and diff mode,
as controller/bundles.py builds it for a run, and how often to check. It
is signed by the controller and sealed to this host as a task is
(envelope.py, `HostSeal.open_standing`): a schedule anyone else wrote into
Redis runs nothing and is answered "refused". Whatever a bundle says, it
runs in check mode here (step.Mode.only_check, ``check_mode: false``
included), so a drift check can change nothing, and needs no lease.

It never runs beside a real run: not while this worker runs a task, nor
while a run holds the host's run lock (controller/lease.py; a ``--check``
run takes none and may share the host), and a task that arrives during a
check stops it before its next task (the check is tried again later,
published as nothing). Each outcome is signed by this host and sealed to
the controller that pushed the schedule: the tasks that would change,
their diffs (a ``no_log`` task's result is censored by the runner), the
failures, when it was checked and since when the same tasks have stayed
drifted. Beside it, signed only, a note for the worker after this one
(digests of the schedule and of the drifted tasks, and since when), so a
restart does not make an old drift new.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass

from ..beats import HEARTBEAT_KEEP, broker_time
from ..config import DRIFT_OUTCOME, DRIFT_REFUSED, HEARTBEAT_TTL, drift_keys, drift_outcome_id, lock_key
from ..envelope import Refused
from ..messages import DRIFT_TASK
from ..result import item_diffs
from .app import Guard

log = logging.getLogger("celeryroot.worker")

IN_SYNC, DRIFTED, FAILED = "in sync", "drifted", "check failed"


@dataclass
class Schedule:
    """A schedule as this worker knows it: its sealed bytes (a new push
    changes them, and is checked at once), what they opened to, and the
    outcome of its last check."""

    raw: bytes
    #: What the hash of names said of it when it was last read (a hint:
    #: the schedule is read again when it changes).
    fingerprint: str = ""
    orders: dict | None = None
    controller: object = None
    sender: str | None = None
    refused: str | None = None
    checked: float | None = None  # monotonic
    since: float | None = None
    #: The digest of the tasks that would change, in the note kept with the outcome.
    drifted: str = ""
    state: str | None = None
    every: float = 3600.0

    def found(self, changed: list[dict], failed: list[dict], now: float) -> dict:
        """A check's outcome, as published; ``since`` is kept while the same tasks stay drifted."""
        drifted = digest([[c["play"], c["task"]] for c in changed]) if changed else ""
        if not drifted:
            self.since = None
        elif drifted != self.drifted or self.since is None:
            self.since = now
        self.drifted, self.checked = drifted, time.monotonic()
        self.state = FAILED if failed else DRIFTED if changed else IN_SYNC
        return {"state": self.state, "at": now, "since": self.since, "every": self.every, "changed": changed,
                "failed": failed}


class DriftChecks(threading.Thread):
    """The worker's drift schedules: looked for every ``every`` seconds,
    each checked when due; `working` and `done` (the task signals) say
    when a real task runs."""

    def __init__(self, client, host: str, seal, registry, policy, audit=None, every: float = HEARTBEAT_TTL / 3):
        super().__init__(name="celeryroot-drift", daemon=True)
        self.client, self.host, self.seal = client, host, seal
        self.registry, self.policy, self.audit = registry, policy, audit
        self.names_key, self.schedule_prefix, self.outcomes_key = drift_keys(host)
        self.lock_key = lock_key(host)
        self.every = every
        self.stopping = threading.Event()
        self.schedules: dict[str, Schedule] = {}
        #: A real task running, or arrived since a check began: the check stops.
        self.task: str | None = None
        self.interrupted = False

    def working(self, task_id: str) -> None:
        self.task = task_id
        self.interrupted = True

    def done(self, task_id: str) -> None:
        self.task = None

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        failing = False
        while not self.stopping.wait(self.every):
            try:
                self.tick()
            except Exception as exc:  # the broker may be away; checks wait for it
                if not failing:
                    log.warning("drift checks: %s (retrying every %g s)", exc, self.every)
                failing = True
            else:
                failing = False

    def tick(self) -> None:
        """Read the schedules; check those that are due, one after another."""
        hints = {n.decode(): h.decode() for n, h in self.client.hgetall(self.names_key).items()}
        for name in set(self.schedules) - set(hints):
            del self.schedules[name]  # removed (celeryroot drift remove)
        for name, hint in sorted(hints.items()):
            known = self.schedules.get(name)
            # A schedule is read again only when its hint changed: it may be large, and is looked for often.
            if known is None or known.fingerprint != hint:
                raw = self.client.get(self.schedule_prefix + name)
                if raw is None:
                    continue
                if known is None or known.raw != raw:
                    known = self.schedules[name] = self._open(name, raw, noted=known is None)
                    if known.refused:
                        self._publish(name, DRIFT_REFUSED, known.refused, None)
                known.fingerprint = hint  # a hint that lies (it is not signed) only makes it read again
            if known.refused is None and self._due(known):
                self.interrupted = False  # before looking: a task from now on stops the check
                if not self._busy():
                    self.check(name, known)

    def _open(self, name: str, raw: bytes, noted: bool) -> Schedule:
        """A schedule read for the first time (``noted``: by this worker,
        which then takes up the drift its last worker noted) or pushed again."""
        known = Schedule(raw)
        try:
            (orders,), known.controller, known.sender = self.seal.open_standing(DRIFT_TASK, name, json.loads(raw))
            known.orders, known.every = orders, float(orders["every"])
        except (Refused, ValueError, TypeError, KeyError) as exc:
            known.refused = f"refused: {exc}"
            log.warning("refused drift schedule %s: %s", name, exc)
            if self.audit is not None:
                self.audit.refused(drift_outcome_id(name), DRIFT_TASK, str(exc))
            return known
        if noted:
            self._take_up(name, known)
        return known

    def _take_up(self, name: str, known: Schedule) -> None:
        """Since when the schedule has drifted, as this host's last worker
        noted it beside its outcome (signed by this host, for this very
        schedule): a restart does not make an old drift new."""
        try:
            note = self.seal.own_note(drift_outcome_id(name), json.loads(self.client.hget(
                self.outcomes_key, name) or "{}").get("note"))
        except (ValueError, AttributeError):
            return
        if isinstance(note, dict) and note.get("schedule") == hashlib.sha256(known.raw).hexdigest():
            known.since, known.drifted = note.get("since"), note.get("drifted") or ""

    def _due(self, known: Schedule) -> bool:
        return known.checked is None or time.monotonic() - known.checked >= known.every

    def _busy(self) -> bool:
        """A real run has the host: this worker runs its task, or the run holds the host's lock."""
        return self.task is not None or bool(self.client.exists(self.lock_key))

    def check(self, name: str, known: Schedule) -> None:
        """Run the schedule's plays in check mode, one after the other as a
        run does (each starts from the state the last left), and publish
        what they would change; nothing when a real task interrupted it."""
        # Here, not at the top: a worker with no drift schedule never loads these at start.
        from ..engine.step import Mode
        from .bundle import run_bundle

        guard = Guard(self.policy, self.audit, drift_outcome_id(name), DRIFT_TASK, known.sender)
        changed, failed, state = [], [], None
        for play in known.orders["plays"]:
            # A copy: a play's run may change what it is given (its variables); the next check must not see it.
            bundle = copy.deepcopy(play["bundle"])
            if state is not None:
                bundle["state"] = state
            events: list[dict] = []
            try:
                state = run_bundle(self.registry, bundle, events.append, may_go=self._may_go, guard=guard,
                                   mode=Mode(check=True, diff=True, only_check=True))
            except Exception as exc:  # a bad bundle is its check's failure, not the worker's
                failed.append({"play": play["name"], "task": "(whole play)", "msg": f"{exc!r}"})
                break
            if self.interrupted or self.stopping.is_set():  # half a check is no outcome
                if self.interrupted:
                    log.info("drift check %s stopped for task %s; it is tried again later", name, self.task)
                return
            findings(play["name"], events, changed, failed)
        before = known.state
        outcome = known.found(changed, failed, broker_time(self.client.time()))
        if known.state != before:  # said once per change, not at every check
            log.info("drift check %s: %s (%d tasks would change, %d failed)", name, known.state, len(changed),
                     len(failed))
        self._publish(name, DRIFT_OUTCOME, outcome, known.controller, known)

    def _may_go(self) -> bool:
        return not (self.interrupted or self.stopping.is_set())

    def _publish(self, name: str, state: str, outcome, controller, known: Schedule | None = None) -> None:
        """The outcome, sealed to the controller; beside it, signed only, the
        note the next worker takes up (digests, no task's name)."""
        sealed = {"outcome": self.seal.seal_reply(drift_outcome_id(name), state, outcome, peer=controller)}
        if known is not None:
            sealed["note"] = self.seal.seal_reply(drift_outcome_id(name), "NOTE", {
                "schedule": hashlib.sha256(known.raw).hexdigest(), "since": known.since, "drifted": known.drifted})
        pipe = self.client.pipeline(transaction=False)
        pipe.hset(self.outcomes_key, name, json.dumps(sealed))
        pipe.expire(self.outcomes_key, HEARTBEAT_KEEP)  # a host gone for a month is forgotten, as its heartbeat is
        pipe.execute()


def findings(play: str, events: list[dict], changed: list[dict], failed: list[dict]) -> None:
    """The results among a play's ``events``: each task that would change
    (with its diffs) joins ``changed``, each that failed ``failed``."""
    for event in events:
        res = event.get("result")
        if res is None:
            continue
        entry = {"play": play, "task": event["title"], "msg": res.get("msg", "")}
        if res["failed"] and not res.get("ignored"):
            failed.append(entry)
        elif res["changed"]:
            changed.append({**entry, "diff": item_diffs(res)})


def digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()
