"""Where a task is dispatched: one step fanned out to the hosts' queues.

A step is a chord in shape: its header is one ``celeryroot.run`` message per
host, each routed to that host's own queue; its body (the barrier that waits
for every host and hands their results on) runs here, in the controller,
consuming the run's own reply queue. Celery's stock chord would join the
header on whichever host's worker finishes last, reading every other host's
results there; celeryroot's isolation forbids that, so the join is ours.

Replies arrive by consuming the queue (no polling). A host that does not
start its task within ``timeout`` seconds, or whose heartbeat lapses while
it runs, is unreachable; every message expires after ``timeout`` seconds,
so nothing sent to a dead host runs when it comes back.

A broker lost mid-run is waited for as long as at the start (kombu's
retries, bounded by the broker wait), then the run goes on: replies kept in
Redis meanwhile are read; a task under way whose reply does not come within
``timeout`` of the reconnection is given up as unknown (the broker may have
lost the reply with a restart or a failover), never taken for done. If the
broker stays away, `BrokerLost` ends the run with the hosts under way named.

Over several brokers (controller/brokers.py) each is a `Link`, reached at
the start and drained in turn; one that does not answer at the start, or
is lost for good mid-run, costs only its own hosts (unreachable, a task
under way there of unknown outcome); `BrokerLost` only when it was the
last one up.

Every message leaves sealed to its host and signed (envelope.py); a reply
counts only if its host's own certificate signed it: a forged or unsigned
one is a security error for that host, never its result.

A delegated task (``delegate_to``) is one host's task sent to another
host: it goes to the delegate's queue over the delegate's broker, sealed
to the delegate, and its reply counts only if the delegate signed it; it
is then the result of the host it was run for.
"""

from __future__ import annotations

import itertools
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

from ..broker import BrokerLost, BrokerUnreachable
from ..config import HEARTBEAT_TTL
from ..engine.replies import Reply
from ..envelope import Forged
from ..messages import RUN_TASK, publish_task, queue_for, task_id_for
from .brokers import split

#: How often, while waiting, the controller looks at heartbeats.
LIVENESS_EVERY = HEARTBEAT_TTL / 3
#: How long one wait for replies lasts: with several brokers, each is
#: drained in turn for a short while, so a reply on one waits little for the others.
DRAIN_ONE, DRAIN_EACH = 0.5, 0.05


def new_run_id() -> str:
    """A run's id: its reply queue, its lease, its tasks' ids and its history name it."""
    return uuid.uuid4().hex[:12]


class Dispatcher:
    """A whole run's messages over its brokers: ``links`` by name
    (controller/link.py, one connection, producer and reply consumer each),
    ``route`` each host's broker name (controller/brokers.py)."""

    def __init__(self, links: dict, route: dict[str, str], seal, timeout: float = 30.0,
                 broker_wait: float = 5.0, run_id: str | None = None):
        self.links = links
        self.route = route
        self.seal = seal
        self.timeout = timeout
        self.broker_wait = broker_wait
        self.run_id = run_id or new_run_id()
        self.seq = itertools.count()
        self._pending: dict[str, str] = {}
        #: The host each task of the current step went to (its delegate, or itself).
        self._to: dict[str, str] = {}

    def __enter__(self) -> "Dispatcher":
        """Reach every broker; one that does not answer leaves its hosts
        unreachable, unless none answers (the run cannot begin)."""
        links = list(self.links.values())
        if len(links) == 1:  # in this thread, which Ctrl-C interrupts at once
            opened = [self._open(links[0])]
        else:  # all at once: brokers that are down cost the wait once, not once each
            with ThreadPoolExecutor(len(links)) as pool:
                opened = list(pool.map(self._open, links))
        failed = [exc for exc in opened if exc is not None]
        if len(failed) == len(self.links):
            self.__exit__()
            raise failed[0]
        return self

    def _open(self, link) -> BrokerUnreachable | None:
        try:
            link.open(self.broker_wait)
        except BrokerUnreachable as exc:
            link.down = f"its broker {link.name} is unreachable: {exc}"
            return exc
        return None

    def __exit__(self, *exc) -> None:
        for link in self.links.values():
            link.close()

    @property
    def up(self) -> list:
        return [link for link in self.links.values() if link.down is None]

    def link_of(self, host: str):
        return self.links[self.route[host]]

    @property
    def waiting(self) -> set[str]:
        """Hosts whose task of the current step has not answered yet."""
        return set(self._pending.values())

    def absent(self, hosts: list[str]) -> dict[str, str]:
        """Those of ``hosts`` no task can be sent to, and why."""
        why = {h: self.seal.unknown[h] for h in hosts if h in self.seal.unknown}
        why.update({h: self.link_of(h).down for h in hosts if h not in why and self.link_of(h).down})
        alive = self.live([h for h in hosts if h not in why])
        why.update({h: "no live worker for this host (no heartbeat)" for h in hosts if h not in alive and h not in why})
        return {h: why[h] for h in hosts if h in why}

    def live(self, hosts: list[str]) -> set[str]:
        """Those of ``hosts`` with a live heartbeat on their broker."""
        return {h for name, part in split(self.route, hosts).items() for h in self.links[name].liveness.live(part)}

    def claim(self, hosts: list[str]) -> dict[str, str]:
        """Take the run lock of ``hosts`` on their brokers; those another run holds, with its holder."""
        held: dict[str, str] = {}
        for name, part in split(self.route, hosts).items():
            if self.links[name].locks is not None:
                held.update(self.links[name].locks.claim(part))
        return held

    def step(self, payloads: dict[str, list], task: str = RUN_TASK, to: dict[str, str] | None = None) -> Iterator[Reply]:
        """Send each host ``task`` with its arguments (to its delegate where
        ``to`` names one); yield each host's reply (and a bundle's progress)
        as it arrives."""
        pending: dict[str, str] = {}
        self._to = {}
        dest = {h: (to or {}).get(h, h) for h in payloads}
        by_broker: dict[str, dict[str, list]] = {}
        for host in payloads:
            by_broker.setdefault(self.route[dest[host]], {})[host] = payloads[host]
        for name, part in by_broker.items():
            pending.update(self._send(self.links[name], part, task, dest))
        sent = time.monotonic()
        started: set[str] = set()
        checked = sent
        self._pending = pending
        while pending:
            yield from self._receive(pending, started)
            now = time.monotonic()
            late = [t for t in pending if t not in started] if now - sent > self.timeout else []
            for task_id in late:
                yield Reply(pending.pop(task_id), unreachable=f"no answer within {self.timeout:g}s (worker down?)")
            # Judged per broker, then only the tasks of a broker in trouble
            # are looked at: a scan of every pending task after each wait
            # would cost O(hosts) per reply, O(hosts^2) per step.
            lost = {name: f"{link.down}; its outcome is unknown" if link.down is not None else
                    "the broker was lost while the task ran and no answer came after: its outcome is unknown"
                    for name, link in self.links.items()
                    if link.down is not None or
                    (link.reconnected is not None and now - max(link.reconnected, sent) > self.timeout)}
            if lost:
                for task_id in [t for t in pending if self.route[self._to[t]] in lost]:
                    yield Reply(pending.pop(task_id), unreachable=lost[self.route[self._to[task_id]]])
            if pending and now - checked > LIVENESS_EVERY:
                checked = now
                yield from self._lapsed(pending, now)

    def _send(self, link, payloads: dict[str, list], task: str, dest: dict[str, str]) -> dict[str, str]:
        """Send one broker's hosts their messages (each to ``dest[host]``); their task ids."""
        pending = {}
        # One Redis pipeline for the broker's part of the step (kombu's
        # publish batch). Nothing is declared (messages.publish_task): the
        # binding kombu would declare (a transaction of LLEN, one of two
        # SADDs, and a new Redis client each, per host and connection) would
        # route nothing; the worker declares its own queue as it starts.
        reply_to = link.reply_queue.name
        with link.producer.batch():
            for host, args in payloads.items():
                to = dest[host]
                tid = task_id_for(self.run_id, next(self.seq), to)
                sealed = self.seal.seal_task(to, tid, task, reply_to, args, self.timeout)
                publish_task(link.producer, task, tid, sealed, queue_for(to).name, reply_to, self.timeout)
                pending[tid] = host
                self._to[tid] = to
        return pending

    def _receive(self, pending: dict[str, str], started: set[str]) -> Iterator[Reply]:
        """The replies that came within one wait, from every broker still up.
        A broker lost for good ends the run if it was the last one up; else
        its hosts' tasks are given up (`step`)."""
        up = self.up
        for link in up:
            try:
                link.drain(DRAIN_ONE if len(up) == 1 else DRAIN_EACH, self.broker_wait)
            except BrokerLost as exc:
                if len(self.up) == 1:
                    raise
                link.down = str(exc)
            while link.inbox:
                reply = self._interpret(link.inbox.popleft(), pending, started)
                if reply:
                    yield reply

    def _interpret(self, body: dict, pending: dict[str, str], started: set[str]) -> Reply | None:
        task_id = body.get("task_id")
        if task_id not in pending:
            return None  # a late answer for a step that already gave up on the host
        try:
            # Signed by the host the task was sent to: for a delegated task, the delegate.
            status, answer = self.seal.open_reply(self._to[task_id], body)
        except Forged as exc:
            return Reply(pending.pop(task_id), error=f"SECURITY ERROR: {exc}; it is not taken for the result")
        if status == "STARTED":
            started.add(task_id)
            return None
        if status == "PROGRESS":
            started.add(task_id)
            return Reply(pending[task_id], progress=answer)
        host = pending.pop(task_id)
        if status == "SUCCESS" and "refused" in answer:
            return Reply(host, unreachable=answer["refused"])
        if status == "SUCCESS" and "results" in answer:
            return Reply(host, answer["results"], answer.get("predicted", []))
        if status == "SUCCESS":
            return Reply(host, final=answer)
        if status == "REVOKED":
            return Reply(host, unreachable="the task expired before the host's worker took it")
        error = answer if isinstance(answer, dict) else {}
        return Reply(host, error=f"worker error: {error.get('exc_type', '')} {error.get('exc_message', '')}")

    def _lapsed(self, pending: dict[str, str], now: float) -> Iterator[Reply]:
        # A restarted Redis has lost the heartbeats: give the workers one TTL to set them again.
        settled = {self._to[t] for t in pending
                   if (at := self.link_of(self._to[t]).reconnected) is None or now - at > HEARTBEAT_TTL}
        asked = time.monotonic()
        alive = self.live(sorted(settled))
        if time.monotonic() - asked > LIVENESS_EVERY:
            # The read waited out a broker (a Sentinel failover: redis_client
            # retries), during which no worker could beat: judge nothing yet,
            # and count from now as from a reconnection.
            for link in self.up:
                link.reconnected = time.monotonic()
            return
        for task_id, host in list(pending.items()):
            to = self._to[task_id]
            if to in settled and to not in alive:
                del pending[task_id]
                whose = "the host's worker" if to == host else f"the worker of {to}, its delegate,"
                yield Reply(host, unreachable=f"{whose} stopped answering (heartbeat lapsed)")
