"""The schema at head carries no index that another index already serves.

An index whose columns are the leading columns of another index of the same table
answers no query the longer one cannot (both B-trees are ordered by those columns
first), yet every INSERT and DELETE of a row, and every UPDATE of one of its columns,
writes it too: on SQLite more pages in the log and its sync per commit, on PostgreSQL
more WAL. A unique index is kept even so (it says something the longer one does not),
and so is a partial one (it holds fewer rows)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from ippproxy.db import make_engine
from ippproxy.db.engine import upgrade


def _redundant(indexes: Sequence[Mapping[str, Any]],
               keys: Sequence[Mapping[str, Any]] = ()) -> list[tuple[str, str]]:
    """(short, long) pairs: ``short`` a plain index whose columns lead ``long``, another
    index or a key (``keys``: the primary key and unique constraints)."""
    plain = [ix for ix in indexes
             if not ix.get("unique") and all(isinstance(c, str) for c in ix["column_names"])
             and not (ix.get("dialect_options") or {})]
    # A partial index serves only the rows it holds: it covers no other.
    every = [ix for ix in [*indexes, *keys]
             if all(isinstance(c, str) for c in ix["column_names"])
             and not (ix.get("dialect_options") or {})]
    out = []
    for short in plain:
        cols = list(short["column_names"])
        for other in every:
            longer = list(other["column_names"])
            covers = len(longer) > len(cols) or (other in keys and len(longer) == len(cols))
            if other is not short and covers and longer[:len(cols)] == cols:
                out.append((str(short["name"]), str(other["name"])))
    return out


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")  # expression indexes
def test_no_index_is_a_prefix_of_another(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(engine)
    schema = inspect(engine)
    found: dict[str, list[tuple[str, str]]] = {}
    for table in schema.get_table_names():
        pk = schema.get_pk_constraint(table)
        keys = [{"name": pk["name"] or "primary key", "column_names": pk["constrained_columns"]},
                *schema.get_unique_constraints(table)]
        if pairs := _redundant(schema.get_indexes(table), keys):
            found[table] = pairs
    assert found == {}


def test_the_check_finds_a_prefix() -> None:
    ix = [{"name": "a", "column_names": ["owner"], "unique": False},
          {"name": "b", "column_names": ["owner", "completed_at"], "unique": False},
          {"name": "u", "column_names": ["queue"], "unique": True},
          {"name": "p", "column_names": ["queue"], "unique": False,
           "dialect_options": {"sqlite_where": "state = 4"}},
          {"name": "q", "column_names": ["queue", "job_id"], "unique": False}]
    assert _redundant(ix) == [("a", "b")]
    # A partial index that begins with the same columns holds only some rows.
    partial = [{"name": "s", "column_names": ["state"], "unique": False},
               {"name": "r", "column_names": ["state", "completed_at"], "unique": False,
                "dialect_options": {"sqlite_where": "completed_at IS NOT NULL"}}]
    assert _redundant(partial) == []
    # The same columns as the primary key, or its leading ones, are redundant too.
    keys = [{"name": "pk", "column_names": ["queue", "job_id"]}]
    assert _redundant(ix, keys) == [("a", "b"), ("q", "pk")]
