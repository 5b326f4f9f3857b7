"""What a run is narrowed to: hosts (``--limit``), tasks (tags and
``--start-at-task`` are applied by the run), and batches (``serial``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..lang.inventory import Inventory
from ..lang.playbook import Play
from ..lang.tags import selected
from ..lang.tasks import Task


@dataclass
class Selection:
    """What the command line narrows a run to."""

    limit: list[str] | None = None
    only_tags: set[str] = field(default_factory=set)
    skip_tags: set[str] = field(default_factory=set)
    start_at: str | None = None

    def hosts(self, inventory: Inventory, play: Play) -> list[str]:
        hosts = inventory.match(play.hosts, play.where)
        if self.limit is not None:
            hosts = [h for h in hosts if h in self.limit]
        return hosts

    def takes(self, task: Task) -> bool:
        return selected(set(task.tags), self.only_tags, self.skip_tags)

    def starts_at(self, task: Task) -> bool:
        """Whether ``--start-at-task`` names this task (by name, or as ``role : name``)."""
        return bool(task.name) and self.start_at in (task.name, task.title)


def batches(hosts: list[str], serial: list[str]) -> list[list[str]]:
    """Split hosts as ``serial`` says: numbers or percentages, the last repeating."""
    if not serial:
        return [hosts] if hosts else []
    out, rest, index = [], list(hosts), 0
    while rest:
        spec = serial[min(index, len(serial) - 1)]
        size = (max(1, math.floor(int(spec[:-1]) * len(hosts) / 100)) if spec.endswith("%") else int(spec))
        out.append(rest[:size])
        rest = rest[size:]
        index += 1
    return out
