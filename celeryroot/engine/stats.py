"""Per-host counters for the PLAY RECAP, and the exit status they imply."""

from __future__ import annotations

from collections import defaultdict

COUNTERS = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")


class Stats:
    def __init__(self):
        self.hosts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))

    def count(self, host: str, res: dict) -> None:
        """Count one task result the way Ansible's recap does."""
        counters = self.hosts[host]
        if res.get("unreachable"):
            counters["unreachable"] += 1
        elif res.get("failed") and res.get("ignored"):
            counters["ignored"] += 1
            counters["ok"] += 1
        elif res.get("failed"):
            counters["failed"] += 1
        elif res.get("skipped"):
            counters["skipped"] += 1
        else:
            counters["ok"] += 1
            if res.get("changed"):
                counters["changed"] += 1

    def touch(self, host: str) -> None:
        self.hosts[host]  # a targeted host appears in the recap even with nothing counted

    def exit_status(self) -> int:
        """As ansible-playbook: 2 when a host failed, 4 when one was unreachable."""
        if any(c["failed"] for c in self.hosts.values()):
            return 2
        if any(c["unreachable"] for c in self.hosts.values()):
            return 4
        return 0

    def summary(self) -> dict:
        return {host: dict(c) for host, c in sorted(self.hosts.items())}
