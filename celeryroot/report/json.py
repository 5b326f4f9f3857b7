"""One JSON document per run, shaped like Ansible's ``json`` callback.

Indented by four spaces as Ansible's is, down to each host's result, which
is one line: ``json`` indents only with its pure-Python encoder, which took
1.4 s for a recap of 10,000 results; a line per result is its C encoder's,
and the pieces are written as they come (no copy of the whole text).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


#: How deep a host's result sits: doc > plays > play > tasks > task > hosts > result.
RESULT_DEPTH = 6
#: json.dumps with a keyword makes a new encoder per call; one is enough.
_one_line = json.JSONEncoder(default=str).encode


def write_indented(value, depth: int, out) -> None:
    """Write ``value`` to ``out`` as ``json.dump(value, out, indent=4)``
    does, except that whatever lies ``depth`` levels down is one line."""
    out.writelines(_pieces(value, depth, 0))


def _pieces(value, depth: int, level: int):
    """The text in small pieces, each written as it comes: the whole of a
    recap of 50,000 results held at once is tens of megabytes."""
    if depth == level or not isinstance(value, (dict, list)) or not value:
        yield _one_line(value)
        return
    inner, is_dict = "\n" + "    " * (level + 1), isinstance(value, dict)
    yield "{" if is_dict else "["
    for index, item in enumerate(value.items() if is_dict else value):
        yield ("," + inner) if index else inner
        if is_dict:
            key, item = item
            yield _one_line(str(key)) + ": "
        yield from _pieces(item, depth, level + 1)
    yield "\n" + "    " * level + ("}" if is_dict else "]")


class JsonReport:
    def __init__(self, stream):
        self.out = stream
        self.plays: list[dict] = []
        self.notices: list[str] = []
        self.started = time.monotonic()
        self.run_id: str | None = None

    def run_start(self, run_id: str, text: str) -> None:
        self.run_id = run_id

    def run_end(self, run_id: str, text: str) -> None:
        pass  # the document is out; its run_id names the run in the history

    def notice(self, text: str) -> None:
        self.notices.append(text)

    def play_start(self, play, hosts: list[str]) -> None:
        self.plays.append({"play": {"name": play.name, "hosts": hosts, "duration": {"start": _now()}},
                           "tasks": []})
        #: Where each host is: hosts of a whole-play bundle start tasks at
        #: their own pace, so a host's n-th start of a task names one entry.
        self.entries: dict[tuple, dict] = {}
        self.seen: dict[tuple, int] = {}
        self.current: dict[str, dict] = {}

    def play_execution(self, play, execution) -> None:
        self.plays[-1]["play"]["execution"] = {"mode": execution.mode, "why": execution.why}

    def task_start(self, title: str, hosts: list[str], kind: str = "TASK") -> None:
        for host in hosts:
            n = self.seen[(host, kind, title)] = self.seen.get((host, kind, title), 0) + 1
            key = (kind, title, n)
            if key not in self.entries:
                self.entries[key] = {"task": {"name": title, "kind": kind.lower(), "duration": {"start": _now()}},
                                     "hosts": {}}
                self.plays[-1]["tasks"].append(self.entries[key])
            self.current[host] = self.entries[key]

    def host_result(self, host: str, title: str, res: dict) -> None:
        task = self.current[host]
        task["hosts"][host] = {k: v for k, v in res.items() if k != "status"}
        task["task"]["duration"]["end"] = _now()

    def host_retry(self, host: str, title: str, res: dict, left: int) -> None:
        pass  # as Ansible's json callback: the result says how many attempts it took

    def play_end(self) -> None:
        self.plays[-1]["play"]["duration"]["end"] = _now()

    def recap(self, stats) -> None:
        doc = {"run_id": self.run_id, "custom_stats": {}, "global_custom_stats": {}, "plays": self.plays,
               "stats": stats.summary(), "notices": self.notices,
               "duration": round(time.monotonic() - self.started, 3)}
        write_indented(doc, RESULT_DEPTH, self.out)
        self.out.write("\n")
        self.out.flush()

    def close(self) -> None:
        pass
