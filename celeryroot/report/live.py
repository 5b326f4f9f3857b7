"""The live view on a terminal: a row per host, task lines as results arrive."""

from __future__ import annotations

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from .text import details, headline, item_diffs, status_word, unified

STYLE = {"ok": "green", "changed": "yellow", "fatal": "bold red", "failed": "red", "skipping": "cyan"}


class LiveReport:
    def __init__(self, stream, verbosity: int = 0, diff: bool = False):
        self.console = Console(file=stream)
        self.verbosity = verbosity
        self.diff = diff
        self.rows: dict[str, dict] = {}
        self.live = Live(console=self.console, refresh_per_second=12, transient=True,
                         get_renderable=self._render)
        self.started = False

    def _start(self) -> None:
        if not self.started:
            self.live.start()
            self.started = True

    def _render(self):
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        for column in ("", "host", "task", "ok", "changed", "failed", "skipped"):
            table.add_column(column)
        for host, row in self.rows.items():
            waiting = row["waiting"]
            table.add_row(Spinner("dots") if waiting else Text("•", style=row["style"]), host,
                          row["task"], str(row["ok"]), str(row["changed"]), str(row["failed"]),
                          str(row["skipped"]))
        return table

    def notice(self, text: str) -> None:
        self.console.print(Text(text, style="dim"))

    def play_start(self, play, hosts: list[str]) -> None:
        self._start()
        for host in hosts:
            self.rows.setdefault(host, {"task": "", "waiting": False, "style": "green", "ok": 0, "changed": 0,
                                        "failed": 0, "skipped": 0})
        self.console.print()
        self.console.print(Text(f"PLAY [{play.name}]", style="bold"), Text(f"  {len(hosts)} host(s)", style="dim"))

    def task_start(self, title: str, hosts: list[str], kind: str = "TASK") -> None:
        self.console.print(Text(f"{kind} [{title}]", style="bold blue"))
        for host in hosts:
            row = self.rows[host]
            row["task"] = title
            row["waiting"] = True

    def host_result(self, host: str, title: str, res: dict) -> None:
        word = status_word(res)
        row = self.rows.setdefault(host, {"task": title, "ok": 0, "changed": 0, "failed": 0, "skipped": 0})
        row["waiting"] = False
        row["style"] = STYLE.get(word, "white")
        key = {"fatal": "failed", "skipping": "skipped", "failed": "ok"}.get(word, word)
        row[key] = row.get(key, 0) + 1
        if word == "changed":
            row["ok"] += 1
        self.console.print(Text("  " + headline(host, res, self.verbosity), style=STYLE.get(word, "")))
        for line in details(res, self.verbosity):
            self.console.print(Text("  " + line, style="dim"))
        if self.diff:
            text = unified(item_diffs(res))
            if text:
                self.console.print(Syntax(text, "diff", theme="ansi_dark", background_color="default"))

    def play_end(self) -> None:
        pass

    def recap(self, stats) -> None:
        self.close()
        table = Table(title="PLAY RECAP", title_justify="left", title_style="bold")
        columns = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")
        table.add_column("host")
        for column in columns:
            table.add_column(column, justify="right")
        for host, c in stats.summary().items():
            style = "red" if c["failed"] or c["unreachable"] else ("yellow" if c["changed"] else "green")
            table.add_row(Text(host, style=style), *[str(c[k]) for k in columns])
        self.console.print()
        self.console.print(Group(table))

    def close(self) -> None:
        if self.started:
            self.live.stop()
            self.started = False
