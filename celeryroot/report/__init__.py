"""The operator's view of a run: live (Rich), plain lines, or one JSON document.

Every report gets the same events, in order: ``run_start`` (the run's id
and command line) from the session; from the strategy ``notice``,
``play_start``, ``play_execution`` (how the play runs, linear or
bundles, and why: engine/execution.py), ``task_start``, ``host_retry`` (an ``until`` attempt that
will be tried again), ``host_result`` (once per host and task),
``play_end``, then ``recap``; and ``run_end`` (how the run ended) last.
"""

from __future__ import annotations

import sys


def make_report(kind: str | None, verbosity: int, diff: bool, stream=None, module: str | None = None):
    """``kind``: "json", "adhoc" (of ``module``), or None to choose live on a
    terminal, plain elsewhere."""
    stream = stream or sys.stdout
    if kind == "json":
        from .json import JsonReport
        return JsonReport(stream)
    if kind == "adhoc":
        from .adhoc import AdhocReport
        return AdhocReport(stream, module)
    if kind == "live" or (kind is None and stream.isatty()):
        from .live import LiveReport
        return LiveReport(stream, verbosity, diff)
    from .plain import PlainReport
    return PlainReport(stream, verbosity, diff)


class Reports:
    """Several reports given the same events: the operator's and the run's history."""

    def __init__(self, *reports):
        self.reports = reports

    def _each(self, event: str, *args) -> None:
        for report in self.reports:
            getattr(report, event)(*args)

    def run_start(self, run_id: str, text: str) -> None:
        self._each("run_start", run_id, text)

    def notice(self, text: str) -> None:
        self._each("notice", text)

    def play_start(self, play, hosts: list[str]) -> None:
        self._each("play_start", play, hosts)

    def play_execution(self, play, execution) -> None:
        self._each("play_execution", play, execution)

    def task_start(self, title: str, hosts: list[str], kind: str = "TASK") -> None:
        self._each("task_start", title, hosts, kind)

    def host_retry(self, host: str, title: str, res: dict, left: int) -> None:
        self._each("host_retry", host, title, res, left)

    def host_result(self, host: str, title: str, res: dict) -> None:
        self._each("host_result", host, title, res)

    def play_end(self) -> None:
        self._each("play_end")

    def recap(self, stats) -> None:
        self._each("recap", stats)

    def close(self) -> None:
        self._each("close")

    def run_end(self, run_id: str, text: str) -> None:
        self._each("run_end", run_id, text)
