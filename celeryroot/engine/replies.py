"""What a dispatcher hands the strategy: one host's answer to one step.

The strategy talks to a dispatcher with ``absent(hosts)``, ``claim(hosts)``
and ``step(payloads, task)``: the controller's sends messages to the hosts'
queues (controller/dispatch.py). A bundle on its host has none: its calls
run in the worker's own process (``PlayBatch._run_here``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Reply:
    host: str
    results: list[dict] | None = None
    predicted: list[str] | None = None
    unreachable: str | None = None
    #: A bundle's final answer, or one of its progress events.
    final: dict | None = None
    progress: dict | None = None
    #: The worker's task raised: a bug, reported as the host's failure.
    error: str | None = None
