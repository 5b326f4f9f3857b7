"""Plain lines, one per task per host: for logs, pipes and CI."""

from __future__ import annotations

from ..result import item_diffs
from .text import banner, details, fleet_line, headline, recap_line, retry_line, run_line, unified


class PlainReport:
    def __init__(self, stream, verbosity: int = 0, diff: bool = False):
        self.out = stream
        self.verbosity = verbosity
        self.diff = diff
        self.kinds: dict[str, str] = {}
        self.shown: str | None = None
        #: Hosts with a result under the banner shown: one of them again is the next task of that name.
        self.under: set[str] = set()

    def _print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def run_start(self, run_id: str, text: str) -> None:
        self._print(run_line(run_id, text))

    def run_end(self, run_id: str, text: str) -> None:
        self._print(run_line(run_id, text))

    def notice(self, text: str) -> None:
        self._print(text)

    def play_start(self, play, hosts: list[str]) -> None:
        self._print()
        self._print(banner("PLAY", play.name))
        self.shown = None

    def play_execution(self, play, execution) -> None:
        self.notice(execution.line(play))

    def task_start(self, title: str, hosts: list[str], kind: str = "TASK") -> None:
        self.kinds[title] = kind

    def _banner(self, host: str, title: str) -> None:
        # The banner comes with the first line under it: hosts running a
        # whole-play bundle reach tasks at their own pace.
        if title != self.shown or host in self.under:
            self._print()
            self._print(banner(self.kinds.get(title, "TASK"), title))
            self.shown, self.under = title, set()

    def host_retry(self, host: str, title: str, res: dict, left: int) -> None:
        self._banner(host, title)
        self._print(retry_line(host, title, left))

    def host_result(self, host: str, title: str, res: dict) -> None:
        self._banner(host, title)
        self.under.add(host)
        for item in res.get("results") or []:
            if self.verbosity or item.get("failed") or item.get("changed"):
                self._print(headline(host, item, self.verbosity, label=item.get("_label", item.get("item"))))
        self._print(headline(host, res, self.verbosity))
        for line in details(res, self.verbosity):
            self._print(line)
        if self.diff:
            text = unified(item_diffs(res))
            if text:
                self._print(text.rstrip("\n"))

    def play_end(self) -> None:
        pass

    def recap(self, stats) -> None:
        self._print()
        self._print(banner("PLAY RECAP", None))
        summary = stats.summary()
        for host, counters in summary.items():
            self._print(recap_line(host, counters))
        fleet = fleet_line(summary)
        if fleet:
            self._print()
            self._print(fleet)
        self._print()

    def close(self) -> None:
        pass
