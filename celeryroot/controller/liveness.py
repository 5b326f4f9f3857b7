"""Which hosts have a live worker right now, from their heartbeats.

Each worker writes its record ``celeryroot.host.NAME/heartbeat`` every two
seconds, stamped with the broker's clock (celeryroot/beats.py). The
controller reads them and the broker's clock in one round trip; a host is
live if its record is fresh. No broadcast, events or remote control are
needed (workers run without them, so that a host's Redis credentials can be
confined to its own keys).
"""

from __future__ import annotations

from ..beats import broker_time, decode
from ..config import heartbeat_key


class Liveness:
    """Heartbeats in Redis (``client``)."""

    def __init__(self, client):
        self.client = client

    def live(self, hosts: list[str]) -> set[str]:
        if not hosts:
            return set()
        pipe = self.client.pipeline(transaction=False)
        pipe.time()
        pipe.mget([heartbeat_key(h) for h in hosts])
        now, values = pipe.execute()
        now = broker_time(now)
        return {h for h, v in zip(hosts, values) if (beat := decode(v)) is not None and beat.live(now)}


class Everyone:
    """The embedded mode's: its one worker lives in this very process."""

    def live(self, hosts: list[str]) -> set[str]:
        return set(hosts)
