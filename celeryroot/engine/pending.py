"""Handlers notified on a host but never run, remembered across runs.

When a task changes a host and a later task fails, Ansible forgets the
notification and the restart never happens (ansible#10498). celeryroot
keeps the names in Redis (``celeryroot.handlers.HOST``) until a play that
defines them runs them on that host; without Redis (embedded, in a bundle) in memory.
"""

from __future__ import annotations

from ..keys import MemoryKeys

KEY = "celeryroot.handlers."


class PendingHandlers:
    def __init__(self, client=None):
        self.client = client if client is not None else MemoryKeys()

    def pending(self, host: str) -> set[str]:
        return {m.decode() for m in self.client.smembers(KEY + host)}

    def remember(self, host: str, names: set[str]) -> None:
        if names:
            self.client.sadd(KEY + host, *names)

    def forget(self, host: str, names: set[str]) -> None:
        if names:
            self.client.srem(KEY + host, *names)
