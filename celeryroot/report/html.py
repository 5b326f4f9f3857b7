"""A run from the history as one HTML page (``celeryroot-runs show ID --html FILE``).

The page stands alone, to be mailed or attached to a ticket: its CSS is
inline, it loads nothing and runs no script. It shows the run's header,
the recap, a timeline with a lane per host (a bar per task, from when the
task started for the host to its result, coloured by the result's
outcome: the slow host and where a host failed are seen at a glance) and
every task's results with their diffs. Everything from the run (task and
host names, messages, diffs) is user content and goes through `esc`.
"""

from __future__ import annotations

import shlex
from datetime import datetime
from html import escape

from ..result import item_diffs
from .text import RECAP_COUNTERS, details, headline, unified

#: The outcomes (controller/history.py's words), in the legend's order.
OUTCOMES = ("ok", "changed", "failed", "unreachable", "ignored", "skipped")

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; margin: 0 0 .5em; } h2 { font-size: 1.15em; margin: 1.5em 0 .5em; }
dl#run { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; margin: 0; }
dt { color: #666; } dd { margin: 0; } code, pre { font: 12px/1.35 ui-monospace, monospace; }
.state { font-weight: bold; } .state.finished { color: #1a7f37; } .state.running { color: #0969da; }
.state.interrupted, .state.error, .state.lost { color: #cf222e; }
table#recap { border-collapse: collapse; } #recap th, #recap td { padding: .2em .8em; text-align: right; }
#recap th:first-child { text-align: left; } #recap tbody tr:nth-child(odd) { background: #f6f8fa; }
#recap tr.failed th { color: #cf222e; }
.lane, .scale { display: grid; grid-template-columns: 12em 1fr 5em; align-items: center; gap: .5em; height: 1.6em; }
.lane .host { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.lane .busy { text-align: right; color: #666; }
.track { position: relative; height: 1.1em; background: #f6f8fa; }
.bar { position: absolute; top: 0; bottom: 0; min-width: 2px; box-sizing: border-box; border-right: 1px solid #fff; }
.axis { position: relative; height: 1.2em; color: #666; font-size: .85em; }
.axis span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
.axis span:first-child { transform: none; } .axis span:last-child { transform: translateX(-100%); }
.bar.ok, .legend .ok { background: #2da44e; } .bar.changed, .legend .changed { background: #d4a72c; }
.bar.failed, .legend .failed { background: #cf222e; } .bar.unreachable, .legend .unreachable { background: #8250df; }
.bar.ignored, .legend .ignored { background: #fb8f44; } .bar.skipped, .legend .skipped { background: #afb8c1; }
.legend span { display: inline-block; padding: 0 .5em; margin-right: .3em; color: #fff; }
.legend .skipped, .legend .changed { color: #222; }
.task h3 { font-size: 1em; margin: 1em 0 .3em; font-weight: 600; }
.result { margin: .1em 0 .1em 1em; } .result > code { white-space: pre-wrap; }
.result.failed > code, .result.unreachable > code { color: #cf222e; }
.result.changed > code { color: #9a6700; } .result.ok > code { color: #1a7f37; }
.result.skipped > code { color: #57606a; } .result.ignored > code { color: #bc4c00; }
pre { margin: .2em 0 .5em 1em; padding: .4em .6em; background: #f6f8fa; overflow-x: auto; }
pre.diff .add { color: #1a7f37; } pre.diff .del { color: #cf222e; } pre.diff .hunk { color: #8250df; }
"""


def esc(value) -> str:
    return escape(str(value), quote=True)


def page(run: dict) -> str:
    """The whole page of ``run``, a document of `History.run`."""
    title = f"run {run['id']}: {run['state']}"
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title>", f"<style>{STYLE}</style></head><body>",
        _header(run), _recap(run), _timeline(run), _results(run), "</body></html>", ""])


def _when(t: float | None) -> str:
    return datetime.fromtimestamp(t).astimezone().strftime("%Y-%m-%d %H:%M:%S %z") if t is not None else "-"


def _header(run: dict) -> str:
    why = f" ({run['reason']})" if run["reason"] else ""
    exit_status = "" if run["exit_status"] is None else f", exit {run['exit_status']}"
    took = f" ({run['ended'] - run['started']:.1f} s)" if run["ended"] is not None else ""
    rows = [("outcome", f'<span class="state {esc(run["state"])}">{esc(run["state"])}</span>'
                        f"{esc(why + exit_status)}{' (check mode)' if run['check'] else ''}"),
            ("command", f"<code>{esc(shlex.join(run['command']))}</code>")]
    if run["playbook"]:
        rows.append(("playbook", f"<code>{esc(run['playbook'])}</code> sha256 <code>{esc(run['sha256'])}</code>"))
    rows += [("by", esc(f"{run['user']}@{run['controller']}, pid {run['pid']}")),
             ("started", esc(_when(run["started"]))), ("ended", esc(_when(run["ended"]) + took)),
             ("hosts", esc(f"{run['hosts']}, failed: {', '.join(run['failed_hosts']) or 'none'}"))]
    return (f'<header><h1>run <code id="run-id">{esc(run["id"])}</code></h1><dl id="run">'
            + "".join(f'<dt>{name}</dt><dd id="run-{name}">{value}</dd>' for name, value in rows)
            + "</dl></header>")


def _hosts(run: dict) -> list[str]:
    """The recap's hosts, then any that has results and no recap line (a lost run has no recap)."""
    return list(dict.fromkeys([*(run["recap"] or {}), *(r["host"] for r in run["results"])]))


def _recap(run: dict) -> str:
    if run["recap"] is None:
        return '<h2>Recap</h2><p id="recap">none: the run ended before its recap</p>'
    head = "".join(f"<th>{k}</th>" for k in RECAP_COUNTERS)
    failed = ' class="failed"'
    rows = "".join(
        f'<tr data-host="{esc(host)}"{failed if c["failed"] or c["unreachable"] else ""}>'
        f"<th>{esc(host)}</th>" + "".join(f'<td class="n-{k}">{int(c[k])}</td>' for k in RECAP_COUNTERS) + "</tr>"
        for host, c in run["recap"].items())
    return f'<h2>Recap</h2><table id="recap"><thead><tr><th>host</th>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _spans(run: dict) -> dict[str, list[tuple[float, float, dict]]]:
    """Each host's (start, end, result) in order. A result recorded before
    the history kept starts begins where the host's previous one ended."""
    spans: dict[str, list] = {host: [] for host in _hosts(run)}
    for r in run["results"]:
        lane = spans[r["host"]]
        start = r["started"] if r["started"] is not None else (lane[-1][1] if lane else run["started"])
        lane.append((start, r["at"], r))
    return spans


def _timeline(run: dict) -> str:
    spans = _spans(run)
    t0 = run["started"]
    t1 = max([run["ended"] or t0, *(end for lane in spans.values() for _, end, _ in lane)])
    width = max(t1 - t0, 1e-3)

    def pct(seconds: float) -> str:
        return f"{max(0.0, min(100.0, seconds / width * 100)):.3f}%"

    ticks = "".join(f'<span style="left:{i * 20}%">{width * i / 5:.1f} s</span>' for i in range(6))
    lanes = []
    for host, lane in spans.items():
        bars = "".join(
            f'<div class="bar {esc(r["status"])}" data-task="{esc(r["task"])}" data-status="{esc(r["status"])}"'
            f' style="left:{pct(start - t0)};width:{pct(end - start)}"'
            f' title="{esc(r["task"])}: {esc(r["status"])}, {end - start:.2f} s"></div>'
            for start, end, r in lane)
        busy = sum(end - start for start, end, _ in lane)
        lanes.append(f'<div class="lane" data-host="{esc(host)}"><span class="host">{esc(host)}</span>'
                     f'<div class="track">{bars}</div><span class="busy">{busy:.2f} s</span></div>')
    legend = "".join(f'<span class="{k}">{k}</span>' for k in OUTCOMES)
    scale = f'<div class="scale"><span></span><div class="axis">{ticks}</div><span></span></div>'
    return f'<h2>Timeline</h2><p class="legend">{legend}</p><section id="timeline">{scale}{"".join(lanes)}</section>'


def _tasks(run: dict) -> dict[tuple, list[dict]]:
    """The results by task, in the order tasks started: a host's n-th
    result of a task is in the n-th entry of that task (hosts of a
    whole-play bundle report at their own pace, interleaved)."""
    tasks: dict[tuple, list[dict]] = {}
    seen: dict[tuple, int] = {}
    for r in run["results"]:
        n = seen[r["play"], r["task"], r["host"]] = seen.get((r["play"], r["task"], r["host"]), 0) + 1
        tasks.setdefault((r["play"], r["task"], n), []).append(r)
    return tasks


def _results(run: dict) -> str:
    out = ['<h2>Results</h2><section id="results">']
    for (play, task, _), results in _tasks(run).items():
        out.append(f'<section class="task" data-task="{esc(task)}"><h3>{esc(play)} » {esc(task)}</h3>')
        for r in results:
            res = r["result"]
            lines = [headline(r["host"], res, 0), *details(res, 0)]
            out.append(f'<div class="result {esc(r["status"])}" data-host="{esc(r["host"])}">'
                       f"<code>{esc(chr(10).join(lines))}</code>{_diff(item_diffs(res))}</div>")
        out.append("</section>")
    return "".join(out) + "</section>"


def _diff(diffs: list[dict]) -> str:
    """Each change's unified diff, its lines classed by what they are."""
    lines = unified(diffs).splitlines()
    if not lines:
        return ""

    def kind(line: str) -> str:
        if line.startswith(("--- before: ", "+++ after: ")):
            return "file"
        return {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "same")

    return '<pre class="diff">' + "\n".join(f'<span class="{kind(line)}">{esc(line)}</span>' for line in lines) \
        + "</pre>"
