"""celeryroot-runs: the runs this controller made, from its run history.

    celeryroot-runs list                    # the 20 latest runs
    celeryroot-runs list --host web1 --failed --limit 5
    celeryroot-runs show 9f2c4e1a7b3d       # its command, playbook, results, diffs and recap (or: show 9f2c)
    celeryroot-runs show 9f2c --html run.html   # the same as one page, with a timeline of each host's tasks

The history is CELERYROOT_HISTORY, else history_db in celeryroot.yaml, else
~/.local/share/celeryroot/runs.db: a SQLite file, or a postgresql:// URL
for a history a team's controllers share. Every celeryroot-play and
celeryroot run is recorded there, with an id its report shows in its first
and last lines.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from datetime import datetime, timezone
from pathlib import Path

from .options import guarded


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="celeryroot-runs", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=None, help="configuration file instead of the default ones")
    sub = p.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="the latest runs first")
    listing.add_argument("--limit", type=int, default=20, help="at most this many runs (default 20; 0: all)")
    listing.add_argument("--host", default=None, help="only runs this host took part in")
    listing.add_argument("--failed", action="store_true",
                         help="only runs that did not end well: a host failed or was unreachable, or the run "
                              "was interrupted (with --host: that host failed or was unreachable)")
    listing.add_argument("--json", action="store_true", help="one JSON document")
    show = sub.add_parser("show", help="one run: its results, diffs and recap")
    show.add_argument("id", help="the run's id, or the start of it")
    show.add_argument("-v", "--verbose", action="count", default=0, help="module messages and output")
    shown = show.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="one JSON document")
    shown.add_argument("--html", metavar="FILE", default=None,
                       help="one self-contained HTML page written to FILE (- for stdout): the run, its recap, "
                            "a timeline of each host's tasks and the diffs")
    return p.parse_args(argv)


def run(opts) -> int:
    from ..config import load_config
    from ..controller.history import History, history_location
    from ..controller.stores import HistoryError, is_url, shown
    from ..lang.source import InputError

    location = history_location(load_config(None, opts.config).options)
    if not is_url(location) and not Path(location).expanduser().exists():
        if opts.command == "show":
            print(f"ERROR! no run {opts.id!r}: no run is recorded in {location} yet", file=sys.stderr)
            return 1
        print(json.dumps({"runs": []}) if opts.json else f"no run is recorded in {location} yet")
        return 0
    try:
        history = History(location)
        try:
            if opts.command == "list":
                runs = history.runs(opts.limit or None, opts.host, opts.failed)
                print(json.dumps({"runs": [_dated(r) for r in runs]}, indent=2) if opts.json else _table(runs))
            else:
                found = history.run(opts.id)
                if opts.html is not None:
                    _write_page(found, opts.html)
                else:
                    print(json.dumps(_dated(found), indent=2, default=str) if opts.json else
                          _shown(found, opts.verbose))
        finally:
            history.close()
    except HistoryError as exc:
        raise InputError(None, f"the run history {shown(location)}: {exc}") from exc
    return 0


def _write_page(run: dict, target: str) -> None:
    """The page, to ``target`` or stdout; a new file is private (0600), as
    the history is: results hold what modules printed."""
    from ..lang.source import InputError
    from ..report.html import page

    text = page(run)
    if target == "-":
        sys.stdout.write(text)
        return
    try:
        with open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        raise InputError(None, f"cannot write the page to {target}: {exc.strerror}") from None


def _dated(run: dict) -> dict:
    """A run as its JSON document shows it: times in ISO 8601, UTC."""
    out = dict(run, started=_iso(run["started"]), ended=_iso(run["ended"]))
    if "results" in out:
        out["results"] = [dict(r, started=_iso(r["started"]), at=_iso(r["at"])) for r in out["results"]]
    return out


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _local(t: float | None) -> str:
    return datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S") if t is not None else "-"


def _took(run: dict) -> str:
    return f"{run['ended'] - run['started']:.1f}s" if run["ended"] is not None else "-"


def _state(run: dict) -> str:
    return run["state"] + (" (check)" if run["check"] else "")


def _table(runs: list[dict]) -> str:
    if not runs:
        return "no runs match"
    header = ("ID", "STARTED", "TOOK", "STATE", "EXIT", "HOSTS", "FAILED", "COMMAND")
    rows = [(r["id"], _local(r["started"]), _took(r), _state(r),
             "-" if r["exit_status"] is None else str(r["exit_status"]), str(r["hosts"]),
             _names(r["failed_hosts"]), shlex.join(r["command"])) for r in runs]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    return "\n".join("  ".join([*(cell.ljust(w) for cell, w in zip(row, widths)), row[-1]]).rstrip()
                     for row in (header, *rows))


def _names(hosts: list[str], shown: int = 3) -> str:
    more = len(hosts) - shown
    return ",".join(hosts[:shown]) + (f",+{more} more" if more > 0 else "")


def _shown(run: dict, verbosity: int) -> str:
    """A run as celeryroot-play printed it, after what the history knows of it."""
    from ..result import item_diffs
    from ..report.text import banner, details, headline, recap_line, unified

    why = f" ({run['reason']})" if run["reason"] else ""
    exit_status = "" if run["exit_status"] is None else f", exit {run['exit_status']}"
    lines = [f"run {run['id']}: {run['state']}{why}{exit_status}", f"  command   {shlex.join(run['command'])}"]
    if run["playbook"]:
        lines.append(f"  playbook  {run['playbook']} (sha256 {run['sha256']})")
    lines += [f"  check     {'yes' if run['check'] else 'no'}",
              f"  by        {run['user']}@{run['controller']}, pid {run['pid']}",
              f"  started   {_local(run['started'])}",
              f"  ended     {_local(run['ended'])}" + (f" ({_took(run)})" if run["ended"] else "")]
    play = task = None
    for r in run["results"]:
        if r["play"] != play:
            play, task = r["play"], None
            lines += ["", banner("PLAY", play)]
        if r["task"] != task:
            task = r["task"]
            lines += ["", banner("TASK", task)]
        res = r["result"]
        lines.append(headline(r["host"], res, verbosity))
        lines += details(res, verbosity)
        diff = unified(item_diffs(res))
        if diff:
            lines.append(diff.rstrip("\n"))
    if run["recap"] is not None:
        lines += ["", banner("PLAY RECAP", None), *(recap_line(h, c) for h, c in run["recap"].items())]
    return "\n".join(lines)


def main(argv=None) -> int:
    return guarded(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
