"""Facts kept between runs, per host, for ``gather_facts: smart``.

With a broker, a host's facts live in Redis under ``celeryroot.facts.HOST``
as JSON and expire after ``fact_caching_timeout`` seconds (Ansible's
setting, default 24 h); the controller writes them, never a worker. The
embedded mode keeps them in memory for the run.

An entry is the host's ``ansible_facts``: the gathered ones (named without
Ansible's prefix) and those a module or a ``set_fact: cacheable: true``
set, which `OWN` names, since they are variables by their own names (as
Ansible injects them), not ``ansible_NAME``. The linear strategy and a
bundle's controller both read and write an entry through `variables` and
`keep`, so the two ways leave the same entry.
"""

from __future__ import annotations

import json

from ..host.facts import facts_to_vars
from ..lang.source import InputError

#: Outside ``celeryroot.host.``: there, the facts of web1 would be the queue
#: of a host named ``facts.web1``, which its ACL lets it read and write.
FACT_PREFIX = "celeryroot.facts."
DEFAULT_TIMEOUT = 86400
#: In an entry, the names of the facts that are variables by their own
#: names (no fact gathered by setup starts with an underscore).
OWN = "_own"


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

    def variables(self, host: str) -> dict | None:
        """The variables the host's cached facts make (as a run keeps them:
        engine/state.RunState.facts), or None when none are cached."""
        cached = self.get(host)
        if not cached:
            return None
        own = cached.pop(OWN, [])
        return {**{name: cached[name] for name in own if name in cached}, **facts_to_vars(cached)}

    def keep(self, host: str, variables: dict) -> None:
        """Cache the facts of ``variables`` (the host's fact variables, as
        `variables` returns them), naming those that are variables by their own names."""
        own = sorted(name for name in variables if not name.startswith("ansible_"))
        facts = variables.get("ansible_facts", {})
        self.put(host, {**facts, OWN: own} if own else facts)

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
