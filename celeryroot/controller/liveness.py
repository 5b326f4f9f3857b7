"""Which hosts have a live worker right now, from their heartbeats.

Each worker refreshes ``celeryroot.host.NAME/alive`` with a short TTL from a
thread of its own. The controller reads them with one MGET; no broadcast,
events or remote control are needed (workers run without them, so that a
host's Redis credentials can be confined to its own keys).
"""

from __future__ import annotations

from ..config import heartbeat_key


class Liveness:
    """Heartbeats in ``client``: Redis, or the embedded worker's `MemoryKeys`."""

    def __init__(self, client):
        self.client = client

    def live(self, hosts: list[str]) -> set[str]:
        if not hosts:
            return set()
        values = self.client.mget([heartbeat_key(h) for h in hosts])
        return {h for h, v in zip(hosts, values) if v is not None}
