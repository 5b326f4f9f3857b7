"""Facts kept between runs, per host, for ``gather_facts: smart``.

With a broker, a host's facts live in Redis under ``celeryroot.host.facts.HOST``
as JSON and expire after ``fact_caching_timeout`` seconds (Ansible's
setting, default 24 h); the controller writes them, never a worker. The
embedded mode keeps them in memory for the run.
"""

from __future__ import annotations

import json
import time

from ..messages import redis_client
from ..lang.source import InputError

FACT_PREFIX = "celeryroot.host.facts."
DEFAULT_TIMEOUT = 86400


def fact_key(host: str) -> str:
    return FACT_PREFIX + host


class RedisFactCache:
    def __init__(self, broker_url: str, timeout: float = DEFAULT_TIMEOUT):
        self.client = redis_client(broker_url)
        self.timeout = timeout

    def get(self, host: str) -> dict | None:
        raw = self.client.get(fact_key(host))
        return json.loads(raw) if raw is not None else None

    def put(self, host: str, facts: dict) -> None:
        # A timeout of 0 means "never expire", as Ansible's fact_caching_timeout.
        self.client.set(fact_key(host), json.dumps(facts), px=int(self.timeout * 1000) or None)

    def forget(self, host: str) -> None:
        self.client.delete(fact_key(host))


class MemoryFactCache:
    def __init__(self, timeout: float = DEFAULT_TIMEOUT):
        self.timeout = timeout
        self.entries: dict[str, tuple[float, str]] = {}

    def get(self, host: str) -> dict | None:
        entry = self.entries.get(host)
        if entry is None or (self.timeout and time.monotonic() - entry[0] >= self.timeout):
            self.entries.pop(host, None)
            return None
        return json.loads(entry[1])

    def put(self, host: str, facts: dict) -> None:
        # Stored as JSON so a reader gets its own copy, as it would from Redis.
        self.entries[host] = (time.monotonic(), json.dumps(facts))

    def forget(self, host: str) -> None:
        self.entries.pop(host, None)


def fact_cache(config) -> RedisFactCache | MemoryFactCache:
    """The cache a run uses: Redis beside the broker, or memory when embedded."""
    timeout = config.options.get("fact_caching_timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
        raise InputError(None, f"{config.source}: fact_caching_timeout must be a number of seconds "
                               f"(0: never expire), got {timeout!r}")
    if config.embedded:
        return MemoryFactCache(timeout)
    return RedisFactCache(config.broker_url, timeout)
