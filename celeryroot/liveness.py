"""Per-host heartbeats: which hosts have a live worker right now.

Each worker refreshes ``celeryroot.host.NAME/alive`` with a short TTL from a
thread of its own. The controller reads them with one MGET; no broadcast,
events or remote control are needed (workers run without them, so that a
host's Redis credentials can be confined to its own keys).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time

from .config import HEARTBEAT_TTL, heartbeat_key

log = logging.getLogger(__name__)


def redis_client(broker_url: str):
    import redis

    return redis.Redis.from_url(broker_url, socket_timeout=5, socket_connect_timeout=5,
                                health_check_interval=30)


class RedisLiveness:
    def __init__(self, broker_url: str):
        self.client = redis_client(broker_url)

    def live(self, hosts: list[str]) -> set[str]:
        if not hosts:
            return set()
        values = self.client.mget([heartbeat_key(h) for h in hosts])
        return {h for h, v in zip(hosts, values) if v is not None}


class LocalLiveness:
    """Embedded mode: the in-process worker serves exactly these hosts."""

    def __init__(self, hosts: set[str]):
        self.hosts = set(hosts)

    def live(self, hosts: list[str]) -> set[str]:
        return {h for h in hosts if h in self.hosts}


class Heartbeat(threading.Thread):
    """The worker side: keep this host's key alive while the worker runs."""

    def __init__(self, broker_url: str, host: str, ttl: float = HEARTBEAT_TTL):
        super().__init__(name="celeryroot-heartbeat", daemon=True)
        self.client = redis_client(broker_url)
        self.key = heartbeat_key(host)
        self.ttl = ttl
        self.stopping = threading.Event()
        self.value = json.dumps({"pid": os.getpid(), "since": time.time()})

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.client.set(self.key, self.value, px=int(self.ttl * 1000))
            except Exception as exc:  # the broker may be away; the key then lapses
                log.warning("heartbeat: %s", exc)
            self.stopping.wait(self.ttl / 3)

    def stop(self) -> None:
        self.stopping.set()
        try:
            self.client.delete(self.key)
        except Exception as exc:
            log.warning("heartbeat: %s", exc)
