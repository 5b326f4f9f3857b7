"""A run is a lease: ``celeryroot.lease.RUN`` lives while its controller does.

A thread of the controller's sets the key with a short TTL three times per
TTL; leaving the run (its end, an error, Ctrl-C, SIGTERM) deletes it. A
worker checks it before each task it starts (worker/app.py), so no task of
a run starts once its controller is gone, however the message got there
late: a frozen worker thawed, a message redelivered or kept by a Redis
restart. Setting the key each time, rather than extending it, brings it
back after a broker outage that dropped it.

The same thread keeps the run's per-host locks (`RunLocks`): two runs on one
host would interleave their tasks, so the second waits for the first, and
a crashed holder's lock lapses with its lease.
"""

from __future__ import annotations

import getpass
import logging
import os
import socket
import threading
import time

from redis.exceptions import LockError

from ..config import LEASE_TTL, lease_key, lock_key

log = logging.getLogger("celeryroot.controller")


class Lease(threading.Thread):
    def __init__(self, client, run_id: str, ttl: float = LEASE_TTL, locks: "RunLocks | None" = None):
        super().__init__(name="celeryroot-lease", daemon=True)
        self.client = client
        self.key = lease_key(run_id)
        self.ttl = ttl
        self.value = holder(run_id)
        self.locks = locks
        self.stopping = threading.Event()

    def __enter__(self) -> "Lease":
        self._renew()  # before the first task is sent; a broker error here ends the run
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.join(self.ttl)
        if self.locks is not None:
            self.locks.release()
        try:
            self.client.delete(self.key)
        except Exception as exc:  # the broker is away: the key lapses within its TTL
            log.warning("could not end the run's lease %s: %s", self.key, exc)

    def _renew(self) -> None:
        self.client.set(self.key, self.value, px=int(self.ttl * 1000))
        if self.locks is not None:
            self.locks.renew()

    def run(self) -> None:
        while not self.stopping.wait(self.ttl / 3):
            try:
                self._renew()
            except Exception:  # a broker outage: the dispatcher says so and waits for it
                pass


def holder(run_id: str) -> str:
    """Who holds a lease or a lock, as the run that waits for it is told."""
    return f"run {run_id} by {getpass.getuser()}@{socket.gethostname()} pid {os.getpid()}"


class RunLocks:
    """One lock per host (redis-py's ``Lock``: a token, a TTL, renewed only
    by its owner), taken before the run's first task on the host and held
    to its end. A run that finds a host held waits up to ``wait`` seconds,
    then leaves that host out, naming the holder."""

    def __init__(self, client, run_id: str, wait: float, ttl: float = LEASE_TTL):
        self.client = client
        self.token = holder(run_id)
        self.wait = wait
        self.ttl = ttl
        self.held: dict[str, object] = {}
        self.guard = threading.Lock()

    def claim(self, hosts: list[str]) -> dict[str, str]:
        todo = [h for h in hosts if h not in self.held]
        deadline = time.monotonic() + self.wait
        while todo:
            for host in list(todo):
                lock = self.client.lock(lock_key(host), timeout=self.ttl, thread_local=False)
                if lock.acquire(blocking=False, token=self.token):
                    with self.guard:
                        self.held[host] = lock
                    todo.remove(host)
            if not todo or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        return {h: (self.client.get(lock_key(h)) or b"(a run that just ended)").decode() for h in todo}

    def renew(self) -> None:
        with self.guard:
            locks = list(self.held.values())
        for lock in locks:
            try:
                lock.reacquire()
            except LockError:  # lapsed in a broker outage: taken again if still free
                lock.acquire(blocking=False, token=self.token)

    def release(self) -> None:
        with self.guard:
            locks, self.held = list(self.held.values()), {}
        for lock in locks:
            try:
                lock.release()
            except Exception:  # lapsed, or the broker is away: it lapses within its TTL
                pass
