"""Every run the controller makes, kept in its run history (``celeryroot-runs``).

The history is ``CELERYROOT_HISTORY``, else ``history_db`` in
celeryroot.yaml, else ``$XDG_DATA_HOME/celeryroot/runs.db``
(``~/.local/share/celeryroot/runs.db``): a SQLite file's path, or a
``postgresql://`` URL for a database several controllers share (stores.py
has the two). Runs older than ``history_days`` (90 by default; 0 keeps them
all) are pruned when a run starts.

A run is a row of ``runs`` (its command line, playbook and its sha256, who
started it, when it started and ended, how: ``finished``, ``interrupted``
by a signal or a lost broker, or ``error`` when it could not go on, and its
recap), a row of ``run_hosts`` per targeted host, and a row of ``results``
per host and task as the report got it, with when the task started for
that host and when its result came (the page's timeline): a ``no_log``
result is already censored by the engine, so nothing it hid is written
here. The results arrive through `Recorder`, a report sink.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ..lang.source import InputError, Where
from .stores import HistoryError, Store, open_store, shown

DEFAULT_DAYS = 90

#: One schema for both stores; ``{…}`` are a store's dialect (stores.py).
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,{ordinal_column}
    command TEXT NOT NULL,
    playbook TEXT,
    digest TEXT,
    check_mode INTEGER NOT NULL,
    "user" TEXT NOT NULL,
    controller TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started {real} NOT NULL,
    ended {real},
    state TEXT NOT NULL,
    reason TEXT,
    exit_status INTEGER,
    recap TEXT
);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started);
CREATE TABLE IF NOT EXISTS run_hosts (
    run TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    host TEXT NOT NULL,
    failed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run, host)
);
CREATE INDEX IF NOT EXISTS run_hosts_host ON run_hosts (host, run);
CREATE TABLE IF NOT EXISTS results (
    run TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    play TEXT NOT NULL,
    task TEXT NOT NULL,
    host TEXT NOT NULL,
    status TEXT NOT NULL,
    result TEXT NOT NULL,
    at {real} NOT NULL,
    started {real},
    PRIMARY KEY (run, seq)
);
"""

RUNNING, FINISHED, INTERRUPTED, ERROR = "running", "finished", "interrupted", "error"
#: A run still "running" whose controller process is gone from this machine.
LOST = "lost"


def history_location(options: dict) -> str:
    """Where the history is: a file's path or a postgresql:// URL."""
    if os.environ.get("CELERYROOT_HISTORY"):
        return os.environ["CELERYROOT_HISTORY"]
    if options.get("history_db"):
        return str(options["history_db"])
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return str(Path(data) / "celeryroot" / "runs.db")


def retention_days(options: dict) -> float:
    days = options.get("history_days", DEFAULT_DAYS)
    if isinstance(days, bool) or not isinstance(days, (int, float)) or days < 0:
        raise InputError(Where("celeryroot.yaml"), f"history_days must be a number of days (0 keeps every run), "
                                                   f"not {days!r}")
    return float(days)


def outcome(res: dict) -> str:
    """A result's one word, as the recap counts it."""
    if res.get("unreachable"):
        return "unreachable"
    if res.get("failed"):
        return "ignored" if res.get("ignored") else "failed"
    if res.get("skipped"):
        return "skipped"
    return "changed" if res.get("changed") else "ok"


class History:
    """The history, open: one `Store`, SQLite or PostgreSQL, behind the same
    queries. Every method is one transaction."""

    def __init__(self, location: str):
        self.where = shown(location)
        self.store: Store = open_store(location)
        schema = SCHEMA.format(ordinal_column=self.store.ordinal_column, real=self.store.real)
        try:
            self.store.create([s for s in schema.split(";") if s.strip()])
        except HistoryError:
            self.store.close()
            raise

    def close(self) -> None:
        self.store.close()

    # -- writing a run

    def prune(self, days: float, now: float | None = None) -> int:
        """Forget the runs started more than ``days`` ago; how many."""
        if not days:
            return 0
        with self.store.transaction():
            cut = (now or time.time()) - days * 86400
            return self.store.change("DELETE FROM runs WHERE started < ?", (cut,))

    def begin(self, run_id: str, command: list[str], playbook: Path | None, check: bool) -> None:
        import getpass
        import socket

        digest = None
        if playbook is not None:
            import hashlib

            digest = hashlib.sha256(playbook.read_bytes()).hexdigest()
            playbook = playbook.resolve()
        with self.store.transaction():
            self.store.change(
                'INSERT INTO runs (id, command, playbook, digest, check_mode, "user", controller, pid, started, state)'
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, json.dumps(command), str(playbook) if playbook else None, digest, int(check),
                 getpass.getuser(), socket.gethostname(), os.getpid(), time.time(), RUNNING))

    def add(self, run_id: str, hosts: list[str], results: list[tuple], failing: set[str]) -> None:
        """Targeted ``hosts``, ``results`` rows (seq, play, task, host,
        status, result JSON, time of the result, time the task started for
        the host) and the ``failing`` hosts so far."""
        with self.store.transaction():
            self.store.change_many("INSERT INTO run_hosts (run, host) VALUES (?, ?) ON CONFLICT (run, host) DO NOTHING",
                                   [(run_id, h) for h in hosts])
            self.store.change_many("INSERT INTO results (run, seq, play, task, host, status, result, at, started)"
                                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [(run_id, *row) for row in results])
            self.store.change_many("UPDATE run_hosts SET failed = 1 WHERE run = ? AND host = ?",
                                   [(run_id, h) for h in failing])

    def recap(self, run_id: str, summary: dict[str, dict]) -> None:
        """The recap's counters; a host failed if it failed or was unreachable there."""
        with self.store.transaction():
            self.store.change("UPDATE runs SET recap = ? WHERE id = ?", (json.dumps(summary), run_id))
            self.store.change_many("INSERT INTO run_hosts (run, host, failed) VALUES (?, ?, ?)"
                                   " ON CONFLICT (run, host) DO UPDATE SET failed = excluded.failed",
                                   [(run_id, h, int(bool(c["failed"] or c["unreachable"])))
                                    for h, c in summary.items()])

    def finish(self, run_id: str, state: str, exit_status: int | None, reason: str | None = None) -> None:
        with self.store.transaction():
            self.store.change("UPDATE runs SET ended = ?, state = ?, exit_status = ?, reason = ? WHERE id = ?",
                              (time.time(), state, exit_status, reason, run_id))

    # -- reading

    def _runs_sql(self, where: list[str]) -> str:
        """Runs with their count of hosts and their failed hosts, in order."""
        return ("SELECT r.*, (SELECT count(*) FROM run_hosts h WHERE h.run = r.id) AS hosts,"
                f" (SELECT {self.store.joined_hosts} FROM (SELECT host FROM run_hosts h"
                "  WHERE h.run = r.id AND h.failed = 1 ORDER BY host) AS f) AS failed_hosts FROM runs r"
                + (" WHERE " + " AND ".join(where) if where else "")
                + f" ORDER BY r.started DESC, r.{self.store.ordinal} DESC")

    def runs(self, limit: int | None = 20, host: str | None = None, failed: bool = False) -> list[dict]:
        """The latest runs first: those ``host`` took part in, and with
        ``failed`` only those that did not end well (a host failed or was
        unreachable, or the run was interrupted; with ``host``: that host
        failed or was unreachable there)."""
        where, args = [], []
        if host is not None:
            where.append("EXISTS (SELECT 1 FROM run_hosts h WHERE h.run = r.id AND h.host = ?"
                         + (" AND h.failed = 1)" if failed else ")"))
            args.append(host)
        elif failed:
            where.append("(r.state != 'finished' OR r.exit_status != 0"
                         " OR EXISTS (SELECT 1 FROM run_hosts h WHERE h.run = r.id AND h.failed = 1))")
        sql = self._runs_sql(where)
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [_run_document(row) for row in self.store.rows(sql, args)]

    def run(self, prefix: str) -> dict:
        """The run whose id is or starts with ``prefix``, with its results in order."""
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self.store.rows(self._runs_sql(["r.id LIKE ? ESCAPE '\\'"]) + " LIMIT 2", (pattern,))
        if not rows:
            raise InputError(None, f"no run {prefix!r} in {self.where}")
        if len(rows) > 1:
            raise InputError(None, f"run id {prefix!r} is ambiguous: give more of it")
        doc = _run_document(rows[0])
        doc["results"] = [{"seq": r["seq"], "play": r["play"], "task": r["task"], "host": r["host"],
                           "status": r["status"], "started": r["started"], "at": r["at"],
                            "result": json.loads(r["result"])}
                          for r in self.store.rows("SELECT * FROM results WHERE run = ? ORDER BY seq", (doc["id"],))]
        return doc


def _run_document(row) -> dict:
    return {"id": row["id"], "command": json.loads(row["command"]), "playbook": row["playbook"],
            "sha256": row["digest"], "check": bool(row["check_mode"]), "user": row["user"],
            "controller": row["controller"], "pid": row["pid"], "started": row["started"], "ended": row["ended"],
            "state": _state(row), "reason": row["reason"], "exit_status": row["exit_status"],
            "hosts": row["hosts"], "failed_hosts": (row["failed_hosts"] or "").split(),
            "recap": json.loads(row["recap"]) if row["recap"] else None}


def _state(row) -> str:
    """A run left "running" by a controller that is gone (killed outright) is lost."""
    if row["state"] != RUNNING:
        return row["state"]
    import socket

    if row["controller"] != socket.gethostname():
        return RUNNING
    try:
        os.kill(row["pid"], 0)
    except ProcessLookupError:
        return LOST
    except PermissionError:
        pass
    return RUNNING


def start_recording(options: dict, run_id: str, command: list[str], playbook: Path | None, check: bool,
                    warn) -> "Recorder":
    """The recorder of a new run, after pruning old ones. A history that
    cannot be opened is said through ``warn``, and the run goes on unrecorded."""
    days = retention_days(options)
    location = history_location(options)
    try:
        history = History(location)
    except (HistoryError, OSError) as exc:
        warn(f"[WARNING]: cannot record this run in {shown(location)}: {exc}")
        return Recorder(None, run_id, warn)
    try:
        history.prune(days)
        history.begin(run_id, command, playbook, check)
    except (HistoryError, OSError) as exc:
        warn(f"[WARNING]: cannot record this run in {history.where}: {exc}")
        history.close()
        history = None
    return Recorder(history, run_id, warn)


class Recorder:
    """A report sink that writes a run's results to its `History` as they
    come: in one transaction per task, at most ``every`` seconds or
    ``batch`` results apart, so a fleet's results cost few commits and a
    run killed outright loses at most the last second of them. A history
    that fails (a full disk) is said once through ``warn`` and the run
    goes on without it."""

    def __init__(self, history: History | None, run_id: str, warn, every: float = 1.0, batch: int = 1000):
        self.history, self.run_id, self.warn = history, run_id, warn
        self.every, self.batch = every, batch
        self.play = ""
        self.seq = 0
        self.hosts: list[str] = []
        self.rows: list[tuple] = []
        self.failing: set[str] = set()
        #: When each host's current task started for it (a bundle's hosts each at their own pace).
        self.starts: dict[str, float] = {}
        self.flushed = time.monotonic()

    def _safely(self, method: str, *args) -> None:
        if self.history is None:
            return
        try:
            getattr(self.history, method)(self.run_id, *args)
        except HistoryError as exc:
            self.warn(f"[WARNING]: the run history ({self.history.where}) failed: {exc}; the run goes on unrecorded")
            self.history = None

    def flush(self) -> None:
        if self.rows or self.hosts or self.failing:
            rows, hosts, failing = self.rows, self.hosts, self.failing
            self.rows, self.hosts, self.failing = [], [], set()
            self._safely("add", hosts, rows, failing)
        self.flushed = time.monotonic()

    # report events

    def notice(self, text: str) -> None:
        pass

    def play_start(self, play, hosts: list[str]) -> None:
        self.flush()
        self.play = play.name
        self.hosts = list(hosts)

    def play_execution(self, play, execution) -> None:
        self.notice(execution.line(play))

    def task_start(self, title: str, hosts: list[str], kind: str = "TASK") -> None:
        now = time.time()
        self.starts.update(dict.fromkeys(hosts, now))
        if time.monotonic() - self.flushed >= self.every:
            self.flush()

    def host_retry(self, host: str, title: str, res: dict, left: int) -> None:
        pass  # an attempt that will be tried again: its task's result is the last one

    def host_result(self, host: str, title: str, res: dict) -> None:
        self.seq += 1
        word = outcome(res)
        now = time.time()
        self.rows.append((self.seq, self.play, title, host, word,
                          json.dumps(res, default=str, ensure_ascii=False, separators=(",", ":")), now,
                          self.starts.pop(host, now)))
        if word in ("failed", "unreachable"):
            self.failing.add(host)
        if len(self.rows) >= self.batch or time.monotonic() - self.flushed >= self.every:
            self.flush()

    def play_end(self) -> None:
        self.flush()

    def recap(self, stats) -> None:
        self.flush()
        self._safely("recap", stats.summary())

    def close(self) -> None:
        self.flush()

    def run_start(self, run_id: str, text: str) -> None:
        pass

    def run_end(self, run_id: str, text: str) -> None:
        pass

    def finish(self, state: str, exit_status: int | None, reason: str | None = None) -> None:
        self.flush()
        self._safely("finish", state, exit_status, reason)
        if self.history is not None:
            self.history.close()

    @property
    def recorded(self) -> bool:
        return self.history is not None
