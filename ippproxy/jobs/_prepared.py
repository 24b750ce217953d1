"""INSERTs compiled once and run with the database driver's own ``executemany``.

Job intake writes three rows per job (job, document, spool copy) from the writer thread,
which shares the GIL with the event loop. Through ``Connection.execute`` SQLAlchemy
builds an execution context and runs its per-parameter machinery for every call: more
Python per job than SQLite needs to insert the rows, and all of it holding the GIL. :class:`PreparedInsert` does that work once per dialect instead: it
compiles ``INSERT INTO table (every column)`` with SQLAlchemy (so the SQL text and the
paramstyle are the dialect's own) and keeps each column type's public
``bind_processor`` (JSON encoding, the SQLite datetime format, ``UTCDateTime``), so the
driver gets exactly the values ``Connection.execute`` would have given it. The rows
then go to the driver's ``cursor.executemany`` on the connection of the running
transaction, so they commit (or roll back) with everything else in it.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Table, insert

_UNSET = object()
# The last (datetime, driver value) per dialect and column type: a new job's timestamps
# (created, updated, its documents') are one datetime object, converted once. Only
# datetimes, which are immutable, and only the very same object count. A slot is
# replaced whole, so a reader on another thread never sees half of one.
_LAST: list[tuple[Any, Any]] = []
_SLOTS: dict[tuple[str, str], int] = {}


def _memo_slot(dialect: Dialect, type_: Any) -> int:
    key = (dialect.name, repr(type_))
    if key not in _SLOTS:
        _LAST.append((_UNSET, None))
        _SLOTS[key] = len(_LAST) - 1
    return _SLOTS[key]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    keys: tuple[str, ...]              # the bind names, in the order the SQL uses them
    get: Callable[[Mapping[str, Any]], tuple[Any, ...]]   # a row's values in that order
    convert: tuple[tuple[int, Callable[[Any], Any], Any], ...]   # (index, processor, p(None))
    positional: bool                   # qmark/format paramstyle: sequences, else dicts
    # Per entry of ``convert``: a slot of _LAST (see there).
    memo: tuple[int, ...]


class PreparedInsert:
    """``PreparedInsert(table).execute(conn, rows)``: rows are dicts with every column;
    or ``params`` ahead and ``run`` later."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._compiled: dict[str, _Compiled] = {}
        self._slots: dict[tuple[str, str], int | str] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        columns = {c.key: c for c in self.table.columns}
        compiled = insert(self.table).compile(dialect=dialect, column_keys=list(columns))
        keys = tuple(compiled.positiontup or ()) if compiled.positional else tuple(columns)
        if set(keys) != set(columns):  # a bind name that is not a plain column key
            raise ValueError(f"cannot prepare INSERT INTO {self.table.name}: binds {keys}")
        # The dialect's own implementation of each type (as Connection.execute uses).
        procs = [columns[k].type.dialect_impl(dialect).bind_processor(dialect) for k in keys]
        # What each processor makes of None is worked out once: most columns of a new
        # job are empty, and a processor is a pure function of its value.
        convert = tuple((i, p, p(None)) for i, p in enumerate(procs) if p is not None)
        memo = tuple(_memo_slot(dialect, columns[keys[i]].type) for i, _, _ in convert)
        return _Compiled(str(compiled), keys, operator.itemgetter(*keys), convert,
                         compiled.positional, memo)

    def _get(self, dialect: Dialect) -> _Compiled:
        c = self._compiled.get(dialect.name)
        if c is None:
            c = self._compiled[dialect.name] = self._compile(dialect)
        return c

    def params(self, dialect: Dialect, row: Mapping[str, Any]) -> Any:
        """One row in the driver's form (a list, or a dict for named paramstyles).

        It may be built ahead, on another thread than the one that runs it: job intake
        does this on the event loop, so the writer thread only runs the driver."""
        c = self._get(dialect)
        values = list(c.get(row))
        last = _LAST
        for (i, p, none), slot in zip(c.convert, c.memo, strict=True):
            v = values[i]
            if v is None:
                values[i] = none
                continue
            if type(v) is not dt.datetime:
                values[i] = p(v)
                continue
            seen, out = last[slot]
            if v is not seen:
                out = p(v)
                last[slot] = (v, out)
            values[i] = out
        return values if c.positional else dict(zip(c.keys, values, strict=True))

    def slot(self, dialect: Dialect, key: str) -> int | str:
        """Where ``key`` is in :meth:`params` (to fill in a value known later, a job-id;
        only for columns whose type has no bind processor). Asked once per job: cached."""
        found = self._slots.get((dialect.name, key))
        if found is None:
            c = self._get(dialect)
            i = c.keys.index(key)
            if any(j == i for j, _, _ in c.convert):
                raise ValueError(f"{self.table.name}.{key} needs its bind processor")
            found = self._slots[(dialect.name, key)] = i if c.positional else key
        return found

    def run(self, conn: Connection, params: Sequence[Any]) -> None:
        """executemany of rows made by :meth:`params`, in ``conn``'s transaction."""
        if not params:
            return
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(self._get(conn.dialect).sql, params)
        finally:
            cursor.close()

    def execute(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        self.run(conn, [self.params(conn.dialect, row) for row in rows])
