"""Where the run history is kept: a SQLite file on this machine (the
default), or a PostgreSQL database a team's controllers share.

`History` (history.py) writes one schema and one set of queries for both;
a store is the connection and the few places the two dialects differ:
placeholders (written ``?``, PostgreSQL's ``%s``), the column that orders
runs started at the same instant (SQLite's implicit ``rowid``, an identity
column in PostgreSQL), the float type, how host names are joined, and the
lock that lets two controllers create the schema at once. Either store's
driver errors come out as `HistoryError`.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from ..config import masked

POSTGRESQL_SCHEMES = ("postgresql://", "postgres://")


class HistoryError(Exception):
    """The history could not be read or written (its driver's error, said)."""


def is_url(location: str) -> bool:
    return location.startswith(POSTGRESQL_SCHEMES)


def open_store(location: str) -> "Store":
    """The store at ``location``: a postgresql:// URL, else a file's path."""
    if is_url(location):
        return PostgreSQLStore(location)
    return SQLiteStore(Path(location).expanduser())


def shown(location: str) -> str:
    """``location`` as messages show it: a URL's password masked."""
    return masked(location) if is_url(location) else location


class Store:
    """What both stores do alike, over a DB-API connection ``db``."""

    # The dialect, filled into history.py's schema and queries:
    #: a column of ``runs`` counting up as runs are inserted (nothing if every table has one),
    ordinal_column: str
    #: ... and its name;
    ordinal: str
    #: the type of a time (seconds since the epoch, a float);
    real: str
    #: an aggregate of ``host`` joining the names with spaces in order;
    joined_hosts: str
    #: a query whose ``present`` says the schema is there already (or nothing: create it each time),
    schema_present = ""
    #: a statement run before the schema is created (or nothing).
    schema_lock = ""
    #: The driver's errors, said as `HistoryError` without ``secrets`` in them.
    errors: tuple[type[Exception], ...] = ()
    secrets: tuple[str, ...] = ()

    @contextmanager
    def _translated(self):
        try:
            yield
        except self.errors as exc:
            said = str(exc).strip()
            for secret in self.secrets:
                said = said.replace(secret, "****")
            raise HistoryError(said) from exc

    def _sql(self, sql: str) -> str:
        return sql

    def rows(self, sql: str, args=()) -> list:
        with self._translated():
            return self.db.execute(self._sql(sql), args).fetchall()

    def change(self, sql: str, args=()) -> int:
        """How many rows the statement changed."""
        with self._translated():
            return self.db.execute(self._sql(sql), args).rowcount

    def create(self, statements: list[str]) -> None:
        if self.schema_present and self.rows(self.schema_present)[0]["present"]:
            return
        with self.transaction():
            if self.schema_lock:
                self.change(self.schema_lock)
            for statement in statements:
                self.change(statement)

    def close(self) -> None:
        with self._translated():
            self.db.close()


class SQLiteStore(Store):
    """One file, opened in WAL mode so runs started side by side write to it
    at once, and made private (0600 in a 0700 directory): results hold what
    modules printed."""

    ordinal_column = ""
    ordinal = "rowid"  # every SQLite table has one
    real = "REAL"
    joined_hosts = "group_concat(host, ' ')"  # in the order of its subquery's rows
    errors = (sqlite3.Error,)

    def __init__(self, path: Path):
        _make_private(path)
        with self._translated():
            # A run that meets another's write waits for it rather than failing.
            self.db = sqlite3.connect(path, timeout=30)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            # WAL with NORMAL: a commit is not fsynced, yet never corrupts the file.
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")

    def create(self, statements: list[str]) -> None:
        super().create(statements)
        with self._translated():
            self._migrate()

    def _migrate(self) -> None:
        """A file written before results had their start gains the column
        (its old results have none); one opener at a time decides. (No
        PostgreSQL history is older than the column.)"""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if "started" not in {row["name"] for row in self.db.execute("PRAGMA table_info(results)")}:
                self.db.execute("ALTER TABLE results ADD COLUMN started REAL")
        finally:
            self.db.commit()

    @contextmanager
    def transaction(self):
        with self._translated(), self.db:
            yield

    def change_many(self, sql: str, rows: list) -> None:
        with self._translated():
            self.db.executemany(sql, rows)


class PostgreSQLStore(Store):
    """A database on a PostgreSQL server (psycopg 3), in autocommit between
    the transactions `History` opens, so a reader holds no snapshot open."""

    ordinal_column = "\n    n BIGINT GENERATED ALWAYS AS IDENTITY,"
    ordinal = "n"
    real = "DOUBLE PRECISION"  # PostgreSQL's REAL is 4 bytes: a time would be rounded to 2 minutes
    joined_hosts = "string_agg(host, ' ' ORDER BY host)"
    # PostgreSQL checks the right to create in the schema before it sees a
    # table exists, IF NOT EXISTS or not; a team's user may have no more than
    # the right to read and write the tables. The last table made says all are.
    schema_present = "SELECT to_regclass('results') IS NOT NULL AS present"
    # Two controllers creating the same table at once would collide in
    # PostgreSQL's catalog (a unique violation), IF NOT EXISTS or not.
    schema_lock = "SELECT pg_advisory_xact_lock(hashtext('celeryroot history schema'))"

    def __init__(self, url: str):
        try:
            import psycopg
            from psycopg.conninfo import conninfo_to_dict
            from psycopg.rows import dict_row
        except ImportError as exc:
            raise HistoryError(f"a postgresql:// history needs psycopg: pip install 'celeryroot[postgresql]' "
                               f"({exc})") from exc
        self.errors = (psycopg.Error,)
        # libpq quotes a URL it cannot parse: "invalid percent-encoded token: "<the password>"".
        self.secrets = _passwords(url)
        with self._translated():
            # libpq would wait for an unreachable server as long as TCP does.
            timeout = {} if "connect_timeout" in conninfo_to_dict(url) else {"connect_timeout": 10}
            self.db = psycopg.connect(url, autocommit=True, row_factory=dict_row, application_name="celeryroot",
                                      **timeout)

    def _sql(self, sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")

    @contextmanager
    def transaction(self):
        with self._translated(), self.db.transaction():
            yield

    def change_many(self, sql: str, rows: list) -> None:
        if rows:
            with self._translated(), self.db.cursor() as cursor:
                cursor.executemany(self._sql(sql), rows)


def _passwords(url: str) -> tuple[str, ...]:
    """The URL's passwords (its user part's, a ``?password=``) as typed and decoded."""
    from urllib.parse import parse_qs, unquote, urlsplit

    parts = urlsplit(url)
    typed = [parts.password or "", *parse_qs(parts.query).get("password", [])]
    return tuple(sorted({s for p in typed for s in (p, unquote(p)) if s}, key=len, reverse=True))


def _make_private(path: Path) -> None:
    """The directory 0700 and the file 0600 before SQLite opens it (its WAL
    and shared-memory files take the database file's mode)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
