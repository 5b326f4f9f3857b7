"""Real parts for the tests: a redis-server on a free port, worker processes
with distinct host names, and `celeryroot-play` run as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

# The Redis server and the workers are support.py's, shared with the
# benchmark; test files import them from here or from there alike.
from support import (ROOT, SITE_MODULES, PostgreSQLServer, RedisServer, Workers, controller_env,  # noqa: F401
                     free_port, shared_pki, wait_for)


def pytest_configure(config):
    # Every controller a test starts, however it starts it, signs with the
    # session's PKI; each worker gets its own host's (support.Workers).
    os.environ["CELERYROOT_PKI"] = str(shared_pki().directory)
    # A worker started without an audit log of its own (Workers gives each
    # one) writes here, not to /var/log/celeryroot.
    os.environ["CELERYROOT_AUDIT_LOG"] = str(shared_pki().directory / "audit.log")
    # Every run a controller records goes here, not to ~/.local/share/celeryroot.
    os.environ["CELERYROOT_HISTORY"] = str(shared_pki().directory / "runs.db")


def pytest_unconfigure(config):
    shutil.rmtree(shared_pki().directory, ignore_errors=True)


#: What each fault test saw (tests/test_faults.py), summed up at the end of the session.
FAULTS: list[tuple] = []


@pytest.fixture
def faults():
    """``faults(fault, runs=, survived=, lost=, late=, twice=)`` records what
    a fault test measured: runs started, runs that ended with a true report,
    tasks whose outcome was lost (reported unknown or unreachable), tasks
    that ran after their controller was gone, and tasks that ran twice."""
    def record(fault: str, runs: int, survived: int, lost: int = 0, late: int = 0, twice: int = 0) -> None:
        FAULTS.append((fault, runs, survived, lost, late, twice))
    return record


#: Timelines a test measured (tests/test_sentinel.py): a title and its (seconds, event) lines.
TIMELINES: list[tuple[str, list[tuple[float, str]]]] = []


@pytest.fixture
def timeline():
    """``timeline(title, [(seconds, event), …])`` records when things
    happened in a test, for the end of the session."""
    def record(title: str, events: list[tuple[float, str]]) -> None:
        TIMELINES.append((title, sorted(events, key=lambda event: event[0])))
    return record


#: Tables tests fill row by row (tests/test_containers_differential.py): title -> (header, rows).
TABLES: dict[str, tuple[tuple[str, ...], list[tuple[str, ...]]]] = {}


@pytest.fixture
def summary_row():
    """``summary_row(title, header, row)`` adds a row to the table of that
    title, printed at the end of the session as a Markdown table (columns
    aligned, so it reads in the terminal and pastes into a note)."""
    def record(title: str, header: tuple[str, ...], row: tuple) -> None:
        TABLES.setdefault(title, (tuple(header), []))[1].append(tuple(str(cell) for cell in row))
    return record


def markdown_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    def line(cells) -> str:
        return "| " + " | ".join(f"{cell:<{w}}" for cell, w in zip(cells, widths)) + " |"
    return [line(header), line("-" * w for w in widths), *map(line, rows)]


def pytest_terminal_summary(terminalreporter):
    write = terminalreporter.write_line
    for title, (header, rows) in TABLES.items():
        write("")
        write(title)
        for text in markdown_table(header, rows):
            write(text)
    if FAULTS:
        write("")
        write("faults (tests/test_faults.py, test_sentinel.py)    runs survived lost ran-late ran-twice")
        for fault, *counts in FAULTS:
            write(f"{fault:<50} " + " ".join(f"{n:>{w}}" for n, w in zip(counts, (4, 8, 4, 8, 9))))
    for title, events in TIMELINES:
        write("")
        write(title)
        for seconds, event in events:
            write(f"{seconds:>+8.2f} s  {event}")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgresql_server():
    """A private PostgreSQL cluster, started once for the tests that ask for it."""
    server = PostgreSQLServer()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def history(request, tmp_path):
    """Where a test's runs are recorded, in each store: a SQLite file of its
    own, or a database of its own on the session's PostgreSQL (its URL with
    the password)."""
    if request.param == "sqlite":
        return str(tmp_path / "runs.db")
    return request.getfixturevalue("postgresql_server").database()


FLEET = ("web1", "web2", "db1")


@pytest.fixture(scope="session")
def fleet(redis_server, tmp_path_factory):
    """Three long-lived workers (web1, web2, db1) shared by tests that do not break them."""
    workers = Workers(redis_server.url, tmp_path_factory.mktemp("fleet"))
    workers.start(*FLEET)
    yield workers
    workers.stop()


@pytest.fixture
def workers(redis_server, tmp_path):
    """Workers of a test's own, for tests that kill, stop or restart them."""
    own = Workers(redis_server.url, tmp_path)
    yield own
    own.stop()


class Play:
    """Runs `celeryroot-play` as a subprocess, as an operator would."""

    def __init__(self, broker_url: str | None, cwd: Path):
        self.broker_url = broker_url
        self.cwd = cwd

    def __call__(self, playbook, *args: str, inventory=None, timeout: float = 120, json_out: bool = True,
                 env: dict | None = None) -> "Outcome":
        argv = [sys.executable, "-m", "celeryroot.cli.play", str(playbook)]
        if inventory is not None:
            argv += ["-i", str(inventory)]
        if json_out:
            argv.append("--json")
        argv += list(args)
        child_env = controller_env(self.broker_url)
        child_env.update(env or {})
        return measured(argv, self.cwd, child_env, timeout, json_out)


def measured(argv: list[str], cwd, env: dict, timeout: float, json_out: bool) -> "Outcome":
    """Run a command to its end: its output, exit status, seconds and peak
    memory (``os.wait4``'s rusage of this child alone). Output goes through
    files, so a long one cannot block the child on a full pipe."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, text=True, cwd=cwd, env=env)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        if seconds >= timeout:
            raise subprocess.TimeoutExpired(argv, timeout)
        out.seek(0)
        err.seek(0)
        return Outcome(proc.returncode, out.read(), err.read(), seconds, json_out, usage.ru_maxrss / 1024)


class Outcome:
    def __init__(self, rc: int, stdout: str, stderr: str, seconds: float, is_json: bool, peak_mb: float = 0.0):
        self.rc, self.stdout, self.stderr, self.seconds, self.peak_mb = rc, stdout, stderr, seconds, peak_mb
        self.doc = json.loads(stdout) if is_json and stdout.strip() else None

    @property
    def stats(self) -> dict:
        return self.doc["stats"]

    def total(self, counter: str) -> int:
        return sum(s[counter] for s in self.stats.values())

    def results(self, task_name: str) -> dict:
        """Per-host results of the (last) task with this name."""
        found = None
        for play in self.doc["plays"]:
            for task in play["tasks"]:
                if task["task"]["name"] == task_name:
                    found = task["hosts"]
        if found is None:
            raise KeyError(f"no task named {task_name!r} in the run")
        return found

    def __repr__(self) -> str:
        return f"Outcome(rc={self.rc}, stderr={self.stderr[-2000:]!r}, stdout={self.stdout[-3000:]!r})"


@pytest.fixture
def play(redis_server, tmp_path):
    return Play(redis_server.url, tmp_path)


@pytest.fixture
def local_play(tmp_path):
    """`celeryroot-play` with no broker configured: the embedded mode."""
    return Play(None, tmp_path)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def fleet_inventory(tmp_path):
    """An inventory of the fleet plus db2 (which has no worker); each host
    writes under its own directory, given by the host variable ``root``."""
    lines = ["all:", "  vars:", f"    base: {tmp_path}/hosts", "  children:", "    web:", "      hosts:"]
    for host in ("web1", "web2"):
        lines += [f"        {host}:", f"          root: {tmp_path}/hosts/{host}"]
    lines += ["    db:", "      hosts:"]
    for host in ("db1", "db2"):
        lines += [f"        {host}:", f"          root: {tmp_path}/hosts/{host}"]
    return write(tmp_path / "inventory.yaml", "\n".join(lines) + "\n")


# -- module tables: each case is an initial state and a task, expected to
# change (or not) and to leave a final state; the whole table runs as one
# play three times: --check, apply, apply again.

class File:
    def __init__(self, text: str = "", mode: int | None = None, owner: str | None = None):
        self.text, self.mode, self.owner = text, mode, owner


class Dir:
    def __init__(self, mode: int | None = None, owner: str | None = None):
        self.mode, self.owner = mode, owner


class Link:
    def __init__(self, target: str):
        self.target = target


ABSENT = object()


class Case:
    """``task`` is the YAML of one task's module (``file: path={{ d }}/x``),
    where ``d`` is the case's own directory on the host."""

    def __init__(self, id: str, task: str, changed: bool = True, given: dict | None = None,
                 then: dict | None = None, diff: str | None = None, fails: str | None = None,
                 controller: dict | None = None, fails_in_check: bool = True):
        self.id, self.task, self.changed, self.diff, self.fails = id, task, changed, diff, fails
        self.fails_in_check = fails_in_check
        self.given, self.then, self.controller = given or {}, then or {}, controller or {}

    def __repr__(self) -> str:
        return self.id


def tree(base: Path) -> dict:
    """Every path below ``base`` with its mode and content: to compare host state."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(base):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            st = path.lstat()
            content = os.readlink(path) if path.is_symlink() else path.read_bytes() if path.is_file() else None
            out[str(path.relative_to(base))] = (oct(st.st_mode), st.st_uid, st.st_gid, content)
    return out


def lay(base: Path, spec: dict) -> None:
    for rel, want in spec.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        want = File(want) if isinstance(want, str) else want
        if isinstance(want, Link):
            path.symlink_to(want.target)
        elif isinstance(want, Dir):
            path.mkdir(exist_ok=True)
        else:
            path.write_text(want.text)
        if getattr(want, "mode", None) is not None:
            path.chmod(want.mode)


def assert_state(base: Path, spec: dict) -> None:
    for rel, want in spec.items():
        path = base / rel
        want = File(want) if isinstance(want, str) else want
        if want is ABSENT:
            assert not os.path.lexists(path), f"{rel} should be absent"
        elif isinstance(want, Link):
            assert path.is_symlink() and os.readlink(path) == want.target, f"{rel} should link to {want.target}"
        elif isinstance(want, Dir):
            assert path.is_dir() and not path.is_symlink(), f"{rel} should be a directory"
        else:
            assert path.is_file(), f"{rel} should be a file"
            assert path.read_text() == want.text, f"{rel} content"
        if getattr(want, "mode", None) is not None:
            assert path.stat().st_mode & 0o7777 == want.mode, f"{rel} mode {oct(path.stat().st_mode)}"
        if getattr(want, "owner", None) is not None:
            assert path.owner() == want.owner, f"{rel} owner {path.owner()}"


class Table:
    """The outcomes of one module table run --check, apply, apply again."""

    def __init__(self, broker_url: str, workdir: Path, cases: list[Case], host: str = "web1"):
        self.cases, self.host = cases, host
        self.root = workdir / "hosts" / host
        inventory = write(workdir / "inventory.yaml", f"all:\n  hosts:\n    {host}:\n      root: {self.root}\n")
        tasks = []
        for case in cases:
            lay(self.root / case.id, case.given)
            lay(workdir, case.controller)
            (self.root / case.id).mkdir(parents=True, exist_ok=True)
            body = "\n".join("      " + line for line in case.task.strip().splitlines())
            tasks.append(f"    - name: {case.id}\n      vars: {{d: '{self.root / case.id}'}}\n"
                         + ("      ignore_errors: true\n" if case.fails else "") + body)
        book = write(workdir / "table.yaml", f"- hosts: {host}\n  gather_facts: false\n  tasks:\n" + "\n".join(tasks) + "\n")
        play = Play(broker_url, workdir)
        self.before = tree(self.root)
        self.checked = play(book, "--check", "--diff", inventory=inventory)
        self.after_check = tree(self.root)
        self.applied = play(book, "--diff", inventory=inventory)
        self.again = play(book, "--diff", inventory=inventory)

    def verify(self, case: Case) -> None:
        """The three runs of one case, and its final state."""
        from celeryroot.report.text import unified

        runs = {"check": self.checked, "apply": self.applied, "again": self.again}
        for name, outcome in runs.items():
            assert outcome.rc == 0, (name, _failures(outcome) or outcome)
            res = outcome.results(case.id)[self.host]
            if case.fails and (name != "check" or case.fails_in_check):
                assert res["failed"] and case.fails in res["msg"], (name, res)
                continue
            assert not res["failed"], (name, res)
            assert res["changed"] == (case.changed and name != "again"), (name, res)
        if case.diff is not None:
            shown = unified(self.applied.results(case.id)[self.host]["diff"])
            assert case.diff in shown, shown
        assert_state(self.root / case.id, case.then)


def _failures(outcome) -> dict:
    if outcome.doc is None:
        return {}
    return {(t["task"]["name"], host): r.get("msg") for p in outcome.doc["plays"] for t in p["tasks"]
            for host, r in t["hosts"].items() if r.get("failed") and not r.get("ignored")}


@pytest.fixture(scope="module")
def table(request, fleet, redis_server, tmp_path_factory):
    """Runs the test module's CASES once; each case's test calls verify()."""
    outcome = Table(redis_server.url, tmp_path_factory.mktemp("table"), request.module.CASES)
    assert outcome.after_check == outcome.before, "--check changed the host"
    return outcome


def bad_argument_fails(play, workdir: Path, module: str, args: dict, name: str, needle: str = "") -> None:
    """A task with a bad argument stops the run on the controller (rc 1),
    naming the argument and its file:line (the task's line when it is missing)."""
    lines = ["- hosts: web1", "  tasks:", "    - name: bad", f"      {module}:"]
    lines += [f"        {key}: {json.dumps(value)}" for key, value in args.items()]
    book = write(workdir / "bad.yaml", "\n".join(lines) + "\n")
    out = play(book, inventory=write(workdir / "inv.yaml", "all:\n  hosts:\n    web1:\n"))
    assert out.rc == 1, out
    line = 5 + list(args).index(name) if name in args else 3
    assert f"bad.yaml:{line}:" in out.stderr and f"'{name}'" in out.stderr and needle in out.stderr, out.stderr
