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

Every message leaves sealed to its host and signed (envelope.py); a reply
counts only if its host's own certificate signed it: a forged or unsigned
one is a security error for that host, never its result.
"""

from __future__ import annotations

import itertools
import socket
import time
import uuid
from collections import deque
from typing import Iterator

from kombu import Consumer, Exchange, Producer, Queue

from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from ..broker import BrokerLost, BrokerUnreachable, reach
from ..config import HEARTBEAT_TTL, REPLY_PREFIX, masked
from ..engine.replies import Reply
from ..envelope import Forged
from ..messages import RUN_TASK, connection, publish_task, queue_for, task_id_for

#: How often, while waiting, the controller looks at heartbeats.
LIVENESS_EVERY = HEARTBEAT_TTL / 3


def new_run_id() -> str:
    """A run's id: its reply queue, its lease, its tasks' ids and its history name it."""
    return uuid.uuid4().hex[:12]


class Dispatcher:
    """One connection, one producer and one reply consumer for a whole run."""

    def __init__(self, broker_url: str, liveness, seal, timeout: float = 30.0, broker_wait: float = 5.0,
                 run_id: str | None = None):
        self.broker_url = broker_url
        self.seal = seal
        self.liveness = liveness
        self.timeout = timeout
        self.broker_wait = broker_wait
        self.run_id = run_id or new_run_id()
        self.seq = itertools.count()
        self.reply_queue = Queue(REPLY_PREFIX + self.run_id, Exchange(""), routing_key=REPLY_PREFIX + self.run_id,
                                 durable=False, auto_delete=True)
        self._inbox: deque = deque()
        self._pending: dict[str, str] = {}
        self.reconnected: float | None = None
        #: The hosts' run locks (controller/lease.py); None: no lock is taken.
        self.locks = None

    def __enter__(self) -> "Dispatcher":
        self.connection = connection(self.broker_url)
        reach(self.connection, self.broker_url, self.broker_wait)
        self._attach()
        return self

    def _attach(self) -> None:
        self.producer = Producer(self.connection)
        self.consumer = Consumer(self.connection, queues=[self.reply_queue], callbacks=[self._on_reply],
                                 accept=["json"], no_ack=True)
        self.consumer.consume()

    def _reconnect(self, exc: Exception) -> None:
        url = self.broker_url
        self.connection.collect()  # the lost socket's channels; the next connect makes new ones
        try:
            reach(self.connection, url, self.broker_wait)
        except BrokerUnreachable:
            raise BrokerLost(f"lost the broker at {masked(url)} mid-run ({exc}) and it did not come back "
                             f"within {self.broker_wait:g} s") from None
        self._attach()
        self.reconnected = time.monotonic()

    def __exit__(self, *exc) -> None:
        try:
            self.consumer.cancel()
            self.reply_queue.bind(self.connection.default_channel).delete()
        except (OperationalError, RedisConnectionError):
            pass  # a broker lost for good: the reply queue lapses there by itself (REPLY_TTL)
        finally:
            self.connection.release()

    @property
    def waiting(self) -> set[str]:
        """Hosts whose task of the current step has not answered yet."""
        return set(self._pending.values())

    def absent(self, hosts: list[str]) -> dict[str, str]:
        """Those of ``hosts`` no task can be sent to, and why."""
        why = {h: self.seal.unknown[h] for h in hosts if h in self.seal.unknown}
        alive = self.liveness.live([h for h in hosts if h not in why])
        why.update({h: "no live worker for this host (no heartbeat)" for h in hosts if h not in alive and h not in why})
        return {h: why[h] for h in hosts if h in why}

    def claim(self, hosts: list[str]) -> dict[str, str]:
        """Take the run lock of ``hosts``; those another run holds, with its holder."""
        return self.locks.claim(hosts) if self.locks is not None else {}

    def _on_reply(self, body, message) -> None:
        self._inbox.append(body)

    def step(self, payloads: dict[str, list], task: str = RUN_TASK) -> Iterator[Reply]:
        """Send each host ``task`` with its arguments; yield each host's reply
        (and a bundle's progress) as it arrives."""
        pending: dict[str, str] = {}
        # One Redis pipeline for the whole step (kombu's publish batch).
        # Nothing is declared (messages.publish_task): the binding kombu
        # would declare (a transaction of LLEN, one of two SADDs, and a new
        # Redis client each, per host and connection) would route nothing.
        with self.producer.batch():
            for host, args in payloads.items():
                tid = task_id_for(self.run_id, next(self.seq), host)
                sealed = self.seal.seal_task(host, tid, task, self.reply_queue.name, args, self.timeout)
                publish_task(self.producer, task, tid, sealed, queue_for(host).name, self.reply_queue.name,
                             self.timeout)
                pending[tid] = host
        sent = time.monotonic()
        started: set[str] = set()
        checked = sent
        self._pending = pending
        while pending:
            self._drain(0.5)
            while self._inbox:
                reply = self._interpret(self._inbox.popleft(), pending, started)
                if reply:
                    yield reply
            now = time.monotonic()
            late = [t for t in pending if t not in started] if now - sent > self.timeout else []
            for task_id in late:
                yield Reply(pending.pop(task_id), unreachable=f"no answer within {self.timeout:g}s (worker down?)")
            if self.reconnected is not None and now - max(self.reconnected, sent) > self.timeout:
                for task_id in list(pending):
                    yield Reply(pending.pop(task_id), unreachable="the broker was lost while the task ran and no "
                                                                  "answer came after: its outcome is unknown")
            # A restarted Redis has lost the heartbeats: give the workers one TTL to set them again.
            settled = self.reconnected is None or now - self.reconnected > HEARTBEAT_TTL
            if pending and settled and now - checked > LIVENESS_EVERY:
                checked = now
                yield from self._lapsed(pending)

    def _drain(self, wait: float) -> None:
        try:
            self.connection.drain_events(timeout=wait)
        except socket.timeout:
            pass
        except (OperationalError, RedisConnectionError, ConnectionError) as exc:
            self._reconnect(exc)

    def _interpret(self, body: dict, pending: dict[str, str], started: set[str]) -> Reply | None:
        task_id = body.get("task_id")
        if task_id not in pending:
            return None  # a late answer for a step that already gave up on the host
        try:
            status, answer = self.seal.open_reply(pending[task_id], body)
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

    def _lapsed(self, pending: dict[str, str]) -> Iterator[Reply]:
        asked = time.monotonic()
        alive = self.liveness.live(list(pending.values()))
        if time.monotonic() - asked > LIVENESS_EVERY:
            # The read waited out the broker (a Sentinel failover: redis_client
            # retries), during which no worker could beat: judge nothing yet,
            # and count from now as from a reconnection.
            self.reconnected = time.monotonic()
            return
        for task_id, host in list(pending.items()):
            if host not in alive:
                del pending[task_id]
                yield Reply(host, unreachable="the host's worker stopped answering (heartbeat lapsed)")
