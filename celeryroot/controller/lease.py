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


#: Renews the locks KEYS held with the token ARGV[1] for ARGV[2] ms; one
#: that lapsed (a broker outage) is taken again if it is still free.
RENEW = """
for _, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if holder == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
  elseif not holder then
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
  end
end
"""
#: Gives back those of KEYS still held with the token ARGV[1].
RELEASE = """
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('DEL', key)
  end
end
"""
#: Keys per round trip: a script over them holds Redis for a few milliseconds at most.
CHUNK = 1000


class RunLocks:
    """One lock per host (a key holding this run's token, with a TTL,
    renewed only by its owner), taken before the run's first task on the
    host and held to its end. A run that finds a host held waits up to
    ``wait`` seconds, then leaves that host out, naming the holder.

    Every step is one round trip per thousand hosts (a pipeline, a Lua
    script), not one per host: the lease's thread renews them all every
    two seconds, and at 5,000 hosts one call each outlasted the lease."""

    def __init__(self, client, run_id: str, wait: float, ttl: float = LEASE_TTL):
        self.client = client
        self.token = holder(run_id)
        self.wait = wait
        self.ttl = ttl
        self.held: set[str] = set()
        self.guard = threading.Lock()
        self.renew_script = client.register_script(RENEW)
        self.release_script = client.register_script(RELEASE)

    def claim(self, hosts: list[str]) -> dict[str, str]:
        todo = [h for h in hosts if h not in self.held]
        deadline = time.monotonic() + self.wait
        while todo:
            taken = set()
            for chunk in _chunks(todo):
                pipe = self.client.pipeline(transaction=False)
                for host in chunk:
                    pipe.set(lock_key(host), self.token, nx=True, px=int(self.ttl * 1000))
                taken.update(h for h, ok in zip(chunk, pipe.execute()) if ok)
            with self.guard:
                self.held |= taken
            todo = [h for h in todo if h not in taken]
            if not todo or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        holders = [v for chunk in _chunks(todo) for v in self.client.mget([lock_key(h) for h in chunk])]
        return {h: (v or b"(a run that just ended)").decode() for h, v in zip(todo, holders)}

    def renew(self) -> None:
        with self.guard:
            hosts = list(self.held)
        for chunk in _chunks(hosts):
            self.renew_script(keys=[lock_key(h) for h in chunk], args=[self.token, int(self.ttl * 1000)])

    def release(self) -> None:
        with self.guard:
            hosts, self.held = list(self.held), set()
        try:
            for chunk in _chunks(hosts):
                self.release_script(keys=[lock_key(h) for h in chunk], args=[self.token])
        except Exception:  # the broker is away: the locks lapse within their TTL
            pass


def _chunks(items: list) -> list[list]:
    return [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]
