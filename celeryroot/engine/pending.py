"""Handlers notified on a host but never run, remembered across runs.

When a task changes a host and a later task fails, Ansible forgets the
notification and the restart never happens (ansible#10498). celeryroot
keeps the names in Redis (``celeryroot.handlers.HOST``) until a play that
defines them runs them on that host. The embedded mode keeps them in memory.
"""

from __future__ import annotations

from collections import defaultdict

KEY = "celeryroot.handlers."


class PendingHandlers:
    def __init__(self, client=None):
        self.client = client
        self.local: dict[str, set[str]] = defaultdict(set)

    def pending(self, host: str) -> set[str]:
        if self.client is None:
            return set(self.local[host])
        return {m.decode() for m in self.client.smembers(KEY + host)}

    def remember(self, host: str, names: set[str]) -> None:
        if not names:
            return
        if self.client is None:
            self.local[host] |= names
        else:
            self.client.sadd(KEY + host, *names)

    def forget(self, host: str, names: set[str]) -> None:
        if not names:
            return
        if self.client is None:
            self.local[host] -= names
        else:
            self.client.srem(KEY + host, *names)
