"""A worker's heartbeat: ``celeryroot.host.NAME/alive``, refreshed with a
short TTL from a thread of its own, so the controller can tell with one MGET
which hosts have a live worker (controller/liveness.py)."""

from __future__ import annotations

import json
import logging
import os
import threading
import time

from ..config import HEARTBEAT_TTL, heartbeat_key
from ..messages import redis_client

log = logging.getLogger(__name__)


class Heartbeat(threading.Thread):
    """Keep this host's key alive while the worker runs."""

    def __init__(self, broker_url: str, host: str, ttl: float = HEARTBEAT_TTL):
        super().__init__(name="celeryroot-heartbeat", daemon=True)
        self.client = redis_client(broker_url)
        self.key = heartbeat_key(host)
        self.ttl = ttl
        self.stopping = threading.Event()
        self.value = json.dumps({"pid": os.getpid(), "since": time.time()})

    def run(self) -> None:
        failing = False
        while not self.stopping.is_set():
            try:
                self.client.set(self.key, self.value, px=int(self.ttl * 1000))
            except Exception as exc:  # the broker may be away; the key then lapses
                # Said once per outage: the consumer says when it is back.
                if not failing:
                    log.warning("heartbeat: %s (retrying every %g s)", exc, self.ttl / 3)
                failing = True
            else:
                failing = False
            self.stopping.wait(self.ttl / 3)

    def stop(self) -> None:
        self.stopping.set()
        try:
            self.client.delete(self.key)
        except Exception as exc:
            log.warning("heartbeat: %s", exc)
