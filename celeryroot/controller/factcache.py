"""Facts kept between runs, per host, for ``gather_facts: smart``.

With a broker, a host's facts live in Redis under ``celeryroot.facts.HOST``
as JSON and expire after ``fact_caching_timeout`` seconds (Ansible's
setting, default 24 h); the controller writes them, never a worker. The
embedded mode keeps them in memory for the run.
"""

from __future__ import annotations

import json

from ..lang.source import InputError

#: Outside ``celeryroot.host.``: there, the facts of web1 would be the queue
#: of a host named ``facts.web1``, which its ACL lets it read and write.
FACT_PREFIX = "celeryroot.facts."
DEFAULT_TIMEOUT = 86400


def fact_key(host: str) -> str:
    return FACT_PREFIX + host


class FactCache:
    """Facts per host in ``client`` (Redis, or `MemoryKeys` when embedded),
    expiring after ``timeout`` seconds; 0 means never, as Ansible's
    fact_caching_timeout."""

    def __init__(self, client, timeout: float = DEFAULT_TIMEOUT):
        self.client = client
        self.timeout = timeout

    def get(self, host: str) -> dict | None:
        raw = self.client.get(fact_key(host))
        return json.loads(raw) if raw is not None else None

    def put(self, host: str, facts: dict) -> None:
        self.client.set(fact_key(host), json.dumps(facts), px=int(self.timeout * 1000) or None)

    def forget(self, host: str) -> None:
        self.client.delete(fact_key(host))


def fact_cache(config, client) -> FactCache:
    """The cache a run uses, in ``client`` (Redis beside the broker, or memory
    when embedded), with the configuration's timeout."""
    timeout = config.options.get("fact_caching_timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
        raise InputError(None, f"{config.source}: fact_caching_timeout must be a number of seconds "
                               f"(0: never expire), got {timeout!r}")
    return FactCache(client, timeout)
