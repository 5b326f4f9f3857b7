"""The live view on a terminal.

Results scroll above a live panel. While every host fits the terminal, the
panel has a row per host and each result is printed as it arrives, as
today's Ansible users read them. A fleet that does not fit gets a panel
that does: the play's and the task's progress, one count per state, the
failed and unreachable hosts (always shown, they are what the operator
is watching for) and the slowest hosts still running; and each task's
identical results are printed once, for all the hosts that had them
("42 hosts: changed: …"), failures still at once and one by one.
"""

from __future__ import annotations

import time
from collections import defaultdict

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.spinner import Spinner
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from ..result import item_diffs
from .text import (banner, details, fleet_line, headline, recap_line, retry_line, run_line, status_word,
                   unified)

STYLE = {"ok": "green", "changed": "yellow", "fatal": "bold red", "failed": "red", "skipping": "cyan",
         "unreachable": "bold magenta", "running": "blue"}
#: Rows the panel leaves to the scrolling output above it.
SPARE_ROWS = 6
#: Host names a grouped line lists before "+N more".
NAMED = 3


class LiveReport:
    def __init__(self, stream, verbosity: int = 0, diff: bool = False, console: Console | None = None,
                 clock=time.monotonic):
        self.console = console or Console(file=stream)
        self.verbosity = verbosity
        self.diff = diff
        self.clock = clock
        self.hosts: list[str] = []
        #: Per host: its counts, its state in the current task, since when.
        self.rows: dict[str, dict] = {}
        self.play_tasks = 0
        self.tasks_done: set[str] = set()
        self.task = ""
        #: A fleet's results per task title, printed grouped once every host has one.
        self.pending: dict[str, dict[str, list]] = defaultdict(dict)
        self.live = Live(console=self.console, refresh_per_second=8, transient=True, get_renderable=self.panel)
        self.started = False

    @property
    def fleet(self) -> bool:
        """More hosts than the terminal has rows for: the grouped view."""
        return len(self.hosts) > self.console.size.height - SPARE_ROWS

    def _start(self) -> None:
        if not self.started:
            self.live.start()
            self.started = True

    # events

    def run_start(self, run_id: str, text: str) -> None:
        self.console.print(Text(run_line(run_id, text), style="bold"), soft_wrap=True)

    def run_end(self, run_id: str, text: str) -> None:
        self.console.print(Text(run_line(run_id, text), style="bold"), soft_wrap=True)

    def notice(self, text: str) -> None:
        self.console.print(Text(text, style="dim"))

    def play_start(self, play, hosts: list[str]) -> None:
        self._start()
        self.hosts = list(hosts)
        for host in hosts:
            self.rows.setdefault(host, {"ok": 0, "changed": 0, "failed": 0, "skipped": 0, "unreachable": 0})
            self.rows[host].update(state="", task="", since=self.clock())
        self.play_tasks = max(1, len(getattr(play, "tasks", ()) or ()))
        self.tasks_done = set()
        self.console.print()
        self.console.print(Text(f"PLAY [{play.name}]", style="bold"), Text(f"  {len(hosts)} host(s)", style="dim"))

    def play_execution(self, play, execution) -> None:
        self.notice(execution.line(play))

    def task_start(self, title: str, hosts: list[str], kind: str = "TASK") -> None:
        if not self.fleet or title != self.task:
            self.console.print(Text(f"{kind} [{title}]", style="bold blue"))
        self.task = title
        now = self.clock()
        for host in hosts:
            self.rows[host].update(state="running", task=title, since=now)

    def host_result(self, host: str, title: str, res: dict) -> None:
        word = status_word(res)
        state = "unreachable" if res.get("unreachable") else word
        row = self.rows.setdefault(host, {"ok": 0, "changed": 0, "failed": 0, "skipped": 0, "unreachable": 0})
        row.update(state=state, task=title)
        counter = {"fatal": "failed", "skipping": "skipped", "failed": "ok"}.get(state, state)
        row[counter] = row.get(counter, 0) + 1
        if word == "changed":
            row["ok"] += 1
        if not self.fleet or res.get("failed"):
            self._print_result(host, res)
        else:
            self.pending[title][host] = res
            if len(self.pending[title]) >= len(self.hosts):
                self._print_groups(title)
        if self.fleet and sum(1 for r in self.rows.values() if r["task"] == title and r["state"] != "running") \
                >= len(self.hosts):
            self.tasks_done.add(title)

    def host_retry(self, host: str, title: str, res: dict, left: int) -> None:
        if not self.fleet:  # a fleet's panel shows the host as still running
            self.console.print(Text("  " + retry_line(host, title, left), style="dim"))

    def play_end(self) -> None:
        for title in list(self.pending):
            self._print_groups(title)

    def recap(self, stats) -> None:
        self.close()
        summary = stats.summary()
        self.console.print()
        self.console.print(Text(banner("PLAY RECAP", None), style="bold"))
        for host, c in summary.items():
            style = "red" if c["failed"] or c["unreachable"] else ("yellow" if c["changed"] else "green")
            self.console.print(Text(recap_line(host, c), style=style), soft_wrap=True)
        fleet = fleet_line(summary)
        if fleet:
            self.console.print()
            self.console.print(Text(fleet, style="bold"), soft_wrap=True)

    def close(self) -> None:
        self.play_end()
        if self.started:
            self.live.stop()
            self.started = False

    # what is printed

    def _print_result(self, host: str, res: dict) -> None:
        word = status_word(res)
        self.console.print(Text("  " + headline(host, res, self.verbosity), style=STYLE.get(word, "")))
        for line in details(res, self.verbosity):
            self.console.print(Text("  " + line, style="dim"))
        self._print_diff(res)

    def _print_diff(self, res: dict) -> None:
        if self.diff:
            text = unified(item_diffs(res))
            if text:
                self.console.print(Syntax(text, "diff", theme="ansi_dark", background_color="default"))

    def _print_groups(self, title: str) -> None:
        """A task's results, one block per distinct outcome, message and diff."""
        groups: dict[tuple, list[str]] = {}
        examples: dict[tuple, dict] = {}
        for host, res in self.pending.pop(title, {}).items():
            word, msg = status_word(res), res.get("msg") or ""
            key = (word, f"{word}: {msg}" if msg else word, unified(item_diffs(res)) if self.diff else "")
            groups.setdefault(key, []).append(host)
            examples.setdefault(key, res)
        for key, hosts in groups.items():
            word, line, _ = key
            named = ", ".join(hosts[:NAMED]) + (f", +{len(hosts) - NAMED} more" if len(hosts) > NAMED else "")
            self.console.print(Text(f"  {len(hosts)} host{'s' if len(hosts) > 1 else ''}: {line}  [{named}]",
                                    style=STYLE.get(word, "")))
            self._print_diff(examples[key])

    # the panel

    def panel(self):
        return self._fleet_panel() if self.fleet else self._host_table()

    def _host_table(self) -> Table:
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        for column in ("", "host", "task", "ok", "changed", "failed", "skipped"):
            table.add_column(column)
        for host, row in self.rows.items():
            mark = Spinner("dots") if row["state"] == "running" else Text("•", style=STYLE.get(row["state"], ""))
            table.add_row(mark, host, row["task"], str(row["ok"]), str(row["changed"]),
                          str(row["failed"] + row["unreachable"]), str(row["skipped"]))
        return table

    def _fleet_panel(self) -> Group:
        width, height = self.console.size
        states = defaultdict(int)
        for host in self.hosts:
            states[self.rows[host]["state"] or "waiting"] += 1
        answered = len(self.hosts) - states["running"] - states["waiting"]
        lines: list = [
            _bar("play", len(self.tasks_done), self.play_tasks, width, "tasks"),
            _bar("task", answered, len(self.hosts), width, f"hosts  {self.task}"),
            Text("  ".join(f"{name} {states[state]}" for name, state in
                           (("ok", "ok"), ("changed", "changed"), ("failed", "fatal"),
                            ("unreachable", "unreachable"), ("skipped", "skipping"), ("running", "running"))),
                 no_wrap=True, overflow="ellipsis"),
        ]
        running = sorted((h for h in self.hosts if self.rows[h]["state"] == "running"),
                         key=lambda h: self.rows[h]["since"])
        room = max(2, height - SPARE_ROWS - len(lines) - (1 if running else 0))
        for label, hosts in (("UNREACHABLE", [h for h in self.hosts if self.rows[h]["unreachable"]]),
                             ("FAILED", [h for h in self.hosts if self.rows[h]["failed"]])):
            if hosts and room > 0:
                wrapped = _names(f"{label} ({len(hosts)}):", hosts, width, room)
                lines += [Text(line, style=STYLE["fatal"]) for line in wrapped]
                room -= len(wrapped)
        if running:
            now = self.clock()
            slowest = ", ".join(f"{h} {now - self.rows[h]['since']:.0f}s" for h in running[:20])
            lines.append(Text(f"slowest: {slowest}", style="dim", no_wrap=True, overflow="ellipsis"))
        return Group(*lines)


def _names(label: str, hosts: list[str], width: int, rows: int) -> list[str]:
    """``label`` and the host names in at most ``rows`` lines of ``width``,
    the last ending in "+N more" where they do not all fit."""
    lines, line = [], label
    for index, host in enumerate(hosts):
        more = f" +{len(hosts) - index} more"
        last = len(lines) == rows - 1
        if len(line) + 1 + len(host) + (len(more) if last and index < len(hosts) - 1 else 0) > width:
            if last:
                return lines + [line + more]
            lines.append(line)
            line = " "
        line += " " + host
    return lines + [line]


def _bar(label: str, done: int, total: int, width: int, what: str) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=5)
    grid.add_column(width=max(10, min(40, width // 3)))
    grid.add_column(no_wrap=True, overflow="ellipsis")
    grid.add_row(label, ProgressBar(total=max(total, 1), completed=done), f"{done}/{total} {what}")
    return grid

