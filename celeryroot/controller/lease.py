"""A run is a lease: ``celeryroot.lease.RUN`` lives while its controller does.

A thread of the controller's sets the key with a short TTL three times per
TTL; leaving the run (its end, an error, Ctrl-C, SIGTERM) deletes it. A
worker checks it before each task it starts (worker/app.py), so no task of
a run starts once its controller is gone, however the message got there
late: a frozen worker thawed, a message redelivered or kept by a Redis
restart. Setting the key each time, rather than extending it, brings it
back after a broker outage that dropped it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from ..config import LEASE_TTL, lease_key

log = logging.getLogger("celeryroot.controller")


class Lease(threading.Thread):
    def __init__(self, client, run_id: str, ttl: float = LEASE_TTL):
        super().__init__(name="celeryroot-lease", daemon=True)
        self.client = client
        self.key = lease_key(run_id)
        self.ttl = ttl
        self.value = f"{os.getenv('USER', '?')}@{socket.gethostname()} pid {os.getpid()}"
        self.stopping = threading.Event()

    def __enter__(self) -> "Lease":
        self._renew()  # before the first task is sent; a broker error here ends the run
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.join(self.ttl)
        try:
            self.client.delete(self.key)
        except Exception as exc:  # the broker is away: the key lapses within its TTL
            log.warning("could not end the run's lease %s: %s", self.key, exc)

    def _renew(self) -> None:
        self.client.set(self.key, self.value, px=int(self.ttl * 1000))

    def run(self) -> None:
        while not self.stopping.wait(self.ttl / 3):
            try:
                self._renew()
            except Exception:  # a broker outage: the dispatcher says so and waits for it
                pass
