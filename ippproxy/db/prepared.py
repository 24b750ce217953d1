"""``Prepared``: a Core statement compiled once per dialect, run with the driver's cursor.

Theory of operation
-------------------
``Connection.execute`` builds an execution context for every call: it looks the
compiled form up in a cache, processes each parameter, wraps the cursor in a result
and processes each row, all of it in Python while the GIL is held. On SQLite that
costs several times what running the statement costs (bench_intake's stage table:
the user lookup and the reservation are a few such statements per job).
:class:`Prepared` does the per-statement work once per dialect instead:

* the SQL text and its paramstyle are the dialect's own (``stmt.compile(dialect=)``);
* each bind parameter keeps its type's public ``bind_processor`` and each result column
  its ``result_processor``, so the driver gets, and the caller gets back, exactly what
  ``Connection.execute`` would have given (UUIDs, the SQLite datetime format, booleans);
* a bind with a value in the statement (``literal()``) is processed once.

It runs on the DBAPI connection of a SQLAlchemy ``Connection``, inside that
connection's transaction, and the driver's errors come back as SQLAlchemy's own
(``IntegrityError``, ``OperationalError``...), as callers that retry or fall back expect.
``before_cursor_execute`` listeners still see each statement (with no context).

What it refuses, when it compiles: ``IN`` lists that expand at run time, and INSERTs or
UPDATEs that would need SQLAlchemy to compute a Python-side column default (an INSERT
names every column it sets, defaults included, in ``columns``), since only an execution
context runs those.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Dialect, exc
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.expression import ClauseElement

_REQUIRED = object()     # a bind the caller must give


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Per bind, in the order the driver wants it: (name, processor, value fixed at compile).
    binds: tuple[tuple[str, Callable[[Any], Any] | None, Any], ...]
    positional: bool
    results: tuple[Callable[[Any], Any] | None, ...]
    convert: bool            # any result processor at all
    driver_error: type[Exception]


def _compile(stmt: ClauseElement, dialect: Dialect, columns: Sequence[str] | None) -> _Compiled:
    compiled = cast(SQLCompiler, stmt.compile(dialect=dialect) if columns is None
                    else stmt.compile(dialect=dialect, column_keys=list(columns)))
    if compiled.insert_prefetch or compiled.update_prefetch:
        raise ValueError("a Python-side column default is not in values(): "
                         f"{[c.key for c in (*compiled.insert_prefetch, *compiled.update_prefetch)]}")
    binds: dict[str, BindParameter[Any]] = {compiled.bind_names[b]: b
                                          for b in compiled.binds.values()}
    names = list(compiled.positiontup or ()) if compiled.positional else list(binds)
    out = []
    for name in names:
        bind = binds[name]
        if bind.expanding:
            raise ValueError(f"bind {name!r} expands at run time (an IN list)")
        proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if bind.required or (bind.value is None and bind.callable is None):
            fixed: Any = _REQUIRED
        else:
            fixed = bind.effective_value
            fixed = proc(fixed) if proc is not None else fixed
        out.append((name, proc, fixed))
    exported: list[Any] = list(getattr(stmt, "exported_columns", ()))
    results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None)
                    for c in exported)
    return _Compiled(str(compiled), tuple(out), bool(compiled.positional), results,
                     any(p is not None for p in results), dialect.loaded_dbapi.Error)


class Prepared:
    """``Prepared(stmt).rows(conn, params)`` / ``.first`` / ``.run``: ``stmt`` run on
    ``conn``'s DBAPI connection, in its transaction (see the module's docstring).
    ``columns``: the columns an ``insert(table)`` sets, one bind each, named after them."""

    def __init__(self, stmt: ClauseElement, columns: Sequence[str] | None = None) -> None:
        self.stmt = stmt
        self.columns = None if columns is None else tuple(columns)
        self._compiled: dict[str, _Compiled] = {}

    def _get(self, dialect: Dialect) -> _Compiled:
        c = self._compiled.get(dialect.name)
        if c is None:
            c = self._compiled[dialect.name] = _compile(self.stmt, dialect, self.columns)
        return c

    def _params(self, c: _Compiled, params: Mapping[str, Any]) -> Any:
        values = [fixed if fixed is not _REQUIRED
                  else params[name] if proc is None else proc(params[name])
                  for name, proc, fixed in c.binds]
        return values if c.positional else {b[0]: v for b, v in zip(c.binds, values,
                                                                    strict=True)}

    def _execute(self, conn: Connection, params: Mapping[str, Any],
                 fetch: bool) -> tuple[list[tuple[Any, ...]], int]:
        c = self._get(conn.dialect)
        args = self._params(c, params)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if conn.dispatch.before_cursor_execute:   # listeners (statement counts in tests)
                conn.dispatch.before_cursor_execute(conn, cursor, c.sql, args, None, False)
            cursor.execute(c.sql, args)
            rows: list[tuple[Any, ...]] = list(cursor.fetchall()) if fetch else []
            count = cursor.rowcount
        except c.driver_error as e:
            raise exc.DBAPIError.instance(c.sql, args, e, c.driver_error,
                                          dialect=conn.dialect) from e
        finally:
            cursor.close()
        if c.convert and rows:
            procs = c.results
            rows = [tuple(v if p is None else p(v) for p, v in zip(procs, row, strict=True))
                    for row in rows]
        return rows, count

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row of a SELECT (or of a RETURNING), processed."""
        return self._execute(conn, params, True)[0]

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        rows = self.rows(conn, params)
        return rows[0] if rows else None

    def run(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """A statement without rows; its row count."""
        return self._execute(conn, params, False)[1]
