"""What a run is narrowed to: hosts (``--limit``), tasks (tags, and
``--start-at-task`` through a `StartAt` the run holds), and batches
(``serial``)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Iterable

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
            allowed = set(self.limit)
            hosts = [h for h in hosts if h in allowed]
        return ordered(hosts, play.order)

    def takes(self, task: Task) -> bool:
        return selected(set(task.tags), self.only_tags, self.skip_tags)

    def starts_at(self, task: Task) -> bool:
        """Whether ``--start-at-task`` names this task (by name, or as ``role : name``)."""
        return bool(task.name) and self.start_at in (task.name, task.title)


class StartAt:
    """Where ``--start-at-task`` is in a run: nothing runs before the named
    task, everything after it does.

    The one place that follows it, so preflight (is the task there at all?),
    the play loop (is this task past it?) and the bundle batch (did a play
    that ran on the hosts pass it?) cannot disagree; the name itself is
    matched by `Selection.starts_at`.
    """

    def __init__(self, selection: Selection):
        self.selection = selection
        self.reached = selection.start_at is None

    def takes(self, task: Task) -> bool:
        """Whether ``task`` is at or past the start (reaching it starts the run)."""
        self.reached = self.reached or self.selection.starts_at(task)
        return self.reached

    def reaches(self, tasks: Iterable[Task]) -> bool:
        """Whether the run starts among ``tasks`` (or already has): a play
        run elsewhere, whole, passes the start this way."""
        self.reached = self.reached or any(self.selection.starts_at(t) for t in tasks)
        return self.reached

    @property
    def pending(self) -> str | None:
        """The name still to reach, or None once the run has started."""
        return None if self.reached else self.selection.start_at


def ordered(hosts: list[str], order: str) -> list[str]:
    """A play's hosts in its ``order`` (inventory order is the pattern's)."""
    if order in ("sorted", "reverse_sorted"):
        return sorted(hosts, reverse=order == "reverse_sorted")
    if order == "reverse_inventory":
        return hosts[::-1]
    if order == "shuffle":
        return random.sample(hosts, len(hosts))
    return list(hosts)


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
