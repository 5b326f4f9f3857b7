"""The run history (celeryroot-runs): real runs on real workers over a real
Redis, recorded in a real SQLite file or a real PostgreSQL database (the
``history`` fixture gives each in turn), read back with the command."""

from __future__ import annotations

import hashlib
import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from conftest import PostgreSQLServer, RedisServer, Workers, controller_env, wait_for, write

from celeryroot.controller.history import History

RUN_LINE = r"run ([0-9a-f]{12}): "

SITE = """
- hosts: all
  gather_facts: false
  tasks:
    - name: write motd
      copy: dest={{ root }}/motd content="hello {{ inventory_hostname }}\\n"
    - name: check db
      command: "false"
      when: inventory_hostname == 'web2'
"""


def inventory(tmp_path, *hosts: str):
    """An inventory of ``hosts``, each writing under its own directory ``root`` (made here)."""
    for host in hosts:
        (tmp_path / "hosts" / host).mkdir(parents=True, exist_ok=True)
    return write(tmp_path / "inv.yaml", "all:\n  hosts:\n" + "".join(
        f"    {h}: {{root: {tmp_path}/hosts/{h}}}\n" for h in hosts))


def runs(db, *args: str, rc: int = 0):
    """``celeryroot-runs ARGS`` against ``db``: its output, parsed when --json."""
    proc = subprocess.run([sys.executable, "-m", "celeryroot.cli.runs", *args], capture_output=True, text=True,
                          env={**controller_env(), "CELERYROOT_HISTORY": str(db)}, timeout=60)
    assert proc.returncode == rc, proc
    return json.loads(proc.stdout) if "--json" in args else proc.stdout


def ids(db, *args: str) -> list[str]:
    return [r["id"] for r in runs(db, "list", "--json", *args)["runs"]]


def test_a_run_is_recorded_and_shown(fleet, play, tmp_path, history):
    db = history
    book = write(tmp_path / "site.yaml", SITE)
    out = play(book, "--diff", inventory=inventory(tmp_path, "web1", "web2"), json_out=False,
               env={"CELERYROOT_HISTORY": str(db)})
    assert out.rc == 2, out
    # The report's first and last lines name the run.
    lines = out.stdout.splitlines()
    run_id = re.match(RUN_LINE, lines[0]).group(1)
    assert lines[0] == f"run {run_id}: celeryroot-play {book} -i {tmp_path}/inv.yaml --diff", lines[0]
    assert re.fullmatch(rf"run {run_id}: finished, exit 2, [0-9.]+ s; celeryroot-runs show {run_id}", lines[-1])
    if "://" not in db:
        assert oct((tmp_path / "runs.db").stat().st_mode & 0o777) == "0o600"

    doc = runs(db, "show", run_id[:5], "--json")  # the start of an id will do
    assert doc["id"] == run_id and doc["state"] == "finished" and doc["exit_status"] == 2, doc
    assert doc["command"] == ["celeryroot-play", str(book), "-i", f"{tmp_path}/inv.yaml", "--diff"]
    assert doc["playbook"] == str(book) and doc["sha256"] == hashlib.sha256(book.read_bytes()).hexdigest()
    assert doc["check"] is False and doc["started"] < doc["ended"] and doc["hosts"] == 2
    assert doc["failed_hosts"] == ["web2"]
    assert doc["recap"]["web1"]["changed"] == 1 and doc["recap"]["web2"]["failed"] == 1, doc["recap"]
    got = {(r["task"], r["host"]): r for r in doc["results"]}
    assert {k: r["status"] for k, r in got.items()} == {
        ("write motd", "web1"): "changed", ("write motd", "web2"): "changed",
        ("check db", "web1"): "skipped", ("check db", "web2"): "failed"}
    assert any("hello web1" in (d.get("after") or "") for d in got["write motd", "web1"]["result"]["diff"])
    assert [r["play"] for r in doc["results"]] == ["all"] * 4
    # Each result with when its task started for the host (ISO 8601 strings of one form compare as times).
    assert all(doc["started"] <= r["started"] <= r["at"] <= doc["ended"] for r in doc["results"]), doc["results"]
    assert got["write motd", "web2"]["at"] <= got["check db", "web2"]["started"]

    shown = runs(db, "show", run_id)
    assert shown.startswith(f"run {run_id}: finished, exit 2\n  command   celeryroot-play {book}"), shown
    for text in ("TASK [write motd]", "changed: [web1]", "+hello web1", "fatal: [web2]: FAILED!", "PLAY RECAP",
                 f"sha256 {doc['sha256']}"):
        assert text in shown, shown
    assert re.search(r"^web2 +: ok=1 +changed=1 +unreachable=0 +failed=1 ", shown, re.M), shown

    assert runs(db, "show", "ffffffffffff", rc=1) == ""


def test_list_filters_by_host_and_failure(fleet, play, tmp_path, history):
    db = history
    book = write(tmp_path / "site.yaml", SITE)
    env = {"CELERYROOT_HISTORY": str(db)}
    hosts = inventory(tmp_path, "web1", "web2", "db1")
    first = play(book, "--limit", "web1", inventory=hosts, env=env)
    second = play(book, "--limit", "web2:db1", inventory=hosts, env=env)
    assert (first.rc, second.rc) == (0, 2), (first, second)
    one, two = first.doc["run_id"], second.doc["run_id"]

    assert ids(db) == [two, one]  # the latest first
    assert ids(db, "--limit", "1") == [two]
    assert ids(db, "--host", "web1") == [one]
    assert ids(db, "--host", "db1") == [two]
    assert ids(db, "--failed") == [two]
    assert ids(db, "--host", "web2", "--failed") == [two]
    assert ids(db, "--host", "db1", "--failed") == []  # db1 took part in the failed run, and did not fail
    assert ids(db, "--host", "nosuch") == []

    table = runs(db, "list").splitlines()
    assert table[0].split() == ["ID", "STARTED", "TOOK", "STATE", "EXIT", "HOSTS", "FAILED", "COMMAND"]
    assert table[1].startswith(two) and " finished " in table[1] and " web2 " in table[1], table
    assert table[2].startswith(one) and table[2].endswith("--json --limit web1"), table
    assert runs(db, "list", "--host", "nosuch") == "no runs match\n"


SLOW = """
- hosts: all
  gather_facts: false
  tasks:
    - name: first
      file: path={{ root }} state=directory
    - name: mark
      file: path={{ root }}/marker state=touch
    - name: long
      command: sleep 6
    - name: never
      file: path={{ root }}/never state=touch
"""


def test_an_interrupted_run_is_recorded_as_interrupted(workers, redis_server, tmp_path, history):
    workers.start("halt1")
    db = history
    proc = slow_run(tmp_path, redis_server.url, db, "halt1")
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 99, (stdout, stderr)
    run_id = json.loads(stdout)["run_id"]

    doc = runs(db, "show", run_id, "--json")
    assert doc["state"] == "interrupted" and doc["reason"] == "SIGTERM" and doc["exit_status"] == 99, doc
    assert doc["ended"] is not None
    assert [(r["task"], r["status"]) for r in doc["results"]] == [("first", "ok"), ("mark", "changed")]
    assert doc["recap"]["halt1"]["ok"] == 2, doc["recap"]
    assert ids(db, "--failed") == [run_id]
    assert re.search(rf"^run {run_id}: interrupted \(SIGTERM\), exit 99", runs(db, "show", run_id))


def slow_run(tmp_path, broker_url: str, db, host: str, *args: str) -> subprocess.Popen:
    """celeryroot-play of SLOW on ``host``, once its second task is done (the long one is under way)."""
    book = write(tmp_path / "slow.yaml", SLOW)
    proc = subprocess.Popen([sys.executable, "-m", "celeryroot.cli.play", str(book), "-i",
                             str(inventory(tmp_path, host)), "--json", *args],
                            env={**controller_env(broker_url), "CELERYROOT_HISTORY": str(db)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    wait_for(lambda: (tmp_path / "hosts" / host / "marker").exists(), 30, "the run's second task")
    time.sleep(0.5)
    return proc


def test_a_run_that_lost_its_broker_is_recorded_as_interrupted(tmp_path):
    server = RedisServer(tmp_path)
    workers = Workers(server.url, tmp_path)
    db = tmp_path / "runs.db"
    try:
        workers.start("lost1")
        proc = slow_run(tmp_path, server.url, db, "lost1", "--timeout", "2")
        server.stop()
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 4, stderr
    finally:
        for worker in workers.procs.values():  # its broker is gone: nothing to tidy there
            worker.kill()
            worker.wait(10)
    doc = runs(db, "show", json.loads(stdout)["run_id"], "--json")
    assert doc["state"] == "interrupted" and "broker" in doc["reason"] and doc["exit_status"] == 4, doc
    assert [r["task"] for r in doc["results"]] == ["first", "mark"]
    assert doc["recap"]["lost1"]["unreachable"] == 1 and doc["failed_hosts"] == ["lost1"], doc


def test_a_run_killed_outright_shows_as_lost(workers, redis_server, tmp_path, history):
    workers.start("kill1")
    db = history
    proc = slow_run(tmp_path, redis_server.url, db, "kill1")
    run_id = wait_for(lambda: ids(db), 10, "the run's record")[0]
    proc.kill()
    proc.wait(10)
    (run,) = runs(db, "list", "--json")["runs"]
    assert run["id"] == run_id and run["state"] == "lost" and run["ended"] is None, run


SECRET = "s3cr3t-history-4242"
NO_LOG = f"""
- hosts: all
  gather_facts: false
  vars:
    secret: {SECRET}
  tasks:
    - name: hidden command
      command: echo {{{{ secret }}}}
      no_log: true
    - name: hidden file
      copy: dest={{{{ root }}}}/secret content={{{{ secret }}}}
      no_log: true
    - name: hidden debug
      debug: msg={{{{ secret }}}}
      no_log: true
    - name: hidden failure
      command: sh -c 'echo {{{{ secret }}}}; exit 3'
      no_log: true
      ignore_errors: true
    - name: hidden loop
      command: echo {{{{ item }}}}
      loop: ["{{{{ secret }}}}"]
      no_log: true
"""


def stored(db) -> bytes:
    """All the history holds: a SQLite file's bytes (its WAL and
    shared-memory files too, if any are left), or every row of PostgreSQL's
    tables."""
    if "://" not in db:
        files = [f for f in sorted(Path(db).parent.glob(Path(db).name + "*"))]
        assert files
        return b"".join(f.read_bytes() for f in files)
    import psycopg

    with psycopg.connect(db) as conn:
        return repr([conn.execute(f"SELECT * FROM {table}").fetchall()
                     for table in ("runs", "run_hosts", "results")]).encode()


def test_a_no_log_secret_is_not_in_the_database(fleet, play, tmp_path, history):
    db = history
    out = play(write(tmp_path / "nolog.yaml", NO_LOG), "--diff", "-vvv", "-e", "db_password=pw-history-77",
               inventory=inventory(tmp_path, "web1"), env={"CELERYROOT_HISTORY": str(db)})
    assert out.rc == 0, out
    assert (tmp_path / "hosts/web1/secret").read_text() == SECRET  # the tasks did run
    doc = runs(db, "show", out.doc["run_id"], "--json")
    assert len(doc["results"]) == 5 and doc["recap"]["web1"]["ignored"] == 1, doc
    kept = stored(db)
    assert b"hidden command" in kept  # what it holds is readable here
    assert SECRET.encode() not in kept
    # nor an extra var named like a secret, given on the command line
    assert "-e db_password=********" in " ".join(doc["command"]), doc["command"]
    assert b"pw-history-77" not in kept


def test_old_runs_are_pruned_when_a_run_starts(fleet, play, tmp_path, history):
    db = history
    write(tmp_path / "celeryroot.yaml", "history_days: 30\n")  # in the controller's working directory
    book = write(tmp_path / "site.yaml", SITE)
    hosts = inventory(tmp_path, "web1")
    env = {"CELERYROOT_HISTORY": str(db)}
    old, recent = (play(book, inventory=hosts, env=env).doc["run_id"] for _ in range(2))
    store = History(db).store  # either store, through the same statements
    with store.transaction():
        store.change("UPDATE runs SET started = started - 40 * 86400 WHERE id = ?", (old,))
        store.change("UPDATE runs SET started = started - 20 * 86400 WHERE id = ?", (recent,))
    latest = play(book, inventory=hosts, env=env).doc["run_id"]
    assert ids(db) == [latest, recent]
    for table in ("results", "run_hosts"):
        assert store.rows(f"SELECT count(*) AS n FROM {table} WHERE run = ?", (old,))[0]["n"] == 0, table
        assert store.rows(f"SELECT count(*) AS n FROM {table} WHERE run = ?", (recent,))[0]["n"] > 0, table
    store.close()


def test_an_embedded_run_is_recorded(local_play, tmp_path):
    db = tmp_path / "runs.db"
    book = write(tmp_path / "local.yaml", "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ping:\n")
    out = local_play(book, inventory="localhost,", env={"CELERYROOT_HISTORY": str(db)})
    assert out.rc == 0, out
    (run,) = runs(db, "list", "--json")["runs"]
    assert run["id"] == out.doc["run_id"] and run["state"] == "finished" and run["hosts"] == 1, run
    assert [r["status"] for r in runs(db, "show", run["id"], "--json")["results"]] == ["ok"]
    # An ad-hoc run is a run too: its command line, no playbook; its id on stderr.
    adhoc = subprocess.run([sys.executable, "-m", "celeryroot.cli.adhoc", "localhost", "-i", "localhost,", "-m",
                            "ping"], capture_output=True, text=True, cwd=tmp_path, timeout=60,
                           env={**controller_env(), "CELERYROOT_HISTORY": str(db)})
    assert adhoc.returncode == 0 and "localhost | SUCCESS" in adhoc.stdout, adhoc
    run_id = re.match(RUN_LINE, adhoc.stderr).group(1)
    doc = runs(db, "show", run_id, "--json")
    assert doc["command"] == ["celeryroot", "localhost", "-i", "localhost,", "-m", "ping"], doc
    assert doc["playbook"] is None and [r["task"] for r in doc["results"]] == ["ping"], doc


PAUSE = """
- hosts: all
  gather_facts: false
  tasks:
    - name: pause
      command: sleep 2
"""


def test_two_controllers_record_into_one_history_at_once(workers, redis_server, tmp_path, history):
    """As a team's controllers do on one PostgreSQL database (and runs side
    by side on one SQLite file): both runs are there, each whole."""
    workers.start("side1", "side2")
    book = write(tmp_path / "pause.yaml", PAUSE)
    env = {**controller_env(redis_server.url), "CELERYROOT_HISTORY": history}
    procs = [subprocess.Popen([sys.executable, "-m", "celeryroot.cli.play", str(book), "-i",
                               str(inventory(tmp_path / host, host)), "--json"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
             for host in ("side1", "side2")]
    outs = [proc.communicate(timeout=60) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outs
    run_ids = {json.loads(stdout)["run_id"] for stdout, _ in outs}
    listed = runs(history, "list", "--json")["runs"]
    assert {r["id"] for r in listed} == run_ids, listed
    first, second = sorted(listed, key=lambda r: r["started"])
    assert second["started"] < first["ended"], listed  # they did overlap
    for run in listed:
        assert run["state"] == "finished" and run["hosts"] == 1, run
        assert [r["status"] for r in runs(history, "show", run["id"], "--json")["results"]] == ["changed"]


def test_a_postgresql_password_is_never_shown(fleet, play, tmp_path, postgresql_server):
    url = postgresql_server.database()
    password = PostgreSQLServer.PASSWORD
    book = write(tmp_path / "site.yaml", SITE)
    out = play(book, "-v", inventory=inventory(tmp_path, "web1"), json_out=False, env={"CELERYROOT_HISTORY": url})
    assert out.rc == 0 and password not in out.stdout + out.stderr, out
    listed = runs(url, "list")
    assert password not in listed and password not in runs(url, "show", listed.splitlines()[1].split()[0])
    assert password.encode() not in stored(url)

    # A history that refuses the password: the run goes on unrecorded, and says where, masked.
    wrong = url.replace(password, "wrong-" + password)
    out = play(book, inventory=inventory(tmp_path, "web1"), json_out=False, env={"CELERYROOT_HISTORY": wrong})
    assert out.rc == 0 and "not recorded" in out.stdout, out
    assert f"[WARNING]: cannot record this run in postgresql://{PostgreSQLServer.USER}:****@" in out.stdout + out.stderr
    assert password not in out.stdout + out.stderr, out
    proc = subprocess.run([sys.executable, "-m", "celeryroot.cli.runs", "list"], capture_output=True, text=True,
                          env={**controller_env(), "CELERYROOT_HISTORY": wrong}, timeout=60)
    assert proc.returncode == 1 and proc.stderr.startswith("ERROR! the run history postgresql://"), proc
    assert password not in proc.stdout + proc.stderr, proc


def test_controllers_opening_a_new_history_at_once_create_it_once(postgresql_server):
    """Each controller creates the tables it needs when it opens the
    history; several doing it at once on a new database must not collide
    (PostgreSQL's catalog would refuse the second CREATE TABLE)."""
    import threading

    url, errors, ready = postgresql_server.database(), [], threading.Barrier(6)

    def open_it():
        ready.wait()
        try:
            History(url).close()
        except Exception as exc:  # noqa: BLE001 - any is the failure this test looks for
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert History(url).runs() == []


def test_a_user_that_may_only_read_and_write_the_tables_records_runs(postgresql_server):
    """A team's database user need not be allowed to create tables once
    they are there (PostgreSQL 15 lets no one but the owner create in
    ``public``)."""
    import psycopg

    url = postgresql_server.database()
    History(url).close()  # the owner made them
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE ROLE ops_writer LOGIN PASSWORD 'w-pw-31'")
        conn.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ops_writer")
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    writer = url.replace(f"{PostgreSQLServer.USER}:{PostgreSQLServer.PASSWORD}@", "ops_writer:w-pw-31@")
    history = History(writer)
    history.begin("0123456789ab", ["celeryroot-play", "site.yaml"], None, False)
    history.finish("0123456789ab", "finished", 0)
    assert [r["id"] for r in history.runs()] == ["0123456789ab"]
    history.close()


def test_a_history_written_before_results_had_their_start_is_read(tmp_path):
    db = tmp_path / "runs.db"
    with sqlite3.connect(db) as conn:  # the results table as it was
        conn.executescript("""
            CREATE TABLE runs (id TEXT PRIMARY KEY, command TEXT NOT NULL, playbook TEXT, digest TEXT,
                check_mode INTEGER NOT NULL, user TEXT NOT NULL, controller TEXT NOT NULL, pid INTEGER NOT NULL,
                started REAL NOT NULL, ended REAL, state TEXT NOT NULL, reason TEXT, exit_status INTEGER, recap TEXT);
            CREATE TABLE results (run TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE, seq INTEGER NOT NULL,
                play TEXT NOT NULL, task TEXT NOT NULL, host TEXT NOT NULL, status TEXT NOT NULL,
                result TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (run, seq));
            INSERT INTO runs VALUES ('0123456789ab', '["celeryroot-play", "x.yaml"]', NULL, NULL, 0, 'ops', 'c', 1,
                1000.0, 1002.0, 'finished', NULL, 0, NULL);
            INSERT INTO results VALUES ('0123456789ab', 1, 'all', 'ping', 'web1', 'ok', '{}', 1001.0);
        """)
    conn.close()
    (result,) = runs(db, "show", "0123", "--json")["results"]
    assert result["started"] is None and result["at"] == "1970-01-01T00:16:41.000Z", result
