"""The two backends behind the repositories: SQLite (embedded) and PostgreSQL.

The repositories speak one small dialect: `execute(sql, params)` with `?`
placeholders, `executemany`, a table's `insert`, `insert_all`, `update`,
`upsert`, `delete`, `rows_where` and `count_where` (sqlite-utils' names),
`atomic()` for a transaction and `immediate()` for one that writes from its
first statement. SQLite is sqlite-utils itself; PostgreSQL is psycopg 3
with a pool (cooperative under gevent), translating placeholders and the
one SQLite idiom the store uses (`insert or ignore`).

Only the store imports this module: no SQL anywhere else.
"""

from __future__ import annotations

import contextlib
import functools
import re
import select
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any, TypeVar

import psycopg
import sqlite_utils
from psycopg import sql as pgsql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from bridge.model import Unavailable

IntegrityError = (sqlite3.IntegrityError, psycopg.IntegrityError)
"""What a unique or foreign key violation raises, on either backend."""
Conflict = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)
"""A transaction PostgreSQL aborted for another's sake: run it again (SQLite, which
writes one transaction at a time, never raises these)."""
T = TypeVar("T")
AWAY = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout)
"""What PostgreSQL away raises (restarting, refusing, out of connections)."""


def away(exc: Exception) -> Unavailable:
    return Unavailable(f"the store is unreachable ({type(exc).__name__})")


def _reachable(method: Callable[..., T]) -> Callable[..., T]:
    """PostgreSQL away (restarting, refusing, out of connections) is the store away: a core
    error every caller answers in its own terms, never a 500 with a psycopg trace. A
    conflict stays itself: the write-behind runs it again."""

    @functools.wraps(method)
    def guarded(*args: Any, **kwargs: Any) -> T:
        try:
            return method(*args, **kwargs)
        except Conflict:
            raise
        except AWAY as exc:
            raise away(exc) from exc

    return guarded


def _alive(conn: psycopg.Connection) -> None:
    """The pool's check at checkout, without a round trip: an idle connection has nothing
    to read, so one that has (the server's goodbye at a restart, an EOF) is dropped."""
    if conn.closed or select.select([conn.fileno()], [], [], 0)[0]:
        conn.close()  # closed, the pool drops it (an open one it would hand out again)
        raise psycopg.OperationalError("the server closed this connection")


def is_postgres(url: str) -> bool:
    """Whether BRIDGE_DATABASE names a PostgreSQL server rather than a file."""
    return url.startswith(("postgresql://", "postgres://"))


class SqliteDatabase(sqlite_utils.Database):
    """sqlite-utils, with the few additions the PostgreSQL backend also has."""

    dialect = "sqlite"

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        return self.conn.executemany(sql, rows)

    @contextlib.contextmanager
    def immediate(self) -> Iterator[None]:
        """One write transaction, its lock taken at the start (BEGIN IMMEDIATE).

        A deferred transaction that reads first and writes later fails at once
        with "database is locked" when another process wrote in between; an
        immediate one waits its turn (busy_timeout) instead.
        """
        conn = self.conn
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """A statement's rows as dicts (its RETURNING rows, for a write)."""
        cursor = self.conn.execute(statement, params)
        names = [c[0] for c in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    skip_locked = ""

    def in_id_order(self, name: str) -> None:
        """One writer at a time already: ids are committed in the order they are given."""

    """What a claiming sub-select adds so concurrent claimers pass each other's rows."""

    def version(self) -> int:
        """Moves when another connection commits (caches drop what it may have changed)."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    _checkpointer: sqlite3.Connection | None = None

    def checkpoints_elsewhere(self) -> None:
        """Stop committing connections from running the WAL checkpoint themselves.

        A checkpoint copies the WAL into the database and syncs it: tens of
        milliseconds in which the server's event loop, which commits, would
        serve nobody. `checkpoint` then runs it from an OS thread instead.
        """
        self.conn.execute("PRAGMA wal_autocheckpoint = 0")

    def checkpoint(self, path: str) -> None:
        """One passive checkpoint on a connection of its own (call it from a thread: the
        sqlite3 module lets go of the GIL while it copies and syncs)."""
        if self._checkpointer is None:
            self._checkpointer = sqlite3.connect(path, check_same_thread=False)
        self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")


class Rows:
    """A statement's result, fetched at once (the connection goes back to the pool)."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return list(self._rows)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


def _clean(params: Sequence[Any]) -> tuple[Any, ...]:
    """PostgreSQL's text holds no NUL character (SQLite's does): such a value becomes
    U+FFFD, so a look-up finds nothing and a record keeps the rest, as on SQLite."""
    return tuple(
        p.replace("\x00", "\ufffd") if isinstance(p, str) and "\x00" in p else p for p in params
    )


_OR_IGNORE = re.compile(r"^\s*insert\s+or\s+ignore\s+into", re.I)


@lru_cache(maxsize=1024)
def translate(statement: str) -> str:
    """SQLite's spelling into PostgreSQL's: placeholders, and `insert or ignore`."""
    text = statement.replace("%", "%%").replace("?", "%s")
    text, ignoring = _OR_IGNORE.subn("insert into", text)
    return text + " on conflict do nothing" if ignoring else text


class PostgresDatabase:
    """The same surface over a psycopg pool; a transaction pins one connection."""

    dialect = "postgresql"

    def __init__(self, url: str, keys: dict[str, tuple[str, ...]], size: int = 10) -> None:
        self.keys = keys
        """Each table's primary key columns (from the migrations)."""
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=size,
            kwargs={"autocommit": True},
            open=True,
            timeout=3,  # then Unavailable: a platform's deadline is 8 s
            check=_alive,
            # The pool's reconnection backs off without a cap (1, 2, 4, 8 s...) until this;
            # then the next request starts it again at 1 s: back within seconds of a restart.
            reconnect_timeout=5,
        )
        self._local = threading.local()  # a greenlet's own under gevent's patching

    @property
    def _pinned(self) -> psycopg.Connection | None:
        return getattr(self._local, "conn", None)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        pinned = self._pinned
        if pinned is not None:
            yield pinned
            return
        with self.pool.connection() as conn:
            yield conn

    @_reachable
    def execute(self, statement: str, params: Sequence[Any] = ()) -> Rows:
        with self._connection() as conn, conn.cursor() as cursor:
            cursor.execute(translate(statement), _clean(params))
            rows = cursor.fetchall() if cursor.description else []
            return Rows(rows, cursor.rowcount)

    @_reachable
    def executemany(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._connection() as conn, conn.cursor() as cursor:
            cursor.executemany(translate(statement), [_clean(r) for r in rows])

    skip_locked = " for update skip locked"

    def in_id_order(self, name: str) -> None:
        """Within a transaction: the transactions that call this with `name` commit in the
        order of the ids they take. A sequence hands out ids at insert, not at commit; a
        reader that follows new rows by id (a live stream's cursor) would pass over a row
        whose transaction took a lower id and committed later. Held until commit."""
        self.execute("select pg_advisory_xact_lock(hashtext(?))", (name,))

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return self.query(pgsql.SQL(translate(statement)), params)  # type: ignore[arg-type]

    @_reachable
    def query(self, statement: pgsql.Composable, params: Sequence[Any] = ()) -> list[dict]:
        with self._connection() as conn, conn.cursor(row_factory=dict_row) as cursor:
            cursor.execute(statement, _clean(params))
            return cursor.fetchall() if cursor.description else []

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """A transaction (nested: a savepoint) on this greenlet's own connection."""
        pinned = self._pinned
        if pinned is not None:
            with pinned.transaction():
                yield
            return
        try:
            with self.pool.connection() as conn:
                self._local.conn = conn
                try:
                    with conn.transaction():
                        yield
                finally:
                    self._local.conn = None
        except Conflict:
            raise
        except AWAY as exc:
            raise away(exc) from exc

    immediate = atomic

    @property
    def in_transaction(self) -> bool:
        return self._pinned is not None

    def __getitem__(self, name: str) -> PostgresTable:
        return PostgresTable(self, name)

    def checkpoints_elsewhere(self) -> None:
        return None

    def checkpoint(self, path: str) -> None:
        """PostgreSQL checkpoints on its own."""
        return None

    def version(self) -> int:
        """Moves when any process changes a cached table (triggers count the changes)."""
        return int(self.execute("select n from bridge_changes").fetchone()[0])

    def close(self) -> None:
        self.pool.close()


class Inserted:
    def __init__(self, last_pk: Any) -> None:
        self.last_pk = last_pk


class PostgresTable:
    """The sqlite-utils table calls the repositories make, as SQL."""

    def __init__(self, db: PostgresDatabase, name: str) -> None:
        if not name.replace("_", "").isalnum():
            raise ValueError(f"not a table name: {name!r}")
        self.db = db
        self.name = name
        self.key = db.keys.get(name, ("id",))

    def _insert_sql(self, columns: list[str], returning: bool) -> pgsql.Composed:
        statement = pgsql.SQL("insert into {} ({}) values ({})").format(
            pgsql.Identifier(self.name),
            pgsql.SQL(", ").join(map(pgsql.Identifier, columns)),
            pgsql.SQL(", ").join(pgsql.Placeholder() * len(columns)),
        )
        if returning:
            statement += pgsql.SQL(" returning {}").format(pgsql.Identifier(self.key[0]))
        return statement

    def insert(self, row: dict[str, Any]) -> Inserted:
        columns = list(row)
        found = self.db.query(self._insert_sql(columns, True), [row[c] for c in columns])
        return Inserted(found[0][self.key[0]] if found else None)

    def insert_all(self, rows: Iterable[dict[str, Any]]) -> None:
        rows = list(rows)
        if not rows:
            return
        columns = list(rows[0])
        statement = self._insert_sql(columns, False)
        with self.db._connection() as conn, conn.cursor() as cursor:
            cursor.executemany(statement, [_clean([r[c] for c in columns]) for r in rows])

    def _where_key(self) -> pgsql.Composed:
        return pgsql.SQL(" and ").join(
            pgsql.SQL("{} = %s").format(pgsql.Identifier(k)) for k in self.key
        )

    def update(self, pk: Any, changes: dict[str, Any]) -> None:
        values = pk if isinstance(pk, tuple | list) else (pk,)
        statement = pgsql.SQL("update {} set {} where {}").format(
            pgsql.Identifier(self.name),
            pgsql.SQL(", ").join(pgsql.SQL("{} = %s").format(pgsql.Identifier(c)) for c in changes),
            self._where_key(),
        )
        self.db.query(statement, [*changes.values(), *values])

    def upsert(self, row: dict[str, Any], pk: str | tuple[str, ...]) -> None:
        keys = (pk,) if isinstance(pk, str) else tuple(pk)
        columns = list(row)
        statement = self._insert_sql(columns, False) + pgsql.SQL(
            " on conflict ({}) do update set {}"
        ).format(
            pgsql.SQL(", ").join(map(pgsql.Identifier, keys)),
            pgsql.SQL(", ").join(
                pgsql.SQL("{0} = excluded.{0}").format(pgsql.Identifier(c))
                for c in columns
                if c not in keys
            ),
        )
        self.db.query(statement, [row[c] for c in columns])

    def delete(self, pk: Any) -> None:
        values = pk if isinstance(pk, tuple | list) else (pk,)
        statement = pgsql.SQL("delete from {} where {}").format(
            pgsql.Identifier(self.name), self._where_key()
        )
        self.db.query(statement, list(values))

    def rows_where(
        self,
        where: str | None = None,
        where_args: Sequence[Any] = (),
        order_by: str | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        text = f'select * from "{self.name}"'
        if where:
            text += f" where {where}"
        if order_by:
            text += f" order by {order_by}"
        args = list(where_args)
        if limit is not None:
            text += " limit ?"
            args.append(limit)
        statement = pgsql.SQL(translate(text))  # type: ignore[arg-type]
        return iter(self.db.query(statement, args))

    def count_where(self, where: str, where_args: Sequence[Any] = ()) -> int:
        text = f'select count(*) from "{self.name}" where {where}'
        return int(self.db.execute(text, list(where_args)).fetchone()[0])


Database = SqliteDatabase | PostgresDatabase
"""Either backend, as the repositories see it."""
