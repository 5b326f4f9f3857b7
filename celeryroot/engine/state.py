"""What a run knows of its hosts between tasks and plays, as one value.

Registered results and set_fact values, include_vars' variables, gathered facts, the check-mode
overlay, the hosts that are out of the run, the handlers left pending and
the recap counts. The play loop reads and writes them in a `RunState`; a
whole-play bundle takes one host's part (`HostState`) to the host and
brings it back, as JSON through engine/codec.py, and the controller folds
it in with `RunState.merge`. One value and one codec, so what a bundle
carries cannot forget a piece the loop keeps.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from .pending import PendingHandlers
from .stats import Stats


@dataclass
class HostState:
    """One host's part of the run's state: what a bundle carries out and back."""

    registered: dict = field(default_factory=dict)
    included: dict = field(default_factory=dict)
    facts: dict | None = None
    overlay: set[str] = field(default_factory=set)
    out: bool = False
    pending_handlers: set[str] = field(default_factory=set)
    stats: dict[str, int] = field(default_factory=dict)


@dataclass
class RunState:
    #: Registered results and set_fact values per host; they outlive the play.
    registered: dict[str, dict] = field(default_factory=lambda: defaultdict(dict))
    #: What include_vars loaded per host (below registered results); it outlives the play too.
    included: dict[str, dict] = field(default_factory=lambda: defaultdict(dict))
    facts: dict[str, dict] = field(default_factory=dict)
    #: Check mode: what earlier tasks would have created, per host.
    overlay: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: Hosts that failed or became unreachable: no later play targets them.
    out: set[str] = field(default_factory=set)
    #: Handlers notified and not yet run (kept in Redis across runs).
    pending: PendingHandlers = field(default_factory=PendingHandlers)
    stats: Stats = field(default_factory=Stats)

    @classmethod
    def of(cls, host: str, part: HostState) -> "RunState":
        """The state of a bundle on its host: that host's part alone."""
        state = cls()
        state._absorb(host, part)
        state.pending.remember(host, part.pending_handlers)
        return state

    def part(self, host: str, handlers: set[str]) -> HostState:
        """``host``'s part, with the pending handlers among ``handlers``
        (those the play defines: a bundle can run no others)."""
        return HostState(dict(self.registered[host]), dict(self.included[host]), self.facts.get(host),
                         set(self.overlay[host]), host in self.out, self.pending.pending(host) & handlers,
                         dict(self.stats.hosts[host]))

    def merge(self, host: str, part: HostState, handlers: set[str], check: bool) -> None:
        """Fold back the part a bundle brings home: it replaces what was sent.
        The pending handlers among ``handlers`` become the bundle's, except in
        check mode, where (as in the play loop) nothing is remembered."""
        self._absorb(host, part)
        if not check:
            self.pending.forget(host, handlers - part.pending_handlers)
            self.pending.remember(host, part.pending_handlers)

    def _absorb(self, host: str, part: HostState) -> None:
        self.registered[host] = dict(part.registered)
        self.included[host] = dict(part.included)
        if part.facts is not None:  # {}: cleared (meta: clear_facts)
            self.facts[host] = part.facts
        self.overlay[host] = set(part.overlay)
        if part.out:
            self.out.add(host)
        self.stats.hosts[host].update(part.stats)
