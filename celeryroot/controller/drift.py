"""Drift: a playbook left with each host, checked there on a schedule
(worker/drift.py), and what the checks found (``celeryroot drift``).

`push` loads nothing itself: it takes a playbook loaded and checked as a
run's is, and plays it with a `Recorder` in the dispatcher's place, so
each host's whole-play bundles are exactly those a ``--check --diff`` run
would send (controller/bundles.py), kept instead of sent. Each host's are
signed and sealed to it as a task is (envelope.py) and stored in its own
keys, where only that host's worker can open them. A play that must run
linearly (``run_once``, a controller-only lookup …) cannot be checked on
its host alone: the push stops, naming it.

`status` reads every host's schedules and their outcomes, in one round
trip per broker, and takes an outcome only if the host signed it for
that schedule (`ControllerSeal.open_reply`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field

from ..config import DRIFT_OUTCOME, DRIFT_REFUSED, drift_keys, drift_outcome_id
from ..envelope import SEALED, Forged
from ..lang.source import InputError
from ..messages import DRIFT_TASK, PLAY_TASK

#: How long a pushed schedule is good for: push it again within a year. (A
#: schedule removed and written back into Redis can only check until then.)
VALIDITY = 365 * 86400
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
NEVER_CHECKED = "never checked"
#: Seconds beyond two intervals before a host's last check is called late
#: (a worker looks for due checks every 2 s; a check takes its time).
LATE_GRACE = 30
UNREADABLE = "unreadable"
#: What a host may say its state is; anything else is shown as unreadable.
STATES = ("in sync", "drifted", "check failed")


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise InputError(None, f"drift name {name!r}: letters, digits, '.', '_' and '-' only (up to 64)")
    return name


class Recorder:
    """Stands in for the dispatcher of a ``--check --diff`` run: keeps each
    host's bundle instead of sending it, and answers nothing."""

    waiting: tuple = ()

    def __init__(self):
        self.bundles: dict[str, list[dict]] = defaultdict(list)

    def absent(self, hosts: list[str]) -> dict:
        return {}

    def claim(self, hosts: list[str]) -> dict:
        return {}

    def step(self, payloads: dict, task: str | None = None):
        if task != PLAY_TASK:
            raise InputError(None, "a play of this playbook runs linearly (a template calls a lookup that "
                                   "runs on the controller): a drift check runs plays whole on their hosts")
        for host, (bundle,) in payloads.items():
            self.bundles[host].append({"name": bundle["play"]["name"], "bundle": bundle})
        return iter(())


def bundles_for(playbook, inventory, registry, selection, extra_vars) -> dict[str, list[dict]]:
    """Each host's plays of ``playbook``, as the bundles a check run would send it."""
    from ..engine.execution import LINEAR, choose
    from ..engine.state import RunState
    from ..engine.step import Mode
    from ..engine.strategy import Run
    from ..report import Reports
    from .bundles import BundleBatch

    for play in playbook.plays:
        hosts = selection.hosts(inventory, play)
        execution = choose(play, "free", None, registry, inventory, hosts, extra_vars) if hosts else None
        if execution is not None and execution.mode == LINEAR:
            raise InputError(play.where, f"play '{play.name}' cannot be checked on its hosts alone: {execution.why}")
    recorder = Recorder()
    Run(inventory, registry, Reports(), Mode(check=True, diff=True), extra_vars, selection, RunState(),
        dispatcher=recorder, strategy="free", bundle_batch=BundleBatch).run(playbook)
    return dict(recorder.bundles)


def push(clients: dict, route: dict[str, str], others: dict[str, list[str]], seal, name: str, every: float,
         bundles: dict[str, list[dict]]) -> None:
    """Store schedule ``name`` for each host of ``bundles`` on its broker
    (``clients`` by name, ``route`` each host's), its last outcome dropped;
    take it from ``others`` (per broker, the inventory's other hosts), so
    the schedule is on exactly the hosts of this push."""
    pipes = {broker: client.pipeline(transaction=False) for broker, client in clients.items()}
    for host, plays in bundles.items():
        names, schedules, outcomes = drift_keys(host)
        orders = {"name": name, "every": every, "plays": plays}
        (sealed,) = seal.seal_task(host, name, DRIFT_TASK, outcomes, [orders], VALIDITY)
        raw = json.dumps(sealed).encode()
        pipe = pipes[route[host]]
        pipe.set(schedules + name, raw)
        pipe.hdel(outcomes, name)
        pipe.hset(names, name, hashlib.sha256(raw).hexdigest())
    for broker, hosts in others.items():
        for host in hosts:
            _drop(pipes[broker], host, name)
    for pipe in pipes.values():
        pipe.execute()


def remove(client, hosts: list[str], name: str) -> int:
    """Take schedule ``name`` and its outcome from ``hosts``; how many had it."""
    pipe = client.pipeline(transaction=False)
    for host in hosts:
        _drop(pipe, host, name)
    return sum(pipe.execute()[0::3])


def _drop(pipe, host: str, name: str) -> None:
    names, schedules, outcomes = drift_keys(host)
    pipe.hdel(names, name)
    pipe.delete(schedules + name)
    pipe.hdel(outcomes, name)


@dataclass
class Drift:
    """One schedule on one host, as its last outcome says."""

    host: str
    name: str
    state: str
    now: float
    at: float | None = None
    since: float | None = None
    every: float | None = None
    changed: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    why: str | None = None

    @property
    def late(self) -> bool:
        """Not checked for two intervals and more (its worker down, or held
        back by a long run): what it says may be old news."""
        return self.at is not None and bool(self.every) and self.now - self.at > 2 * self.every + LATE_GRACE

    def document(self) -> dict:
        age = None if self.at is None else round(self.now - self.at, 1)
        since = None if self.since is None else round(self.now - self.since, 1)
        return {"host": self.host, "name": self.name, "state": self.state, "checked": self.at, "age": age,
                "since": self.since, "drifted_for": since, "every": self.every, "late": self.late,
                "changed": self.changed, "failed": self.failed, "why": self.why}


def status(client, seal, hosts: list[str]) -> list[Drift]:
    """Every schedule of ``hosts`` and its outcome, by host and name."""
    from ..beats import broker_time

    pipe = client.pipeline(transaction=False)
    pipe.time()
    for host in hosts:
        names, _, outcomes = drift_keys(host)
        pipe.hkeys(names)
        pipe.hgetall(outcomes)
    now_reply, *replies = pipe.execute()
    now = broker_time(now_reply)
    found = []
    for host, names, outcomes in zip(hosts, replies[0::2], replies[1::2]):
        found += [outcome(seal, host, name.decode(), outcomes.get(name), now) for name in sorted(names)]
    return found


def outcome(seal, host: str, name: str, raw: bytes | None, now: float) -> Drift:
    """What ``host`` signed as the last outcome of schedule ``name``."""
    if raw is None:
        return Drift(host, name, NEVER_CHECKED, now)
    try:
        body = {"status": SEALED, "result": json.loads(raw)["outcome"], "task_id": drift_outcome_id(name)}
        state, found = seal.open_reply(host, body)
    except (ValueError, AttributeError, KeyError, TypeError, Forged) as exc:
        return Drift(host, name, UNREADABLE, now, why=f"SECURITY ERROR: {exc}")
    if state == DRIFT_REFUSED:
        return Drift(host, name, "check failed", now, why=f"the host {found}")
    if state != DRIFT_OUTCOME or not isinstance(found, dict) or found.get("state") not in STATES:
        return Drift(host, name, UNREADABLE, now, why="not an outcome of a drift check")
    return Drift(host, name, found["state"], now, found.get("at"), found.get("since"), found.get("every"),
                 found.get("changed") or [], found.get("failed") or [])
