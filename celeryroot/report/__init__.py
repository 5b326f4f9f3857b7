"""The operator's view of a run: live (Rich), plain lines, or one JSON document.

Every report gets the same events from the strategy, in order:
``notice``, ``play_start``, ``task_start``, ``host_retry`` (an ``until``
attempt that will be tried again), ``host_result`` (once per host and task),
``play_end``, then ``recap``.
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
