"""One JSON document per run, shaped like Ansible's ``json`` callback."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


class JsonReport:
    def __init__(self, stream):
        self.out = stream
        self.plays: list[dict] = []
        self.notices: list[str] = []
        self.started = time.monotonic()

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
        doc = {"custom_stats": {}, "global_custom_stats": {}, "plays": self.plays,
               "stats": stats.summary(), "notices": self.notices,
               "duration": round(time.monotonic() - self.started, 3)}
        json.dump(doc, self.out, indent=4, default=str)
        self.out.write("\n")
        self.out.flush()

    def close(self) -> None:
        pass
